package persistence

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
	"github.com/shoal-dev/shoal/node/resp"
)

func TestManifestGoldenAndParse(t *testing.T) {
	m := &AOFManifest{
		Base: &AOFFileInfo{Name: BaseFileName("appendonly.aof", 3), Seq: 3, Type: AOFBase},
		Incr: []AOFFileInfo{
			{Name: IncrFileName("appendonly.aof", 5), Seq: 5, Type: AOFIncr},
			{Name: IncrFileName("appendonly.aof", 6), Seq: 6, Type: AOFIncr},
		},
	}
	want := "file appendonly.aof.3.base.rdb seq 3 type b\n" +
		"file appendonly.aof.5.incr.aof seq 5 type i\n" +
		"file appendonly.aof.6.incr.aof seq 6 type i\n"
	if got := string(m.Encode()); got != want {
		t.Fatalf("manifest:\n%s\nwant:\n%s", got, want)
	}
	// Redis's own manifest lines parse too (key order free, comments, history).
	redis := "# comment\n\nfile appendonly.aof.1.base.rdb seq 1 type b\ntype h seq 1 file appendonly.aof.1.incr.aof\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
	p, err := ParseAOFManifest(strings.NewReader(redis), "m")
	if err != nil {
		t.Fatal(err)
	}
	if p.Base.Name != "appendonly.aof.1.base.rdb" || len(p.History) != 1 || len(p.Incr) != 1 || p.Incr[0].Seq != 2 {
		t.Fatalf("parsed %+v", p)
	}
	if p.NextSeq(AOFIncr) != 3 || p.NextSeq(AOFBase) != 2 {
		t.Fatalf("next seqs %d %d", p.NextSeq(AOFIncr), p.NextSeq(AOFBase))
	}
}

func TestManifestRejectsBadInput(t *testing.T) {
	for _, bad := range []string{
		"file a seq 1 type b",                        // no final newline
		"file a seq 1\n",                             // no type
		"file a seq 0 type i\n",                      // seq must be positive
		"file a seq 1 type x\n",                      // unknown type
		"file ../a seq 1 type i\n",                   // not a plain name
		"file a seq 1 type b\nfile b seq 2 type b\n", // two bases
		"file a seq 2 type i\nfile b seq 1 type i\n", // incr out of order
		"file a seq 1 type i extra\n",                // odd fields
		"file a file b seq 1 type i\n",               // key twice
		strings.Repeat("x", 2000) + "\n",             // too long
	} {
		_, err := ParseAOFManifest(strings.NewReader(bad), "the.manifest")
		if !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), "the.manifest") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

// loadDir replays a directory into a tiny model: db -> key -> value, from
// snapshot records and SET/DEL/SELECT commands.
func loadDir(t testing.TB, dir string, trim bool) (map[string]string, AOFLoadReport, error) {
	t.Helper()
	d, found, err := OpenAOFDir(dir, "appendonly.aof")
	if err != nil {
		return nil, AOFLoadReport{}, err
	}
	if !found {
		t.Fatalf("no manifest in %s", dir)
	}
	data := map[string]string{}
	db, lastFile := 0, ""
	rep, err := d.Load(trim, AOFHandler{
		Snapshot: SnapshotHandler{Key: func(r Record) error {
			data[fmt.Sprintf("%d/%s", r.DB, r.Key)] = string(must(decodeRDBString(r.Value)))
			return nil
		}},
		Command: func(file string, a [][]byte) error {
			if file != lastFile {
				db, lastFile = 0, file
			}
			switch strings.ToUpper(string(a[0])) {
			case "SELECT":
				fmt.Sscan(string(a[1]), &db)
			case "SET":
				data[fmt.Sprintf("%d/%s", db, a[1])] = string(a[2])
			case "DEL":
				delete(data, fmt.Sprintf("%d/%s", db, a[1]))
			default:
				return fmt.Errorf("unknown command %q", a[0])
			}
			return nil
		},
	})
	return data, rep, err
}

func snapshotOf(data map[string]string) func(*SnapshotWriter) error {
	return func(w *SnapshotWriter) error {
		for _, k := range slices.Sorted(maps.Keys(data)) {
			var db int
			var key string
			fmt.Sscanf(strings.Replace(k, "/", " ", 1), "%d %s", &db, &key)
			if err := w.Key(db, []byte(key), NoExpire, TypeString, rdb.AppendStringObject(nil, []byte(data[k]))); err != nil {
				return err
			}
		}
		return nil
	}
}

func listDir(t testing.TB, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// The whole rewrite protocol, with writes before, during and after it, and
// a load (as after a crash) at every step: nothing written is ever missing.
func TestAOFDirRewriteKeepsEveryWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "appendonlydir")
	d, found, err := OpenAOFDir(dir, "appendonly.aof")
	if err != nil || found {
		t.Fatalf("fresh dir: found=%v err=%v", found, err)
	}
	model := map[string]string{"0/seed": "s"}
	f, err := d.Create(snapshotOf(model))
	if err != nil {
		t.Fatal(err)
	}
	w := NewAOFWriter(f, FsyncAlways)
	set := func(db int, k, v string) {
		if err := w.WaitSynced(w.Append(db, argv("SET", k, v))); err != nil {
			t.Fatal(err)
		}
		model[fmt.Sprintf("%d/%s", db, k)] = v
	}
	check := func(step string) {
		t.Helper()
		got, _, err := loadDir(t, dir, false)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		for k, v := range model {
			if got[k] != v {
				t.Fatalf("%s: %s = %q, want %q", step, k, got[k], v)
			}
		}
		if len(got) != len(model) {
			t.Fatalf("%s: loaded %d keys, want %d", step, len(got), len(model))
		}
	}
	set(0, "a", "1")
	set(2, "b", "2")
	check("before the rewrite")

	rw, err := d.BeginRewrite(true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.BeginRewrite(true); !errors.Is(err, ErrRewriteInProgress) {
		t.Fatalf("second rewrite: %v", err)
	}
	check("after BeginRewrite")
	pointInTime := maps.Clone(model)
	w.Rotate(rw.IncrFile())
	set(2, "c", "3") // during the rewrite: only in the new incr
	set(0, "a", "changed")
	check("during the rewrite")
	if err := rw.WriteBase(snapshotOf(pointInTime)); err != nil {
		t.Fatal(err)
	}
	check("after the base is written, before commit")
	if err := rw.Commit(); err != nil {
		t.Fatal(err)
	}
	check("after commit")
	set(2, "d", "4")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	check("after more writes")
	want := []string{"appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"}
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Fatalf("dir holds %v, want %v", got, want)
	}
}

func TestAOFDirAbortedRewriteKeepsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "appendonlydir")
	d, _, _ := OpenAOFDir(dir, "appendonly.aof")
	f, err := d.Create(snapshotOf(map[string]string{"0/x": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	w := NewAOFWriter(f, FsyncAlways)
	rw, err := d.BeginRewrite(true)
	if err != nil {
		t.Fatal(err)
	}
	w.Rotate(rw.IncrFile())
	w.WaitSynced(w.Append(0, argv("SET", "y", "2")))
	if err := rw.WriteBase(func(*SnapshotWriter) error { return errors.New("disk full") }); err == nil {
		t.Fatal("WriteBase hid the error")
	}
	rw.Abort()
	w.WaitSynced(w.Append(0, argv("SET", "z", "3")))
	w.Close()
	got, _, err := loadDir(t, dir, false)
	if err != nil || got["0/x"] != "1" || got["0/y"] != "2" || got["0/z"] != "3" {
		t.Fatalf("after an aborted rewrite: %v %v", got, err)
	}
	// A later rewrite works and cleans up.
	if _, err := d.BeginRewrite(true); err != nil {
		t.Fatalf("rewrite after abort: %v", err)
	}
}

func TestAOFDirLoadErrors(t *testing.T) {
	setup := func(t *testing.T) (string, *AOFDir) {
		dir := filepath.Join(t.TempDir(), "appendonlydir")
		d, _, _ := OpenAOFDir(dir, "appendonly.aof")
		f, err := d.Create(snapshotOf(map[string]string{"0/x": "1"}))
		if err != nil {
			t.Fatal(err)
		}
		w := NewAOFWriter(f, FsyncAlways)
		w.WaitSynced(w.Append(0, argv("SET", "y", "2")))
		w.Close()
		return dir, d
	}
	incr1 := func(dir string) string { return filepath.Join(dir, IncrFileName("appendonly.aof", 1)) }

	t.Run("truncated last incr is an error unless trimmed", func(t *testing.T) {
		dir, _ := setup(t)
		fh, _ := os.OpenFile(incr1(dir), os.O_WRONLY|os.O_APPEND, 0)
		fh.WriteString("*3\r\n$3\r\nSET\r\n$1\r\nz")
		fh.Close()
		_, _, err := loadDir(t, dir, false)
		var le *LoadError
		if !errors.As(err, &le) || !errors.Is(err, ErrTruncated) || le.File != incr1(dir) || le.Tail != 18 {
			t.Fatalf("err = %v", err)
		}
		got, rep, err := loadDir(t, dir, true)
		if err != nil || got["0/y"] != "2" {
			t.Fatalf("trimmed load: %v %v", got, err)
		}
		last := rep.Files[len(rep.Files)-1]
		if !last.Truncated || last.TailBytes != 18 {
			t.Fatalf("report %+v", rep)
		}
		if _, _, err := loadDir(t, dir, false); err != nil {
			t.Fatalf("after trimming the file still does not load: %v", err)
		}
	})
	t.Run("corrupt incr stops the load", func(t *testing.T) {
		dir, _ := setup(t)
		fh, _ := os.OpenFile(incr1(dir), os.O_WRONLY|os.O_APPEND, 0)
		fh.WriteString("hello\r\n")
		fh.Close()
		_, _, err := loadDir(t, dir, true)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), incr1(dir)) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("corrupt base stops the load", func(t *testing.T) {
		dir, _ := setup(t)
		base := filepath.Join(dir, BaseFileName("appendonly.aof", 1))
		data, _ := os.ReadFile(base)
		data[len(data)-12] ^= 0xff
		os.WriteFile(base, data, 0o644)
		_, _, err := loadDir(t, dir, true)
		if !errors.Is(err, ErrBadChecksum) || !strings.Contains(err.Error(), base) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing listed file stops the load", func(t *testing.T) {
		dir, _ := setup(t)
		os.Remove(incr1(dir))
		_, _, err := loadDir(t, dir, true)
		if err == nil || !strings.Contains(err.Error(), incr1(dir)) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("truncated incr that is not the last stops the load", func(t *testing.T) {
		dir, d := setup(t)
		rw, err := d.BeginRewrite(true) // lists incr 2 after incr 1
		if err != nil {
			t.Fatal(err)
		}
		rw.file.Close()
		fh, _ := os.OpenFile(incr1(dir), os.O_WRONLY|os.O_APPEND, 0)
		fh.WriteString("*1\r\n$4\r\nPI")
		fh.Close()
		if _, _, err := loadDir(t, dir, true); !errors.Is(err, ErrTruncated) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("RESP base loads", func(t *testing.T) {
		dir, _ := setup(t)
		base := filepath.Join(dir, BaseFileName("appendonly.aof", 1))
		os.WriteFile(base, resp.AppendCommand(nil, argv("SET", "x", "resp")), 0o644)
		got, _, err := loadDir(t, dir, false)
		if err != nil || got["0/x"] != "resp" || got["0/y"] != "2" {
			t.Fatalf("%v %v", got, err)
		}
	})
}

func TestAOFDirBaseLoadPassesSizeHintsAndReuse(t *testing.T) {
	// The base of an AOF is a snapshot: its resize-db hints reach the
	// handler, and a handler that asks for reused buffers gets them.
	dir := filepath.Join(t.TempDir(), "appendonlydir")
	d, _, _ := OpenAOFDir(dir, "appendonly.aof")
	f, err := d.Create(func(w *SnapshotWriter) error {
		if err := w.ResizeDB(0, 2, 0); err != nil {
			return err
		}
		return snapshotOf(map[string]string{"0/a": "1", "0/b": "2"})(w)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var hints []string
	var firstKey []byte
	keys := 0
	_, err = d.Load(false, AOFHandler{Snapshot: SnapshotHandler{
		ResizeDB: func(db, k, e int) error { hints = append(hints, fmt.Sprint(db, k, e)); return nil },
		Key: func(r Record) error {
			if keys++; keys == 1 {
				firstKey = r.Key
			}
			return nil
		},
		Reuse: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(hints) != "[0 2 0]" || keys != 2 {
		t.Fatalf("hints %v, %d keys", hints, keys)
	}
	if string(firstKey) != "b" { // the second key was read into the first's buffer
		t.Fatalf("first key's buffer holds %q after the load: not reused", firstKey)
	}
}
