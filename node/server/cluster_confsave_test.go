package server

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/nodetest"
)

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
