package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/cluster"
)

// Failover tests with six real node processes (three masters, one replica
// each, made by `redis-cli --cluster create --cluster-replicas 1`) under
// go-redis ClusterClient load: a replica frozen for a few seconds resumes
// with a partial sync, CLUSTER FAILOVER loses no acknowledged write, a
// master killed with kill -9 is replaced and rejoins as a replica, and a
// master frozen with SIGSTOP is failed over and comes back as a replica.

// failoverNodeTimeout is cluster-node-timeout in these tests: short, for
// quick failovers, but long enough for a loaded 2-core machine.
const failoverNodeTimeout = 1500

// clientRecoveryBound bounds the time from kill -9 of a master to the
// last error its ClusterClient sees.
const clientRecoveryBound = 30 * time.Second

// failoverWait bounds every wait for a failover, a recovery or a sync.
const failoverWait = 90 * time.Second

// startReplicatedCluster starts six nodes and joins them with
// `redis-cli --cluster create --cluster-replicas 1`.
func startReplicatedCluster(t *testing.T) []*clusterProc {
	t.Helper()
	nodes := make([]*clusterProc, 6)
	addrs := make([]string, len(nodes))
	for i := range nodes {
		nodes[i] = startClusterProc(t, "", 0, "--cluster-node-timeout", strconv.Itoa(failoverNodeTimeout))
		addrs[i] = nodes[i].Addr()
	}
	createReplicatedCluster(t, nodes, addrs)
	return nodes
}

// createReplicatedCluster joins the nodes with `redis-cli --cluster create
// --cluster-replicas 1` and waits until they agree.
func createReplicatedCluster(t *testing.T, nodes []*clusterProc, addrs []string) {
	t.Helper()
	out, err := runCLI(t, 2*time.Minute, "", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "1", "--cluster-yes")...)
	if err != nil || !strings.Contains(out, "[OK] All 16384 slots covered.") {
		t.Fatalf("redis-cli --cluster create --cluster-replicas 1: %v\n%s", err, out)
	}
	waitAgreement(t, nodes)
	checkClean(t, nodes[0])
}

// procInfo reads one field of INFO section, without failing the test (the
// node may be down or frozen while a poll runs).
func procInfo(p *clusterProc, section, field string) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, Protocol: 2, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.Info(ctx, section).Result()
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("no %s in INFO %s", field, section)
}

func procInfoInt(t testing.TB, p *clusterProc, section, field string) int64 {
	t.Helper()
	v, err := procInfo(p, section, field)
	if err != nil {
		t.Fatalf("INFO %s on %s: %v", section, p.Addr(), err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("INFO %s %s on %s = %q", section, field, p.Addr(), v)
	}
	return n
}

// failoverShard is a master and its replica.
type failoverShard struct{ master, replica *clusterProc }

// clusterShards waits until a live node sees three masters with one
// replica each, and returns them.
func clusterShards(t *testing.T, nodes []*clusterProc, from *clusterProc) []failoverShard {
	t.Helper()
	byID := map[string]*clusterProc{}
	for _, p := range nodes {
		if p.cmd != nil {
			byID[p.myID(t)] = p
		}
	}
	var out []failoverShard
	waitUntil(t, failoverWait, "three masters with a replica each", func() error {
		s, err := from.do(t, "CLUSTER", "NODES").Text()
		if err != nil {
			return err
		}
		lines := parseClusterNodes(s)
		out = nil
		for _, l := range lines {
			if !strings.Contains(l.Flags, "master") || len(l.Slots) == 0 {
				continue
			}
			sh := failoverShard{master: byID[l.ID]}
			for _, r := range lines {
				if r.Master == l.ID {
					sh.replica = byID[r.ID]
				}
			}
			if sh.master == nil || sh.replica == nil {
				return fmt.Errorf("shard of %s has no running master or replica:\n%s", l.ID, s)
			}
			out = append(out, sh)
		}
		if len(out) != 3 {
			return fmt.Errorf("%d shards:\n%s", len(out), s)
		}
		return nil
	})
	return out
}

// waitReplicaOf waits until p is a replica of master with its link up.
func waitReplicaOf(t *testing.T, p, master *clusterProc) {
	t.Helper()
	waitUntil(t, failoverWait, p.Addr()+" to replicate from "+master.Addr(), func() error {
		if role, err := procInfo(p, "replication", "role"); err != nil || role != "slave" {
			return fmt.Errorf("role %q, %v", role, err)
		}
		if port, err := procInfo(p, "replication", "master_port"); err != nil || port != strconv.Itoa(master.Port) {
			return fmt.Errorf("master_port %q, %v", port, err)
		}
		if s, err := procInfo(p, "replication", "master_link_status"); err != nil || s != "up" {
			return fmt.Errorf("master_link_status %q, %v", s, err)
		}
		return nil
	})
}

// waitMaster waits until p says it is a master.
func waitMaster(t *testing.T, p *clusterProc) {
	t.Helper()
	waitUntil(t, failoverWait, p.Addr()+" to be a master", func() error {
		if role, err := procInfo(p, "replication", "role"); err != nil || role != "master" {
			return fmt.Errorf("role %q, %v", role, err)
		}
		return nil
	})
}

// waitInSyncProcs waits until the replica processed the master's whole
// stream.
func waitInSyncProcs(t *testing.T, master, replica *clusterProc) {
	t.Helper()
	waitUntil(t, failoverWait, replica.Addr()+" in sync with "+master.Addr(), func() error {
		if s, err := procInfo(replica, "replication", "master_link_status"); err != nil || s != "up" {
			return fmt.Errorf("master_link_status %q, %v", s, err)
		}
		mo, err := procInfo(master, "replication", "master_repl_offset")
		if err != nil {
			return err
		}
		ro, err := procInfo(replica, "replication", "slave_repl_offset")
		if err != nil {
			return err
		}
		if mo != ro {
			return fmt.Errorf("master offset %s, replica offset %s", mo, ro)
		}
		return nil
	})
}

// ackLoad writes through a ClusterClient and remembers what the cluster
// acknowledged: every SET goes to a new key (so an acknowledged key must
// exist with its value afterwards, an unacknowledged one may or may not),
// and every worker INCRs its own counter (which must end at least at the
// acknowledged increments). With waitAck, each SET is
// followed by WAIT 1 on the same connection and counts as acknowledged
// only when a replica confirmed it.
type ackLoad struct {
	cc      *redis.ClusterClient
	waitAck bool

	mu       sync.Mutex
	acked    map[string]string   // key -> value acknowledged
	counters map[string][2]int64 // counter key -> acknowledged, attempted INCRs
	lastErr  string

	ok, errs   atomic.Int64
	lastErrAt  atomic.Int64 // unix nanos of the last error
	stop       chan struct{}
	wg         sync.WaitGroup
	stopOnce   sync.Once
	unverified atomic.Int64 // SETs without a replica's acknowledgement
}

func startAckLoad(t *testing.T, cc *redis.ClusterClient, workers int, waitAck bool, prefix string) *ackLoad {
	l := &ackLoad{cc: cc, waitAck: waitAck, acked: map[string]string{}, counters: map[string][2]int64{}, stop: make(chan struct{})}
	for w := range workers {
		l.wg.Add(1)
		go l.worker(fmt.Sprintf("%s:%d", prefix, w))
	}
	t.Cleanup(l.halt)
	return l
}

func (l *ackLoad) halt() {
	l.stopOnce.Do(func() { close(l.stop) })
	l.wg.Wait()
}

func (l *ackLoad) fail(err error) {
	l.errs.Add(1)
	l.lastErrAt.Store(time.Now().UnixNano())
	l.mu.Lock()
	l.lastErr = err.Error()
	l.mu.Unlock()
}

func (l *ackLoad) worker(name string) {
	defer l.wg.Done()
	ctr := "ctr:" + name
	for seq := 0; ; seq++ {
		select {
		case <-l.stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if seq%5 == 4 {
			l.incr(ctx, ctr)
		} else {
			key := fmt.Sprintf("ack:%s:%d", name, seq)
			l.set(ctx, key, "v"+strconv.Itoa(seq))
		}
		cancel()
	}
}

func (l *ackLoad) incr(ctx context.Context, key string) {
	l.mu.Lock()
	c := l.counters[key]
	c[1]++
	l.counters[key] = c
	l.mu.Unlock()
	if err := l.cc.Incr(ctx, key).Err(); err != nil {
		l.fail(err)
		return
	}
	l.ok.Add(1)
	if l.waitAck {
		return // only SETs are checked with WAIT
	}
	l.mu.Lock()
	c = l.counters[key]
	c[0]++
	l.counters[key] = c
	l.mu.Unlock()
}

func (l *ackLoad) set(ctx context.Context, key, val string) {
	if !l.waitAck {
		if err := l.cc.Set(ctx, key, val, 0).Err(); err != nil {
			l.fail(err)
			return
		}
		l.ok.Add(1)
		l.ack(key, val)
		return
	}
	// SET and WAIT on one connection to the key's master, as the
	// ClusterClient currently sees it.
	master, err := l.cc.MasterForKey(ctx, key)
	if err != nil {
		l.fail(err)
		return
	}
	var set *redis.StatusCmd
	var wait *redis.Cmd
	// A frozen master holds the pipeline until the deadline: keep it short.
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = master.Pipelined(pctx, func(p redis.Pipeliner) error {
		set = p.Set(pctx, key, val, 0)
		wait = p.Do(pctx, "WAIT", 1, 500)
		return nil
	})
	if err != nil {
		l.fail(err)
		l.cc.ReloadState(ctx) // what the ClusterClient does on MOVED or a dead node
		return
	}
	l.ok.Add(1)
	if n, err := wait.Int(); set.Err() == nil && err == nil && n >= 1 {
		l.ack(key, val)
	} else {
		l.unverified.Add(1)
	}
}

func (l *ackLoad) ack(key, val string) {
	l.mu.Lock()
	l.acked[key] = val
	l.mu.Unlock()
}

// failoverClient is a ClusterClient with short timeouts: it reloads the
// slot map from a random node, which may be a frozen one (SIGSTOP).
func failoverClient(t *testing.T, nodes []*clusterProc) *redis.ClusterClient {
	t.Helper()
	return clusterClient(t, nodes, func(o *redis.ClusterOptions) {
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = 3*time.Second, 5*time.Second, 5*time.Second
	})
}

// waitProgress waits until the load made n more successful operations.
func (l *ackLoad) waitProgress(t *testing.T, n int64) {
	t.Helper()
	base := l.ok.Load()
	waitUntil(t, failoverWait, "the load to make progress", func() error {
		if got := l.ok.Load() - base; got < n {
			return fmt.Errorf("%d of %d operations", got, n)
		}
		return nil
	})
}

// waitRecovered waits until the load ran error-free for quiet, with
// progress, and returns when the last error was seen.
func (l *ackLoad) waitRecovered(t *testing.T, quiet time.Duration) time.Time {
	t.Helper()
	var okAt int64
	var since time.Time
	waitUntil(t, failoverWait, "the ClusterClient to recover", func() error {
		last := time.Unix(0, l.lastErrAt.Load())
		if time.Since(last) < quiet {
			l.mu.Lock()
			msg := l.lastErr
			l.mu.Unlock()
			since, okAt = time.Time{}, 0
			return fmt.Errorf("last error %v ago: %s", time.Since(last).Round(time.Millisecond), msg)
		}
		if since.IsZero() {
			since, okAt = time.Now(), l.ok.Load()
		}
		if l.ok.Load() == okAt {
			return errors.New("no operation succeeded since the last error")
		}
		return nil
	})
	return time.Unix(0, l.lastErrAt.Load())
}

// verify stops the load and checks every acknowledged write through a
// fresh ClusterClient.
func (l *ackLoad) verify(t *testing.T, nodes []*clusterProc) {
	t.Helper()
	l.halt()
	var live []*clusterProc
	for _, p := range nodes {
		if p.cmd != nil {
			live = append(live, p)
		}
	}
	cc := clusterClient(t, live)
	ctx := ctxT(t)
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.acked))
	for k := range l.acked {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		t.Fatal("no write was acknowledged")
	}
	lost := 0
	for i := 0; i < len(keys); i += 200 {
		batch := keys[i:min(i+200, len(keys))]
		cmds, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range batch {
				p.Get(ctx, k)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatalf("reading the acknowledged keys: %v", err)
		}
		for j, c := range cmds {
			if got := c.(*redis.StringCmd).Val(); got != l.acked[batch[j]] {
				if lost < 10 {
					t.Errorf("acknowledged %s = %q lost (now %q)", batch[j], l.acked[batch[j]], got)
				}
				lost++
			}
		}
	}
	for k, c := range l.counters {
		got, err := cc.Get(ctx, k).Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatalf("GET %s: %v", k, err)
		}
		// Only the lower bound holds: go-redis retries a command that
		// timed out, so an INCR may have run twice.
		if got < c[0] {
			t.Errorf("counter %s = %d, lost some of its %d acknowledged INCRs (%d attempted)", k, got, c[0], c[1])
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged writes lost", lost, len(keys))
	}
	t.Logf("%d acknowledged keys checked (%d operations, %d errors (last: %s), %d not acknowledged by a replica)",
		len(keys), l.ok.Load(), l.errs.Load(), l.lastErr, l.unverified.Load())
}

// TestClusterFailover runs the failover scenarios in order on one cluster.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six nodes")
	}
	nodes := startReplicatedCluster(t)
	steps := []struct {
		name string
		run  func(*testing.T, []*clusterProc)
	}{
		{"ReplicaFrozenResumesWithPartialSync", testReplicaFrozenPartialSync},
		{"ManualFailoverUnderLoad", testManualFailoverUnderLoad},
		{"KillMasterUnderLoad", testKillMasterUnderLoad},
		{"StoppedMasterFailedOver", testStoppedMasterFailedOver},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, nodes) }) {
			return // the next steps need a healthy cluster
		}
		checkClean(t, nodes[0])
	}
}

// testReplicaFrozenPartialSync: a replica frozen (SIGSTOP) for longer than
// the node timeout while its master takes writes resumes with a partial
// sync: sync_partial_ok grows, sync_full does not.
func testReplicaFrozenPartialSync(t *testing.T, nodes []*clusterProc) {
	sh := clusterShards(t, nodes, nodes[0])[0]
	waitInSyncProcs(t, sh.master, sh.replica)
	full := procInfoInt(t, sh.master, "stats", "sync_full")
	partial := procInfoInt(t, sh.master, "stats", "sync_partial_ok")
	mc := redis.NewClient(&redis.Options{Addr: sh.master.Addr()})
	defer mc.Close()
	ctx := ctxT(t)
	if err := sh.replica.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	// Writes to the master's slots while the replica is frozen, until the
	// master dropped the replica's link (repl-timeout is long: the test
	// kills the link, as a replica whose TCP connection broke).
	keys := keysOfNode(t, sh.master, "frozen:", 500)
	for _, k := range keys {
		if err := mc.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := mc.Do(ctx, "CLIENT", "KILL", "TYPE", "replica").Int(); err != nil || n != 1 {
		t.Fatalf("CLIENT KILL TYPE replica = %d, %v", n, err)
	}
	for time.Since(frozen) < 3*time.Second {
		if err := mc.Set(ctx, keys[0], "late", 0).Err(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // the replica stays disconnected for a few seconds
	}
	if err := sh.replica.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitInSyncProcs(t, sh.master, sh.replica)
	if got := procInfoInt(t, sh.master, "stats", "sync_full"); got != full {
		t.Fatalf("sync_full grew from %d to %d", full, got)
	}
	if got := procInfoInt(t, sh.master, "stats", "sync_partial_ok"); got <= partial {
		t.Fatalf("sync_partial_ok stayed %d", got)
	}
	rc := redis.NewClient(&redis.Options{Addr: sh.replica.Addr()})
	defer rc.Close()
	if err := rc.Do(ctx, "READONLY").Err(); err != nil {
		t.Fatal(err)
	}
	if v := rc.Get(ctx, keys[0]).Val(); v != "late" {
		t.Fatalf("replica has %s = %q after the partial sync", keys[0], v)
	}
	// Both ends see the other again on the bus before the next step.
	waitAgreement(t, nodes)
}

// keysOfNode returns n keys prefix+N served by master p.
func keysOfNode(t *testing.T, p *clusterProc, prefix string, n int) []string {
	t.Helper()
	owned := map[int]bool{}
	for _, s := range mySlots(t, p) {
		owned[s] = true
	}
	var keys []string
	for i := 0; len(keys) < n; i++ {
		k := prefix + strconv.Itoa(i)
		if owned[cluster.KeyHashSlot([]byte(k))] {
			keys = append(keys, k)
		}
	}
	return keys
}

// testManualFailoverUnderLoad: CLUSTER FAILOVER on a replica while a
// ClusterClient writes without WAIT: the coordinated failover (the master
// pauses writes until its replica caught up) loses no acknowledged write.
func testManualFailoverUnderLoad(t *testing.T, nodes []*clusterProc) {
	sh := clusterShards(t, nodes, nodes[0])[1]
	waitInSyncProcs(t, sh.master, sh.replica)
	load := startAckLoad(t, failoverClient(t, nodes), 8, false, "mf")
	load.waitProgress(t, 2000)
	manualFailover(t, sh)
	load.waitProgress(t, 2000)
	waitReplicaOf(t, sh.master, sh.replica)
	load.verify(t, nodes)
}

// failoverUnderCountedLoad waits for n more operations counted by ok,
// fails the shard over with manualFailover, waits for n more and for the
// old master to follow the new one.
func failoverUnderCountedLoad(t *testing.T, sh failoverShard, ok *atomic.Int64, n int64, what string) {
	t.Helper()
	waitOps := func() {
		base := ok.Load()
		waitUntil(t, failoverWait, "the "+what+" load to make progress", func() error {
			if got := ok.Load() - base; got < n {
				return fmt.Errorf("%d of %d %s", got, n, what)
			}
			return nil
		})
	}
	waitOps()
	manualFailover(t, sh)
	waitOps()
	waitReplicaOf(t, sh.master, sh.replica)
}

// manualFailover runs CLUSTER FAILOVER on the shard's replica until it is
// the master and the old master follows it. A manual failover that timed
// out (5 s on a loaded machine) is asked for again, as an operator would.
func manualFailover(t *testing.T, sh failoverShard) {
	t.Helper()
	var asked time.Time
	start, attempts := time.Now(), 0
	defer func() {
		t.Logf("manual failover of %s to %s took %v (%d CLUSTER FAILOVER)", sh.master.Addr(), sh.replica.Addr(), time.Since(start).Round(time.Millisecond), attempts)
	}()
	waitUntil(t, failoverWait, "the manual failover", func() error {
		r, err := procInfo(sh.replica, "replication", "role")
		// Asked again only while it is still a replica: a promoted node
		// whose old master has not switched yet refuses it.
		if err == nil && r == "slave" && time.Since(asked) > 7*time.Second {
			if err := sh.replica.do(t, "CLUSTER", "FAILOVER").Err(); err != nil && !isNotReplicaErr(err) {
				t.Fatalf("CLUSTER FAILOVER: %v", err)
			}
			asked = time.Now()
			attempts++
		}
		if err != nil || r != "master" {
			return fmt.Errorf("replica's role %q, %v", r, err)
		}
		if r, err := procInfo(sh.master, "replication", "role"); err != nil || r != "slave" {
			return fmt.Errorf("old master's role %q, %v", r, err)
		}
		return nil
	})
}

// isNotReplicaErr is CLUSTER FAILOVER's refusal on a master: a node
// promoted between a check of its role and the command.
func isNotReplicaErr(err error) bool {
	return err != nil && err.Error() == "ERR You should send CLUSTER FAILOVER to a replica"
}

// testKillMasterUnderLoad: kill -9 of a master while a ClusterClient
// writes (with WAIT 1 after each SET): its replica is promoted, the
// client's errors stop by themselves, the restarted node (same directory,
// same nodes.conf) rejoins as a replica of the new master and syncs, and
// every write a replica acknowledged is there.
func testKillMasterUnderLoad(t *testing.T, nodes []*clusterProc) {
	sh := clusterShards(t, nodes, nodes[0])[2]
	waitInSyncProcs(t, sh.master, sh.replica)
	cc := failoverClient(t, nodes)
	plain := startAckLoad(t, cc, 4, false, "kill")
	acked := startAckLoad(t, cc, 4, true, "killw")
	plain.waitProgress(t, 1000)
	acked.waitProgress(t, 500)

	victim := sh.master
	_ = victim.cmd.Process.Kill()
	<-victim.exited
	victim.cmd = nil
	killed := time.Now()
	waitMaster(t, sh.replica)
	promoted := time.Since(killed)
	lastErr := plain.waitRecovered(t, 3*time.Second)
	t.Logf("replica promoted %v after kill -9; the client's last error %v after it (%d errors)",
		promoted.Round(time.Millisecond), lastErr.Sub(killed).Round(time.Millisecond), plain.errs.Load())
	// About 3 s with a 1.5 s node timeout (FAIL, election delay, client
	// reload); the bound leaves room for a loaded machine.
	if d := lastErr.Sub(killed); d > clientRecoveryBound {
		t.Fatalf("the client still saw errors %v after the kill (bound %v)", d, clientRecoveryBound)
	}
	var others []*clusterProc
	for _, p := range nodes {
		if p != victim {
			others = append(others, p)
		}
	}
	checkClean(t, others[0])

	// The old master comes back on its directory: it learns it lost its
	// slots and follows the new master.
	victim.start(t)
	waitReplicaOf(t, victim, sh.replica)
	waitInSyncProcs(t, sh.replica, victim)
	acked.waitProgress(t, 500)
	plain.verify(t, nodes)
	acked.verify(t, nodes)
	waitAgreement(t, nodes)
}

// testStoppedMasterFailedOver: a master frozen with SIGSTOP for longer
// than the node timeout is failed over; after SIGCONT it is a replica of
// the new master, answers writes with MOVED, and no write acknowledged by
// WAIT is lost.
func testStoppedMasterFailedOver(t *testing.T, nodes []*clusterProc) {
	sh := clusterShards(t, nodes, nodes[0])[0]
	waitInSyncProcs(t, sh.master, sh.replica)
	acked := startAckLoad(t, failoverClient(t, nodes), 6, true, "stop")
	acked.waitProgress(t, 500)

	// A client with writes in flight to the frozen master: they wait in
	// its socket and must not be taken once it wakes up as a stale master.
	keys := keysOfNode(t, sh.master, "stopped:", 20)
	stale := redis.NewClient(&redis.Options{Addr: sh.master.Addr(), PoolSize: 1, ReadTimeout: time.Minute, MaxRetries: -1})
	defer stale.Close()
	ctx := ctxT(t)
	if err := stale.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := sh.master.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	// SIGSTOP takes effect when each thread is next scheduled: on a loaded
	// machine the node could still serve the writes below before stopping.
	waitStopped(t, sh.master.cmd.Process.Pid)
	staleDone := make(chan []redis.Cmder, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*failoverWait)
		defer cancel()
		cmds, _ := stale.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Set(ctx, k, "stale", 0)
			}
			return nil
		})
		staleDone <- cmds
	}()
	continued := false
	defer func() {
		if !continued {
			_ = sh.master.cmd.Process.Signal(syscall.SIGCONT)
		}
	}()
	waitMaster(t, sh.replica)
	t.Logf("replica promoted %v after SIGSTOP", time.Since(stopped).Round(time.Millisecond))
	acked.waitProgress(t, 100)
	t.Logf("load progressed %v after SIGSTOP", time.Since(stopped).Round(time.Millisecond))
	if err := sh.master.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	continued = true
	var cmds []redis.Cmder
	select {
	case cmds = <-staleDone:
	case <-time.After(failoverWait):
		t.Fatal("the writes sent to the frozen master got no reply after SIGCONT")
	}
	refusals := map[string]int{}
	for _, c := range cmds {
		if c.Err() == nil {
			t.Errorf("the old master took %v after SIGCONT", c.Args())
		} else {
			refusals[strings.Fields(c.Err().Error())[0]]++
		}
	}
	t.Logf("the writes queued while the master was stopped were refused: %v", refusals)
	t.Logf("stale writes answered %v after SIGSTOP", time.Since(stopped).Round(time.Millisecond))
	waitReplicaOf(t, sh.master, sh.replica)
	t.Logf("old master replicates %v after SIGSTOP", time.Since(stopped).Round(time.Millisecond))
	err := stale.Set(ctxT(t), keys[0], "x", 0).Err()
	if want := "MOVED " + strconv.Itoa(cluster.KeyHashSlot([]byte(keys[0]))) + " " + sh.replica.Addr(); err == nil || err.Error() != want {
		t.Fatalf("write to the old master: %v, want %s", err, want)
	}
	acked.waitProgress(t, 500)
	acked.verify(t, nodes)
}

// waitStopped waits until every thread of process pid is stopped (state T
// in /proc/<pid>/task/*/stat).
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	waitUntil(t, failoverWait, fmt.Sprintf("process %d to stop", pid), func() error {
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		if err != nil || len(tasks) == 0 {
			return fmt.Errorf("no tasks: %v", err)
		}
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			// pid (comm) state ...: comm may hold spaces, state follows the last ')'.
			rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
			if fields := strings.Fields(rest); len(fields) == 0 || fields[0] != "T" {
				return fmt.Errorf("%s: %.20s", f, rest)
			}
		}
		return nil
	})
}

// TestClusterStoppedMasterWakesInMinority: a master without replicas,
// stopped (SIGSTOP) until the others flagged it FAIL, does not serve the
// write its client queued meanwhile as soon as it wakes up: it has not
// heard from the cluster for longer than the node timeout, so it counts
// itself in a minority (CLUSTERDOWN) until the others answered again, and
// then takes writes again.
func TestClusterStoppedMasterWakesInMinority(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes")
	}
	nodes := formCluster(t, 3, "--cluster-node-timeout", strconv.Itoa(failoverNodeTimeout))
	p := nodes[0]
	id := p.myID(t)
	key := keyOnNode("wake:", 0, 3)
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), PoolSize: 1, ReadTimeout: time.Minute, MaxRetries: -1})
	defer c.Close()
	if err := c.Ping(ctxT(t)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	continued := false
	defer func() {
		if !continued {
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
		}
	}()
	waitUntil(t, failoverWait, "the others to flag the stopped master FAIL", func() error {
		for _, l := range parseClusterNodes(nodes[1].text(t, "CLUSTER", "NODES")) {
			if l.ID == id && strings.Contains(l.Flags, "fail") && !strings.Contains(l.Flags, "fail?") {
				return nil
			}
		}
		return errors.New("not FAIL yet")
	})
	queued := make(chan error, 1)
	go func() { queued <- c.Set(context.Background(), key, "queued", 0).Err() }()
	// The SET waits in the stopped node's socket; give it time to get there
	// (pacing, not state: the node cannot answer while stopped).
	time.Sleep(200 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	continued = true
	select {
	case err := <-queued:
		if err == nil || !strings.HasPrefix(err.Error(), "CLUSTERDOWN ") {
			t.Fatalf("the write queued while the master was stopped: %v, want CLUSTERDOWN", err)
		}
	case <-time.After(failoverWait):
		t.Fatal("no reply to the queued write after SIGCONT")
	}
	waitUntil(t, failoverWait, "the woken master to take writes again", func() error {
		return c.Set(ctxT(t), key, "later", 0).Err()
	})
	waitAgreement(t, nodes)
}
