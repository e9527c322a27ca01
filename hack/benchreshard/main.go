package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/hack/benchkit"
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
	moverSched   string
	modes        string
	runs         int
	verbose      bool
	profile      string
	// loadgen: this process is the load's (runLoad), on addrs.
	loadgen bool
	addrs   string
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
	flag.StringVar(&o.moverSched, "mover-sched", "normal", "the movers' CPU scheduling policy: normal, or idle (SCHED_IDLE: only the CPU the nodes and the load leave, as on a machine of its own)")
	flag.IntVar(&o.clients, "clients", 4, "concurrent load clients during the move")
	flag.StringVar(&o.modes, "modes", "ours,redis-cli", "which movers to run, in order")
	flag.IntVar(&o.runs, "runs", 1, "runs of every mover (alternating), then the medians")
	flag.BoolVar(&o.verbose, "v", false, "log progress and the commands the nodes logged as slow")
	flag.BoolVar(&o.loadgen, "loadgen", false, "internal: run the load on -addrs until stdin closes, then print its samples")
	flag.StringVar(&o.addrs, "addrs", "", "internal: the cluster of -loadgen")
	flag.StringVar(&o.profile, "profile", "", "directory for each node's CPU, lock-contention and allocation profiles and execution trace, and the mover's CPU profile (mover-cpu.prof; go tool pprof)")
	flag.Parse()
	runner := run
	if o.loadgen {
		runner = runLoad
	}
	if err := runner(o); err != nil {
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
	// nodesCPU is the CPU the nodes used during the move beyond what they
	// used per second before it (serving the load); moverCPU the mover's.
	nodesCPU, moverCPU time.Duration
}

func run(o options) error {
	var runs [][]result
	for i := range max(1, o.runs) {
		var results []result
		for _, mode := range strings.Split(o.modes, ",") {
			r, err := runOne(o, mode)
			if err != nil {
				return fmt.Errorf("%s: %w", mode, err)
			}
			results = append(results, r)
		}
		if o.runs > 1 {
			fmt.Printf("\nrun %d of %d", i+1, o.runs)
		}
		printRun(o, results)
		runs = append(runs, results)
	}
	if len(runs) > 1 {
		fmt.Print(summary(runs))
	}
	return nil
}

// printRun prints one run's table: a row per mover, then its ratios.
func printRun(o options, results []result) {
	fmt.Printf("\nslot migration %d -> %d masters, %d keys of %d bytes, %d load clients\n", o.from, o.to, o.keys, o.value, o.clients)
	fmt.Printf("%-10s %10s %10s %12s %12s %10s %8s %10s %10s\n", "mover", "time", "errors", "p99 before", "p99 during", "keys", "check", "node CPU+", "mover CPU")
	for _, r := range results {
		fmt.Printf("%-10s %10s %5d/%-6d %12s %12s %10d %8v %10s %10s\n", r.mode, r.took.Round(time.Millisecond), r.errors, r.ops, r.p99Before, r.p99During, r.keysAfter, r.checkClean,
			r.nodesCPU.Round(10*time.Millisecond), r.moverCPU.Round(10*time.Millisecond))
		if r.firstErr != "" {
			fmt.Printf("  first load error (%s): %s\n", r.mode, r.firstErr)
		}
	}
	for _, r := range results {
		if r.p99Before > 0 {
			fmt.Printf("p99 during/before %s: %.2fx\n", r.mode, r.p99Ratio())
		}
	}
	if s := speedup(results); s > 0 {
		fmt.Printf("ratio %s/%s time: %.2fx faster\n", results[0].mode, results[1].mode, s)
	}
}

func (r result) p99Ratio() float64 {
	if r.p99Before <= 0 {
		return 0
	}
	return float64(r.p99During) / float64(r.p99Before)
}

// speedup is how many times faster the first mover of a run was than the
// second.
func speedup(results []result) float64 {
	if len(results) != 2 || results[0].took <= 0 {
		return 0
	}
	return float64(results[1].took) / float64(results[0].took)
}

// summary is the medians over runs (each a row per mover, in the same
// order): per mover its time and p99 during/before, and the speedup.
// The machine's other work moves single runs by tens of percent.
func summary(runs [][]result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nmedians of %d runs\n", len(runs))
	for i, r := range runs[0] {
		var took, p99 []float64
		for _, run := range runs {
			took = append(took, run[i].took.Seconds())
			p99 = append(p99, run[i].p99Ratio())
		}
		fmt.Fprintf(&b, "%-10s time %.1fs (%s), p99 during/before %.2fx (%s)\n", r.mode, median(took), list(took, "%.1fs"), median(p99), list(p99, "%.2fx"))
	}
	if len(runs[0]) == 2 {
		var ratio []float64
		for _, run := range runs {
			ratio = append(ratio, speedup(run))
		}
		fmt.Fprintf(&b, "ratio %s/%s time: %.2fx faster (%s)\n", runs[0][0].mode, runs[0][1].mode, median(ratio), list(ratio, "%.2fx"))
	}
	return b.String()
}

// median of xs (the mean of the middle two when their number is even).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func list(xs []float64, format string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(parts, ", ")
}

func runOne(o options, mode string) (result, error) {
	res := result{mode: mode}
	dir, err := os.MkdirTemp("", "benchreshard-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	nodes, err := benchkit.StartNodes(o.bin, dir, o.to, o.profile)
	defer benchkit.StopNodes(nodes)
	if err != nil {
		return res, err
	}
	ctx := context.Background()
	if err := benchkit.Form(ctx, nodes, o.from); err != nil {
		return res, fmt.Errorf("forming: %w", err)
	}
	addrs := benchkit.Addrs(nodes)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRedirects: 16, ReadTimeout: 10 * time.Second, PoolSize: 32})
	defer cc.Close()
	t0 := time.Now()
	val := strings.Repeat("v", o.value)
	if err := benchkit.Load(ctx, cc, o.keys, func(ctx context.Context, p redis.Pipeliner, i int) {
		p.Set(ctx, fmt.Sprintf("key:%d", i), val, 0)
	}); err != nil {
		return res, fmt.Errorf("loading: %w", err)
	}
	logf(o, "%s: loaded %d keys in %s", mode, o.keys, time.Since(t0).Round(time.Millisecond))

	if o.verbose {
		slowlogReset(ctx, addrs)
	}
	// The load runs in a process of its own, as clients do: in this one,
	// the mover's work and garbage would delay it (redis-cli moves from a
	// process of its own too).
	load, err := benchkit.StartLoadProcess("-loadgen", "-addrs", strings.Join(addrs, ","), "-keys", strconv.Itoa(o.keys),
		"-value", strconv.Itoa(o.value), "-clients", strconv.Itoa(o.clients))
	if err != nil {
		return res, err
	}
	time.Sleep(time.Second) // the clients' connections are made
	beforeFrom := time.Now()
	nodesCPU := func() (time.Duration, error) {
		s, err := benchkit.CPUSeconds(ctx, addrs)
		return time.Duration(s * float64(time.Second)), err
	}
	cpuBefore, err := nodesCPU()
	if err != nil {
		return res, err
	}
	time.Sleep(3 * time.Second) // the "before" sample of the load
	policy, err := moverPolicy(o.moverSched)
	if err != nil {
		return res, err
	}
	if err := setSched(policy); err != nil {
		return res, err
	}
	start := time.Now()
	cpuStart, err := nodesCPU()
	if err != nil {
		return res, err
	}
	selfStart := benchkit.OwnCPU()
	switch mode {
	case "ours":
		err = profileMover(o, func() error { return moveOurs(ctx, o, addrs) })
		res.moverCPU = benchkit.OwnCPU() - selfStart
	case "redis-cli":
		cmd := exec.Command("redis-cli", "--cluster", "rebalance", addrs[0], "--cluster-use-empty-masters")
		out, cerr := cmd.CombinedOutput()
		if cerr != nil {
			err = fmt.Errorf("%v\n%s", cerr, out)
		}
		if cmd.ProcessState != nil {
			res.moverCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	res.took = time.Since(start)
	if cpuEnd, cerr := nodesCPU(); cerr == nil {
		res.nodesCPU = movedCPU(cpuStart-cpuBefore, start.Sub(beforeFrom), cpuEnd-cpuStart, res.took)
	}
	if serr := setSched(schedNormal); serr != nil && err == nil {
		err = serr
	}
	samples, lerr := load.Stop()
	if err != nil {
		return res, err
	}
	if lerr != nil {
		return res, fmt.Errorf("load: %w", lerr)
	}
	logf(o, "%s: moved in %s", mode, res.took.Round(time.Millisecond))
	if o.verbose {
		logf(o, "%s: commands over 2ms on the nodes: %s", mode, slowlogSummary(ctx, addrs))
	}
	before, during := benchkit.StatsOf(samples, beforeFrom, start), benchkit.StatsOf(samples, start, start.Add(res.took))
	res.errors, res.ops = during.Errors, during.Ops
	res.p99Before, res.p99During = before.P99, during.P99
	res.firstErr = during.FirstErr
	res.keysAfter, _ = benchkit.DBSize(ctx, addrs)
	out, _ := exec.Command("redis-cli", "--cluster", "check", addrs[0]).CombinedOutput()
	res.checkClean = strings.Contains(string(out), "[OK] All 16384 slots covered.") && !strings.Contains(string(out), "[ERR]") &&
		!strings.Contains(string(out), "[WARNING]")
	return res, nil
}

// movedCPU is the CPU a move added: what was used during it (took) beyond
// the rate of the window before it.
func movedCPU(before, beforeFor, during, took time.Duration) time.Duration {
	if beforeFor <= 0 {
		return during
	}
	return during - time.Duration(float64(before)*float64(took)/float64(beforeFor))
}

// profileMover runs move, with -profile DIR under a CPU profile of this
// process (DIR/mover-cpu.prof): the mover's own cost.
func profileMover(o options, move func() error) error {
	if o.profile == "" {
		return move()
	}
	stop, err := benchkit.StartCPUProfile(filepath.Join(o.profile, "mover-cpu.prof"))
	if err != nil {
		return err
	}
	defer stop()
	return move()
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
	observe := func() ([]topology.Member, error) { return benchkit.Members(ctx, addrs, dial) }
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
		for _, m := range members {
			byID[m.ID()] = m
		}
		jobs := make([][]topology.SlotOp, len(todo))
		for i, t := range todo {
			jobs[i] = topology.MoveSlotOps(t.Slot, members[t.From].ID(), members[t.To].ID())
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

// slowlogSummary counts the nodes' slow log entries by command (CLUSTER
// SETSLOT by its state), with the longest of each.
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
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// runLoad is the load's process (benchkit.ServeLoad): GET or SET of a
// random key of the loaded ones.
func runLoad(o options) error {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(o.addrs, ","), MaxRedirects: 16, ReadTimeout: 10 * time.Second, PoolSize: 32})
	defer cc.Close()
	w := strings.Repeat("w", o.value)
	return benchkit.ServeLoad(&benchkit.LoadGen{Clients: o.clients, Op: func(ctx context.Context, _ int) error {
		k := fmt.Sprintf("key:%d", rand.IntN(o.keys))
		if rand.IntN(2) == 0 {
			return cc.Get(ctx, k).Err()
		}
		return cc.Set(ctx, k, w, 0).Err()
	}})
}
