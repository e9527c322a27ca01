package persistence

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/resp"
)

func argv(s ...string) [][]byte { return bs(s...) }

func openAppend(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readCommands(t testing.TB, path string) []string {
	t.Helper()
	var out []string
	if _, err := LoadAOFFile(path, false, func(a [][]byte) error {
		out = append(out, string(bytes.Join(a, []byte(" "))))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// The writer emits SELECT whenever the database changes, and a rotated file
// starts with one again.
func TestAOFWriterSelectAndRotate(t *testing.T) {
	for _, policy := range []FsyncPolicy{FsyncAlways, FsyncEverySec, FsyncNo} {
		t.Run(policy.String(), func(t *testing.T) {
			dir := t.TempDir()
			one, two := filepath.Join(dir, "1.aof"), filepath.Join(dir, "2.aof")
			w := NewAOFWriter(openAppend(t, one), policy)
			w.Append(0, argv("SET", "a", "1"))
			w.Append(0, argv("SET", "b", "2"))
			off := w.Append(3, argv("DEL", "a"))
			if err := w.WaitSynced(off); err != nil {
				t.Fatal(err)
			}
			w.Rotate(openAppend(t, two))
			w.Append(3, argv("SET", "c", "3"))
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got, want := readCommands(t, one), []string{"SELECT 0", "SET a 1", "SET b 2", "SELECT 3", "DEL a"}; !slices.Equal(got, want) {
				t.Fatalf("file 1: %q, want %q", got, want)
			}
			if got, want := readCommands(t, two), []string{"SELECT 3", "SET c 3"}; !slices.Equal(got, want) {
				t.Fatalf("file 2: %q, want %q", got, want)
			}
		})
	}
}

// With appendfsync always, many concurrent writers are all durable when
// WaitSynced returns, and they share fsyncs (group commit).
func TestAOFWriterAlwaysGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.aof")
	w := NewAOFWriter(openAppend(t, path), FsyncAlways)
	const clients, each = 32, 50
	var lock sync.Mutex // stands for the server's lock around Append
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				lock.Lock()
				off := w.Append(0, argv("SET", fmt.Sprintf("k%d-%d", c, i), "v"))
				lock.Unlock()
				if err := w.WaitSynced(off); err != nil {
					t.Error(err)
					return
				}
				// Acknowledged: it must already be in the file.
				if fi, err := os.Stat(path); err != nil || fi.Size() < off {
					t.Errorf("offset %d acknowledged, file has %v bytes (%v)", off, fi.Size(), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	st := w.Stats()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(readCommands(t, path)); n != clients*each+1 {
		t.Fatalf("%d commands in the file, want %d", n, clients*each+1)
	}
	if st.Fsyncs >= clients*each {
		t.Fatalf("%d fsyncs for %d commands: no group commit", st.Fsyncs, clients*each)
	}
	t.Logf("%d commands, %d fsyncs", clients*each, st.Fsyncs)
}

// everysec fsyncs in the background without any caller asking.
func TestAOFWriterEverySecSyncsInBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.aof")
	w := NewAOFWriter(openAppend(t, path), FsyncEverySec)
	defer w.Close()
	w.Append(0, argv("SET", "a", "1"))
	deadline := time.Now().Add(20 * time.Second)
	for w.Stats().Fsyncs == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no background fsync within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// flakyFile fails every write while broken is set, after writing half of
// the first such write (a short write, as on a full disk).
type flakyFile struct {
	mu     sync.Mutex
	data   []byte
	broken bool
	syncs  int
}

func (f *flakyFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken {
		n := len(p) / 2
		f.data = append(f.data, p[:n]...)
		return n, errors.New("no space left on device")
	}
	f.data = append(f.data, p...)
	return len(p), nil
}

func (f *flakyFile) Datasync() error { f.mu.Lock(); f.syncs++; f.mu.Unlock(); return nil }
func (f *flakyFile) Close() error    { return nil }

func (f *flakyFile) set(broken bool) { f.mu.Lock(); f.broken = broken; f.mu.Unlock() }

// A failed write is reported by Err and WaitSynced, its bytes are kept, and
// the retry continues exactly where the short write stopped.
func TestAOFWriterKeepsDataAcrossWriteErrors(t *testing.T) {
	f := &flakyFile{broken: true}
	w := newAOFWriter(f, FsyncAlways)
	defer w.Close()
	off := w.Append(0, argv("SET", "a", "1"))
	if err := w.WaitSynced(off); err == nil || w.Err() == nil || w.Stats().LastWriteErr == nil {
		t.Fatalf("failed write not reported: %v / %v", err, w.Err())
	}
	f.set(false)
	off = w.Append(0, argv("SET", "b", "2"))
	if err := w.WaitSynced(off); err != nil {
		// The first waiter may still see the old error; the retry must win.
		deadline := time.Now().Add(20 * time.Second)
		for w.WaitSynced(off) != nil {
			if time.Now().After(deadline) {
				t.Fatalf("never recovered: %v", w.Err())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if w.Err() != nil {
		t.Fatalf("Err still %v after recovery", w.Err())
	}
	f.mu.Lock()
	data := slices.Clone(f.data)
	f.mu.Unlock()
	var got []string
	if _, err := ReadAOF(bytes.NewReader(data), "flaky", false, func(a [][]byte) error {
		got = append(got, string(bytes.Join(a, []byte(" "))))
		return nil
	}); err != nil {
		t.Fatalf("file after recovery does not load: %v (%q)", err, data)
	}
	if want := []string{"SELECT 0", "SET a 1", "SET b 2"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestReadAOFGolden(t *testing.T) {
	data := "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv\n\r\n"
	var got []string
	info, err := ReadAOF(strings.NewReader(data), "x.aof", false, func(a [][]byte) error {
		got = append(got, fmt.Sprintf("%q", a))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`["SELECT" "0"]`, `["SET" "k" "v\n"]`}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if info.Commands != 2 || info.Size != int64(len(data)) || info.Truncated {
		t.Fatalf("info %+v", info)
	}
}

func TestReadAOFTruncatedAndCorrupt(t *testing.T) {
	one := string(resp.AppendCommand(nil, argv("SET", "a", "1")))
	two := string(resp.AppendCommand(nil, argv("SET", "b", "2")))
	multi := string(resp.AppendCommand(nil, argv("MULTI"))) + string(resp.AppendCommand(nil, argv("INCR", "c")))
	exec := string(resp.AppendCommand(nil, argv("EXEC")))
	cases := []struct {
		name      string
		data      string
		wantErr   error
		offset    int64
		tail      int64
		delivered int
	}{
		{"cut in the header", one + two[:1], ErrTruncated, int64(len(one)), 1, 1},
		{"cut in the length", one + two[:6], ErrTruncated, int64(len(one)), 6, 1},
		{"cut in the data", one + two[:len(two)-3], ErrTruncated, int64(len(one)), int64(len(two) - 3), 1},
		{"cut before the final LF", one + two[:len(two)-1], ErrTruncated, int64(len(one)), int64(len(two) - 1), 1},
		{"MULTI without EXEC", one + multi, ErrTruncated, int64(len(one)), int64(len(multi)), 1},
		{"MULTI with a cut EXEC", one + multi + exec[:5], ErrTruncated, int64(len(one)), int64(len(multi) + 5), 1},
		{"garbage between commands", one + "xyz" + two, ErrCorrupt, int64(len(one)), 0, 1},
		{"bad length", one + "*2\r\n$-5\r\n", ErrCorrupt, int64(len(one)), 0, 1},
		{"zero arguments", "*0\r\n" + one, ErrCorrupt, 0, 0, 0},
		{"non-numeric count", "*x\r\n", ErrCorrupt, 0, 0, 0},
		{"LF without CR", "*1\n$4\r\nPING\r\n", ErrCorrupt, 0, 0, 0},
		{"missing CRLF after data", "*1\r\n$4\r\nPINGXX*1\r\n", ErrCorrupt, 0, 0, 0},
		{"nested MULTI", multi + multi + exec, ErrCorrupt, int64(len(multi)), 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			_, err := ReadAOF(strings.NewReader(tc.data), "x.aof", false, func([][]byte) error { n++; return nil })
			var le *LoadError
			if !errors.As(err, &le) || !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if le.File != "x.aof" || le.Offset != tc.offset || le.Tail != tc.tail {
				t.Fatalf("at %s offset %d tail %d, want offset %d tail %d", le.File, le.Offset, le.Tail, tc.offset, tc.tail)
			}
			if n != tc.delivered {
				t.Fatalf("%d commands delivered, want %d", n, tc.delivered)
			}
			// Allowing truncation changes only the truncated cases.
			n = 0
			info, err := ReadAOF(strings.NewReader(tc.data), "x.aof", true, func([][]byte) error { n++; return nil })
			if errors.Is(tc.wantErr, ErrTruncated) {
				if err != nil || !info.Truncated || info.TruncatedAt != tc.offset || info.TailBytes != tc.tail || n != tc.delivered {
					t.Fatalf("allowed truncation: info %+v err %v delivered %d", info, err, n)
				}
			} else if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("allowing truncation let corruption through: %v", err)
			}
		})
	}
}

func TestReadAOFDeliversTransactionsWhole(t *testing.T) {
	data := resp.AppendCommand(nil, argv("MULTI"))
	data = resp.AppendCommand(data, argv("INCR", "a"))
	data = resp.AppendCommand(data, argv("INCR", "b"))
	data = resp.AppendCommand(data, argv("exec"))
	var got []string
	if _, err := ReadAOF(bytes.NewReader(data), "x", false, func(a [][]byte) error {
		got = append(got, string(a[0]))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"MULTI", "INCR", "INCR", "exec"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestLoadAOFFileTrimsTruncatedTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.aof")
	good := resp.AppendCommand(resp.AppendCommand(nil, argv("SET", "a", "1")), argv("SET", "b", "2"))
	if err := os.WriteFile(path, append(slices.Clone(good), "*3\r\n$3\r\nSET\r\n$1"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadAOFFile(path, false, func([][]byte) error { return nil }); !errors.Is(err, ErrTruncated) {
		t.Fatalf("without trimming: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Size() == int64(len(good)) {
		t.Fatal("file trimmed although trimming was off")
	}
	info, err := LoadAOFFile(path, true, func([][]byte) error { return nil })
	if err != nil || !info.Truncated || info.Commands != 2 || info.TailBytes != 15 {
		t.Fatalf("info %+v err %v", info, err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, good) {
		t.Fatalf("file after trimming: %q (%v)", got, err)
	}
}

// slowFile takes its time to write, as a disk that stalls.
type slowFile struct {
	flakyFile
	delay time.Duration
}

func (f *slowFile) Write(p []byte) (int, error) {
	time.Sleep(f.delay)
	return f.flakyFile.Write(p)
}

// With everysec a client does not wait for a stalled disk for more than
// MaxWriteWait; with always it waits for the fsync, however long.
func TestAOFWriterEverySecDoesNotBlockOnASlowDisk(t *testing.T) {
	f := &slowFile{delay: MaxWriteWait + 3*time.Second}
	w := newAOFWriter(f, FsyncEverySec)
	defer w.Close()
	start := time.Now()
	if err := w.WaitSynced(w.Append(0, argv("SET", "a", "1"))); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < MaxWriteWait || waited > MaxWriteWait+2*time.Second {
		t.Fatalf("waited %v for a write that takes %v, want about %v", waited, f.delay, MaxWriteWait)
	}
	if w.Stats().DelayedWrites != 1 {
		t.Fatalf("DelayedWrites = %d", w.Stats().DelayedWrites)
	}
}
