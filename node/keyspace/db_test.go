package keyspace

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"
)

func newTestDB() (*DB, *Env) {
	env := NewEnv()
	env.Now = 1_000_000
	r := rand.New(rand.NewPCG(1, 2))
	env.Rand = r.IntN
	return New(0, env), env
}

func TestEntryFitsSizeClass(t *testing.T) {
	// Memory per key is the main cost of 1M small keys: keep Entry in
	// Go's 80-byte size class.
	if s := unsafe.Sizeof(Entry{}); s > 80 {
		t.Fatalf("Entry is %d bytes, want <= 80", s)
	}
}

func TestAddLookupDelete(t *testing.T) {
	db, _ := newTestDB()
	for i := 0; i < 1000; i++ {
		db.AddString([]byte(fmt.Sprint("k", i)), []byte(fmt.Sprint("v", i)))
	}
	if db.Len() != 1000 {
		t.Fatalf("Len = %d", db.Len())
	}
	for i := 0; i < 1000; i++ {
		e := db.Lookup([]byte(fmt.Sprint("k", i)))
		if e == nil || string(e.Bytes()) != fmt.Sprint("v", i) || e.Type() != TypeString {
			t.Fatalf("k%d: %v", i, e)
		}
	}
	for i := 0; i < 1000; i += 2 {
		if !db.Delete([]byte(fmt.Sprint("k", i))) {
			t.Fatalf("delete k%d", i)
		}
	}
	if db.Delete([]byte("k0")) {
		t.Fatal("deleted twice")
	}
	if db.Len() != 500 || db.Lookup([]byte("k0")) != nil || db.Lookup([]byte("k1")) == nil {
		t.Fatal("wrong state after deletes")
	}
	// Shrinking back: deleting almost everything leaves a small table.
	for i := 1; i < 1000; i += 2 {
		db.Delete([]byte(fmt.Sprint("k", i)))
	}
	for db.Rehash(1000) {
	}
	if db.Len() != 0 || len(db.dict.t[0]) > 64 {
		t.Fatalf("len %d, table %d", db.Len(), len(db.dict.t[0]))
	}
}

func TestSetStringKeepsOrDropsTTL(t *testing.T) {
	db, env := newTestDB()
	e := db.SetString([]byte("k"), []byte("a"), false)
	db.SetExpire(e, env.Now+1000)
	db.SetString([]byte("k"), []byte("b"), true)
	if e := db.Lookup([]byte("k")); e.ExpireAt() != env.Now+1000 || string(e.Bytes()) != "b" {
		t.Fatal("KEEPTTL lost the TTL")
	}
	db.SetString([]byte("k"), []byte("c"), false)
	if e := db.Lookup([]byte("k")); e.ExpireAt() != 0 || db.VolatileLen() != 0 {
		t.Fatal("SET without KEEPTTL kept the TTL")
	}
}

func TestLazyExpiry(t *testing.T) {
	db, env := newTestDB()
	var expired []string
	env.Expired = func(_ *DB, key string) { expired = append(expired, key) }
	e := db.AddString([]byte("k"), []byte("v"))
	db.SetExpire(e, env.Now+100)
	env.Now += 100 // Redis: expired only when now > when
	if db.Lookup([]byte("k")) == nil {
		t.Fatal("expired at exactly its expire time")
	}
	env.Now++
	if db.Lookup([]byte("k")) != nil {
		t.Fatal("expired key returned")
	}
	if db.Len() != 0 || len(expired) != 1 || expired[0] != "k" || db.ExpiredKeys != 1 {
		t.Fatalf("len %d, expired %v", db.Len(), expired)
	}
}

func TestNoExpireKeepsKeysButHidesThem(t *testing.T) {
	db, env := newTestDB()
	env.NoExpire = true
	e := db.AddString([]byte("k"), []byte("v"))
	db.SetExpire(e, env.Now-1)
	if db.Lookup([]byte("k")) != nil {
		t.Fatal("replica returned an expired key")
	}
	if db.Len() != 1 {
		t.Fatal("replica deleted an expired key")
	}
}

func TestActiveExpireCycle(t *testing.T) {
	db, env := newTestDB()
	for i := 0; i < 1000; i++ {
		e := db.AddString([]byte(fmt.Sprint("k", i)), []byte("v"))
		ttl := int64(10)
		if i%10 == 0 {
			ttl = 1_000_000
		}
		db.SetExpire(e, env.Now+ttl)
	}
	env.Now += 100
	for i := 0; i < 100 && db.Len() > 100; i++ {
		db.ActiveExpireCycle(16)
	}
	if db.Len() != 100 || db.VolatileLen() != 100 {
		t.Fatalf("after active expiry: %d keys, %d volatile", db.Len(), db.VolatileLen())
	}
	if db.AvgTTL() <= 0 {
		t.Fatal("avg_ttl not estimated")
	}
}

// TestScanGuarantee checks Redis's SCAN promise while the table grows,
// shrinks and rehashes between calls: every key present for the whole
// iteration is returned at least once.
func TestScanGuarantee(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		db, _ := newTestDB()
		r := rand.New(rand.NewPCG(seed, 7))
		stable := map[string]bool{}
		for i := 0; i < 300; i++ {
			k := fmt.Sprint("stable", i)
			db.AddString([]byte(k), nil)
			stable[k] = true
		}
		seen := map[string]bool{}
		churn := 0
		cursor := uint64(0)
		for iter := 0; ; iter++ {
			var got []*Entry
			got, cursor = db.Scan(cursor, 1+r.IntN(20), nil)
			for _, e := range got {
				seen[e.Key()] = true
			}
			if cursor == 0 {
				break
			}
			// Churn: grow a lot, or shrink, or reserve room, between
			// calls.
			switch r.IntN(4) {
			case 2:
				db.Reserve(db.Len()*(2+r.IntN(6)), 0)
			case 0:
				for j := 0; j < r.IntN(400); j++ {
					db.AddString([]byte(fmt.Sprint("churn", churn)), nil)
					churn++
				}
			case 1:
				for j := 0; j < churn; j++ {
					db.Delete([]byte(fmt.Sprint("churn", j)))
				}
			}
			db.Rehash(r.IntN(5))
			if iter > 100000 {
				t.Fatal("scan does not terminate")
			}
		}
		for k := range stable {
			if !seen[k] {
				t.Fatalf("seed %d: %s present throughout but not returned", seed, k)
			}
		}
	}
}

func TestRandomAndSample(t *testing.T) {
	db, env := newTestDB()
	if db.Random() != nil {
		t.Fatal("random key of empty db")
	}
	for i := 0; i < 100; i++ {
		db.AddString([]byte(fmt.Sprint("k", i)), nil)
	}
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		seen[db.Random().Key()] = true
	}
	if len(seen) < 90 {
		t.Fatalf("random covered only %d of 100 keys", len(seen))
	}
	// Expired keys are never returned by Random.
	e := db.AddString([]byte("gone"), nil)
	db.SetExpire(e, env.Now-1)
	for i := 0; i < 500; i++ {
		if db.Random().Key() == "gone" {
			t.Fatal("random returned an expired key")
		}
	}
	if got := db.Sample(5, false, nil); len(got) != 5 {
		t.Fatalf("sample %d", len(got))
	}
}

func TestRenameKeepsTTLAndValue(t *testing.T) {
	db, env := newTestDB()
	e := db.AddString([]byte("a"), []byte("v"))
	db.SetExpire(e, env.Now+5000)
	ne := db.Rename(e, []byte("b"))
	if db.Lookup([]byte("a")) != nil || ne.Key() != "b" || ne.ExpireAt() != env.Now+5000 || string(ne.Bytes()) != "v" || db.VolatileLen() != 1 {
		t.Fatal("rename lost state")
	}
}

func TestLRUAndLFUClock(t *testing.T) {
	db, env := newTestDB()
	e := db.AddString([]byte("k"), nil)
	env.Now += 5000
	if idle := db.IdleMillis(e); idle != 5000 {
		t.Fatalf("idle = %d", idle)
	}
	db.Lookup([]byte("k"))
	if idle := db.IdleMillis(e); idle != 0 {
		t.Fatalf("idle after touch = %d", idle)
	}
	env.LFU = true
	e2 := db.AddString([]byte("f"), nil)
	if c := db.LFUCounter(e2); c != lfuInitVal {
		t.Fatalf("initial LFU counter %d", c)
	}
	for i := 0; i < 1000; i++ {
		db.Lookup([]byte("f"))
	}
	if c := db.LFUCounter(e2); c <= lfuInitVal {
		t.Fatalf("LFU counter did not grow: %d", c)
	}
	if e2.Type() != TypeString {
		t.Fatal("clock updates clobbered the type")
	}
}

type recordingHook struct {
	preserved []string
	detached  int
}

func (h *recordingHook) Preserve(_ *DB, e *Entry) { h.preserved = append(h.preserved, e.Key()) }
func (h *recordingHook) Detached(_ *DB, forEach func(fn func(e *Entry) bool)) {
	forEach(func(*Entry) bool { h.detached++; return true })
}
func (h *recordingHook) Swapped(a, b *DB) {}

func TestSnapshotClaims(t *testing.T) {
	db, env := newTestDB()
	db.AddString([]byte("a"), []byte("1"))
	db.AddString([]byte("b"), []byte("2"))
	db.AddString([]byte("c"), []byte("3"))
	h := &recordingHook{}
	db.BeginSnapshot(1, h)
	db.AddString([]byte("new"), nil)              // born claimed
	db.SetString([]byte("a"), []byte("x"), false) // preserved once
	db.SetString([]byte("a"), []byte("y"), false)
	db.SetExpire(db.Peek([]byte("b")), env.Now+10)
	db.Delete([]byte("new"))
	if c := db.Peek([]byte("c")); !db.Claim(c) || db.Claim(c) {
		t.Fatal("Claim should succeed once")
	}
	db.Delete([]byte("c")) // already claimed by the walk: not preserved
	if fmt.Sprint(h.preserved) != "[a b]" {
		t.Fatalf("preserved %v", h.preserved)
	}
	db.Flush()
	if h.detached != 2 {
		t.Fatalf("detached %d entries", h.detached)
	}
	db.EndSnapshot()
}

func BenchmarkLookup(b *testing.B) {
	db, _ := newTestDB()
	keys := make([][]byte, 1<<16)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%012d", i))
		db.AddString(keys[i], []byte("xxx"))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if db.Lookup(keys[i&(len(keys)-1)]) == nil {
			b.Fatal("missing")
		}
	}
}

func TestAddIfAbsentIsDictAdd(t *testing.T) {
	// Redis's dictAdd: add a key unless it exists, and say which. Checked
	// across a growing table (incremental rehash in progress or not) and
	// for expired keys, which still occupy their name.
	db, env := newTestDB()
	env.NoExpire = true
	for i := 0; i < 5000; i++ {
		k := []byte(fmt.Sprint("k", i))
		var e *Entry
		var added bool
		if i%2 == 0 {
			e, added = db.AddStringIfAbsent(k, []byte(fmt.Sprint("v", i)))
		} else {
			e, added = db.AddObjectIfAbsent(k, TypeList, i)
		}
		if !added || e.Key() != string(k) {
			t.Fatalf("k%d: not added", i)
		}
		if i%7 == 0 {
			db.SetExpire(e, env.Now-1)
		}
		// Every key added so far is refused, in whichever table it is.
		j := i * 7919 % (i + 1)
		dup, added := db.AddStringIfAbsent([]byte(fmt.Sprint("k", j)), []byte("other"))
		if added || dup.Key() != fmt.Sprint("k", j) {
			t.Fatalf("k%d added twice (after %d keys)", j, i+1)
		}
		if j%2 == 0 && string(dup.Bytes()) != fmt.Sprint("v", j) {
			t.Fatalf("k%d: the refused add changed the value to %q", j, dup.Bytes())
		}
	}
	if db.Len() != 5000 {
		t.Fatalf("Len = %d, want 5000", db.Len())
	}
	if e := db.PeekNoExpire([]byte("k4998")); e == nil || string(e.Bytes()) != "v4998" {
		t.Fatal("k4998 not found after the adds")
	}
	if e := db.PeekNoExpire([]byte("k4999")); e == nil || e.Object() != 4999 || e.Type() != TypeList {
		t.Fatal("k4999 not found as an object")
	}
}

func TestReserveSizesTheTableOnce(t *testing.T) {
	// Redis's RESIZEDB: after Reserve(n), n adds resize nothing.
	db, _ := newTestDB()
	db.Reserve(10000, 10)
	size := len(db.dict.t[0])
	if size < 10000 || db.dict.rehashing() {
		t.Fatalf("table of %d buckets (rehashing %v) after Reserve(10000)", size, db.dict.rehashing())
	}
	for i := 0; i < 10000; i++ {
		db.AddStringIfAbsent([]byte(fmt.Sprint("k", i)), nil)
		if len(db.dict.t[0]) != size || db.dict.rehashing() {
			t.Fatalf("the table resized at key %d", i)
		}
	}
	// It never shrinks, and a huge hint is bounded.
	db.Reserve(10, 0)
	if len(db.dict.t[0]) != size {
		t.Fatal("Reserve shrank the table")
	}
	empty, _ := newTestDB()
	empty.Reserve(1<<40, 0)
	if n := len(empty.dict.t[0]); n > maxReserve {
		t.Fatalf("Reserve(1<<40) allocated %d buckets", n)
	}
}

func TestReserveGrowsAFilledTableIncrementally(t *testing.T) {
	db, _ := newTestDB()
	for i := 0; i < 1000; i++ {
		db.AddString([]byte(fmt.Sprint("k", i)), nil)
	}
	for db.Rehash(100) {
	}
	db.Reserve(100000, 0)
	if !db.dict.rehashing() || len(db.dict.t[1]) < 100000 {
		t.Fatalf("Reserve on a filled table: rehashing %v, new table %d", db.dict.rehashing(), len(db.dict.t[1]))
	}
	for i := 0; i < 1000; i++ {
		if db.PeekNoExpire([]byte(fmt.Sprint("k", i))) == nil {
			t.Fatalf("k%d lost while rehashing", i)
		}
	}
	for db.Rehash(100) {
	}
	if db.Len() != 1000 || len(db.dict.t[0]) < 100000 {
		t.Fatalf("after the rehash: %d keys, %d buckets", db.Len(), len(db.dict.t[0]))
	}
}

func TestEntryMetaFieldsAreIndependent(t *testing.T) {
	// meta packs the hash tag, the type and the clock: setting one keeps
	// the others.
	var e Entry
	for _, tag := range []uint64{0, 1 << 59, 31 << 59, 17 << 59} {
		for typ := TypeString; typ <= TypeStream; typ++ {
			for _, clock := range []uint32{0, 1, clockMask, 0x123456} {
				e.setTag(hashTag(tag))
				e.setType(typ)
				e.setClock(clock)
				e.setTag(hashTag(tag)) // last, as link does
				if e.typ() != typ || e.clock() != clock || e.tag() != hashTag(tag) {
					t.Fatalf("tag %x type %v clock %x: got tag %x type %v clock %x", hashTag(tag), typ, clock, e.tag(), e.typ(), e.clock())
				}
			}
		}
	}
}

func TestFindComparesKeysWhenTagsCollide(t *testing.T) {
	// 5-bit tags collide for 1 in 32 pairs of keys: with thousands of keys
	// in a small table, chains hold colliding tags; every key is still
	// found, and absent keys are not.
	db, _ := newTestDB()
	for i := 0; i < 4000; i++ {
		db.AddString([]byte(fmt.Sprint("k", i)), []byte(fmt.Sprint(i)))
	}
	for i := 0; i < 4000; i++ {
		if e := db.PeekNoExpire([]byte(fmt.Sprint("k", i))); e == nil || string(e.Bytes()) != fmt.Sprint(i) {
			t.Fatalf("k%d not found", i)
		}
		if db.PeekNoExpire([]byte(fmt.Sprint("x", i))) != nil {
			t.Fatalf("x%d found", i)
		}
	}
}
