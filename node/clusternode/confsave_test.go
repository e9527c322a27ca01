package clusternode

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// runConfSaver starts a saver of a nodes.conf in a temporary directory
// with its goroutine, guarded by mu as by the server lock; stop ends the
// goroutine (once; the test's cleanup calls it too).
func runConfSaver(t *testing.T) (path string, mu *sync.Mutex, cs *confSaver, stop func()) {
	path = filepath.Join(t.TempDir(), "nodes.conf")
	mu = &sync.Mutex{}
	cs = newConfSaver(path, func(err error) { t.Errorf("fatal: %v", err) })
	closing := make(chan struct{})
	done := make(chan struct{})
	mu.Lock()
	cs.closed = false
	mu.Unlock()
	locked := func(fn func()) { mu.Lock(); fn(); mu.Unlock() }
	go cs.loop(locked, closing, func() { close(done) })
	var once sync.Once
	stop = func() { once.Do(func() { close(closing); <-done }) }
	t.Cleanup(stop)
	return path, mu, cs, stop
}

// A save the machine marks Fsync is on disk when save returns, while the
// saver goroutine runs and an older save is pending: so it is on disk
// before the reply or message of its Ready. The older snapshot the saver
// still holds never replaces it.
func TestConfSaverFsyncSaveIsSynchronous(t *testing.T) {
	path, mu, cs, stop := runConfSaver(t)

	for i := 0; i < 200; i++ {
		mu.Lock()
		cs.save([]byte("lazy "+strconv.Itoa(i)+"\n"), false)
		want := "durable " + strconv.Itoa(i) + "\n"
		cs.save([]byte(want), true)
		got, err := os.ReadFile(path)
		mu.Unlock()
		if err != nil || string(got) != want {
			t.Fatalf("right after the fsync save %d: %q, %v; want %q", i, got, err, want)
		}
	}
	// Nothing is pending any more: the file stays the last durable save.
	mu.Lock()
	pending := cs.pending
	mu.Unlock()
	if pending != nil {
		t.Fatalf("pending after an fsync save: %q", pending)
	}
	// Once the saver stopped, whatever it held was not renamed over it.
	stop()
	if got, _ := os.ReadFile(path); string(got) != "durable 199\n" {
		t.Fatalf("after the saver stopped: %q", got)
	}
}

// Saves without fsync are written by the saver, many in a row as few
// writes, the last one winning; flush writes what is pending and makes
// later saves synchronous.
func TestConfSaverCoalescesAndFlushes(t *testing.T) {
	path, mu, cs, stop := runConfSaver(t)

	const n = 1000
	mu.Lock()
	for i := 0; i < n; i++ {
		cs.save([]byte("state "+strconv.Itoa(i)+"\n"), false)
	}
	mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if string(b) == "state 999\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the saver did not write the last state: %q", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cs.fileMu.Lock()
	writes := cs.writes
	cs.fileMu.Unlock()
	if writes < 1 || writes > 2 {
		t.Fatalf("%d saves under the lock took %d writes; want 1 or 2", n, writes)
	}

	// A save left pending at close is written by flush.
	stop()
	mu.Lock()
	cs.save([]byte("pending\n"), false)
	if b, _ := os.ReadFile(path); string(b) == "pending\n" {
		t.Fatal("written without a saver")
	}
	cs.flush()
	b, _ := os.ReadFile(path)
	cs.save([]byte("after close\n"), false)
	c, _ := os.ReadFile(path)
	mu.Unlock()
	if string(b) != "pending\n" || string(c) != "after close\n" {
		t.Fatalf("flush wrote %q, the save after it %q", b, c)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".nodes.conf.tmp-*")); len(matches) != 0 {
		t.Fatalf("temporary files left: %v", matches)
	}
}
