package server

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClusterAnnounceSetAtRuntime: CONFIG SET of cluster-announce-port,
// -hostname and cluster-replica-no-failover on a running cluster node, as
// Redis allows, shows at once in its own CLUSTER NODES, is saved to its
// nodes.conf, and reaches a peer by gossip.
func TestClusterAnnounceSetAtRuntime(t *testing.T) {
	a, b := startClusterProc(t, "", 0), startClusterProc(t, "", 0)
	if err := a.do(t, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(b.Port), strconv.Itoa(b.BusPort)).Err(); err != nil {
		t.Fatal(err)
	}
	myID := a.text(t, "CLUSTER", "MYID")
	for _, kv := range [][2]string{{"cluster-announce-port", "7777"}, {"cluster-announce-hostname", "host-a"}, {"cluster-replica-no-failover", "yes"}} {
		if err := a.do(t, "CONFIG", "SET", kv[0], kv[1]).Err(); err != nil {
			t.Fatalf("CONFIG SET %s %s: %v", kv[0], kv[1], err)
		}
	}
	lineOf := func(nodes string) string {
		for _, l := range strings.Split(nodes, "\n") {
			if strings.HasPrefix(l, myID+" ") {
				return l
			}
		}
		return ""
	}
	want := func(l string) bool {
		return strings.Contains(l, ":7777@"+strconv.Itoa(a.BusPort)+",host-a") && strings.Contains(l, "nofailover")
	}
	if l := lineOf(a.text(t, "CLUSTER", "NODES")); !want(l) {
		t.Fatalf("own CLUSTER NODES line after CONFIG SET: %q", l)
	}
	deadline := time.Now().Add(clusterWait)
	for {
		conf, _ := os.ReadFile(filepath.Join(a.Dir, "nodes.conf"))
		peer, _ := b.do(t, "CLUSTER", "NODES").Text()
		if want(lineOf(string(conf))) && strings.Contains(lineOf(peer), ":7777@"+strconv.Itoa(a.BusPort)+",host-a") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not saved or not gossiped within %v:\nnodes.conf %q\npeer's line %q", clusterWait, lineOf(string(conf)), lineOf(peer))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
