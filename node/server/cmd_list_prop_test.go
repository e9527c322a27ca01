package server

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// recorder is a Propagator that keeps every propagated command as one
// space-separated string.
type recorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *recorder) Propagate(db int, args [][]byte) {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = string(a)
	}
	r.mu.Lock()
	r.ops = append(r.ops, strings.Join(parts, " "))
	r.mu.Unlock()
}

// take returns and clears what was propagated, ignoring MULTI/EXEC.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, op := range r.ops {
		if op != "MULTI" && op != "EXEC" {
			out = append(out, op)
		}
	}
	r.ops = nil
	return out
}

// startWithRecorder runs a server in this process on a free loopback port,
// recording what it propagates, and returns a go-redis client for it.
func startWithRecorder(t *testing.T) (*redis.Client, *recorder) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Port = nodetest.FreePort(t)
	cfg.Bind = []string{"127.0.0.1"}
	cfg.Save = ""
	cfg.Dir = t.TempDir()
	s, err := New(cfg, enginePlugins()...)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	s.SetPropagator(rec)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	t.Cleanup(s.Close)
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr().String(), DialTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second})
	t.Cleanup(func() { rdb.Close() })
	return rdb, rec
}

// TestListWritesPropagateAsTheirEffect checks what the AOF and replicas
// receive: a served blocking pop as the non-blocking pop, LMPOP as a
// counted pop, and no-op writes not at all.
func TestListWritesPropagateAsTheirEffect(t *testing.T) {
	rdb, rec := startWithRecorder(t)
	ctx := ctxT(t)
	do := func(args ...any) {
		t.Helper()
		if err := rdb.Do(ctx, args...).Err(); err != nil && err != redis.Nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	expect := func(what string, want ...string) {
		t.Helper()
		if got := rec.take(); !slices.Equal(got, want) {
			t.Fatalf("%s propagated %q, want %q", what, got, want)
		}
	}
	do("RPUSH", "l", "a", "b", "c")
	expect("RPUSH", "RPUSH l a b c")
	do("BLPOP", "nokey", "l", "0")
	expect("BLPOP with data", "LPOP l")
	do("BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "5")
	expect("BLMPOP with data", "RPOP l 2")
	do("RPUSH", "l", "x")
	rec.take()
	do("LMPOP", "1", "l", "LEFT", "COUNT", "3")
	expect("LMPOP", "LPOP l 1")
	do("RPUSH", "s", "1", "2")
	rec.take()
	do("BLMOVE", "s", "d", "LEFT", "RIGHT", "0")
	expect("BLMOVE with data", "LMOVE s d LEFT RIGHT")
	do("BRPOPLPUSH", "s", "d", "0")
	expect("BRPOPLPUSH with data", "RPOPLPUSH s d")
	do("LTRIM", "d", "0", "-1")
	expect("LTRIM that removes nothing")
	do("LREM", "d", "0", "zz")
	expect("LREM that removes nothing")
	do("LPOS", "d", "1")
	do("LINSERT", "d", "BEFORE", "zz", "x")
	expect("LINSERT without pivot")

	// A client served while blocked.
	served := make(chan error, 1)
	waiter := redis.NewClient(&redis.Options{Addr: rdb.Options().Addr, ReadTimeout: -1})
	t.Cleanup(func() { waiter.Close() })
	go func() { served <- waiter.BLMove(ctx, "empty", "out", "RIGHT", "LEFT", 0).Err() }()
	waitBlocked(t, rdb, 1)
	do("LPUSH", "empty", "v")
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(blockDeadline):
		t.Fatal("the blocked BLMOVE was not served")
	}
	expect("a served BLMOVE", "LPUSH empty v", "LMOVE empty out RIGHT LEFT")
}
