package server

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/nodetest"
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
	go cs.loop(mu, closing, func() { close(done) })
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

// After a burst of slot changes (one ADDSLOTS per slot, DELSLOTS, SETSLOT
// NODE, SETSLOT MIGRATING and STABLE), most of them saved in the
// background, a clean SHUTDOWN leaves nodes.conf with the final slot map;
// CLUSTER BUMPEPOCH's epoch is in nodes.conf as soon as its reply arrives;
// and the node restarts from that file with the same slots.
func TestClusterNodesConfAfterBurst(t *testing.T) {
	p := startClusterProc(t, "", 0)
	const slots = 600
	var cmds strings.Builder
	for i := 0; i < slots; i++ {
		cmds.WriteString("CLUSTER ADDSLOTS " + strconv.Itoa(i) + "\n")
	}
	for i := 100; i < 200; i++ {
		cmds.WriteString("CLUSTER DELSLOTS " + strconv.Itoa(i) + "\n")
	}
	myID := p.myID(t)
	for i := 1000; i < 1100; i++ {
		cmds.WriteString("CLUSTER SETSLOT " + strconv.Itoa(i) + " NODE " + myID + "\n")
	}
	out, err := runCLI(t, time.Minute, cmds.String(), "-p", strconv.Itoa(p.Port))
	if err != nil || strings.Count(out, "OK") != slots+100+100 {
		t.Fatalf("slot commands: %v\n%s", err, nodetest.Tail(out, 10))
	}
	const wantSlots = "0-99 200-599 1000-1099"

	// An fsynced save is on disk before the reply.
	bumped := p.text(t, "CLUSTER", "BUMPEPOCH")
	epoch := strings.Fields(bumped)[1]
	conf, err := os.ReadFile(filepath.Join(p.Dir, "nodes.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(conf), "currentEpoch "+epoch) {
		t.Fatalf("after %q nodes.conf is\n%s", bumped, conf)
	}

	// A second burst saved without fsync, and SHUTDOWN right behind it in
	// the same pipeline: the last saves are still pending when it runs.
	cmds.Reset()
	for i := 2000; i < 2300; i++ {
		cmds.WriteString("CLUSTER ADDSLOTS " + strconv.Itoa(i) + "\n")
	}
	for i := 2000; i < 2300; i++ {
		cmds.WriteString("CLUSTER DELSLOTS " + strconv.Itoa(i) + "\n")
	}
	cmds.WriteString("CLUSTER DELSLOTS 599\nSHUTDOWN NOSAVE\n")
	const finalSlots = "0-99 200-598 1000-1099"
	// redis-cli sees the connection close: its exit status says nothing.
	_, _ = runCLI(t, time.Minute, cmds.String(), "-p", strconv.Itoa(p.Port))
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the node did not exit after SHUTDOWN")
	}
	p.cmd = nil
	conf, err = os.ReadFile(filepath.Join(p.Dir, "nodes.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if got := myselfSlots(string(conf)); got != finalSlots {
		t.Fatalf("nodes.conf after SHUTDOWN has slots %q, want %q (burst %s):\n%s", got, finalSlots, wantSlots, conf)
	}

	p.Port = nodetest.FreePort(t)
	p.start(t)
	for _, l := range parseClusterNodes(p.text(t, "CLUSTER", "NODES")) {
		if strings.Contains(l.Flags, "myself") {
			if got := strings.Join(l.Slots, " "); got != finalSlots {
				t.Fatalf("after the restart myself serves %q, want %q", got, finalSlots)
			}
		}
	}
}

// myselfSlots is the slot field of myself's line of nodes.conf.
func myselfSlots(conf string) string {
	for _, line := range strings.Split(conf, "\n") {
		f := strings.Fields(line)
		if len(f) >= 8 && strings.Contains(f[2], "myself") {
			return strings.Join(f[8:], " ")
		}
	}
	return ""
}
