package backup

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// failingReader yields some bytes, then an error, as a snapshot stream
// that breaks.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("stream broke")
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

// TestDirStore: objects round-trip; a Put that fails leaves no object and
// no file; keys that leave the root are refused; List skips nothing but
// partial files; RemoveAll removes a folder only.
func TestDirStore(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := NewDirStore(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"b/1/shard-0.rdb", "b/1/manifest.json", "b/2/shard-0.rdb"} {
		if err := d.Put(ctx, k, strings.NewReader("data of "+k), -1, ""); err != nil {
			t.Fatal(err)
		}
	}
	r, err := d.Get(ctx, "b/1/shard-0.rdb")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "data of b/1/shard-0.rdb" {
		t.Fatalf("Get: %q", b)
	}
	if err := d.Put(ctx, "b/1/broken", &failingReader{n: 100000}, -1, ""); err == nil {
		t.Fatal("a Put whose reader failed succeeded")
	}
	if _, err := d.Get(ctx, "b/1/broken"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a failed Put: %v, want ErrNotFound", err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "b", "1"))
	if len(entries) != 2 {
		t.Errorf("files left in b/1 after a failed Put: %v", entries)
	}
	if keys, err := d.List(ctx, "b/1/"); err != nil || !slices.Equal(keys, []string{"b/1/manifest.json", "b/1/shard-0.rdb"}) {
		t.Errorf("List b/1/: %q, %v", keys, err)
	}
	for _, k := range []string{"", "/etc/passwd", "../x", "b/../../x", "b//c", "b/./c", `b\c`, "b/.partial-1"} {
		if err := d.Put(ctx, k, strings.NewReader("x"), 1, ""); err == nil {
			t.Errorf("Put %q accepted", k)
		}
	}
	if err := d.RemoveAll(ctx, "b/1"); err == nil {
		t.Error("RemoveAll of a bare prefix accepted")
	}
	if err := d.RemoveAll(ctx, "b/1/"); err != nil {
		t.Fatal(err)
	}
	if keys, err := d.List(ctx, "b/"); err != nil || !slices.Equal(keys, []string{"b/2/shard-0.rdb"}) {
		t.Errorf("after RemoveAll b/1/: %q, %v", keys, err)
	}
}
