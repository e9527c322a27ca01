package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The checking client of the Day-2 specs: workers that write keys and
// increment counters through a go-redis ClusterClient while the operator
// changes the cluster, and remember every acknowledgement so that the end
// state can be checked against it.
const (
	loadWorkers = 4
	// loadKeysPerWorker keys are overwritten in turn by each worker, so the
	// data stays small however long the specs run.
	loadKeysPerWorker = 500
	loadCounters      = 50
	// loadInterval paces each worker: one SET, one INCR and one GET per
	// interval at most (a pace, not a wait for state).
	loadInterval = 10 * time.Millisecond
	// loadOpTimeout bounds one command, retries and redirections included.
	loadOpTimeout = 15 * time.Second
	// loadErrorSamples is how many error messages a stage keeps.
	loadErrorSamples = 8
)

// stageStats are the client-visible outcomes of one stage.
type stageStats struct {
	name       string
	start, end time.Time
	ops        atomic.Int64
	setErrs    atomic.Int64
	incrErrs   atomic.Int64
	getErrs    atomic.Int64
	maxLatency atomic.Int64 // nanoseconds, of any one command

	mu      sync.Mutex
	samples []string
}

// errors is the number of commands that returned an error to the caller.
func (s *stageStats) errors() int64 { return s.setErrs.Load() + s.incrErrs.Load() + s.getErrs.Load() }

func (s *stageStats) record(op string, took time.Duration, err error) {
	s.ops.Add(1)
	for {
		old := s.maxLatency.Load()
		if int64(took) <= old || s.maxLatency.CompareAndSwap(old, int64(took)) {
			break
		}
	}
	if err == nil {
		return
	}
	switch op {
	case "SET":
		s.setErrs.Add(1)
	case "INCR":
		s.incrErrs.Add(1)
	default:
		s.getErrs.Add(1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) < loadErrorSamples {
		s.samples = append(s.samples, fmt.Sprintf("%s %s: %v", time.Now().UTC().Format("15:04:05.000"), op, err))
	}
}

// String is one line of the report plus the error samples; the caller
// holds the checker's lock (for end).
func (s *stageStats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	end := s.end
	if end.IsZero() {
		end = time.Now()
	}
	out := fmt.Sprintf("%-28s %7s  commands %6d  errors %3d (SET %d, INCR %d, GET %d)  max latency %v",
		s.name, end.Sub(s.start).Round(time.Second), s.ops.Load(), s.errors(),
		s.setErrs.Load(), s.incrErrs.Load(), s.getErrs.Load(), time.Duration(s.maxLatency.Load()).Round(time.Millisecond))
	for _, m := range s.samples {
		out += "\n      " + m
	}
	return out
}

// keyRecord is what one worker knows of one of its keys: the value of the
// last acknowledged SET, and every value whose SET returned an error (it may
// or may not have been applied: Redis semantics allow either, even late).
type keyRecord struct {
	acked     string
	hasAcked  bool
	ambiguous []string
	// ackedAt is when the SET of acked returned, ackedBy the address of
	// the master the client routed it to then (evidence for a failure).
	ackedAt time.Time
	ackedBy string
}

// allowed says whether v is a value the key may hold now.
func (k *keyRecord) allowed(v string) bool {
	return (k.hasAcked && v == k.acked) || slices.Contains(k.ambiguous, v)
}

// loadChecker drives and checks the load. Each worker owns its keys; the
// counters are shared by all workers.
type loadChecker struct {
	cc     *redis.ClusterClient
	cancel context.CancelFunc
	wg     sync.WaitGroup

	stage atomic.Pointer[stageStats]
	mu    sync.Mutex
	// stages in the order they began.
	stages         []*stageStats
	violations     []string
	violationCount int
	lastViolation  string

	keys [][]keyRecord // by worker, then key index
	// counterAcked counts the INCRs acknowledged per counter;
	// counterUnsure counts the INCR attempts (go-redis retries included)
	// that got no reply at all and so may have been applied.
	counterAcked  [loadCounters]atomic.Int64
	counterUnsure [loadCounters]atomic.Int64
	// counterJumps are, per counter, the first INCR replies that exceeded
	// what the acknowledged and unsure INCRs allow (evidence only: the
	// final check decides).
	counterJumps [loadCounters][]string
	// incrAttempts counts every INCR sent to a node, to prove the hook
	// that counts counterUnsure sees them all.
	incrAttempts atomic.Int64
}

func loadKey(worker, i int) string { return fmt.Sprintf("d2:w%d:k%d", worker, i) }
func counterKey(i int) string      { return "d2:ctr:" + strconv.Itoa(i) }

// counterIndex is the index of a counter key, or -1.
func counterIndex(key string) int {
	s, ok := strings.CutPrefix(key, "d2:ctr:")
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= loadCounters {
		return -1
	}
	return i
}

// newLoadChecker makes the checker and its ClusterClient (seeded with
// addrs); start begins the load.
func newLoadChecker(addrs []string, password string) *loadChecker {
	l := &loadChecker{keys: make([][]keyRecord, loadWorkers)}
	for w := range l.keys {
		l.keys[w] = make([]keyRecord, loadKeysPerWorker)
	}
	l.cc = redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: addrs, Password: password, Protocol: 2, DisableIdentity: true,
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second,
		MaxRedirects: 16, PoolSize: 2 * loadWorkers,
		// Pods come back with new IPs and old ones vanish: a dial to an
		// address nobody has waits for its timeout, go-redis's default of
		// 5 retries makes that 25s, and a slot map reload tries addresses
		// from its last maps one by one.
		DialTimeout: time.Second, DialerRetries: 1,
	})
	// Every node client counts the INCRs it sends and those that got no
	// reply (the cluster client retries some of those: each retry may add
	// one more); a dial error asks for a new slot map, as redis-py and
	// Jedis do on connection errors (go-redis reloads only on MOVED/ASK or
	// every 10s, and keeps dialling a master's old address until then).
	l.cc.OnNewNode(func(rdb *redis.Client) { rdb.AddHook(unsureHook{l}) })
	return l
}

// unsureHook counts INCR attempts per node client.
type unsureHook struct{ l *loadChecker }

func (h unsureHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h unsureHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.l.noteAttempt(cmd, err)
		if isDialError(err) {
			h.l.cc.ReloadState(ctx)
		}
		return err
	}
}

func (h unsureHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			h.l.noteAttempt(cmd, cmd.Err())
		}
		return err
	}
}

// isDialError reports whether err is a failure to connect.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// noteAttempt records one INCR sent to a node. A reply, even an error reply
// (MOVED, ASK, TRYAGAIN, CLUSTERDOWN), is certain: the node did or did not
// run it. No reply (a timeout, a closed connection) is not.
func (l *loadChecker) noteAttempt(cmd redis.Cmder, err error) {
	if cmd.Name() != "incr" || len(cmd.Args()) != 2 {
		return
	}
	key, _ := cmd.Args()[1].(string)
	i := counterIndex(key)
	if i < 0 {
		return
	}
	l.incrAttempts.Add(1)
	var reply redis.Error
	if err != nil && !errors.As(err, &reply) {
		l.counterUnsure[i].Add(1)
	}
}

// beginStage makes the following commands count for a new stage.
func (l *loadChecker) beginStage(name string) *stageStats {
	s := &stageStats{name: name, start: time.Now()}
	l.mu.Lock()
	if prev := l.stage.Load(); prev != nil {
		prev.end = s.start
	}
	l.stages = append(l.stages, s)
	l.mu.Unlock()
	l.stage.Store(s)
	return s
}

func (l *loadChecker) violate(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.violationCount++
	if len(l.violations) < 50 {
		l.violations = append(l.violations, fmt.Sprintf(format, args...))
	} else {
		l.lastViolation = fmt.Sprintf(format, args...)
	}
}

// ViolationTail is how many stale or lost reads there were in all and the
// last one beyond those Violations keeps (evidence: how long it lasted).
func (l *loadChecker) ViolationTail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%d in all; last beyond the first 50: %q", l.violationCount, l.lastViolation)
}

// Violations are the stale or lost reads seen while the load ran.
func (l *loadChecker) Violations() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.violations)
}

// start runs the workers until stop.
func (l *loadChecker) start(stage string) {
	l.beginStage(stage)
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	for w := range loadWorkers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.work(ctx, w)
		}()
	}
}

// stop ends the load and waits for the workers.
func (l *loadChecker) stop() {
	if l.cancel == nil {
		return
	}
	l.cancel()
	l.wg.Wait()
	l.cancel = nil
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.stage.Load(); s != nil && s.end.IsZero() {
		s.end = time.Now()
	}
}

func (l *loadChecker) close() {
	l.stop()
	_ = l.cc.Close()
}

// work is one worker: SET its next key to a value never written before,
// INCR a counter, and GET one of its keys back, once per loadInterval.
func (l *loadChecker) work(ctx context.Context, w int) {
	tick := time.NewTicker(loadInterval)
	defer tick.Stop()
	rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rec := &l.keys[w][i%loadKeysPerWorker]
		val := fmt.Sprintf("w%d-%d", w, i)
		if err := l.do(ctx, "SET", func(ctx context.Context) error {
			return l.cc.Set(ctx, loadKey(w, i%loadKeysPerWorker), val, 0).Err()
		}); err == nil {
			rec.acked, rec.hasAcked = val, true
			rec.ackedAt, rec.ackedBy = time.Now(), l.masterOf(ctx, loadKey(w, i%loadKeysPerWorker))
		} else if ctx.Err() == nil {
			rec.ambiguous = append(rec.ambiguous, val)
		} else {
			// Cancelled by stop: the outcome is unknown as well.
			rec.ambiguous = append(rec.ambiguous, val)
			return
		}

		c := rng.IntN(loadCounters)
		var n int64
		if err := l.do(ctx, "INCR", func(ctx context.Context) error {
			var err error
			n, err = l.cc.Incr(ctx, counterKey(c)).Result()
			return err
		}); err == nil {
			a := l.counterAcked[c].Add(1)
			// Other workers' INCRs of the counter may be in flight.
			if limit := a + l.counterUnsure[c].Load() + loadWorkers; n > limit {
				l.mu.Lock()
				if len(l.counterJumps[c]) < 3 {
					l.counterJumps[c] = append(l.counterJumps[c], fmt.Sprintf("%s INCR %s = %d on %s, acknowledged %d",
						time.Now().UTC().Format("15:04:05.000"), counterKey(c), n, l.masterOf(ctx, counterKey(c)), a))
				}
				l.mu.Unlock()
			}
		}

		r := rng.IntN(min(i+1, loadKeysPerWorker))
		read := &l.keys[w][r]
		var got string
		var nilReply bool
		err := l.do(ctx, "GET", func(ctx context.Context) error {
			var err error
			got, err = l.cc.Get(ctx, loadKey(w, r)).Result()
			if errors.Is(err, redis.Nil) {
				nilReply, err = true, nil
			}
			return err
		})
		switch {
		case err != nil || ctx.Err() != nil:
		case nilReply && read.hasAcked:
			l.violate("%s GET %s: nil, acknowledged %q%s", time.Now().UTC().Format("15:04:05.000"), loadKey(w, r), read.acked, l.readEvidence(ctx, read, loadKey(w, r)))
		case !nilReply && !read.allowed(got):
			l.violate("%s GET %s: %q, acknowledged %q (unsure %v)%s", time.Now().UTC().Format("15:04:05.000"), loadKey(w, r), got, read.acked, read.ambiguous, l.readEvidence(ctx, read, loadKey(w, r)))
		}
	}
}

// masterOf is the address of the master the client routes key to now.
func (l *loadChecker) masterOf(ctx context.Context, key string) string {
	m, err := l.cc.MasterForKey(ctx, key)
	if err != nil {
		return "?"
	}
	return m.Options().Addr
}

// readEvidence says when and where the acknowledged value was written and
// which master the read went to.
func (l *loadChecker) readEvidence(ctx context.Context, rec *keyRecord, key string) string {
	return fmt.Sprintf(" [acked %s by %s, read from %s]", rec.ackedAt.UTC().Format("15:04:05.000"), rec.ackedBy, l.masterOf(ctx, key))
}

// CounterJumps are the INCR replies that went beyond the acknowledgements.
func (l *loadChecker) CounterJumps() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, j := range l.counterJumps {
		out = append(out, j...)
	}
	return out
}

// do runs one command with its own deadline and records its outcome in the
// current stage. A command cut short by stop is not counted.
func (l *loadChecker) do(ctx context.Context, op string, f func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, loadOpTimeout)
	defer cancel()
	st := l.stage.Load()
	start := time.Now()
	err := f(cctx)
	if ctx.Err() == nil {
		st.record(op, time.Since(start), err)
	}
	return err
}

// verify reads every key and counter back (after stop) and returns what does
// not match the acknowledgements, plus a summary line.
func (l *loadChecker) verify(ctx context.Context) (problems []string, summary string, err error) {
	var keys, fromUnsure int
	for w := range l.keys {
		for i := range l.keys[w] {
			rec := &l.keys[w][i]
			if !rec.hasAcked && len(rec.ambiguous) == 0 {
				continue
			}
			keys++
			got, err := l.cc.Get(ctx, loadKey(w, i)).Result()
			switch {
			case errors.Is(err, redis.Nil):
				if rec.hasAcked {
					problems = append(problems, fmt.Sprintf("%s: missing, acknowledged %q", loadKey(w, i), rec.acked))
				}
			case err != nil:
				return nil, "", fmt.Errorf("GET %s: %w", loadKey(w, i), err)
			case !rec.allowed(got):
				problems = append(problems, fmt.Sprintf("%s = %q, acknowledged %q (unsure %v)", loadKey(w, i), got, rec.acked, rec.ambiguous))
			case got != rec.acked:
				fromUnsure++
			}
		}
	}
	var acked, unsure, slack int64
	for c := range loadCounters {
		v, err := l.cc.Get(ctx, counterKey(c)).Int64()
		if errors.Is(err, redis.Nil) {
			v, err = 0, nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("GET %s: %w", counterKey(c), err)
		}
		a, u := l.counterAcked[c].Load(), l.counterUnsure[c].Load()
		acked += a
		unsure += u
		slack += v - a
		if v < a || v > a+u {
			problems = append(problems, fmt.Sprintf("%s = %d, acknowledged INCRs %d, unsure attempts %d", counterKey(c), v, a, u))
		}
	}
	if attempts := l.incrAttempts.Load(); attempts < acked {
		problems = append(problems, fmt.Sprintf("the attempt hook saw %d INCRs, fewer than the %d acknowledged: it is not wired", attempts, acked))
	}
	summary = fmt.Sprintf("%d keys checked (%d hold the value of a SET that returned an error); %d counters: %d acknowledged INCRs, %d unsure attempts, %d of them applied",
		keys, fromUnsure, loadCounters, acked, unsure, slack)
	return problems, summary, nil
}

// report is the per-stage table of client-visible outcomes.
func (l *loadChecker) report() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, s := range l.stages {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// podAddrs are host:port addresses of pods' IPs.
func podAddrs(ips []string, port int) []string {
	addrs := make([]string, 0, len(ips))
	for _, ip := range ips {
		addrs = append(addrs, net.JoinHostPort(ip, strconv.Itoa(port)))
	}
	return addrs
}
