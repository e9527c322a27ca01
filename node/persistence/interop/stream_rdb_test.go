package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// renderStreams renders every stream of db 0 with its consumer groups:
// entries, and per group its last delivered ID, entries-read, lag, and
// pending entries with their consumer and delivery count (times left
// out: they are relative to now).
func renderStreams(t testing.TB, addr string) map[string]string {
	t.Helper()
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2})
	defer c.Close()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		if typ := c.Type(ctx, k).Val(); typ != "stream" {
			continue
		}
		var b strings.Builder
		for _, m := range c.XRange(ctx, k, "-", "+").Val() {
			fmt.Fprintf(&b, "%s%v ", m.ID, m.Values)
		}
		info := c.Do(ctx, "XINFO", "STREAM", k).Val()
		fmt.Fprintf(&b, "| %v |", streamInfoFields(info))
		for _, g := range c.XInfoGroups(ctx, k).Val() {
			fmt.Fprintf(&b, " group %s last %s read %d lag %d pending %d consumers %d:", g.Name, g.LastDeliveredID, g.EntriesRead, g.Lag, g.Pending, g.Consumers)
			for _, p := range c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: k, Group: g.Name, Start: "-", End: "+", Count: 1000}).Val() {
				fmt.Fprintf(&b, " %s/%s/%d", p.ID, p.Consumer, p.RetryCount)
			}
			for _, cons := range c.XInfoConsumers(ctx, k, g.Name).Val() {
				fmt.Fprintf(&b, " consumer %s pending %d", cons.Name, cons.Pending)
			}
		}
		out[k] = b.String()
	}
	return out
}

// streamInfoFields keeps XINFO STREAM's counters and IDs (not its
// radix-tree figures, which depend on how entries are packed).
func streamInfoFields(reply any) string {
	arr, _ := reply.([]any)
	var parts []string
	for i := 0; i+1 < len(arr); i += 2 {
		switch name := fmt.Sprint(arr[i]); name {
		case "length", "last-generated-id", "max-deleted-entry-id", "entries-added", "groups":
			parts = append(parts, fmt.Sprintf("%s=%v", name, arr[i+1]))
		}
	}
	return strings.Join(parts, " ")
}

// TestStreamsRDBBothWays: streams with consumer groups (pending entries,
// consumers without any, a deleted entry, an emptied stream) saved by
// redis-server load into our node, and saved by our node pass
// redis-check-rdb and load into redis-server, with entries, counters,
// groups and pending entries identical.
func TestStreamsRDBBothWays(t *testing.T) {
	ctx := context.Background()
	rdir := t.TempDir()
	r := startRedis(t, rdir)
	rdb, closeR := dbClients(r.Addr)
	defer closeR()
	if err := fillStream(ctx, rdb); err != nil {
		t.Fatal(err)
	}
	want := renderStreams(t, r.Addr)
	if len(want) != 2 {
		t.Fatalf("redis-server has streams %v", want)
	}
	if err := do(ctx, rdb(0), "SAVE"); err != nil {
		t.Fatal(err)
	}

	// redis-server's file into our node.
	ndir := t.TempDir()
	copyFile(t, filepath.Join(rdir, "dump.rdb"), filepath.Join(ndir, "dump.rdb"))
	n := startNode(t, ndir)
	diff(t, "our node loading redis-server's streams", renderStreams(t, n.Addr), want)

	// Our node's own streams, saved, into redis-server.
	mdir := t.TempDir()
	m := startNode(t, mdir)
	mdb, closeM := dbClients(m.Addr)
	defer closeM()
	if err := fillStream(ctx, mdb); err != nil {
		t.Fatal(err)
	}
	diff(t, "our node filled as redis-server", renderStreams(t, m.Addr), want)
	if err := do(ctx, mdb(0), "SAVE"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(mdir, "dump.rdb")
	checkRDB(t, path)
	r2dir := t.TempDir()
	copyFile(t, path, filepath.Join(r2dir, "dump.rdb"))
	r2 := startRedis(t, r2dir)
	diff(t, "redis-server loading our node's streams", renderStreams(t, r2.Addr), want)
}
