package redsync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }

// deadline bounds every wait of these tests.
const deadline = 60 * time.Second

// requireEval fails the test when the server does not run a script.
func requireEval(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	err := c.Eval(context.Background(), "return 1", nil).Err()
	if err != nil {
		t.Fatal(err)
	}
}

// startNode is one shoal-node on a free port.
func startNode(t *testing.T, args ...string) *nodetest.Proc {
	return nodetest.Start(t, nodetest.Options{Args: args})
}

// startCluster forms a cluster of three shoal-node masters: ADDSLOTSRANGE
// of a third of the slots on each, MEET, and cluster_state:ok everywhere.
func startCluster(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	var addrs []string
	var procs []*nodetest.Proc
	var busPorts []int
	for range 3 {
		// Its own bus port: port+10000 lies in the kernel's ephemeral
		// range, where another connection may hold it.
		bus := nodetest.FreePort(t)
		p := startNode(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
			"--cluster-port", strconv.Itoa(bus))
		procs = append(procs, p)
		busPorts = append(busPorts, bus)
		addrs = append(addrs, p.Addr)
	}
	ranges := [][2]int{{0, 5460}, {5461, 10922}, {10923, 16383}}
	for i, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", ranges[i][0], ranges[i][1]).Err(); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			if err := c.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", procs[0].Port, busPorts[0]).Err(); err != nil {
				t.Fatal(err)
			}
		}
		_ = c.Close()
	}
	until(t, "cluster_state:ok on every node", func() error {
		for _, a := range addrs {
			c := redis.NewClient(&redis.Options{Addr: a})
			info, err := c.ClusterInfo(ctx).Result()
			_ = c.Close()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") {
				return fmt.Errorf("%s: %s", a, info)
			}
		}
		return nil
	})
	return addrs
}

func until(t *testing.T, what string, f func() error) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s: %v", what, deadline, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRedsyncOneNode(t *testing.T) {
	p := startNode(t)
	c := redis.NewClient(&redis.Options{Addr: p.Addr})
	defer c.Close() //nolint:errcheck // test client
	requireEval(t, c)
	runLockTests(t, c, []string{"lock"})
}

// TestRedsyncRedisServer runs the same tests on Debian's redis-server: the
// reference the node's results are read against.
func TestRedsyncRedisServer(t *testing.T) {
	p := nodetest.Start(t, nodetest.Options{Binary: nodetest.RedisServer(t), Args: []string{"--save", "", "--appendonly", "no"}})
	c := redis.NewClient(&redis.Options{Addr: p.Addr})
	defer c.Close() //nolint:errcheck // test client
	runLockTests(t, c, []string{"lock"})
}

func TestRedsyncCluster(t *testing.T) {
	addrs := startCluster(t)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close() //nolint:errcheck // test client
	requireEval(t, c)
	// Locks whose names hash to the three shards.
	runLockTests(t, c, []string{"lock-a", "lock-d", "lock-b"}) // slots 3447, 7634, 15636
}

func runLockTests(t *testing.T, c redis.UniversalClient, names []string) {
	rs := redsync.New(goredis.NewPool(c))
	for _, name := range names {
		t.Run("contention/"+name, func(t *testing.T) { contention(t, rs, c, name) })
		t.Run("extend/"+name, func(t *testing.T) { extend(t, rs, name) })
		t.Run("expired unlock/"+name, func(t *testing.T) { expiredUnlock(t, rs, c, name) })
	}
}

// contention: goroutines take the lock in turn; inside it each checks it
// is the only holder, extends the lock once, and does a read-modify-write
// of a counter (GET then SET, not atomic by itself): with mutual exclusion
// no increment is lost.
func contention(t *testing.T, rs *redsync.Redsync, c redis.UniversalClient, name string) {
	ctx := context.Background()
	counter := "{" + name + "}:counter"
	c.Del(ctx, counter)
	const workers, rounds = 6, 15
	var holders, maxHolders, acquired atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				m := rs.NewMutex(name, redsync.WithExpiry(5*time.Second), redsync.WithTries(1000), redsync.WithRetryDelay(5*time.Millisecond))
				if err := m.LockContext(ctx); err != nil {
					errs <- fmt.Errorf("worker %d round %d: Lock: %w", w, r, err)
					return
				}
				n := holders.Add(1)
				if n > maxHolders.Load() {
					maxHolders.Store(n)
				}
				acquired.Add(1)
				v, err := c.Get(ctx, counter).Int()
				if err != nil && !errors.Is(err, redis.Nil) {
					errs <- err
					return
				}
				if ok, err := m.ExtendContext(ctx); !ok || err != nil {
					errs <- fmt.Errorf("worker %d: Extend = %v, %w", w, ok, err)
					return
				}
				if err := c.Set(ctx, counter, v+1, 0).Err(); err != nil {
					errs <- err
					return
				}
				holders.Add(-1)
				if ok, err := m.UnlockContext(ctx); !ok || err != nil {
					errs <- fmt.Errorf("worker %d: Unlock = %v, %w", w, ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := maxHolders.Load(); got != 1 {
		t.Errorf("%d holders at once", got)
	}
	if got, want := acquired.Load(), int32(workers*rounds); got != want {
		t.Errorf("acquired %d times, want %d", got, want)
	}
	if got, err := c.Get(ctx, counter).Int(); err != nil || got != workers*rounds {
		t.Errorf("counter = %d, %v; want %d (a lost increment means two holders)", got, err, workers*rounds)
	}
	if n, err := c.Exists(ctx, name).Result(); err != nil || n != 0 {
		t.Errorf("the lock key is left behind: %d, %v", n, err)
	}
}

// extend: a lock extended before it expires outlives its first expiry; a
// second mutex cannot take it meanwhile, and takes it once it is
// released. For a loaded machine the expiry leaves 750 ms between two
// extensions, and each lock attempt half the expiry (redsync's default
// is 5%: 20 ms for a 400 ms lock, which a busy machine's round trip can
// exceed, making the single try of a free lock fail).
func extend(t *testing.T, rs *redsync.Redsync, name string) {
	ctx := context.Background()
	const expiry = time.Second
	m := rs.NewMutex(name, redsync.WithExpiry(expiry), redsync.WithTimeoutFactor(0.5))
	if err := m.LockContext(ctx); err != nil {
		t.Fatal(err)
	}
	other := rs.NewMutex(name, redsync.WithExpiry(expiry), redsync.WithTries(1), redsync.WithTimeoutFactor(0.5))
	start := time.Now()
	for time.Since(start) < 2*expiry {
		if ok, err := m.ExtendContext(ctx); !ok || err != nil {
			t.Fatalf("Extend after %s = %v, %v", time.Since(start), ok, err)
		}
		if err := other.TryLockContext(ctx); err == nil {
			t.Fatalf("a second mutex took the extended lock after %s", time.Since(start))
		}
		time.Sleep(expiry / 4)
	}
	if ok, err := m.UnlockContext(ctx); !ok || err != nil {
		t.Fatalf("Unlock = %v, %v", ok, err)
	}
	if err := other.TryLockContext(ctx); err != nil {
		t.Fatalf("the released lock was not taken: %v", err)
	}
	if ok, err := other.UnlockContext(ctx); !ok || err != nil {
		t.Fatalf("Unlock = %v, %v", ok, err)
	}
}

// expiredUnlock: a holder whose lock expired and was taken by another
// cannot release (or extend) the new holder's lock: the scripts compare
// the value (the unlock script answers 0, "taken", as on Redis).
func expiredUnlock(t *testing.T, rs *redsync.Redsync, c redis.UniversalClient, name string) {
	ctx := context.Background()
	first := rs.NewMutex(name, redsync.WithExpiry(200*time.Millisecond), redsync.WithTimeoutFactor(0.5))
	if err := first.LockContext(ctx); err != nil {
		t.Fatal(err)
	}
	until(t, "the lock expires", func() error {
		if n, err := c.Exists(ctx, name).Result(); err != nil || n != 0 {
			return fmt.Errorf("exists %d, %v", n, err)
		}
		return nil
	})
	second := rs.NewMutex(name, redsync.WithExpiry(10*time.Second))
	if err := second.LockContext(ctx); err != nil {
		t.Fatal(err)
	}
	var taken *redsync.ErrTaken
	if ok, err := first.UnlockContext(ctx); ok || !errors.As(err, &taken) {
		t.Errorf("the expired holder's Unlock = %v, %v; want false, ErrTaken", ok, err)
	}
	if ok, _ := first.ExtendContext(ctx); ok {
		t.Error("the expired holder extended the new holder's lock")
	}
	if v, err := c.Get(ctx, name).Result(); err != nil || v != second.Value() {
		t.Errorf("the lock's value = %q, %v; want the second holder's", v, err)
	}
	if ok, err := second.UnlockContext(ctx); !ok || err != nil {
		t.Errorf("Unlock = %v, %v", ok, err)
	}
}
