package sentinel_test

import (
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A SIGSTOPped master (a partition): the sentinels fail over, and when it
// comes back it refuses writes (min-replicas-to-write 1: its replicas
// left) until the sentinels make it a replica of the new master.
func TestPartitionedMasterRefusesWrites(t *testing.T) {
	ctx := ctxT(t)
	m := startNode(t, "--min-replicas-to-write", "1", "--min-replicas-max-lag", "2")
	r1 := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	r2 := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	mc := client(t, m.Addr)
	waitInSync(t, ctx, mc, 2)
	var sc []*redis.Client
	for i := 0; i < 3; i++ {
		sc = append(sc, client(t, startSentinel(t, "", m.Port, 2).Addr))
	}
	for _, c := range sc {
		waitDiscovered(t, ctx, c, 2, 2)
	}
	if err := mc.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := m.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			_ = m.Cmd.Process.Signal(syscall.SIGCONT)
		}
	}()
	replicas := map[string]bool{r1.Addr: true, r2.Addr: true}
	var newMaster string
	eventually(t, settleTimeout, "the sentinels fail over", func() error {
		for _, c := range sc {
			a, err := masterAddr(ctx, c)
			if err != nil {
				return err
			}
			if !replicas[a] {
				return fmt.Errorf("master %s", a)
			}
			newMaster = a
		}
		return nil
	})
	// The replicas left: the old master's last ack from them is older than
	// min-replicas-max-lag once it runs again.
	eventually(t, settleTimeout, "the other replica follows the new master", func() error {
		for a := range replicas {
			if a == newMaster {
				continue
			}
			role, err := client(t, a).Do(ctx, "ROLE").Slice()
			if err != nil || len(role) < 3 || fmt.Sprintf("%v:%v", role[1], role[2]) != newMaster {
				return fmt.Errorf("ROLE %v %v", role, err)
			}
		}
		return nil
	})
	if err := m.Cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	old := redis.NewClient(&redis.Options{Addr: m.Addr, MaxRetries: -1, ReadTimeout: 5 * time.Second})
	defer old.Close()
	// Until it is a replica, the old master refuses writes, but for a short
	// window after it resumes: the replicas' REPLCONF ACKs queued while it
	// was stopped are read first and look fresh until their connections'
	// close is seen (Redis has the same window, its good-replica count being
	// refreshed once a second). The window is bounded: nothing later than
	// max-lag plus a margin after SIGCONT is accepted.
	resumed := time.Now()
	const window = 2*time.Second + 3*time.Second
	accepted := 0
	eventually(t, settleTimeout, "the old master becomes a replica", func() error {
		err := old.Set(ctx, "lost", "1", 0).Err()
		if err == nil {
			accepted++
			if time.Since(resumed) > window {
				t.Fatalf("the partitioned old master accepted a write %v after it resumed", time.Since(resumed))
			}
			return fmt.Errorf("a write accepted %v after resuming", time.Since(resumed))
		}
		role, rerr := old.Do(ctx, "ROLE").Slice()
		if rerr != nil || role[0] != "slave" {
			return fmt.Errorf("SET refused (%v), ROLE %v %v", err, role, rerr)
		}
		return nil
	})
	t.Logf("%d writes accepted by the old master in the window after it resumed", accepted)
	waitReplicaOf(t, ctx, old, newMaster)
	if v, err := client(t, newMaster).Get(ctx, "before").Result(); err != nil || v != "1" {
		t.Errorf("the write before the partition: %q %v", v, err)
	}
}
