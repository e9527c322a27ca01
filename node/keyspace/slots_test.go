package keyspace

import (
	"fmt"
	"testing"
)

func TestSlotIndexFollowsKeys(t *testing.T) {
	db, env := newTestDB()
	// slot = last digit of the key, mod 4
	slotOf := func(key string) int { return int(key[len(key)-1]-'0') % 4 }
	db.AddString([]byte("before0"), nil)
	ix := NewSlotIndex(4, slotOf)
	db.SetIndex(ix) // replays existing keys
	for i := 0; i < 8; i++ {
		db.AddString([]byte(fmt.Sprint("k", i)), nil) // slots 0..3 twice
	}
	if got := ix.CountKeysInSlot(0); got != 3 {
		t.Fatalf("slot 0 has %d keys, want 3", got)
	}
	db.Rename(db.Peek([]byte("k0")), []byte("moved1")) // slot 0 -> 1
	db.Delete([]byte("before0"))
	if ix.CountKeysInSlot(0) != 1 || ix.CountKeysInSlot(1) != 3 {
		t.Fatalf("after rename/delete: %d %d", ix.CountKeysInSlot(0), ix.CountKeysInSlot(1))
	}
	db.SetExpire(db.Peek([]byte("k5")), env.Now-1)
	db.Lookup([]byte("k5")) // lazily expired
	if got := ix.KeysInSlot(1, 100, nil); len(got) != 2 {
		t.Fatalf("keys in slot 1 = %v", got)
	}
	db.Flush()
	if ix.CountKeysInSlot(2) != 0 {
		t.Fatal("flush left keys in the index")
	}
}
