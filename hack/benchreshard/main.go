package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

type options struct {
	bin          string
	keys         int
	value        int
	from, to     int
	inFlight     int
	maxLatency   time.Duration
	keysPerBatch int
	clients      int
	modes        string
	verbose      bool
	profile      string
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/shoal-node", "node binary")
	flag.IntVar(&o.keys, "keys", 1_000_000, "keys to load")
	flag.IntVar(&o.value, "value", 100, "value size in bytes")
	flag.IntVar(&o.from, "from", 3, "masters holding the data")
	flag.IntVar(&o.to, "to", 5, "masters after the move")
	flag.IntVar(&o.inFlight, "slots-in-flight", 8, "slots moved at the same time (ours)")
	flag.IntVar(&o.keysPerBatch, "keys-per-batch", 1000, "keys per MIGRATE (ours; the most with -max-latency-impact)")
	flag.DurationVar(&o.maxLatency, "max-latency-impact", 0, "pace our MIGRATEs to add at most this latency (spec.migration.maxLatencyImpact; 0: fixed batches)")
	flag.IntVar(&o.clients, "clients", 4, "concurrent load clients during the move")
	flag.StringVar(&o.modes, "modes", "ours,redis-cli", "which movers to run, in order")
	flag.BoolVar(&o.verbose, "v", false, "log progress and the commands the nodes logged as slow")
	flag.StringVar(&o.profile, "profile", "", "directory for each node's CPU and lock-contention profiles (go tool pprof)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "benchreshard:", err)
		os.Exit(1)
	}
}

// result of one mover.
type result struct {
	mode       string
	took       time.Duration
	errors     int64
	ops        int64
	p99Before  time.Duration
	p99During  time.Duration
	firstErr   string
	keysAfter  int64
	checkClean bool
}

func run(o options) error {
	var results []result
	for _, mode := range strings.Split(o.modes, ",") {
		r, err := runOne(o, mode)
		if err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
		results = append(results, r)
	}
	fmt.Printf("\nslot migration %d -> %d masters, %d keys of %d bytes, %d load clients\n", o.from, o.to, o.keys, o.value, o.clients)
	fmt.Printf("%-10s %10s %10s %12s %12s %10s %8s\n", "mover", "time", "errors", "p99 before", "p99 during", "keys", "check")
	for _, r := range results {
		fmt.Printf("%-10s %10s %5d/%-6d %12s %12s %10d %8v\n", r.mode, r.took.Round(time.Millisecond), r.errors, r.ops, r.p99Before, r.p99During, r.keysAfter, r.checkClean)
		if r.firstErr != "" {
			fmt.Printf("  first load error (%s): %s\n", r.mode, r.firstErr)
		}
	}
	if len(results) == 2 && results[0].took > 0 {
		fmt.Printf("ratio %s/%s time: %.2fx faster\n", results[0].mode, results[1].mode, float64(results[1].took)/float64(results[0].took))
	}
	return nil
}

// node is one node process.
type node struct {
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func (n *node) addr() string { return fmt.Sprintf("127.0.0.1:%d", n.port) }

func freePort() (int, error) {
	for range 1000 {
		p := 10000 + rand.IntN(10000)
		if portFree(p) && portFree(p+10000) {
			return p, nil
		}
	}
	return 0, errors.New("no free port")
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func startNodes(o options, dir string) ([]*node, error) {
	var nodes []*node
	for i := range o.to {
		port, err := freePort()
		if err != nil {
			return nodes, err
		}
		d := filepath.Join(dir, fmt.Sprint(i))
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nodes, err
		}
		cmd := exec.Command(o.bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(d, "nodes.conf"), "--dir", d, "--appendonly", "no", "--save", "",
			"--cluster-node-timeout", "5000")
		cmd.Dir = d
		if o.profile != "" {
			// One CPU and one lock-contention profile per node, in
			// -profile's directory (written when the node stops).
			cmd.Env = append(os.Environ(), "SHOAL_CPUPROFILE="+filepath.Join(o.profile, fmt.Sprintf("cpu-%d.prof", i)),
				"SHOAL_MUTEXPROFILE="+filepath.Join(o.profile, fmt.Sprintf("mutex-%d.prof", i)))
		}
		logf, err := os.Create(filepath.Join(d, "log"))
		if err != nil {
			return nodes, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return nodes, err
		}
		n := &node{port: port, cmd: cmd, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(n.done) }()
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		if err := poll(30*time.Second, func() error {
			c, err := net.Dial("tcp", n.addr())
			if err == nil {
				_ = c.Close()
			}
			return err
		}); err != nil {
			return nodes, err
		}
	}
	return nodes, nil
}

func stopNodes(nodes []*node) {
	for _, n := range nodes {
		// SIGTERM first: a node writes its profiles as it exits.
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.done
		}
	}
}

func poll(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// form meets every node and gives the first o.from nodes the slots.
func form(ctx context.Context, o options, nodes []*node) error {
	seed := redis.NewClient(&redis.Options{Addr: nodes[0].addr()})
	defer seed.Close()
	for _, n := range nodes[1:] {
		if err := seed.ClusterMeet(ctx, "127.0.0.1", fmt.Sprint(n.port)).Err(); err != nil {
			return err
		}
	}
	for i, r := range topology.EvenSlotRanges(o.from) {
		c := redis.NewClient(&redis.Options{Addr: nodes[i].addr()})
		err := c.ClusterAddSlotsRange(ctx, r.First, r.Last).Err()
		_ = c.Close()
		if err != nil {
			return err
		}
	}
	return poll(60*time.Second, func() error { return clusterOK(ctx, nodes) })
}

func clusterOK(ctx context.Context, nodes []*node) error {
	for _, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n.addr()})
		info, err := c.ClusterInfo(ctx).Result()
		nodesReply, err2 := c.ClusterNodes(ctx).Result()
		_ = c.Close()
		if err != nil || err2 != nil {
			return errors.Join(err, err2)
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("%s: not ok", n.addr())
		}
		if strings.Count(strings.TrimSpace(nodesReply), "\n")+1 != len(nodes) || strings.Contains(nodesReply, "handshake") {
			return fmt.Errorf("%s: not every node known", n.addr())
		}
	}
	return nil
}

func load(ctx context.Context, o options, cc *redis.ClusterClient) error {
	val := strings.Repeat("v", o.value)
	const chunk = 2000
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	next := atomic.Int64{}
	for range 8 {
		wg.Go(func() {
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= o.keys {
					return
				}
				_, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
					for i := start; i < min(start+chunk, o.keys); i++ {
						p.Set(ctx, fmt.Sprintf("key:%d", i), val, 0)
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// loadGen runs o.clients clients doing GET and SET of random keys and
// records latencies, split by phase.
type loadGen struct {
	mu    sync.Mutex
	phase int // 0 before, 1 during
	lat   [2][]time.Duration
	// During the move: the operations served by the first node asked,
	// and those that followed a MOVED or ASK.
	direct, redirected []time.Duration
	errs               atomic.Int64
	ops                atomic.Int64
	firstErr           atomic.Value
}

func (l *loadGen) run(ctx context.Context, o options, cc *redis.ClusterClient) *sync.WaitGroup {
	var wg sync.WaitGroup
	val := strings.Repeat("w", o.value)
	for range o.clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				k := fmt.Sprintf("key:%d", rand.IntN(o.keys))
				var attempts int32
				octx := context.WithValue(ctx, attemptsKey{}, &attempts)
				start := time.Now()
				var err error
				if rand.IntN(2) == 0 {
					err = cc.Get(octx, k).Err()
				} else {
					err = cc.Set(octx, k, val, 0).Err()
				}
				d := time.Since(start)
				if ctx.Err() != nil {
					return
				}
				l.ops.Add(1)
				if err != nil && !errors.Is(err, redis.Nil) {
					l.errs.Add(1)
					l.firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				l.mu.Lock()
				l.lat[l.phase] = append(l.lat[l.phase], d)
				if l.phase == 1 && attempts > 1 {
					l.redirected = append(l.redirected, d)
				} else if l.phase == 1 {
					l.direct = append(l.direct, d)
				}
				l.mu.Unlock()
			}
		})
	}
	return &wg
}

func (l *loadGen) startMove() {
	l.mu.Lock()
	l.phase = 1
	l.mu.Unlock()
	l.errs.Store(0)
	l.ops.Store(0)
}

func p99(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)*99/100].Round(10 * time.Microsecond)
}

func runOne(o options, mode string) (result, error) {
	res := result{mode: mode}
	dir, err := os.MkdirTemp("", "benchreshard-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	nodes, err := startNodes(o, dir)
	defer stopNodes(nodes)
	if err != nil {
		return res, err
	}
	ctx := context.Background()
	if err := form(ctx, o, nodes); err != nil {
		return res, fmt.Errorf("forming: %w", err)
	}
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.addr())
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRedirects: 16, ReadTimeout: 10 * time.Second, PoolSize: 32})
	cc.OnNewNode(func(c *redis.Client) { c.AddHook(attemptHook{}) })
	defer cc.Close()
	t0 := time.Now()
	if err := load(ctx, o, cc); err != nil {
		return res, fmt.Errorf("loading: %w", err)
	}
	logf(o, "%s: loaded %d keys in %s", mode, o.keys, time.Since(t0).Round(time.Millisecond))

	if o.verbose {
		slowlogReset(ctx, addrs)
	}
	lctx, stopLoad := context.WithCancel(ctx)
	lg := &loadGen{}
	wg := lg.run(lctx, o, cc)
	time.Sleep(3 * time.Second) // the "before" sample of the load
	lg.startMove()
	start := time.Now()
	switch mode {
	case "ours":
		err = moveOurs(ctx, o, addrs)
	case "redis-cli":
		out, cerr := exec.Command("redis-cli", "--cluster", "rebalance", addrs[0], "--cluster-use-empty-masters").CombinedOutput()
		if cerr != nil {
			err = fmt.Errorf("%v\n%s", cerr, out)
		}
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	res.took = time.Since(start)
	stopLoad()
	wg.Wait()
	if err != nil {
		return res, err
	}
	logf(o, "%s: moved in %s", mode, res.took.Round(time.Millisecond))
	if o.verbose {
		logf(o, "%s: commands over 2ms on the nodes: %s", mode, slowlogSummary(ctx, addrs))
		logf(o, "%s: during the move, %d operations served at once (p99 %s), %d redirected (p99 %s)", mode,
			len(lg.direct), p99(lg.direct), len(lg.redirected), p99(lg.redirected))
	}
	res.errors, res.ops = lg.errs.Load(), lg.ops.Load()
	res.p99Before, res.p99During = p99(lg.lat[0]), p99(lg.lat[1])
	if e, ok := lg.firstErr.Load().(string); ok {
		res.firstErr = e
	}
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		n, _ := c.DBSize(ctx).Result()
		_ = c.Close()
		res.keysAfter += n
	}
	out, _ := exec.Command("redis-cli", "--cluster", "check", addrs[0]).CombinedOutput()
	res.checkClean = strings.Contains(string(out), "[OK] All 16384 slots covered.") && !strings.Contains(string(out), "[ERR]") &&
		!strings.Contains(string(out), "[WARNING]")
	return res, nil
}

func logf(o options, format string, args ...any) {
	if o.verbose {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

// moveOurs drives the operator's engine as the reconciler does: observe,
// plan by shard (node i is shard i), then move batches of slots until none
// is left.
func moveOurs(ctx context.Context, o options, addrs []string) error {
	st := &opStats{}
	defer func() { logf(o, "ours: time per command: %s", st) }()
	var pacer *nodeadmin.Pacer
	if o.maxLatency > 0 {
		pacer = nodeadmin.NewPacer(o.maxLatency, o.keysPerBatch)
		defer func() { logf(o, "ours: paced batches of %d keys at the end", pacer.Batch()) }()
	}
	base := clusteradmin.NewDialer(30 * time.Second)
	dial := func(addr string, auth clusteradmin.Auth) clusteradmin.Client {
		return &timedClient{Client: base(addr, auth), st: st}
	}
	observe := func() ([]topology.Member, error) {
		members := make([]topology.Member, len(addrs))
		for i, a := range addrs {
			host, port, _ := net.SplitHostPort(a)
			var p int
			fmt.Sscan(port, &p)
			c := dial(a, clusteradmin.Auth{})
			v, err := c.ClusterView(ctx)
			_ = c.Close()
			if err != nil {
				return nil, err
			}
			members[i] = topology.Member{Pod: a, Shard: i, IP: host, Port: p, BusPort: p + 10000, View: v}
		}
		return members, nil
	}
	members, err := observe()
	if err != nil {
		return err
	}
	shards := topology.Shards(members, o.to)
	moves, reason := topology.PlanMigration(topology.Owners(shards), len(shards), topology.MigrationGoal{Masters: o.to})
	logf(o, "ours: %s plan of %d slots", reason, topology.SlotCountOf(moves))
	for {
		members, err := observe()
		if err != nil {
			return err
		}
		shards := topology.Shards(members, o.to)
		todo, _, unsettled := topology.Remaining(moves, topology.Owners(shards))
		if len(todo) == 0 && unsettled == 0 {
			return nil
		}
		if len(todo) == 0 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		byID := map[string]topology.Member{}
		var masterIDs []string
		for _, m := range members {
			byID[m.ID()] = m
			masterIDs = append(masterIDs, m.ID())
		}
		jobs := make([][]topology.SlotOp, len(todo))
		for i, t := range todo {
			jobs[i] = topology.MoveSlotOps(t.Slot, members[t.From].ID(), members[t.To].ID(), masterIDs)
		}
		mover := &nodeadmin.SlotMover{
			Dial: dial, KeysPerBatch: o.keysPerBatch, CommandTimeout: 30 * time.Second, MigrateTimeout: 20 * time.Second,
			Addr:  func(id string) (string, int, bool) { m, ok := byID[id]; return m.IP, m.Port, ok },
			Pacer: pacer,
		}
		n, err := mover.Run(ctx, jobs, o.inFlight, time.Now().Add(3*time.Second))
		logf(o, "ours: batch moved %d slots", n)
		if err != nil {
			return err
		}
	}
}

// opStats sums the time spent in each kind of command.
type opStats struct {
	mu    sync.Mutex
	total map[string]time.Duration
	count map[string]int
}

func (s *opStats) add(op string, since time.Time) {
	d := time.Since(since)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total == nil {
		s.total, s.count = map[string]time.Duration{}, map[string]int{}
	}
	s.total[op] += d
	s.count[op]++
}

func (s *opStats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	for op, t := range s.total {
		parts = append(parts, fmt.Sprintf("%s %d x %s", op, s.count[op], (t/time.Duration(s.count[op])).Round(time.Microsecond)))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// timedClient measures the commands of a slot move.
type timedClient struct {
	clusteradmin.Client
	st *opStats
}

func (c *timedClient) SetSlot(ctx context.Context, slot int, state clusteradmin.SlotState, id string) error {
	defer c.st.add("SETSLOT "+string(state), time.Now())
	return c.Client.SetSlot(ctx, slot, state, id)
}

func (c *timedClient) GetKeysInSlot(ctx context.Context, slot, n int) ([]string, error) {
	defer c.st.add("GETKEYSINSLOT", time.Now())
	return c.Client.GetKeysInSlot(ctx, slot, n)
}

func (c *timedClient) MigrateKeys(ctx context.Context, ip string, port int, keys []string, timeout time.Duration, auth clusteradmin.Auth, replace bool) error {
	defer c.st.add("MIGRATE", time.Now())
	return c.Client.MigrateKeys(ctx, ip, port, keys, timeout, auth, replace)
}

// slowlogReset makes every node log commands of 2 ms or more, from now.
func slowlogReset(ctx context.Context, addrs []string) {
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		c.ConfigSet(ctx, "slowlog-log-slower-than", "2000")
		c.ConfigSet(ctx, "slowlog-max-len", "100000")
		c.SlowLogReset(ctx)
		_ = c.Close()
	}
}

// slowlogSummary counts the nodes' slow log entries by command, with the
// longest of each.
func slowlogSummary(ctx context.Context, addrs []string) string {
	type agg struct {
		n   int
		max time.Duration
	}
	by := map[string]*agg{}
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		entries, _ := c.SlowLogGet(ctx, -1).Result()
		_ = c.Close()
		for _, e := range entries {
			name := "?"
			if len(e.Args) > 0 {
				name = strings.ToUpper(e.Args[0])
				if len(e.Args) > 1 && (name == "CLUSTER" || name == "CONFIG") {
					name += " " + strings.ToUpper(e.Args[1])
				}
				if len(e.Args) > 3 && name == "CLUSTER SETSLOT" {
					name += " " + strings.ToUpper(e.Args[3])
				}
			}
			g := by[name]
			if g == nil {
				g = &agg{}
				by[name] = g
			}
			g.n++
			g.max = max(g.max, e.Duration)
		}
	}
	var parts []string
	for name, g := range by {
		parts = append(parts, fmt.Sprintf("%s %d (max %s)", name, g.n, g.max))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// attemptsKey is the context key of an operation's attempt counter.
type attemptsKey struct{}

// attemptHook counts the nodes an operation was sent to (more than one:
// it followed a MOVED or ASK).
type attemptHook struct{}

func (attemptHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (attemptHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n, ok := ctx.Value(attemptsKey{}).(*int32); ok {
			*n++
		}
		return next(ctx, cmd)
	}
}

func (attemptHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
