package sentinel_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// kill -9 of the master under a go-redis FailoverClient write load: our
// three sentinels agree it is down, elect a leader, promote a replica, the
// client follows, every write acknowledged by WAIT 1 is on the new master,
// and the old master comes back as a replica of it.
func TestFailoverKillMasterUnderLoad(t *testing.T) {
	if os.Getenv("SHOW_LOGS") != "" {
		defer t.Fail()
	}
	ctx := ctxT(t)
	m := startNode(t)
	r1 := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	r2 := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	waitInSync(t, ctx, client(t, m.Addr), 2)
	var sentinels []*nodetest.Proc
	var sc []*redis.Client
	for i := 0; i < 3; i++ {
		s := startSentinel(t, "", m.Port, 2)
		sentinels = append(sentinels, s)
		sc = append(sc, client(t, s.Addr))
	}
	for _, c := range sc {
		waitDiscovered(t, ctx, c, 2, 2)
	}

	fc := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName: masterName, SentinelAddrs: []string{sentinels[0].Addr, sentinels[1].Addr, sentinels[2].Addr},
		DialTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, MaxRetries: -1,
	})
	defer fc.Close()

	var (
		mu        sync.Mutex
		acked     []int
		lastAcked time.Time
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			pipe := fc.Pipeline()
			pipe.Set(ctx, "k"+strconv.Itoa(i), i, 0)
			wait := pipe.Do(ctx, "WAIT", 1, 500)
			if _, err := pipe.Exec(ctx); err != nil {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if n, err := wait.Int(); err == nil && n >= 1 {
				mu.Lock()
				acked = append(acked, i)
				lastAcked = time.Now()
				mu.Unlock()
			}
		}
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		<-done
	}()
	eventually(t, settleTimeout, "writes acknowledged before the kill", func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 50 {
			return fmt.Errorf("%d acknowledged", len(acked))
		}
		return nil
	})

	m.Kill()
	killed := time.Now()
	replicas := map[string]bool{r1.Addr: true, r2.Addr: true}
	var newMaster string
	eventually(t, settleTimeout, "all sentinels switch to a replica", func() error {
		var first string
		for _, c := range sc {
			a, err := masterAddr(ctx, c)
			if err != nil {
				return err
			}
			if !replicas[a] {
				return fmt.Errorf("master address %s", a)
			}
			if first != "" && a != first {
				return fmt.Errorf("sentinels disagree: %s and %s", first, a)
			}
			first = a
		}
		newMaster = first
		return nil
	})
	eventually(t, settleTimeout, "the client writes to the new master", func() error {
		mu.Lock()
		defer mu.Unlock()
		if !lastAcked.After(killed) {
			return fmt.Errorf("no write acknowledged since the kill")
		}
		return nil
	})
	close(stop)
	<-done

	nm := client(t, newMaster)
	if role, err := nm.Do(ctx, "ROLE").Slice(); err != nil || role[0] != "master" {
		t.Fatalf("ROLE of the new master %s: %v %v", newMaster, role, err)
	}
	mu.Lock()
	keys := append([]int(nil), acked...)
	mu.Unlock()
	for _, i := range keys {
		v, err := nm.Get(ctx, "k"+strconv.Itoa(i)).Result()
		if err != nil || v != strconv.Itoa(i) {
			t.Fatalf("acknowledged write k%d lost on the new master: %q %v", i, v, err)
		}
	}
	t.Logf("%d acknowledged writes all on the new master %s", len(keys), newMaster)

	// The other replica follows the new master.
	other := r1
	if newMaster == r1.Addr {
		other = r2
	}
	waitReplicaOf(t, ctx, client(t, other.Addr), newMaster)

	// The old master returns (same port, same directory) as a replica.
	old := nodetest.Start(t, nodetest.Options{Port: m.Port, Dir: m.Dir})
	waitReplicaOf(t, ctx, client(t, old.Addr), newMaster)
}

func waitReplicaOf(t *testing.T, ctx context.Context, c *redis.Client, master string) {
	t.Helper()
	eventually(t, settleTimeout, "replica of "+master, func() error {
		role, err := c.Do(ctx, "ROLE").Slice()
		if err != nil {
			return err
		}
		if len(role) < 4 || role[0] != "slave" {
			return fmt.Errorf("ROLE %v", role)
		}
		if got := fmt.Sprintf("%v:%v", role[1], role[2]); got != master {
			return fmt.Errorf("replica of %s", got)
		}
		if role[3] != "connected" {
			return fmt.Errorf("link %v", role[3])
		}
		return nil
	})
}
