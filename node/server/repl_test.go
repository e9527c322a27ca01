package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/persistence"
	"github.com/shoal-dev/shoal/node/resp"
)

// Replication tests with real node processes on 127.0.0.1: full sync
// under writes, partial resync after a dropped link, WAIT, read-only
// replicas, min-replicas-to-write, and promotion with a second replica
// continuing from the new master.

// infoField reads one field of INFO <section>.
func replInfo(t testing.TB, c *redis.Client, section, field string) string {
	t.Helper()
	s, err := c.Info(ctxT(t), section).Result()
	if err != nil {
		t.Fatalf("INFO %s: %v", section, err)
	}
	for _, line := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	return ""
}

func infoField0(t testing.TB, c *redis.Client, field string) string {
	t.Helper()
	return replInfo(t, c, "replication", field)
}

func replInfoInt(t testing.TB, c *redis.Client, section, field string) int64 {
	t.Helper()
	v := replInfo(t, c, section, field)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("INFO %s %s = %q", section, field, v)
	}
	return n
}

// waitInSync waits until the replica's link is up and it processed the
// master's whole stream.
func replWaitInSync(t testing.TB, master, replica *redis.Client) {
	t.Helper()
	waitUntil(t, 30*time.Second, "replica in sync", func() error {
		if s := replInfo(t, replica, "replication", "master_link_status"); s != "up" {
			return fmt.Errorf("master_link_status %q", s)
		}
		mo := replInfoInt(t, master, "replication", "master_repl_offset")
		ro := replInfoInt(t, replica, "replication", "slave_repl_offset")
		if mo != ro {
			return fmt.Errorf("master offset %d, replica offset %d", mo, ro)
		}
		return nil
	})
}

// fill writes n string keys prefix:i = v:i in pipelined batches.
func replFill(t testing.TB, c *redis.Client, prefix string, n int) {
	t.Helper()
	ctx := ctxT(t)
	for i := 0; i < n; i += 1000 {
		p := c.Pipeline()
		for j := i; j < i+1000 && j < n; j++ {
			p.Set(ctx, prefix+":"+strconv.Itoa(j), "v:"+strconv.Itoa(j), 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
}

// sameStrings checks that prefix:0..n-1 are equal on both nodes.
func replSame(t testing.TB, a, b *redis.Client, prefix string, n int) {
	t.Helper()
	ctx := ctxT(t)
	for i := 0; i < n; i += 1000 {
		var keys []string
		for j := i; j < i+1000 && j < n; j++ {
			keys = append(keys, prefix+":"+strconv.Itoa(j))
		}
		va, err := a.MGet(ctx, keys...).Result()
		if err != nil {
			t.Fatal(err)
		}
		vb, err := b.MGet(ctx, keys...).Result()
		if err != nil {
			t.Fatal(err)
		}
		for k := range keys {
			if va[k] != vb[k] {
				t.Fatalf("%s: master %v, replica %v", keys[k], va[k], vb[k])
			}
		}
	}
}

func withPassword(pw string) func(*redis.Options) {
	return func(o *redis.Options) { o.Password = pw }
}

// TestReplicationFullSyncUnderWrites: a replica started with --replicaof
// and --masterauth loads 50k keys (and aggregates with TTLs in several
// databases) while the master keeps taking writes, then holds exactly the
// master's data.
func TestReplicationFullSyncUnderWrites(t *testing.T) {
	m := startNode(t, "--requirepass", "pw")
	mc := m.client(t, withPassword("pw"))
	ctx := ctxT(t)
	replFill(t, mc, "k", 50000)
	mc.HSet(ctx, "h", "a", "1", "b", "2")
	mc.RPush(ctx, "l", "x", "y", "z")
	mc.ZAdd(ctx, "z", redis.Z{Score: 1.5, Member: "m"})
	mc.SAdd(ctx, "s", "p", "q")
	mc.Set(ctx, "ttl", "v", time.Hour)
	mc3 := m.client(t, withPassword("pw"), func(o *redis.Options) { o.DB = 3 })
	mc3.Set(ctx, "in3", "three", 0)

	var stop atomic.Bool
	var wg sync.WaitGroup
	var written atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		wc := m.client(t, withPassword("pw"))
		for i := 0; !stop.Load(); i++ {
			if err := wc.Set(context.Background(), "w:"+strconv.Itoa(i), i, 0).Err(); err != nil {
				return
			}
			wc.Incr(context.Background(), "counter")
			wc.LPush(context.Background(), "l", i)
			written.Store(int64(i + 1))
		}
	}()
	r := startNode(t, "--masterauth", "pw", "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	rc := r.client(t)
	waitUntil(t, 30*time.Second, "link up", func() error {
		if s := replInfo(t, rc, "replication", "master_link_status"); s != "up" {
			return fmt.Errorf("master_link_status %q", s)
		}
		return nil
	})
	// Keep writing a little after the sync, then stop.
	waitUntil(t, 60*time.Second, "writes after the sync", func() error {
		if written.Load() < 200 {
			return fmt.Errorf("%d writes", written.Load())
		}
		return nil
	})
	stop.Store(true)
	wg.Wait()
	if n, err := mc.Do(ctx, "WAIT", 1, 10000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 = %d, %v", n, err)
	}
	replWaitInSync(t, mc, rc)
	if a, b := mc.DBSize(ctx).Val(), rc.DBSize(ctx).Val(); a != b || a < 50005 {
		t.Fatalf("dbsize master %d replica %d", a, b)
	}
	replSame(t, mc, rc, "k", 50000)
	replSame(t, mc, rc, "w", int(written.Load()))
	for _, k := range []string{"counter"} {
		if a, b := mc.Get(ctx, k).Val(), rc.Get(ctx, k).Val(); a != b {
			t.Fatalf("%s: %q vs %q", k, a, b)
		}
	}
	if a, b := mc.LRange(ctx, "l", 0, -1).Val(), rc.LRange(ctx, "l", 0, -1).Val(); strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("list differs: %d vs %d elements", len(a), len(b))
	}
	if v := rc.HGet(ctx, "h", "b").Val(); v != "2" {
		t.Fatalf("hash on replica: %q", v)
	}
	if v := rc.ZScore(ctx, "z", "m").Val(); v != 1.5 {
		t.Fatalf("zset on replica: %v", v)
	}
	if v := rc.SIsMember(ctx, "s", "q").Val(); !v {
		t.Fatalf("set on replica misses q")
	}
	if ttl := rc.TTL(ctx, "ttl").Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("ttl on replica: %v", ttl)
	}
	rc3 := r.client(t, func(o *redis.Options) { o.DB = 3 })
	if v := rc3.Get(ctx, "in3").Val(); v != "three" {
		t.Fatalf("db 3 on replica: %q", v)
	}
	if got := replInfoInt(t, mc, "stats", "sync_full"); got != 1 {
		t.Fatalf("sync_full %d", got)
	}
	line := replInfo(t, mc, "replication", "slave0")
	if !strings.Contains(line, "ip=127.0.0.1,port="+strconv.Itoa(r.Port)+",state=online,offset=") {
		t.Fatalf("slave0:%s", line)
	}
	if role := replInfo(t, rc, "replication", "role"); role != "slave" {
		t.Fatalf("role %q", role)
	}
	if id := replInfo(t, rc, "replication", "master_replid"); id != replInfo(t, mc, "replication", "master_replid") || len(id) != 40 {
		t.Fatalf("replica replid %q", id)
	}
}

// TestReplicationPartialResync: a replica whose link is killed resumes
// with a partial resync, getting the writes made meanwhile.
func TestReplicationPartialResync(t *testing.T) {
	m := startNode(t)
	r := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	mc, rc := m.client(t), r.client(t)
	ctx := ctxT(t)
	replFill(t, mc, "a", 1000)
	replWaitInSync(t, mc, rc)
	full := replInfoInt(t, mc, "stats", "sync_full")
	partial := replInfoInt(t, mc, "stats", "sync_partial_ok")
	for round := 0; round < 2; round++ {
		typ := []string{"replica", "slave"}[round]
		if n, err := mc.Do(ctx, "CLIENT", "KILL", "TYPE", typ).Int(); err != nil || n != 1 {
			t.Fatalf("CLIENT KILL TYPE %s = %d, %v", typ, n, err)
		}
		replFill(t, mc, "b"+strconv.Itoa(round), 2000)
		replWaitInSync(t, mc, rc)
		replSame(t, mc, rc, "b"+strconv.Itoa(round), 2000)
	}
	// A replica frozen for a while (SIGSTOP) catches up on the same link.
	if err := r.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	replFill(t, mc, "c", 2000)
	if err := r.Cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	replWaitInSync(t, mc, rc)
	replSame(t, mc, rc, "c", 2000)
	if got := replInfoInt(t, mc, "stats", "sync_full"); got != full {
		t.Fatalf("sync_full grew from %d to %d", full, got)
	}
	if got := replInfoInt(t, mc, "stats", "sync_partial_ok"); got < partial+2 {
		t.Fatalf("sync_partial_ok %d, want at least %d", got, partial+2)
	}
}

// TestReplicationWaitReadOnlyMinReplicas: WAIT counts the replicas that
// acknowledged, a replica refuses writes, and min-replicas-to-write
// refuses writes without enough good replicas.
func TestReplicationWaitReadOnlyMinReplicas(t *testing.T) {
	m := startNode(t)
	mc := m.client(t)
	ctx := ctxT(t)
	start := time.Now()
	if n, err := mc.Do(ctx, "WAIT", 1, 200).Int(); err != nil || n != 0 || time.Since(start) < 150*time.Millisecond {
		t.Fatalf("WAIT 1 200 without replicas = %d, %v after %v", n, err, time.Since(start))
	}
	r := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port), "--replica-announce-ip", "10.1.2.3", "--replica-announce-port", "6390")
	rc := r.client(t)
	replWaitInSync(t, mc, rc)
	if line := replInfo(t, mc, "replication", "slave0"); !strings.HasPrefix(line, "ip=10.1.2.3,port=6390,state=online,") {
		t.Fatalf("slave0 with announced address: %s", line)
	}
	mc.Set(ctx, "x", "1", 0)
	start = time.Now()
	if n, err := mc.Do(ctx, "WAIT", 1, 0).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 0 = %d, %v", n, err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Logf("WAIT 1 took %v (GETACK should answer before the periodic ACK)", d)
	}
	start = time.Now()
	if n, err := mc.Do(ctx, "WAIT", 2, 300).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 2 300 = %d, %v", n, err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("WAIT 2 300 returned after %v", d)
	}
	if v := rc.Get(ctx, "x").Val(); v != "1" {
		t.Fatalf("replica x = %q after WAIT", v)
	}
	if err := rc.Set(ctx, "y", "1", 0).Err(); err == nil || err.Error() != "READONLY You can't write against a read only replica." {
		t.Fatalf("write to replica: %v", err)
	}
	if err := rc.Do(ctx, "WAIT", 1, 10).Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR WAIT cannot be used with replica instances") {
		t.Fatalf("WAIT on replica: %v", err)
	}
	mc.ConfigSet(ctx, "min-replicas-to-write", "2")
	if err := mc.Set(ctx, "y", "1", 0).Err(); err == nil || err.Error() != "NOREPLICAS Not enough good replicas to write." {
		t.Fatalf("write with min-replicas-to-write 2: %v", err)
	}
	if v := mc.Get(ctx, "x").Val(); v != "1" {
		t.Fatalf("read refused with min-replicas-to-write: %q", v)
	}
	mc.ConfigSet(ctx, "min-replicas-to-write", "1")
	if err := mc.Set(ctx, "y", "1", 0).Err(); err != nil {
		t.Fatalf("write with min-replicas-to-write 1: %v", err)
	}
}

// TestReplicationPromotion: REPLICAOF NO ONE promotes a replica, which
// keeps the old replication ID as master_replid2; a second replica moved
// to it continues with a partial resync.
func TestReplicationPromotion(t *testing.T) {
	// No periodic PING from the master: one reaching b and not yet a after
	// the wait below would put b ahead of the node it is to follow.
	m := startNode(t, "--repl-ping-replica-period", "3600")
	a := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	b := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	mc, ac, bc := m.client(t), a.client(t), b.client(t)
	ctx := ctxT(t)
	replFill(t, mc, "p", 3000)
	// Both replicas at the master's offset at once (a PING of the master
	// reaching one only would make the other ahead of the promoted one).
	waitUntil(t, 30*time.Second, "both replicas in sync", func() error {
		mo := replInfoInt(t, mc, "replication", "master_repl_offset")
		ao := replInfoInt(t, ac, "replication", "slave_repl_offset")
		bo := replInfoInt(t, bc, "replication", "slave_repl_offset")
		if ao != mo || bo != mo {
			return fmt.Errorf("master %d, replicas %d and %d", mo, ao, bo)
		}
		return nil
	})
	oldID := replInfo(t, mc, "replication", "master_replid")
	if err := ac.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	if role := replInfo(t, ac, "replication", "role"); role != "master" {
		t.Fatalf("role after REPLICAOF NO ONE: %q", role)
	}
	if id2 := replInfo(t, ac, "replication", "master_replid2"); id2 != oldID {
		t.Fatalf("master_replid2 %q, want %q", id2, oldID)
	}
	if got := a.raw(t).do("ROLE"); got != "*3\r\n$6\r\nmaster\r\n:"+infoField0(t, ac, "master_repl_offset")+"\r\n*0\r\n" {
		t.Fatalf("ROLE of the promoted node: %q", got)
	}
	if got := b.raw(t).do("ROLE"); !strings.HasPrefix(got, "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:"+strconv.Itoa(m.Port)+"\r\n$9\r\nconnected\r\n:") {
		t.Fatalf("ROLE of a replica: %q", got)
	}
	if err := ac.Set(ctx, "after", "promotion", 0).Err(); err != nil {
		t.Fatalf("write to the promoted node: %v", err)
	}
	if err := bc.Do(ctx, "REPLICAOF", "127.0.0.1", strconv.Itoa(a.Port)).Err(); err != nil {
		t.Fatal(err)
	}
	replWaitInSync(t, ac, bc)
	if v := bc.Get(ctx, "after").Val(); v != "promotion" {
		t.Fatalf("second replica after = %q", v)
	}
	replSame(t, ac, bc, "p", 3000)
	if full, ok := replInfoInt(t, ac, "stats", "sync_full"), replInfoInt(t, ac, "stats", "sync_partial_ok"); full != 0 || ok != 1 {
		t.Fatalf("new master: sync_full %d sync_partial_ok %d, want 0 and 1", full, ok)
	}
	if n, err := ac.Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT on the new master = %d, %v", n, err)
	}
	// The old master rejoins as a replica of the new one.
	if err := mc.Do(ctx, "REPLICAOF", "127.0.0.1", strconv.Itoa(a.Port)).Err(); err != nil {
		t.Fatal(err)
	}
	replWaitInSync(t, ac, mc)
	if v := mc.Get(ctx, "after").Val(); v != "promotion" {
		t.Fatalf("old master after = %q", v)
	}
}

// TestReplicationSlowSnapshotKeepalive: with repl-timeout 1 on the
// replica, a snapshot that takes longer than that to produce still
// completes (the master sends newlines meanwhile): one full sync, no retry.
func TestReplicationSlowSnapshotKeepalive(t *testing.T) {
	m := startNode(t)
	mc := m.client(t)
	ctx := ctxT(t)
	if err := mc.Do(ctx, "DEBUG", "POPULATE", 400000).Err(); err != nil {
		t.Fatal(err)
	}
	r := startNode(t, "--repl-timeout", "1", "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	rc := r.client(t)
	replWaitInSync(t, mc, rc)
	if n := rc.DBSize(ctx).Val(); n != 400000 {
		t.Fatalf("replica dbsize %d", n)
	}
	if full := replInfoInt(t, mc, "stats", "sync_full"); full != 1 {
		t.Fatalf("sync_full %d: the replica timed out and retried", full)
	}
}

// TestReplicationSyncCommand: the old SYNC gets the snapshot alone (no
// +FULLRESYNC line) as a bulk of the node's snapshot format, then the
// stream.
func TestReplicationSyncCommand(t *testing.T) {
	m := startNode(t)
	mc := m.client(t)
	ctx := ctxT(t)
	mc.Set(ctx, "k", "v", 0)
	rc := m.raw(t)
	_ = rc.c.SetDeadline(time.Now().Add(20 * time.Second))
	rc.send(encodeCommand("SYNC"))
	var hdr string
	for hdr == "" || hdr == "\n" {
		l, err := rc.rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		hdr = l
	}
	if !strings.HasPrefix(hdr, "$") {
		t.Fatalf("SYNC reply starts with %q", hdr)
	}
	n, err := strconv.Atoi(strings.TrimSpace(hdr[1:]))
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, n)
	if _, err := ioReadFull(rc.rd, body); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), persistence.RDBMagic) || !strings.Contains(string(body), "k") {
		t.Fatalf("snapshot body %q", body[:min(len(body), 32)])
	}
	mc.Set(ctx, "after", "1", 0)
	// The stream: SELECT 0 then the write (PINGs of the master aside).
	rd := resp.NewReader(rc.rd)
	var got []string
	for len(got) < 2 {
		args, err := rd.ReadCommand()
		if err != nil {
			t.Fatal(err)
		}
		if line := fmt.Sprintf("%q", args); line != `["PING"]` {
			got = append(got, line)
		}
	}
	if got[0] != `["SELECT" "0"]` || got[1] != `["set" "after" "1"]` {
		t.Fatalf("stream after the snapshot: %v", got)
	}
}

// TestReplicationAckedWritesSurviveKill: a master replies to a write only
// once its stream is in the replica's socket (the event loop's hand-off),
// so after kill -9 of a master under a pipelined INCR load its replica
// has every increment the master acknowledged. Redis promises this only
// for WAIT; a node that replied first would lose the last ones.
func TestReplicationAckedWritesSurviveKill(t *testing.T) {
	for round := 0; round < 3; round++ {
		m := startNode(t)
		r := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
		mc, rc := m.client(t), r.client(t)
		replWaitInSync(t, mc, rc)

		const workers, depth = 6, 16
		acked := make([]atomic.Int64, workers)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				c := m.client(t, func(o *redis.Options) { o.MaxRetries = -1; o.PoolSize = 1 })
				key := fmt.Sprintf("acked:%d", w)
				for {
					cmds, err := c.Pipelined(context.Background(), func(p redis.Pipeliner) error {
						for i := 0; i < depth; i++ {
							p.Incr(context.Background(), key)
						}
						return nil
					})
					for _, cmd := range cmds {
						if v, err := cmd.(*redis.IntCmd).Result(); err == nil && v > acked[w].Load() {
							acked[w].Store(v)
						}
					}
					if err != nil {
						return // the master is gone
					}
				}
			}(w)
		}
		waitUntil(t, 30*time.Second, "the load to make progress", func() error {
			for w := range acked {
				if acked[w].Load() < 2000 {
					return fmt.Errorf("worker %d at %d", w, acked[w].Load())
				}
			}
			return nil
		})
		m.Kill()
		wg.Wait()
		waitUntil(t, 30*time.Second, "the replica to see its master gone", func() error {
			if s := replInfo(t, rc, "replication", "master_link_status"); s != "down" {
				return fmt.Errorf("master_link_status %q", s)
			}
			return nil
		})
		for w := range acked {
			key := fmt.Sprintf("acked:%d", w)
			got, err := rc.Get(ctxT(t), key).Int64()
			if err != nil {
				t.Fatalf("round %d: GET %s on the replica: %v", round, key, err)
			}
			if got < acked[w].Load() {
				t.Errorf("round %d: %s = %d on the replica, the master acknowledged %d", round, key, got, acked[w].Load())
			}
		}
	}
}
