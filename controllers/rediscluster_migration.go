package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

const (
	// migrationBatch bounds the time one reconcile spends starting slot
	// moves; the reconcile then records progress and requeues at once.
	migrationBatch = 3 * time.Second
	// migrateTimeout is MIGRATE's own timeout: the source's I/O with the
	// target for one batch of keys.
	migrateTimeout = 5 * time.Second
	// immediately requeues without waiting (progress is in status).
	immediately = time.Millisecond
)

// day2 is what the slot steps of a formed cluster share: the active members
// by shard, each shard's current master, and the owner of every slot.
type day2 struct {
	shards  [][]topology.Member
	masters []*topology.Member // by shard, nil when none
	owners  [clusteradmin.SlotCount]int
}

func observeDay2(st *state) day2 {
	d := day2{shards: topology.Shards(topology.Active(st.members, st.shape().Masters), st.shape().Masters)}
	d.masters = make([]*topology.Member, len(d.shards))
	for s, shard := range d.shards {
		if m, _, ok := topology.ShardMaster(shard); ok {
			d.masters[s] = &m
		}
	}
	d.owners = topology.Owners(d.shards)
	return d
}

// masterIDs are the node IDs of the shards' masters.
func (d day2) masterIDs() []string {
	var out []string
	for _, m := range d.masters {
		if m != nil {
			out = append(out, m.ID())
		}
	}
	return out
}

// mover carries out slot steps on the cluster's nodes, resolving node IDs
// to the pods that reported them.
func (r *RedisClusterReconciler) mover(st *state) *nodeadmin.SlotMover {
	byID := map[string]topology.Member{}
	for _, m := range st.members {
		if id := m.ID(); id != "" {
			byID[id] = m
		}
	}
	key := client.ObjectKeyFromObject(st.rc)
	m := &nodeadmin.SlotMover{
		Dial: r.dial(st), Auth: st.auth,
		Addr: func(id string) (string, int, bool) {
			m, ok := byID[id]
			return m.IP, m.Port, ok && m.IP != ""
		},
		KeysPerBatch:   int(*st.desired.Spec.Migration.KeysPerBatch),
		CommandTimeout: migrateTimeout + nodeTimeout,
		MigrateTimeout: migrateTimeout,
		Pacer:          migrationPacer(st.desired.Spec.Migration),
	}
	if r.Failpoint != nil {
		m.Failpoint = func(point string) bool {
			if r.Failpoint(key, point) {
				st.log.Info("failpoint: stopping as if crashed", "point", point)
				return true
			}
			return false
		}
	}
	return m
}

// countKeys asks every master how many keys it holds in each slot.
func (r *RedisClusterReconciler) countKeys(ctx context.Context, st *state, masters []*topology.Member, slots []int) (map[int]map[string]int64, error) {
	out := make(map[int]map[string]int64, len(slots))
	for _, s := range slots {
		out[s] = map[string]int64{}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for _, m := range masters {
		if m == nil {
			continue
		}
		wg.Go(func() {
			c := r.dial(st)(m.Addr(), st.auth)
			defer c.Close() //nolint:errcheck // read-only use
			cctx, cancel := context.WithTimeout(ctx, nodeTimeout)
			defer cancel()
			counts, err := c.CountKeysInSlots(cctx, slots)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				return
			}
			for i, s := range slots {
				out[s][m.ID()] = counts[i]
			}
		})
	}
	wg.Wait()
	return out, firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// fixOpenSlots closes slots an interrupted move left MIGRATING or
// IMPORTING, finishing or rolling back each from where its keys are
// (topology.PlanOpenSlot), before anything else moves.
func (r *RedisClusterReconciler) fixOpenSlots(ctx context.Context, st *state) (ctrl.Result, error) {
	if !topology.AnySlotAssigned(st.members) {
		return ctrl.Result{}, nil
	}
	open := topology.OpenSlots(topology.Active(st.members, st.shape().Masters))
	if len(open) == 0 {
		return ctrl.Result{}, nil
	}
	d := observeDay2(st)
	slots := make([]int, len(open))
	for i, o := range open {
		slots[i] = o.Slot
	}
	keys, err := r.countKeys(ctx, st, d.masters, slots)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("counting keys of open slots: %w", err)
	}
	var jobs [][]topology.SlotOp
	var waits []string
	for _, o := range open {
		fix := topology.PlanOpenSlot(o, keys[o.Slot], d.masterIDs())
		switch {
		case fix.Blocked != "":
			st.degrade(v1alpha1.ReasonOpenSlotBlocked, fix.Blocked)
			r.Recorder.Event(st.rc, corev1.EventTypeWarning, string(v1alpha1.ReasonOpenSlotBlocked), fix.Blocked)
			return ctrl.Result{RequeueAfter: blockedRequeue}, nil
		case fix.Wait != "":
			waits = append(waits, fix.Wait)
		default:
			jobs = append(jobs, fix.Ops)
		}
	}
	if len(jobs) == 0 {
		st.progress(v1alpha1.ReasonFixingOpenSlots, waits[0])
		return ctrl.Result{RequeueAfter: formationRequeue}, nil
	}
	var steps []string
	for _, j := range jobs {
		for _, op := range j {
			steps = append(steps, op.String())
		}
	}
	st.log.Info("fixing open slots", "slots", len(jobs), "steps", steps)
	r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, string(v1alpha1.ReasonFixingOpenSlots), "closing %d open slots: %s", len(jobs), abbreviate(steps, 8))
	st.progress(v1alpha1.ReasonFixingOpenSlots, fmt.Sprintf("closing %d open slots", len(jobs)))
	done, err := r.mover(st).Run(ctx, jobs, int(*st.desired.Spec.Migration.SlotsInFlight), time.Now().Add(migrationBatch))
	if errors.Is(err, nodeadmin.ErrStopped) {
		st.halt = true
		return ctrl.Result{RequeueAfter: formationRequeue}, nil
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("fixing open slots (%d of %d closed): %w", done, len(jobs), err)
	}
	return ctrl.Result{RequeueAfter: immediately}, nil
}

// abbreviate joins the first n items and says how many more there are.
func abbreviate(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(items[:n], "; "), len(items)-n)
}

// ensureCoverage assigns slots no node serves, but only when no master
// holds keys of them; otherwise Degraded says which.
func (r *RedisClusterReconciler) ensureCoverage(ctx context.Context, st *state) (ctrl.Result, error) {
	if !topology.AnySlotAssigned(st.members) {
		return ctrl.Result{}, nil
	}
	uncovered := topology.Uncovered(topology.Active(st.members, st.shape().Masters))
	if len(uncovered) == 0 {
		return ctrl.Result{}, nil
	}
	d := observeDay2(st)
	var slots []int
	for _, rg := range uncovered {
		for s := rg.First; s <= rg.Last; s++ {
			slots = append(slots, s)
		}
	}
	keys, err := r.countKeys(ctx, st, d.masters, slots)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("counting keys of uncovered slots: %w", err)
	}
	var withKeys []int
	for _, s := range slots {
		for _, n := range keys[s] {
			if n > 0 {
				withKeys = append(withKeys, s)
				break
			}
		}
	}
	if len(withKeys) > 0 {
		msg := fmt.Sprintf("slots %s are served by no master but some node holds keys of them: assign them by hand (CLUSTER ADDSLOTS on the node that holds the keys)", clusteradmin.FormatSlots(topology.Ranges(withKeys)))
		st.degrade(v1alpha1.ReasonUncoveredSlotsHoldKeys, msg)
		r.Recorder.Event(st.rc, corev1.EventTypeWarning, string(v1alpha1.ReasonUncoveredSlotsHoldKeys), msg)
		return ctrl.Result{RequeueAfter: blockedRequeue}, nil
	}
	actions := topology.PlanCoverage(uncovered, d.masters, st.shape().Masters)
	return r.runPlan(ctx, st, topology.Plan{Phase: topology.PhaseAssigningSlots, Actions: actions,
		Reason: fmt.Sprintf("slots %s are served by no master and no node holds keys of them", clusteradmin.FormatSlots(uncovered))},
		planReasons{done: topology.PhaseFormed, progress: v1alpha1.ReasonAssigningUncoveredSlots, blocked: v1alpha1.ReasonFormationBlocked})
}

// migrateSlots plans and carries out slot migrations: scale out, scale in,
// rebalance. The plan goes into status.migration first (and the reconcile
// ends, so it is written before any slot moves); later reconciles move a
// batch of slots each (bounded by migrationBatch, slotsInFlight at a time),
// record progress, and requeue at once. Which slots are left is read from
// the nodes, by shard, each time: a restarted operator, or a failover, only
// changes which node a shard's move starts from.
func (r *RedisClusterReconciler) migrateSlots(ctx context.Context, st *state) (ctrl.Result, error) {
	if !topology.AnySlotAssigned(st.members) {
		return ctrl.Result{}, nil
	}
	d := observeDay2(st)
	spec := st.desired.Spec
	mig := st.rc.Status.Migration
	if mig != nil && !mig.DryRun {
		if out := migrationOutdated(mig, int(spec.Masters)); out != "" {
			st.log.Info("abandoning the migration plan", "reason", out)
			r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, string(v1alpha1.ReasonMigrationPlanned), "abandoning the %s plan: %s", mig.Reason, out)
			mig = nil
		}
	}
	if mig == nil || mig.DryRun {
		return r.planMigration(ctx, st, d)
	}

	moves, err := movesFromStatus(mig)
	if err != nil {
		return ctrl.Result{}, err
	}
	todo, moved, unsettled := topology.Remaining(moves, d.owners)
	mig.MovedSlots = int32(moved)
	if len(todo) == 0 && unsettled == 0 {
		msg := fmt.Sprintf("%s done: moved %d slots", mig.Reason, mig.TotalSlots)
		st.log.Info("slot migration done", "reason", mig.Reason, "slots", mig.TotalSlots)
		r.Recorder.Event(st.rc, corev1.EventTypeNormal, string(v1alpha1.ReasonBalanced), msg)
		st.rc.Status.Migration = nil
		st.rc.SetCondition(v1alpha1.ConditionRebalancing, metav1.ConditionFalse, v1alpha1.ReasonBalanced, msg)
		return ctrl.Result{RequeueAfter: immediately}, nil
	}
	if len(todo) == 0 {
		st.progress(v1alpha1.ReasonMigratingSlots, fmt.Sprintf("%d slots of the plan have no settled owner yet", unsettled))
		return ctrl.Result{RequeueAfter: formationRequeue}, nil
	}
	jobs := make([][]topology.SlotOp, 0, len(todo))
	for _, t := range todo {
		from, to := d.masters[t.From], d.masters[t.To]
		if from == nil || to == nil {
			st.progress(v1alpha1.ReasonMigratingSlots, fmt.Sprintf("waiting for a master in shard %d and %d", t.From, t.To))
			return ctrl.Result{RequeueAfter: formationRequeue}, nil
		}
		jobs = append(jobs, topology.MoveSlotOps(t.Slot, from.ID(), to.ID()))
	}
	start := time.Now()
	done, err := r.mover(st).Run(ctx, jobs, int(*spec.Migration.SlotsInFlight), start.Add(migrationBatch))
	mig.MovedSlots = int32(moved + done)
	pct := 100 * int(mig.MovedSlots) / max(1, int(mig.TotalSlots))
	msg := fmt.Sprintf("%s: moved %d of %d slots (%d%%)", mig.Reason, mig.MovedSlots, mig.TotalSlots, pct)
	st.rc.SetCondition(v1alpha1.ConditionRebalancing, metav1.ConditionTrue, v1alpha1.ReasonMigratingSlots, msg)
	st.progress(v1alpha1.ReasonMigratingSlots, msg)
	st.log.Info("moved slots", "reason", mig.Reason, "slots", done, "moved", mig.MovedSlots, "total", mig.TotalSlots, "took", time.Since(start).Round(time.Millisecond))
	if errors.Is(err, nodeadmin.ErrStopped) {
		st.halt = true
		return ctrl.Result{RequeueAfter: formationRequeue}, nil
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("moving slots: %w", err)
	}
	return ctrl.Result{RequeueAfter: immediately}, nil
}

// migrationOutdated says why a plan no longer fits the spec: it gives slots
// to a shard that is leaving.
func migrationOutdated(mig *v1alpha1.MigrationStatus, masters int) string {
	for _, m := range mig.Moves {
		if int(m.ToShard) >= masters {
			return fmt.Sprintf("it moves slots to shard %d, and spec.masters is now %d", m.ToShard, masters)
		}
	}
	return ""
}

// planMigration computes the next migration. A real one is written to
// status and the reconcile requeues, so that the plan is stored before the
// first slot moves; a rebalance in DryRun mode is written with dryRun set
// and nothing moves.
func (r *RedisClusterReconciler) planMigration(ctx context.Context, st *state, d day2) (ctrl.Result, error) {
	spec := st.desired.Spec
	moves, reason := topology.PlanMigration(d.owners, len(d.shards), topology.MigrationGoal{
		Masters: int(spec.Masters), Weights: spec.Rebalance.Weights,
		ThresholdPercent: int(*spec.Rebalance.ThresholdPercent), Rebalance: spec.Rebalance.Mode != v1alpha1.RebalanceDisabled,
	})
	if len(moves) == 0 {
		st.rc.Status.Migration = nil
		st.rc.SetCondition(v1alpha1.ConditionRebalancing, metav1.ConditionFalse, v1alpha1.ReasonBalanced, "every shard serves its share of the slots")
		return ctrl.Result{}, nil
	}
	for s := range d.shards {
		if d.masters[s] == nil && s < int(spec.Masters) {
			st.progress(v1alpha1.ReasonMigrationPlanned, fmt.Sprintf("waiting for a master in shard %d", s))
			return ctrl.Result{RequeueAfter: formationRequeue}, nil
		}
	}
	plan := &v1alpha1.MigrationStatus{Reason: v1alpha1.MigrationReason(reason), TotalSlots: int32(topology.SlotCountOf(moves))}
	for _, m := range moves {
		plan.Moves = append(plan.Moves, v1alpha1.SlotMove{FromShard: int32(m.From), ToShard: int32(m.To), Slots: slotStrings(m.Slots)})
	}
	summary := fmt.Sprintf("%s: %d slots in %d moves (%s)", reason, plan.TotalSlots, len(moves), movesSummary(moves))
	if reason == topology.ReasonRebalance && spec.Rebalance.Mode == v1alpha1.RebalanceDryRun {
		plan.DryRun = true
		if old := st.rc.Status.Migration; old != nil && old.DryRun && old.StartTime != nil {
			plan.StartTime = old.StartTime
		} else {
			now := metav1.Now()
			plan.StartTime = &now
			r.Recorder.Event(st.rc, corev1.EventTypeNormal, string(v1alpha1.ReasonRebalanceDryRun), "would move "+summary)
		}
		st.rc.Status.Migration = plan
		st.rc.SetCondition(v1alpha1.ConditionRebalancing, metav1.ConditionFalse, v1alpha1.ReasonRebalanceDryRun, "rebalance mode DryRun: would move "+summary)
		return ctrl.Result{}, nil
	}
	if podOperationInProgress(st.rc.Status) {
		st.progress(v1alpha1.ReasonWaitingForRollout, fmt.Sprintf("%s of %d slots waits for the rolling update or planned failover in progress", reason, topology.SlotCountOf(moves)))
		return ctrl.Result{RequeueAfter: formationRequeue}, nil
	}
	if reason == topology.ReasonScaleIn {
		if res, ok, err := r.checkScaleInFits(ctx, st, d); err != nil || !ok {
			return res, err
		}
	}
	now := metav1.Now()
	plan.StartTime = &now
	st.rc.Status.Migration = plan
	st.rc.SetCondition(v1alpha1.ConditionRebalancing, metav1.ConditionTrue, v1alpha1.ReasonMigrationPlanned, "planned "+summary)
	st.progress(v1alpha1.ReasonMigrationPlanned, "planned "+summary)
	st.log.Info("planned slot migration", "reason", reason, "slots", plan.TotalSlots, "moves", movesSummary(moves))
	r.Recorder.Event(st.rc, corev1.EventTypeNormal, string(v1alpha1.ReasonMigrationPlanned), "planned "+summary)
	st.halt = true // the deferred status write stores the plan first
	return ctrl.Result{RequeueAfter: immediately}, nil
}

// checkScaleInFits refuses a scale in whose data would not fit the
// remaining masters' maxmemory (INFO memory of every shard's master).
func (r *RedisClusterReconciler) checkScaleInFits(ctx context.Context, st *state, d day2) (ctrl.Result, bool, error) {
	used := make([]int64, len(d.masters))
	limit := make([]int64, len(d.masters))
	for s, m := range d.masters {
		if m == nil {
			continue
		}
		err := func() error {
			c := r.dial(st)(m.Addr(), st.auth)
			defer c.Close() //nolint:errcheck // read-only use
			cctx, cancel := context.WithTimeout(ctx, nodeTimeout)
			defer cancel()
			var err error
			used[s], limit[s], err = c.Memory(cctx)
			return err
		}()
		if err != nil {
			return ctrl.Result{}, false, err
		}
	}
	if ok, why := topology.ScaleInFits(used, limit, int(st.desired.Spec.Masters)); !ok {
		msg := "scale in refused: " + why + "; raise spec.masters or the memory limit"
		st.degrade(v1alpha1.ReasonScaleInRefused, msg)
		r.Recorder.Event(st.rc, corev1.EventTypeWarning, string(v1alpha1.ReasonScaleInRefused), msg)
		return ctrl.Result{RequeueAfter: blockedRequeue}, false, nil
	}
	return ctrl.Result{}, true, nil
}

func slotStrings(rs []clusteradmin.SlotRange) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

func movesSummary(moves []topology.Move) string {
	parts := make([]string, len(moves))
	for i, m := range moves {
		parts[i] = fmt.Sprintf("shard %d -> %d: %d", m.From, m.To, topology.SlotCountOf([]topology.Move{m}))
	}
	return strings.Join(parts, ", ")
}

func movesFromStatus(mig *v1alpha1.MigrationStatus) ([]topology.Move, error) {
	out := make([]topology.Move, 0, len(mig.Moves))
	for _, m := range mig.Moves {
		mv := topology.Move{From: int(m.FromShard), To: int(m.ToShard)}
		for _, s := range m.Slots {
			r, err := topology.ParseSlotRange(s)
			if err != nil {
				return nil, fmt.Errorf("status.migration: %w", err)
			}
			mv.Slots = append(mv.Slots, r)
		}
		out = append(out, mv)
	}
	return out, nil
}

// removeShards deletes the StatefulSets and PodDisruptionBudgets of shards
// at or above spec.masters once they are drained and no active node knows
// their nodes any more (membership forgets them).
func (r *RedisClusterReconciler) removeShards(ctx context.Context, st *state) (ctrl.Result, error) {
	masters := int(st.desired.Spec.Masters)
	if m := st.rc.Status.Migration; m != nil && !m.DryRun {
		return ctrl.Result{}, nil
	}
	var list appsv1.StatefulSetList
	if err := r.List(ctx, &list, client.InNamespace(st.rc.Namespace), client.MatchingLabels(builders.ClusterSelector(st.rc))); err != nil {
		return ctrl.Result{}, err
	}
	shards := topology.Shards(st.members, masters)
	active := topology.Active(st.members, masters)
	for i := range list.Items {
		sts := &list.Items[i]
		s, ok := shardOfStatefulSet(st.rc, sts.Name)
		if !ok || s < masters || !metav1.IsControlledBy(sts, st.rc) {
			continue
		}
		if s < len(shards) && len(shards[s]) > 0 {
			if !topology.Retired(shards[s], masters) {
				continue // still draining (migrateSlots moves its slots)
			}
			if who := knownBy(active, shards[s]); who != "" {
				st.progress(v1alpha1.ReasonRemovingShards, fmt.Sprintf("waiting until %s forgets the nodes of shard %d", who, s))
				return ctrl.Result{RequeueAfter: formationRequeue}, nil
			}
		}
		if err := r.Delete(ctx, sts); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, err
		}
		pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: sts.Namespace, Name: sts.Name}}
		if err := r.Delete(ctx, pdb); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
		st.log.Info("removed drained shard", "shard", s, "statefulset", sts.Name)
		r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, string(v1alpha1.ReasonRemovingShards), "Deleted StatefulSet %s: shard %d is drained and forgotten", sts.Name, s)
		st.progress(v1alpha1.ReasonRemovingShards, fmt.Sprintf("removed shard %d", s))
	}
	return ctrl.Result{}, nil
}

// shardOfStatefulSet parses "<cluster>-shard-<i>".
func shardOfStatefulSet(rc *v1alpha1.RedisCluster, name string) (int, bool) {
	tail, ok := strings.CutPrefix(name, strings.TrimSuffix(builders.ShardName(rc, 0), "0"))
	if !ok {
		return 0, false
	}
	return parseIndex(tail)
}

// knownBy names an active member that still knows a node of shard.
func knownBy(active, shard []topology.Member) string {
	for _, a := range active {
		for _, m := range shard {
			if a.View != nil && m.ID() != "" && a.View.Knows(m.ID()) {
				return a.Pod
			}
		}
	}
	return ""
}

// podOperationInProgress reports whether a rolling update or a planned
// failover is under way. One change at a time: a rollout waits for a
// migration in progress, and a migration does not start under a rollout or
// while a planned failover settles (its shard's master is changing).
func podOperationInProgress(s v1alpha1.RedisClusterStatus) bool {
	return s.Rollout != nil || len(s.Failovers) > 0
}

// migrationPacer is the pacer spec.migration.maxLatencyImpact asks for (nil
// when unset: fixed batches). A new one per batch of slots learns the
// nodes' time per key again within a few MIGRATEs.
func migrationPacer(m v1alpha1.MigrationSpec) *nodeadmin.Pacer {
	if m.MaxLatencyImpact == nil || m.MaxLatencyImpact.Duration <= 0 {
		return nil
	}
	return nodeadmin.NewPacer(m.MaxLatencyImpact.Duration, int(*m.KeysPerBatch))
}
