package wal

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/node/nodetest"
)

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestArchiverAgainstMasters: after a base snapshot of a real master
// (Redis 7.0 and our node), the archiver ships its stream in segments
// every 100 ms; a replay to a time in the middle of a run of timed writes
// holds every write acknowledged well before it and none acknowledged
// after it, in write order; a second archiver resumes where the first's
// segments end.
func TestArchiverAgainstMasters(t *testing.T) {
	forEachServer(t, func(t *testing.T, binary string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		p := nodetest.Start(t, nodetest.Options{Binary: binary, Args: []string{"--requirepass", "pw"}})
		cl := redis.NewClient(&redis.Options{Addr: p.Addr, Password: "pw", Protocol: 2, DisableIdentity: true})
		defer cl.Close() //nolint:errcheck // test client
		if err := cl.Set(ctx, "before", "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
		snap, err := backup.Stream(ctx, p.Addr, io.Discard, backup.Options{Password: "pw", Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		store, err := backup.NewDirStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		o := Options{Store: store, Folder: "b/", Shard: 0, ReplID: snap.ReplID, Offset: snap.Offset,
			Master: func() string { return p.Addr }, Conn: backup.Options{Password: "pw", Timeout: 10 * time.Second},
			Interval: 100 * time.Millisecond}
		a := NewArchiver(o)
		actx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- a.Run(actx) }()

		// Timed writes: acked[i] is when SET k<i> was acknowledged.
		var acked []time.Time
		for i := range 60 {
			if err := cl.Set(ctx, "k"+strconv.Itoa(i), i, 0).Err(); err != nil {
				t.Fatal(err)
			}
			acked = append(acked, time.Now())
			time.Sleep(10 * time.Millisecond)
		}
		want := replOffset(t, cl)
		waitFor(t, 10*time.Second, "the archive to reach the master's offset", func() bool { return a.Progress().Offset >= want })
		stop()
		if err := <-done; err != context.Canceled {
			t.Errorf("Run ended with %v", err)
		}
		pr := a.Progress()
		if pr.Segments < 3 || pr.Gap != "" || pr.ReplID != snap.ReplID {
			t.Errorf("progress %+v", pr)
		}

		T := acked[30]
		var got []int
		for _, k := range replayedSets(t, store, snap.Offset, T) {
			if n, err := strconv.Atoi(strings.TrimPrefix(k, "k")); err == nil && strings.HasPrefix(k, "k") {
				got = append(got, n)
			}
		}
		for i, n := range got {
			if n != i {
				t.Fatalf("replayed keys %v: not a prefix in write order", got)
			}
		}
		// Key 29 was acknowledged 10 ms before T: the archiver had it
		// by T. Key 31 was written after T. Key 30, acknowledged at T,
		// may have reached the archiver a little after its client.
		if len(got) < 30 || len(got) > 31 {
			t.Errorf("replayed %d keys up to the time k30 was acknowledged (%s)", len(got), T.Format(time.StampMicro))
		}

		// Resume: a new archiver starts at the end of the chain.
		b := NewArchiver(o)
		bctx, bstop := context.WithCancel(ctx)
		go func() { done <- b.Run(bctx) }()
		if err := cl.Set(ctx, "after", "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
		want = replOffset(t, cl)
		waitFor(t, 10*time.Second, "the resumed archive", func() bool { return b.Progress().Offset >= want })
		bstop()
		<-done
		keys, _ := store.List(ctx, Dir("b/", 0))
		if chain, end := Chain(keys, snap.Offset); end != b.Progress().Offset || len(chain) != len(keys) {
			t.Errorf("after the resume the chain ends at %d (%d of %d segments), the archiver at %d", end, len(chain), len(keys), b.Progress().Offset)
		}
	})
}

// TestArchiverFollowsAFailover: the master dies, its replica is promoted
// (REPLICAOF NO ONE) and the archiver, pointed at it, continues the same
// history (+CONTINUE with the new replication ID): no gap, and a replay
// holds every write of both masters in order. Redis 7.0 and our node.
func TestArchiverFollowsAFailover(t *testing.T) {
	forEachServer(t, func(t *testing.T, binary string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		m := nodetest.Start(t, nodetest.Options{Binary: binary})
		r := nodetest.Start(t, nodetest.Options{Binary: binary})
		mc := redis.NewClient(&redis.Options{Addr: m.Addr, Protocol: 2, DisableIdentity: true})
		defer mc.Close() //nolint:errcheck // test client
		rc := redis.NewClient(&redis.Options{Addr: r.Addr, Protocol: 2, DisableIdentity: true})
		defer rc.Close() //nolint:errcheck // test client
		host, port, _ := strings.Cut(m.Addr, ":")
		if err := rc.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
			t.Fatal(err)
		}
		snap, err := backup.Stream(ctx, m.Addr, io.Discard, backup.Options{Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		store, err := backup.NewDirStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		addr := m.Addr
		a := NewArchiver(Options{Store: store, Folder: "b/", ReplID: snap.ReplID, Offset: snap.Offset,
			Master: func() string { mu.Lock(); defer mu.Unlock(); return addr },
			Conn:   backup.Options{Timeout: 2 * time.Second}, Interval: 100 * time.Millisecond})
		actx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- a.Run(actx) }()
		defer func() { stop(); <-done }()

		for i := range 20 {
			if err := mc.Set(ctx, "k"+strconv.Itoa(i), i, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if err := mc.Do(ctx, "WAIT", 1, 5000).Err(); err != nil {
			t.Fatal(err)
		}
		want := replOffset(t, mc)
		waitFor(t, 10*time.Second, "the archive of the first master", func() bool { return a.Progress().Offset >= want })
		m.Kill()
		if err := rc.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		addr = r.Addr
		mu.Unlock()
		for i := 20; i < 40; i++ {
			if err := rc.Set(ctx, "k"+strconv.Itoa(i), i, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		want = replOffset(t, rc)
		// On the promoted replica's history (its replid), as far as its
		// writes: the archiver reconnects after the old master's EOF.
		waitFor(t, 20*time.Second, "the archive of the promoted replica", func() bool {
			p := a.Progress()
			return p.ReplID != snap.ReplID && p.Offset >= want
		})
		p := a.Progress()
		if p.Gap != "" || p.ReplID == snap.ReplID {
			t.Errorf("after the failover: %+v (the first master's replid %s)", p, snap.ReplID)
		}
		sets := replayedSets(t, store, snap.Offset, p.Time)
		if len(sets) != 40 || sets[0] != "k0" || sets[39] != "k39" {
			t.Errorf("replayed SETs %v", sets)
		}
	})
}

// TestArchiverReportsAGap: a master that no longer holds the offset (its
// backlog overflowed while nothing archived) offers a full
// resynchronisation: Run ends with ErrGap and Progress says so.
func TestArchiverReportsAGap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := nodetest.Start(t, nodetest.Options{Binary: nodetest.RedisServer(t), Args: []string{"--repl-backlog-size", "16kb", "--repl-diskless-sync-delay", "0"}})
	cl := redis.NewClient(&redis.Options{Addr: p.Addr, Protocol: 2, DisableIdentity: true})
	defer cl.Close() //nolint:errcheck // test client
	snap, err := backup.Stream(ctx, p.Addr, io.Discard, backup.Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// A replica keeps the backlog alive; 100 KB of writes overflow it.
	if err := cl.Set(ctx, "x", strings.Repeat("v", 100<<10), 0).Err(); err != nil {
		t.Fatal(err)
	}
	store, err := backup.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := NewArchiver(Options{Store: store, Folder: "f/", ReplID: snap.ReplID, Offset: snap.Offset,
		Master: func() string { return p.Addr }, Conn: backup.Options{Timeout: 5 * time.Second}})
	if err := a.Run(ctx); !errors.Is(err, ErrGap) || !strings.Contains(a.Progress().Gap, "cannot be continued") {
		t.Errorf("Run: %v, progress %+v", err, a.Progress())
	}
}

func replOffset(t *testing.T, c *redis.Client) int64 {
	t.Helper()
	info := c.Info(context.Background(), "replication").Val()
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, "master_repl_offset:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatalf("no master_repl_offset in %q", info)
	return 0
}

// replayedSets replays shard 0 of folder b/ from base up to t into one
// master and returns the keys of its SETs, in order.
func replayedSets(t *testing.T, store backup.Objects, base int64, until time.Time) []string {
	t.Helper()
	ctx := context.Background()
	plan, err := PlanShard(ctx, store, "b/", 0, base, until)
	if err != nil {
		t.Fatal(err)
	}
	target := newRecordingTarget(1)
	if _, err := Replay(ctx, store, "b/", plan, nil, target); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, cmd := range target.got[0] {
		if f := strings.Fields(cmd); len(f) == 3 && strings.EqualFold(f[0], "set") {
			keys = append(keys, f[1])
		}
	}
	return keys
}

// forEachServer runs f as a subtest against Redis 7.0 and our node.
func forEachServer(t *testing.T, f func(t *testing.T, binary string)) {
	t.Run("redis", func(t *testing.T) { f(t, nodetest.RedisServer(t)) })
	t.Run("shoal node", func(t *testing.T) { f(t, nodetest.Binary(t)) })
}
