package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// day2Cluster is one RedisCluster of the Day-2 tests with its nodes.
type day2Cluster struct {
	t        *testing.T
	e        *opEnv
	key      client.ObjectKey
	k        *kubelet
	password string
}

func newDay2Cluster(t *testing.T, e *opEnv, bin, name string, change func(*v1alpha1.RedisCluster)) *day2Cluster {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "day2-"}}
	if err := e.c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	rc := newCluster(ns.Name, name, func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.PodDisruptionBudget.Enabled = ptr.To(false)
		if change != nil {
			change(rc)
		}
	})
	if err := e.c.Create(ctx, rc); err != nil {
		t.Fatal(err)
	}
	c := &day2Cluster{t: t, e: e, key: client.ObjectKeyFromObject(rc)}
	c.k = startKubelet(t, e.c, ns.Name, bin)
	waitUntil(t, "auth secret", func() error {
		var s corev1.Secret
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: name + "-auth"}, &s); err != nil {
			return err
		}
		c.password = string(s.Data["password"])
		return nil
	})
	return c
}

func (c *day2Cluster) get() *v1alpha1.RedisCluster {
	c.t.Helper()
	rc := &v1alpha1.RedisCluster{}
	if err := c.e.c.Get(context.Background(), c.key, rc); err != nil {
		c.t.Fatal(err)
	}
	return rc
}

func (c *day2Cluster) update(change func(*v1alpha1.RedisCluster)) {
	c.t.Helper()
	waitUntil(c.t, "spec update", func() error {
		rc := c.get()
		change(rc)
		return c.e.c.Update(context.Background(), rc)
	})
}

// waitSettled waits until the cluster is Ready at its generation, no
// migration is pending and the nodes that run are exactly the spec's.
func (c *day2Cluster) waitSettled(what string) *v1alpha1.RedisCluster {
	c.t.Helper()
	var rc *v1alpha1.RedisCluster
	waitUntil(c.t, what, func() error {
		rc = c.get()
		ready := rc.Condition(v1alpha1.ConditionReady)
		switch {
		case ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != rc.Generation:
			return fmt.Errorf("Ready = %+v (generation %d)", ready, rc.Generation)
		case rc.Status.Migration != nil && !rc.Status.Migration.DryRun:
			return fmt.Errorf("migration pending: %+v", rc.Status.Migration)
		case c.k.running() != int(rc.Spec.Masters)*(1+int(rc.Spec.ReplicasPerMaster)):
			return fmt.Errorf("%d node processes run; conditions %+v", c.k.running(), rc.Status.Conditions)
		case len(rc.Status.Shards) != int(rc.Spec.Masters):
			return fmt.Errorf("%d shards in status", len(rc.Status.Shards))
		}
		return nil
	})
	return rc
}

func (c *day2Cluster) client() *redis.ClusterClient {
	cc := clusterClient(c.k.addrs(), c.password)
	c.t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// checkClean runs redis-cli --cluster check and CLUSTER NODES on every node:
// all slots covered, no open slot, every node knows exactly the running
// nodes.
func (c *day2Cluster) checkClean() {
	c.t.Helper()
	addrs := c.k.addrs()
	// Polled: a node may learn the last change (a slot's owner, a node
	// forgotten) by gossip a moment after the others, which redis-cli
	// reports as a disagreement meanwhile.
	poll(c.t, waitFor, func() error {
		if err := clusterCheck(addrs[0], c.password); err != nil {
			return err
		}
		for _, a := range addrs {
			var nodes string
			err := c.onNode(a, func(ctx context.Context, r *redis.Client) (err error) {
				nodes, err = r.ClusterNodes(ctx).Result()
				return err
			})
			if err != nil {
				return fmt.Errorf("CLUSTER NODES on %s: %w", a, err)
			}
			if n := len(strings.Split(strings.TrimSpace(nodes), "\n")); n != len(addrs) {
				return fmt.Errorf("%s knows %d nodes, %d run:\n%s", a, n, len(addrs), nodes)
			}
			if strings.Contains(nodes, "->-") || strings.Contains(nodes, "-<-") {
				return fmt.Errorf("%s reports open slots:\n%s", a, nodes)
			}
		}
		return nil
	})
}

// onNode runs f with a client of the node at addr.
func (c *day2Cluster) onNode(addr string, f func(ctx context.Context, r *redis.Client) error) error {
	r := redis.NewClient(&redis.Options{Addr: addr, Password: c.password})
	defer r.Close() //nolint:errcheck // f's result is what counts
	return f(context.Background(), r)
}

// configSetAll sets a parameter on every node, as an administrator would.
func (c *day2Cluster) configSetAll(param, value string) {
	c.t.Helper()
	for _, a := range c.k.addrs() {
		err := c.onNode(a, func(ctx context.Context, r *redis.Client) error {
			return r.ConfigSet(ctx, param, value).Err()
		})
		if err != nil {
			c.t.Fatalf("CONFIG SET %s %s on %s: %v", param, value, a, err)
		}
	}
}

// slotCounts are the slot counts of the shards' masters in status.
func slotCounts(rc *v1alpha1.RedisCluster) []int {
	var out []int
	for _, sh := range rc.Status.Shards {
		n := 0
		if sh.Master != nil {
			for _, s := range sh.Master.Slots {
				r, _ := topology.ParseSlotRange(s)
				n += r.Len()
			}
		}
		out = append(out, n)
	}
	return out
}

// dataset writes keys and remembers their values: plain keys spread over
// all slots, and hash-tagged groups that put many keys in a few slots (so a
// slot takes several MIGRATE batches).
type dataset struct {
	mu   sync.Mutex
	vals map[string]string
}

func writeDataset(t *testing.T, cc *redis.ClusterClient, n, groups, perGroup int) *dataset {
	t.Helper()
	d := &dataset{vals: map[string]string{}}
	for i := range n {
		d.vals[fmt.Sprintf("key:%d", i)] = fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", 50))
	}
	for g := range groups {
		for j := range perGroup {
			d.vals[fmt.Sprintf("{group%d}:%d", g, j)] = fmt.Sprintf("g%d-%d", g, j)
		}
	}
	ctx := context.Background()
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range d.vals {
			if !yield(k) {
				return
			}
		}
	})
	for chunk := range slices.Chunk(keys, 500) {
		_, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range chunk {
				p.Set(ctx, k, d.vals[k], 0)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("writing the dataset: %v", err)
		}
	}
	return d
}

func (d *dataset) set(k, v string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.vals[k] = v
}

// verify reads every key back with its value.
func (d *dataset) verify(t *testing.T, cc *redis.ClusterClient) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	ctx := context.Background()
	keys := make([]string, 0, len(d.vals))
	for k := range d.vals {
		keys = append(keys, k)
	}
	missing := 0
	for chunk := range slices.Chunk(keys, 500) {
		cmds, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range chunk {
				p.Get(ctx, k)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatalf("reading keys back: %v", err)
		}
		for i, cmd := range cmds {
			if got, _ := cmd.(*redis.StringCmd).Result(); got != d.vals[chunk[i]] {
				if missing < 5 {
					t.Errorf("%s = %q, want %q", chunk[i], got, d.vals[chunk[i]])
				}
				missing++
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d keys missing or wrong", missing, len(keys))
	}
}

// writer writes unique keys while slots move, recording the acknowledged
// ones in the dataset; stop returns how many writes were acknowledged and
// how many failed.
func (d *dataset) writer(cc *redis.ClusterClient) (stop func() (acked, failed int64)) {
	ctx, cancel := context.WithCancel(context.Background())
	var acked, failed atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			k, v := fmt.Sprintf("live:%d", i), fmt.Sprintf("v%d", i)
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			err := cc.Set(wctx, k, v, 0).Err()
			wcancel()
			switch {
			case err == nil:
				d.set(k, v)
				acked.Add(1)
			case ctx.Err() == nil:
				failed.Add(1)
			}
		}
	}()
	return func() (int64, int64) {
		cancel()
		<-done
		return acked.Load(), failed.Load()
	}
}

// TestScaleOutInAndRebalanceMoveSlotsLive scales a cluster of our nodes 3 ->
// 5 -> 3 masters with keys written before and a writer running during the
// moves, then rebalances it by weights, first as a dry run: every key keeps
// its value, redis-cli finds no open slot, the drained shards' nodes are
// forgotten and their StatefulSets gone.
func TestScaleOutInAndRebalanceMoveSlotsLive(t *testing.T) {
	bin := nodetest.Binary(t)
	e := newOpEnv(t)
	e.startOperator(t, nil)
	c := newDay2Cluster(t, e, bin, "scale", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Migration.KeysPerBatch = ptr.To[int32](50)
		// Replicas: new shards' replicas attach to their master, and
		// every replica follows its master through the moves.
		rc.Spec.ReplicasPerMaster = 1
	})
	c.waitSettled("formation")
	cc := c.client()
	data := writeDataset(t, cc, 20000, 20, 200)

	stopWriter := data.writer(cc)
	start := time.Now()
	c.update(func(rc *v1alpha1.RedisCluster) { rc.Spec.Masters = 5 })
	rc := c.waitSettled("scale out to 5 masters")
	acked, failed := stopWriter()
	t.Logf("scale out 3 -> 5: %s; live writes acknowledged %d, failed %d", time.Since(start).Round(time.Millisecond), acked, failed)
	if got := slotCounts(rc); !slices.Equal(got, []int{3277, 3277, 3277, 3277, 3276}) && !evenish(got) {
		t.Errorf("slot counts after scale out: %v", got)
	}
	if cond := rc.Condition(v1alpha1.ConditionRebalancing); cond == nil || cond.Status != metav1.ConditionFalse || cond.Reason != string(v1alpha1.ReasonBalanced) {
		t.Errorf("Rebalancing = %+v", cond)
	}
	c.checkClean()
	data.verify(t, c.client())
	expectEvents(t, e.c, c.key.Namespace, v1alpha1.ReasonMigrationPlanned, "planned ScaleOut")

	// A scale in whose data would not fit the remaining maxmemory is
	// refused, and goes ahead once it fits.
	c.configSetAll("maxmemory", "1mb")
	c.update(func(rc *v1alpha1.RedisCluster) { rc.Spec.Masters = 3 })
	waitUntil(t, "scale in refused", func() error {
		rc := c.get()
		if cond := rc.Condition(v1alpha1.ConditionDegraded); cond == nil || cond.Reason != string(v1alpha1.ReasonScaleInRefused) ||
			!strings.Contains(cond.Message, "would not fit the maxmemory") {
			return fmt.Errorf("Degraded = %+v", cond)
		}
		return nil
	})
	if rc := c.get(); rc.Status.Migration != nil || !slices.Equal(slotCounts(rc), []int{3277, 3277, 3277, 3277, 3276}) && !evenish(slotCounts(rc)) {
		t.Errorf("a refused scale in planned or moved slots: %+v %v", rc.Status.Migration, slotCounts(rc))
	}
	c.configSetAll("maxmemory", "0")
	stopWriter = data.writer(cc)
	start = time.Now()
	c.poke()
	rc = c.waitSettled("scale in to 3 masters")
	acked, failed = stopWriter()
	t.Logf("scale in 5 -> 3: %s; live writes acknowledged %d, failed %d", time.Since(start).Round(time.Millisecond), acked, failed)
	if got := slotCounts(rc); !evenish(got) || len(got) != 3 {
		t.Errorf("slot counts after scale in: %v", got)
	}
	for _, s := range []string{"scale-shard-3", "scale-shard-4"} {
		var sts appsv1.StatefulSet
		if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: c.key.Namespace, Name: s}, &sts); err == nil {
			t.Errorf("StatefulSet %s still exists", s)
		}
	}
	c.checkClean()
	data.verify(t, c.client())

	// Rebalance by weights: first a dry run that moves nothing.
	c.update(func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Rebalance.Mode = v1alpha1.RebalanceDryRun
		rc.Spec.Rebalance.Weights = []int32{2, 1, 1}
	})
	waitUntil(t, "dry run plan", func() error {
		rc = c.get()
		cond := rc.Condition(v1alpha1.ConditionRebalancing)
		if m := rc.Status.Migration; m == nil || !m.DryRun || m.Reason != v1alpha1.MigrationRebalance || cond == nil ||
			cond.Reason != string(v1alpha1.ReasonRebalanceDryRun) || cond.ObservedGeneration != rc.Generation {
			return fmt.Errorf("migration %+v, Rebalancing %+v", m, cond)
		}
		return nil
	})
	if m := rc.Status.Migration; m.TotalSlots != 8192-int32(slotCounts(rc)[0]) || m.MovedSlots != 0 || len(m.Moves) == 0 {
		t.Errorf("dry-run plan %+v for slot counts %v", m, slotCounts(rc))
	}
	if got := slotCounts(c.waitSettled("dry run")); !evenish(got) {
		t.Errorf("a dry run moved slots: %v", got)
	}
	c.update(func(rc *v1alpha1.RedisCluster) { rc.Spec.Rebalance.Mode = v1alpha1.RebalanceAuto })
	waitUntil(t, "weighted rebalance", func() error {
		rc = c.waitSettled("weighted rebalance")
		if got := slotCounts(rc); !slices.Equal(got, []int{8192, 4096, 4096}) {
			return fmt.Errorf("slot counts %v", got)
		}
		return nil
	})
	c.checkClean()
	data.verify(t, c.client())
}

// evenish: every count within one slot of 16384/len.
func evenish(counts []int) bool {
	for _, n := range counts {
		if d := n - clusteradmin.SlotCount/len(counts); d < -1 || d > 1 {
			return false
		}
	}
	return len(counts) > 0
}

func expectEvents(t *testing.T, c client.Client, ns string, reason v1alpha1.ConditionReason, prefix string) {
	t.Helper()
	if err := hasEvent(c, ns, reason, prefix); err != nil {
		t.Error(err)
	}
}

func hasEvent(c client.Client, ns string, reason v1alpha1.ConditionReason, prefix string) error {
	var events corev1.EventList
	if err := c.List(context.Background(), &events, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, e := range events.Items {
		if e.Reason == string(reason) && strings.HasPrefix(e.Message, prefix) {
			return nil
		}
	}
	return fmt.Errorf("no %s event starting %q", reason, prefix)
}

// poke changes an annotation, which makes the operator reconcile now.
func (c *day2Cluster) poke() {
	c.t.Helper()
	c.update(func(rc *v1alpha1.RedisCluster) {
		if rc.Annotations == nil {
			rc.Annotations = map[string]string{}
		}
		rc.Annotations["test/poke"] = time.Now().Format(time.RFC3339Nano)
	})
}

// TestOperatorCrashesMidSlotMoveLoseNothing stops the operator (its whole
// manager, as a crash of its process would) at every point between the
// non-atomic steps of a slot move, while it scales 3 -> 5 masters, and
// starts a new one each time. Keys stay readable while a slot is left open,
// and once a last operator finishes, every key is there with its value and
// redis-cli finds no open slot.
func TestOperatorCrashesMidSlotMoveLoseNothing(t *testing.T) {
	bin := nodetest.Binary(t)
	e := newOpEnv(t)
	stop := e.startOperator(t, nil)
	c := newDay2Cluster(t, e, bin, "crash", func(rc *v1alpha1.RedisCluster) {
		// Small batches, so that a slot of a hash-tagged group takes
		// several MIGRATEs and the mid-keys point falls inside one.
		rc.Spec.Migration.KeysPerBatch = ptr.To[int32](10)
		rc.Spec.Migration.SlotsInFlight = ptr.To[int32](4)
	})
	c.waitSettled("formation")
	data := writeDataset(t, c.client(), 3000, 300, 40)

	stop()
	c.update(func(rc *v1alpha1.RedisCluster) { rc.Spec.Masters = 5 })
	for _, point := range []string{
		topology.FailpointAfterImporting, topology.FailpointAfterMigrating,
		topology.FailpointMidKeys, topology.FailpointAfterNodeOnTarget,
	} {
		hit := make(chan struct{})
		var dead atomic.Bool
		stop = e.startOperator(t, func(_ client.ObjectKey, p string) bool {
			// Once it has "crashed", the operator does nothing more
			// at any point until it is stopped.
			if dead.Load() || p == point && dead.CompareAndSwap(false, true) {
				if p == point {
					select {
					case <-hit:
					default:
						close(hit)
					}
				}
				return true
			}
			return false
		})
		select {
		case <-hit:
		case <-time.After(day2Wait):
			t.Fatalf("the operator never reached %s", point)
		}
		stop()
		rc := c.get()
		if rc.Status.Migration == nil || rc.Status.Migration.Reason != v1alpha1.MigrationScaleOut {
			t.Fatalf("the plan is not in status: %+v", rc.Status.Migration)
		}
		t.Logf("operator stopped at %s; status.migration moved %d of %d", point, rc.Status.Migration.MovedSlots, rc.Status.Migration.TotalSlots)
		// Clients still find every key (ASK redirections) while slots
		// are open.
		data.verify(t, c.client())
	}
	e.startOperator(t, nil)
	rc := c.waitSettled("scale out after four operator crashes")
	if got := slotCounts(rc); !evenish(got) || len(got) != 5 {
		t.Errorf("slot counts %v", got)
	}
	c.checkClean()
	data.verify(t, c.client())

	// Uncovered slots: an empty one is assigned again; one whose keys a
	// node still holds is reported, and left to the administrator.
	cc := c.client()
	ctx := context.Background()
	tagged := int(cc.ClusterKeySlot(ctx, "{group0}").Val())
	empty := -1
	for s := range clusteradmin.SlotCount {
		if s == tagged {
			continue
		}
		n, err := c.countKeysInSlot(s)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			empty = s
			break
		}
	}
	c.delSlotEverywhere(empty)
	c.poke() // instead of waiting for the healthy cluster's resync
	waitUntil(t, "an empty uncovered slot assigned again", func() error {
		if err := hasEvent(e.c, c.key.Namespace, v1alpha1.ReasonAssigningUncoveredSlots, "AssigningSlots: CLUSTER ADDSLOTSRANGE"); err != nil {
			return err
		}
		rc := c.waitSettled("uncovered slot")
		total := 0
		for _, n := range slotCounts(rc) {
			total += n
		}
		if total != clusteradmin.SlotCount {
			return fmt.Errorf("slot counts %v", slotCounts(rc))
		}
		return nil
	})
	holder := c.ownerAddr(tagged)
	c.delSlotEverywhere(tagged)
	c.poke()
	waitUntil(t, "uncovered slot with keys reported", func() error {
		cond := c.get().Condition(v1alpha1.ConditionDegraded)
		if cond == nil || cond.Reason != string(v1alpha1.ReasonUncoveredSlotsHoldKeys) || !strings.Contains(cond.Message, fmt.Sprint(tagged)) {
			return fmt.Errorf("Degraded = %+v", cond)
		}
		return nil
	})
	if err := c.onNode(holder, func(ctx context.Context, r *redis.Client) error {
		return r.Do(ctx, "CLUSTER", "ADDSLOTS", tagged).Err()
	}); err != nil {
		t.Fatal(err)
	}
	c.poke()
	c.waitSettled("slot assigned back by hand")
	c.checkClean()
	data.verify(t, c.client())
}

// delSlotEverywhere makes a slot uncovered: CLUSTER DELSLOTS on its owner
// first (so its gossip stops claiming it), then on every other node.
func (c *day2Cluster) delSlotEverywhere(slot int) {
	c.t.Helper()
	ctx := context.Background()
	cc := c.client()
	ranges, err := cc.ClusterSlots(ctx).Result()
	if err != nil {
		c.t.Fatal(err)
	}
	owner := ""
	for _, r := range ranges {
		if int(r.Start) <= slot && slot <= int(r.End) {
			owner = r.Nodes[0].Addr
		}
	}
	addrs := c.k.addrs()
	if i := slices.Index(addrs, owner); i > 0 {
		addrs[0], addrs[i] = addrs[i], addrs[0]
	}
	for _, a := range addrs {
		err := c.onNode(a, func(ctx context.Context, r *redis.Client) error {
			return r.Do(ctx, "CLUSTER", "DELSLOTS", slot).Err()
		})
		if err != nil && !strings.Contains(err.Error(), "already unassigned") {
			c.t.Fatalf("CLUSTER DELSLOTS %d on %s: %v", slot, a, err)
		}
	}
}

// countKeysInSlot sums COUNTKEYSINSLOT over every node.
func (c *day2Cluster) countKeysInSlot(slot int) (int64, error) {
	var total int64
	for _, a := range c.k.addrs() {
		err := c.onNode(a, func(ctx context.Context, r *redis.Client) error {
			n, err := r.ClusterCountKeysInSlot(ctx, slot).Result()
			total += n
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	return total, nil
}

// ownerAddr is the address of the node that holds keys of slot.
func (c *day2Cluster) ownerAddr(slot int) string {
	c.t.Helper()
	for _, a := range c.k.addrs() {
		var n int64
		_ = c.onNode(a, func(ctx context.Context, r *redis.Client) (err error) {
			n, err = r.ClusterCountKeysInSlot(ctx, slot).Result()
			return err
		})
		if n > 0 {
			return a
		}
	}
	c.t.Fatalf("no node holds keys of slot %d", slot)
	return ""
}
