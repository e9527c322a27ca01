package server

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// The node listens before it loads, as Redis: while a large data set
// loads, a command gets -LOADING, INFO says loading:1 with the loading_*
// fields, and `shoal-node health ready` fails; then the data is there.

// loadingKeys makes a snapshot of about 25 MB: the load takes a moment
// and releases the lock every 2 MB. A node built with the race detector
// (SHOAL_NODE_RACE=1, make test-race) loads several times slower: a
// quarter of the keys is as long a load, in a quarter of the test's time.
var loadingKeys = map[bool]int{false: 1_000_000, true: 250_000}[os.Getenv("SHOAL_NODE_RACE") == "1"]

func TestLoadingSnapshotAnswersLoading(t *testing.T) {
	n := newPersistNode(t, "--enable-debug-command", "yes")
	c := n.start()
	ctx := context.Background()
	if err := c.Do(ctx, "DEBUG", "POPULATE", loadingKeys).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	n.stop()
	fi, err := os.Stat(filepath.Join(n.Dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	observeLoading(t, n, fi.Size(), loadingKeys)
}

func TestLoadingAOFAnswersLoading(t *testing.T) {
	n := newPersistNode(t, "--enable-debug-command", "yes", "--appendonly", "yes")
	c := n.start()
	ctx := context.Background()
	if err := c.Do(ctx, "DEBUG", "POPULATE", loadingKeys).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "BGREWRITEAOF").Err(); err != nil {
		t.Fatal(err)
	}
	waitInfo(t, c, "aof_rewrites", "1")
	waitInfo(t, c, "aof_rewrite_in_progress", "0")
	if err := c.Set(ctx, "after", "rewrite", 0).Err(); err != nil { // replayed from the incr file
		t.Fatal(err)
	}
	n.stop()
	var total int64
	files, err := os.ReadDir(filepath.Join(n.Dir, "appendonlydir"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.Contains(f.Name(), ".base.") || strings.Contains(f.Name(), ".incr.") { // not the manifest
			fi, err := f.Info()
			if err != nil {
				t.Fatal(err)
			}
			total += fi.Size()
		}
	}
	rc := observeLoading(t, n, total, loadingKeys+1)
	if got := rc.do("GET", "after"); got != "$7\r\nrewrite\r\n" {
		t.Errorf("GET after = %q, want the write replayed from the incr file", got)
	}
}

// observeLoading starts n on its files and polls, with a deadline, until
// the data is served; before that it must have seen -LOADING for a GET,
// loading:1 with consistent loading_* fields in INFO persistence, and the
// readiness probe fail, then succeed after the load with every key. It
// returns the connection.
func observeLoading(t *testing.T, n *persistNode, totalBytes int64, keys int) *rawConn {
	t.Helper()
	n.spawn()
	deadline := time.Now().Add(2 * time.Minute)
	var conn net.Conn
	for {
		var err error
		if conn, err = net.DialTimeout("tcp", n.Addr, 100*time.Millisecond); err == nil {
			break
		}
		if time.Now().After(deadline) || !n.running() {
			t.Fatalf("node did not listen: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	t.Cleanup(func() { conn.Close() })
	rc := &rawConn{t: t, c: conn, rd: bufio.NewReader(conn)}
	port := n.Addr[strings.LastIndex(n.Addr, ":")+1:]
	var sawLoading, sawInfo, sawProbe bool
	for {
		if time.Now().After(deadline) {
			t.Fatal("the data set did not load")
		}
		got := rc.do("GET", "key:1")
		if got == "$7\r\nvalue:1\r\n" {
			break
		}
		if got != "-LOADING Redis is loading the dataset in memory\r\n" {
			t.Fatalf("GET while loading: %q", got)
		}
		sawLoading = true
		if info := parseInfo(t, rc.do("INFO", "persistence")); info["loading"] == "1" {
			checkLoadingInfo(t, info, totalBytes)
			sawInfo = true
		}
		if !sawProbe {
			out, err := exec.Command(nodetest.Binary(t), "health", "ready", "--port", port).CombinedOutput()
			if err == nil && !strings.Contains(string(out), "loading") {
				// The load may have ended in between: only a pass during
				// loading that the GET below still sees is wrong.
				if rc.do("GET", "key:1") != "$7\r\nvalue:1\r\n" {
					t.Fatalf("health ready passed while loading: %s", out)
				}
			}
			sawProbe = err != nil && strings.Contains(string(out), "loading the dataset")
		}
	}
	if !sawLoading || !sawInfo {
		t.Fatalf("the load ended before a client saw it (LOADING %v, INFO loading:1 %v): make the data set larger", sawLoading, sawInfo)
	}
	if !sawProbe {
		t.Error("health ready never said the node was loading")
	}
	info := parseInfo(t, rc.do("INFO", "persistence"))
	if info["loading"] != "0" || info["loading_total_bytes"] != "" {
		t.Errorf("after the load INFO persistence says loading:%s loading_total_bytes:%q", info["loading"], info["loading_total_bytes"])
	}
	if got := rc.do("DBSIZE"); got != ":"+strconv.Itoa(keys)+"\r\n" {
		t.Errorf("DBSIZE after the load: %q", got)
	}
	if out, err := exec.Command(nodetest.Binary(t), "health", "ready", "--port", port).CombinedOutput(); err != nil {
		t.Errorf("health ready after the load: %v %s", err, out)
	}
	return rc
}

// checkLoadingInfo checks the loading_* fields as Redis 7.0 reports them.
func checkLoadingInfo(t *testing.T, info map[string]string, totalBytes int64) {
	t.Helper()
	num := func(f string) int64 {
		v, err := strconv.ParseInt(info[f], 10, 64)
		if err != nil {
			t.Fatalf("INFO %s = %q while loading", f, info[f])
		}
		return v
	}
	if start := num("loading_start_time"); start > time.Now().Unix() || start < time.Now().Unix()-120 {
		t.Errorf("loading_start_time %d", start)
	}
	if got := num("loading_total_bytes"); got != totalBytes {
		t.Errorf("loading_total_bytes %d, want the file size %d", got, totalBytes)
	}
	loaded := num("loading_loaded_bytes")
	if loaded <= 0 || loaded > totalBytes {
		t.Errorf("loading_loaded_bytes %d of %d", loaded, totalBytes)
	}
	perc, err := strconv.ParseFloat(info["loading_loaded_perc"], 64)
	if want := float64(loaded) / float64(totalBytes) * 100; err != nil || perc < want-0.01 || perc > want+0.01 {
		t.Errorf("loading_loaded_perc %q, want %.2f", info["loading_loaded_perc"], want)
	}
	if eta := num("loading_eta_seconds"); eta < 0 {
		t.Errorf("loading_eta_seconds %d", eta)
	}
	if info["async_loading"] != "0" {
		t.Errorf("async_loading %q", info["async_loading"])
	}
}

// parseInfo reads the field:value lines of a raw INFO bulk reply.
func parseInfo(t *testing.T, raw string) map[string]string {
	t.Helper()
	if !strings.HasPrefix(raw, "$") {
		t.Fatalf("INFO while loading: %q", raw)
	}
	out := map[string]string{}
	for _, line := range strings.Split(raw, "\r\n")[1:] {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// A replica does not connect to its master before its own load ends (a
// full sync then would race the load): while the replica answers
// LOADING its master has no replica; once loaded, it connects.
func TestLoadingDelaysReplication(t *testing.T) {
	n := newPersistNode(t, "--enable-debug-command", "yes")
	c := n.start()
	ctx := context.Background()
	if err := c.Do(ctx, "DEBUG", "POPULATE", loadingKeys).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	n.stop()
	m := startNode(t)
	mc := m.client(t)
	n.spawn("--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	deadline := time.Now().Add(2 * time.Minute)
	sawLoading := false
	for {
		if time.Now().After(deadline) || !n.running() {
			t.Fatal("the replica did not finish loading")
		}
		conn, err := net.DialTimeout("tcp", n.Addr, 100*time.Millisecond)
		if err != nil {
			time.Sleep(time.Millisecond)
			continue
		}
		loading := nodetest.AnswersLoading(conn)
		conn.Close()
		if !loading {
			break
		}
		sawLoading = true
		if got := replInfo(t, mc, "replication", "connected_slaves"); got != "0" {
			t.Fatalf("the master has %s replicas while its replica still loads", got)
		}
	}
	if !sawLoading {
		t.Fatal("the load ended before the test saw it: make the data set larger")
	}
	for replInfo(t, mc, "replication", "connected_slaves") != "1" {
		if time.Now().After(deadline) {
			t.Fatal("the replica did not connect after its load")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
