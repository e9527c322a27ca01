package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// Linearizability of single-key operations through go-redis
// ClusterClients, checked with porcupine: concurrent clients GET, SET and
// INCR a few keys while the cluster runs normally and while a CLUSTER
// FAILOVER moves a shard to its replica; every recorded history must be
// linearizable against a map of registers (one per key).

// kvInput is one operation on a key: "get", "set" (of value) or "incr".
type kvInput struct {
	op, key, value string
}

// kvOutput is what the operation returned; unknown when it failed without
// telling whether it took effect (a write whose reply was lost).
type kvOutput struct {
	value   string
	missing bool // GET of a key that does not exist
	unknown bool
}

// kvState is one key's register: its value, or missing.
type kvState struct {
	value   string
	missing bool
}

// kvModel is a map of registers partitioned by key (porcupine checks each
// key on its own). A write with an unknown outcome is recorded as
// returning at the end of the history, so that the checker may place it
// anywhere after its call, including after every other operation, where
// it has no effect on what anyone observed.
func kvModel() porcupine.Model {
	return porcupine.Model{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			byKey := map[string][]porcupine.Operation{}
			var keys []string
			for _, op := range history {
				k := op.Input.(kvInput).key
				if _, ok := byKey[k]; !ok {
					keys = append(keys, k)
				}
				byKey[k] = append(byKey[k], op)
			}
			out := make([][]porcupine.Operation, 0, len(keys))
			for _, k := range keys {
				out = append(out, byKey[k])
			}
			return out
		},
		Init: func() any { return kvState{missing: true} },
		Step: func(state, input, output any) (bool, any) {
			return kvStep(state.(kvState), input.(kvInput), output.(kvOutput))
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(kvInput), output.(kvOutput)
			switch {
			case out.unknown:
				return fmt.Sprintf("%s(%s %s) -> ?", in.op, in.key, in.value)
			case out.missing:
				return fmt.Sprintf("%s(%s) -> nil", in.op, in.key)
			}
			return fmt.Sprintf("%s(%s %s) -> %s", in.op, in.key, in.value, out.value)
		},
	}
}

// kvStep is the register's sequential specification.
func kvStep(st kvState, in kvInput, out kvOutput) (bool, any) {
	switch in.op {
	case "get":
		return out.missing == st.missing && out.value == st.value, st
	case "set":
		return true, kvState{value: in.value}
	case "incr":
		n := int64(0)
		if !st.missing {
			v, err := strconv.ParseInt(st.value, 10, 64)
			if err != nil {
				return false, st
			}
			n = v
		}
		next := kvState{value: strconv.FormatInt(n+1, 10)}
		return out.unknown || out.value == next.value, next
	}
	return false, st
}

// TestKVModelRejectsNonLinearizableHistory: the model is not vacuous: it
// accepts a linearizable history and rejects the classic violations (a
// stale read after a completed write, two INCRs returning the same value,
// a read of a value nobody wrote).
func TestKVModelRejectsNonLinearizableHistory(t *testing.T) {
	op := func(client int, call, ret int64, in kvInput, out kvOutput) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
	}
	set := func(c int, call, ret int64, k, v string) porcupine.Operation {
		return op(c, call, ret, kvInput{op: "set", key: k, value: v}, kvOutput{value: "OK"})
	}
	get := func(c int, call, ret int64, k, v string) porcupine.Operation {
		return op(c, call, ret, kvInput{op: "get", key: k}, kvOutput{value: v, missing: v == ""})
	}
	incr := func(c int, call, ret int64, k, v string) porcupine.Operation {
		return op(c, call, ret, kvInput{op: "incr", key: k}, kvOutput{value: v})
	}
	cases := []struct {
		name    string
		history []porcupine.Operation
		want    bool
	}{
		{"concurrent write and reads", []porcupine.Operation{
			set(0, 0, 10, "x", "1"), get(1, 1, 2, "x", ""), get(2, 3, 4, "x", "1"), get(1, 11, 12, "x", "1"),
		}, true},
		{"stale read after a completed write", []porcupine.Operation{
			set(0, 0, 1, "x", "1"), set(0, 2, 3, "x", "2"), get(1, 4, 5, "x", "1"),
		}, false},
		{"read goes back in time", []porcupine.Operation{
			set(0, 0, 10, "x", "1"), get(1, 1, 2, "x", "1"), get(2, 3, 4, "x", ""),
		}, false},
		{"two INCRs return the same value", []porcupine.Operation{
			incr(0, 0, 5, "n", "1"), incr(1, 1, 6, "n", "1"),
		}, false},
		{"INCR after a lost write", []porcupine.Operation{
			set(0, 0, 1, "n", "10"), incr(1, 2, 3, "n", "1"),
		}, false},
		{"a value nobody wrote", []porcupine.Operation{
			set(0, 0, 1, "x", "1"), get(1, 2, 3, "x", "3"),
		}, false},
		{"unknown write may have happened", []porcupine.Operation{
			op(0, 0, 1<<62, kvInput{op: "set", key: "x", value: "1"}, kvOutput{unknown: true}), get(1, 5, 6, "x", "1"), get(1, 7, 8, "x", "1"),
		}, true},
		{"unknown write happens once", []porcupine.Operation{
			op(0, 0, 1<<62, kvInput{op: "set", key: "x", value: "1"}, kvOutput{unknown: true}), get(1, 5, 6, "x", "1"), set(2, 7, 8, "x", "2"), get(1, 9, 10, "x", "1"),
		}, false},
		{"keys are independent", []porcupine.Operation{
			set(0, 0, 1, "x", "1"), get(1, 2, 3, "y", ""), incr(1, 4, 5, "y", "1"), get(0, 6, 7, "x", "1"),
		}, true},
	}
	for _, c := range cases {
		if got := porcupine.CheckOperations(kvModel(), c.history); got != c.want {
			t.Errorf("%s: linearizable = %v, want %v", c.name, got, c.want)
		}
	}
}

// kvRecorder records a history of operations through ClusterClients.
type kvRecorder struct {
	start time.Time
	mu    sync.Mutex
	ops   []porcupine.Operation
	fails int
}

// never is the return time of an operation whose outcome is unknown.
const never = int64(1) << 62

func (r *kvRecorder) now() int64 { return int64(time.Since(r.start)) }

// do runs one random operation on one of keys and records it.
func (r *kvRecorder) do(cc *redis.ClusterClient, client int, rng *rand.Rand, keys []string, seq int) {
	in := kvInput{key: keys[rng.IntN(len(keys))]}
	switch p := rng.IntN(10); {
	case p < 4:
		in.op = "get"
	case p < 7:
		in.op = "set"
		// Integers, so that INCR works on every value; distinct per
		// write (until INCRs reach them), so a read tells which write it saw.
		in.value = strconv.Itoa((client+1)*1_000_000 + seq)
	default:
		in.op = "incr"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	call := r.now()
	var out kvOutput
	var err error
	switch in.op {
	case "get":
		out.value, err = cc.Get(ctx, in.key).Result()
		if errors.Is(err, redis.Nil) {
			out.missing, err = true, nil
		}
	case "set":
		out.value, err = cc.Set(ctx, in.key, in.value, 0).Result()
	case "incr":
		var n int64
		n, err = cc.Incr(ctx, in.key).Result()
		out.value = strconv.FormatInt(n, 10)
	}
	ret := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.fails++
		var re redis.Error
		if in.op == "get" || (errors.As(err, &re) && isRedirectOrDown(re.Error())) {
			return // not executed (or a read): no effect to record
		}
		out, ret = kvOutput{unknown: true}, never
	}
	r.ops = append(r.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
}

// isRedirectOrDown: a reply that says the command did not run.
func isRedirectOrDown(msg string) bool {
	for _, p := range []string{"MOVED ", "ASK ", "CLUSTERDOWN ", "TRYAGAIN ", "LOADING "} {
		if len(msg) >= len(p) && msg[:len(p)] == p {
			return true
		}
	}
	return false
}

// runKV runs clients goroutines (sharing ccs round-robin), each doing up
// to opsPerClient operations, until stop is closed or they are done.
func (r *kvRecorder) runKV(ccs []*redis.ClusterClient, clients, opsPerClient int, keys []string, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), uint64(r.start.UnixNano())))
			for i := range opsPerClient {
				select {
				case <-stop:
					return
				default:
				}
				r.do(ccs[c%len(ccs)], c, rng, keys, i)
			}
		}()
	}
	return &wg
}

// check runs porcupine on the history and, when it is not linearizable,
// writes porcupine's visualization next to the test's temp files.
func (r *kvRecorder) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	res, info := porcupine.CheckOperationsVerbose(kvModel(), r.ops, 2*time.Minute)
	switch res {
	case porcupine.Ok:
		t.Logf("linearizable: %d operations (%d failed)", len(r.ops), r.fails)
	case porcupine.Unknown:
		t.Fatalf("porcupine timed out on %d operations", len(r.ops))
	default:
		path := filepath.Join(os.TempDir(), fmt.Sprintf("shoal-%s-%d.html", filepath.Base(t.Name()), time.Now().UnixNano()))
		if f, err := os.Create(path); err == nil {
			_ = porcupine.Visualize(kvModel(), info, f)
			f.Close()
		}
		t.Fatalf("history of %d operations is not linearizable (visualization: %s)\n%s", len(r.ops), path, explainIllegal(r.ops))
	}
}

// explainIllegal finds a key whose history is not linearizable and lists
// the end of the longest linearizable prefix found and the operations
// around where it stops.
func explainIllegal(ops []porcupine.Operation) string {
	model := kvModel()
	for _, part := range model.Partition(ops) {
		res, info := porcupine.CheckOperationsVerbose(model, part, time.Minute)
		if res != porcupine.Illegal {
			continue
		}
		var longest []porcupine.Operation
		for _, p := range info.PartialLinearizationsOperations() {
			for _, l := range p {
				if len(l) > len(longest) {
					longest = l
				}
			}
		}
		var b strings.Builder
		desc := func(op porcupine.Operation) string {
			return fmt.Sprintf("client %d [%.3fms, %.3fms] %s", op.ClientId, float64(op.Call)/1e6, float64(op.Return)/1e6, model.DescribeOperation(op.Input, op.Output))
		}
		fmt.Fprintf(&b, "key %s: longest linearizable prefix has %d of %d operations, ending with:\n", part[0].Input.(kvInput).key, len(longest), len(part))
		for _, op := range longest[max(0, len(longest)-5):] {
			b.WriteString("  " + desc(op) + "\n")
		}
		all := slices.Clone(part)
		slices.SortFunc(all, func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) })
		var full strings.Builder
		for _, op := range all {
			full.WriteString(desc(op) + "\n")
		}
		path := filepath.Join(os.TempDir(), fmt.Sprintf("shoal-history-%d.txt", time.Now().UnixNano()))
		if os.WriteFile(path, []byte(full.String()), 0o644) == nil {
			fmt.Fprintf(&b, "the key's whole history: %s\n", path)
		}
		if len(longest) > 0 {
			end := longest[len(longest)-1].Return
			b.WriteString("operations around its end:\n")
			sorted := slices.Clone(part)
			slices.SortFunc(sorted, func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) })
			for _, op := range sorted {
				if op.Call <= end+int64(20*time.Millisecond) && op.Return >= end-int64(20*time.Millisecond) {
					b.WriteString("  " + desc(op) + "\n")
				}
			}
		}
		return b.String()
	}
	return "no single key's history is illegal"
}

// TestClusterLinearizable: histories of GET/SET/INCR by concurrent
// ClusterClients on keys of every shard are linearizable, without failures
// and across two CLUSTER FAILOVERs (there and back) of the shard that
// holds most of the keys.
func TestClusterLinearizable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six nodes")
	}
	nodes := startReplicatedCluster(t)
	shards := clusterShards(t, nodes, nodes[0])
	// Long timeouts: go-redis retries a command that timed out, and a
	// write held by the manual failover's pause (up to 10 s) and then
	// executed would run twice (the checker sees that as a violation).
	ccs := []*redis.ClusterClient{clusterClient(t, nodes), clusterClient(t, nodes), clusterClient(t, nodes)}
	const clients, opsPerClient = 8, 1500

	t.Run("NoFailures", func(t *testing.T) {
		var keys []string
		for i, sh := range shards {
			keys = append(keys, keysOfNode(t, sh.master, fmt.Sprintf("lin%d:", i), 2)...)
		}
		r := &kvRecorder{start: time.Now()}
		r.runKV(ccs, clients, opsPerClient, keys, nil).Wait()
		r.check(t)
	})

	t.Run("SlotMoves", func(t *testing.T) {
		testLinearizableSlotMoves(t, ccs, clients, shards[0].master, shards[1].master)
	})

	t.Run("ManualFailover", func(t *testing.T) {
		sh := shards[1]
		keys := keysOfNode(t, sh.master, "linmf:", 4)
		keys = append(keys, keysOfNode(t, shards[0].master, "linmf0:", 1)...)
		waitInSyncProcs(t, sh.master, sh.replica)
		r := &kvRecorder{start: time.Now()}
		stop := make(chan struct{})
		wg := r.runKV(ccs, clients, 1<<30, keys, stop)
		// Operations before, during and after the failover, and after a
		// second one that gives the shard back to its first master.
		waitUntil(t, failoverWait, "operations before the failover", func() error { return r.atLeast(2000) })
		for range 2 {
			manualFailover(t, sh)
			sh.master, sh.replica = sh.replica, sh.master
			n := r.count()
			waitUntil(t, failoverWait, "operations after the failover", func() error { return r.atLeast(n + 2000) })
			waitReplicaOf(t, sh.replica, sh.master) // under load: link up, not equal offsets
		}
		close(stop)
		wg.Wait()
		r.check(t)
	})
}

// testLinearizableSlotMoves: keys in the lowest slots of one shard, moved
// to another shard and back by redis-cli --cluster reshard (MIGRATE of
// up to 10 keys at a time, each key's writers waiting for its MIGRATE)
// while the clients read and write them.
func testLinearizableSlotMoves(t *testing.T, ccs []*redis.ClusterClient, clients int, src, dst *clusterProc) {
	lo := mySlots(t, src)[0]
	var keys []string
	for _, off := range []int{0, 7, 31, 62, 99} {
		keys = append(keys, keyInSlot("linmv:", lo+off))
	}
	r := &kvRecorder{start: time.Now()}
	stop := make(chan struct{})
	wg := r.runKV(ccs, clients, 1<<30, keys, stop)
	waitUntil(t, failoverWait, "operations before the moves", func() error { return r.atLeast(1000) })
	for _, move := range [][2]*clusterProc{{src, dst}, {dst, src}} {
		out, err := runCLI(t, 3*time.Minute, "", "--cluster", "reshard", move[0].Addr(),
			"--cluster-from", move[0].myID(t), "--cluster-to", move[1].myID(t), "--cluster-slots", "100", "--cluster-yes")
		if err != nil || strings.Contains(out, "[ERR]") {
			t.Fatalf("reshard: %v\n%s", err, nodetest.Tail(out, 40))
		}
		n := r.count()
		waitUntil(t, failoverWait, "operations after the move", func() error { return r.atLeast(n + 500) })
	}
	close(stop)
	wg.Wait()
	if got := mySlots(t, src)[0]; got != lo {
		t.Fatalf("the slots did not come back: lowest slot %d, want %d", got, lo)
	}
	r.check(t)
}

func (r *kvRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ops)
}

func (r *kvRecorder) atLeast(n int) error {
	if c := r.count(); c < n {
		return fmt.Errorf("%d of %d operations", c, n)
	}
	return nil
}
