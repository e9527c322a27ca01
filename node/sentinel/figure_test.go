package sentinel_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// FigureEnv runs TestFigureKillToFirstWrite (make bench-sentinel): it is a
// measurement, not a test of CI.
const FigureEnv = "SHOAL_SENTINEL_FIGURE"

// kill -9 of the master to the first write a go-redis FailoverClient gets
// accepted, with three of our sentinels and with three of Debian's
// redis-sentinel over the same kind of topology (our nodes, a master and
// two replicas) and the same down-after-milliseconds, alternated in one
// run so the machine's noise falls on both.
func TestFigureKillToFirstWrite(t *testing.T) {
	if os.Getenv(FigureEnv) == "" {
		t.Skip("a figure: make bench-sentinel")
	}
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	sum := map[string]time.Duration{}
	for r := 0; r < rounds; r++ {
		for _, kind := range []string{"ours", "redis-sentinel"} {
			bin := ""
			if kind != "ours" {
				bin = nodetest.RedisServer(t)
			}
			var d time.Duration
			t.Run(kind, func(t *testing.T) { d = killToFirstWrite(t, bin) })
			t.Logf("round %d %s: kill -9 to first accepted write %v", r+1, kind, d.Round(time.Millisecond))
			sum[kind] += d
		}
	}
	ours, ref := sum["ours"]/time.Duration(rounds), sum["redis-sentinel"]/time.Duration(rounds)
	t.Logf("mean over %d rounds, down-after-milliseconds %d: ours %v, redis-sentinel %v, ratio ours/redis %.2f",
		rounds, downAfterMs, ours.Round(time.Millisecond), ref.Round(time.Millisecond), float64(ours)/float64(ref))
}

func killToFirstWrite(t *testing.T, sentinelBinary string) time.Duration {
	ctx := ctxT(t)
	m := startNode(t)
	startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	waitInSync(t, ctx, client(t, m.Addr), 2)
	var addrs []string
	for i := 0; i < 3; i++ {
		s := startSentinel(t, sentinelBinary, m.Port, 2)
		addrs = append(addrs, s.Addr)
	}
	for _, a := range addrs {
		waitDiscovered(t, ctx, client(t, a), 2, 2)
	}
	fc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: masterName, SentinelAddrs: addrs,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: time.Second, MaxRetries: -1})
	defer fc.Close()
	eventually(t, settleTimeout, "first write", func() error { return fc.Set(ctx, "k", "v", 0).Err() })
	m.Kill()
	killed := time.Now()
	deadline := killed.Add(settleTimeout)
	for time.Now().Before(deadline) {
		c, cancel := context.WithTimeout(ctx, time.Second)
		err := fc.Set(c, "k", "v", 0).Err()
		cancel()
		if err == nil {
			return time.Since(killed)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no write accepted after the kill")
	return 0
}
