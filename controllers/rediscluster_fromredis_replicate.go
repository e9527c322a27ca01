package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/importlink"
	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// An import with method Replicate (spec.bootstrap.fromRedis): the
// operator runs one importlink.Link per source node, in the background,
// for as long as the import runs; each reconcile reads the links'
// progress and the sources' offsets into status. The cut-over holds the
// sources' writes (CLIENT PAUSE WRITE, which also stops their offsets),
// waits until every link holds its source's whole stream, then stops the
// links and releases the writes. An operator that restarts starts the
// links again, each with a full resynchronisation (the cluster is
// emptied first).

// Timing of a replicated import.
const (
	// importLinkRefresh is how often status follows the links.
	importLinkRefresh = 2 * time.Second
	// importLinkCutoverPoll is how often the cut-over looks whether the
	// links caught up with the held sources.
	importLinkCutoverPoll = 100 * time.Millisecond
)

// Event of a replicated import.
const eventImportLinkStarted = "ImportLinkStarted"

// importLinks are the running links of the imports, by cluster. The zero
// value is ready.
type importLinks struct {
	mu        sync.Mutex
	byCluster map[types.NamespacedName]*linkSet
}

// linkSet is one cluster's links and what they were started for.
type linkSet struct {
	uid         types.UID
	fingerprint string // the sources and the masters they were started for
	sources     []string
	auth        nodeadmin.SourceAuth // of the sources
	target      *nodeadmin.ImportTarget
	links       []*importlink.Link
	clients     []*redis.Client // of the sources, for their offsets
	cancel      context.CancelFunc
	done        sync.WaitGroup

	mu       sync.Mutex
	ended    []error // what each link's Run returned (nil while it runs)
	caughtUp time.Time
}

func (l *importLinks) get(key types.NamespacedName) *linkSet {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byCluster[key]
}

func (l *importLinks) put(key types.NamespacedName, s *linkSet) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byCluster == nil {
		l.byCluster = map[types.NamespacedName]*linkSet{}
	}
	l.byCluster[key] = s
}

// stop ends the links of a cluster, if any, and waits for them.
func (l *importLinks) stop(key types.NamespacedName) {
	l.mu.Lock()
	s := l.byCluster[key]
	delete(l.byCluster, key)
	l.mu.Unlock()
	if s != nil {
		s.stop()
	}
}

func (s *linkSet) stop() {
	s.cancel()
	s.done.Wait()
	s.target.Close()
	for _, c := range s.clients {
		_ = c.Close()
	}
}

// startLinks starts a link to each source node.
func startLinks(uid types.UID, fingerprint string, sources []string, masters []nodeadmin.TargetMaster, srcAuth, clusterAuth nodeadmin.SourceAuth, logf func(string, ...any)) (*linkSet, error) {
	target, err := nodeadmin.NewImportTarget(masters, clusterAuth)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &linkSet{uid: uid, fingerprint: fingerprint, sources: sources, auth: srcAuth, target: target, cancel: cancel, ended: make([]error, len(sources))}
	for _, addr := range sources {
		l, err := importlink.New(importlink.Options{Addr: addr, Auth: srcAuth, Target: target, Logf: logf})
		if err != nil {
			cancel()
			target.Close()
			return nil, err
		}
		s.links = append(s.links, l)
		s.clients = append(s.clients, nodeadmin.DialSource(addr, srcAuth))
	}
	for i, l := range s.links {
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			err := l.Run(ctx)
			if errors.Is(err, context.Canceled) {
				return
			}
			s.mu.Lock()
			s.ended[i] = err
			s.mu.Unlock()
		}()
	}
	return s, nil
}

// importMasters are the cluster's masters and their slots, as the
// members report them.
func importMasters(st *state) []nodeadmin.TargetMaster {
	var masters []nodeadmin.TargetMaster
	for _, m := range topology.WithinShape(st.members, st.shape()) {
		if m.View == nil {
			continue
		}
		me, ok := m.View.Myself()
		if !ok || !me.IsMaster() || len(me.Slots) == 0 {
			continue
		}
		masters = append(masters, nodeadmin.TargetMaster{Shard: m.Shard, Addr: m.Addr(), Slots: me.Slots})
	}
	return masters
}

// replicatesSource reports whether the cluster replicates a source now
// (method Replicate, not completed): the operator's user then needs the
// rights to apply the source's stream (users.ImportRules).
func replicatesSource(st *state) bool {
	spec := importSpec(st.desired)
	if spec == nil || spec.Method == v1alpha1.FromRedisCopy {
		return false
	}
	fs := st.rc.Status.FromRedis
	return fs == nil || fs.Phase != v1alpha1.FromRedisCompleted
}

// replicatedImport is one reconcile of an import with method Replicate.
func (r *RedisClusterReconciler) replicatedImport(ctx context.Context, st *state, spec *v1alpha1.FromRedisSpec, auth nodeadmin.SourceAuth) (ctrl.Result, error) {
	status := st.rc.Status.FromRedis
	key := client.ObjectKeyFromObject(st.rc)
	fail := func(err error) (ctrl.Result, error) {
		if status.Message != err.Error() {
			r.Recorder.Event(st.rc, corev1.EventTypeWarning, eventImportFailed, err.Error())
		}
		status.Message = err.Error()
		st.rc.SetCondition(v1alpha1.ConditionFromRedisSynced, metav1.ConditionFalse, v1alpha1.ReasonImportFailed, err.Error())
		st.importRequeue = formationRequeue
		return ctrl.Result{}, nil
	}
	if status.Phase == v1alpha1.FromRedisCompleted {
		r.imports.stop(key)
		st.importRequeue = 0
		setImportCondition(st.rc, status)
		return ctrl.Result{}, nil
	}
	cctx, cancel := context.WithTimeout(ctx, importSourceTimeout)
	defer cancel()
	sources, err := nodeadmin.SourceMasters(cctx, spec.Mode == v1alpha1.FromRedisCluster, spec.Addresses, auth)
	if err != nil {
		return fail(err)
	}
	masters := importMasters(st)
	fingerprint := fmt.Sprint(sources, masters)
	set := r.imports.get(key)
	if set == nil || set.uid != st.rc.UID || set.fingerprint != fingerprint {
		r.imports.stop(key)
		clusterAuth := nodeadmin.SourceAuth{Username: st.auth.Username, Password: st.auth.Password, Timeout: importSourceTimeout, TLS: st.tls}
		logger := st.log.WithName("import")
		set, err = startLinks(st.rc.UID, fingerprint, sources, masters, auth, clusterAuth, func(f string, a ...any) { logger.Info(fmt.Sprintf(f, a...)) })
		if err != nil {
			return fail(err)
		}
		r.imports.put(key, set)
		r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventImportLinkStarted,
			"Replicating %d source node(s) into the cluster: a full resynchronisation (the cluster is emptied), then the source's writes as they come", len(sources))
		if status.Phase != v1alpha1.FromRedisCuttingOver {
			status.Phase = v1alpha1.FromRedisCopying
		}
		status.LastSyncedTime = nil
	}
	caughtUp, err := observeLinks(cctx, set, status)
	if err != nil {
		return fail(err)
	}
	now := time.Now()
	status.Message = ""
	if caughtUp {
		set.caughtUp = now
		t := metav1.NewTime(now)
		status.LastSyncedTime = &t
	}
	if status.LastSyncedTime != nil && status.Phase == v1alpha1.FromRedisCopying {
		status.Phase = v1alpha1.FromRedisSyncing
	}
	status.LagSeconds = 0
	if !caughtUp && !set.caughtUp.IsZero() {
		status.LagSeconds = int64(now.Sub(set.caughtUp).Seconds())
	}
	st.importRequeue = importLinkRefresh
	if st.rc.WantsCutover() && status.Phase != v1alpha1.FromRedisCopying {
		if err := r.linkCutover(cctx, st, set, status, now); err != nil {
			return fail(err)
		}
	}
	setImportCondition(st.rc, status)
	return ctrl.Result{}, nil
}

// observeLinks writes the links' progress into status and reports
// whether every link holds its source's whole stream. A link that
// stopped on a command the cluster cannot apply is an error.
func observeLinks(ctx context.Context, set *linkSet, status *v1alpha1.FromRedisStatus) (bool, error) {
	status.Links = status.Links[:0]
	status.LagBytes, status.KeysCopied = 0, 0
	all := true
	for i, l := range set.links {
		set.mu.Lock()
		ended := set.ended[i]
		set.mu.Unlock()
		if ended != nil {
			return false, fmt.Errorf("the link to %s stopped: %v", set.sources[i], ended)
		}
		p := l.Progress()
		srcOff, err := sourceReplOffset(ctx, set.clients[i])
		if err != nil {
			return false, fmt.Errorf("%s: %w", set.sources[i], err)
		}
		lag := max(0, srcOff-p.Offset)
		if p.Phase != importlink.PhaseStreaming {
			all = false
		}
		status.LagBytes += lag
		status.KeysCopied += p.KeysLoaded
		status.Links = append(status.Links, v1alpha1.FromRedisLinkStatus{
			Address: set.sources[i], Phase: p.Phase, ReplicationID: p.ReplID, Offset: p.Offset, SourceOffset: srcOff,
			KeysLoaded: p.KeysLoaded, FullSyncs: p.FullSyncs, PartialSyncs: p.PartialSyncs, Skipped: p.Skipped, LastError: p.LastError,
		})
	}
	return all && status.LagBytes == 0, nil
}

// linkCutover holds the sources' writes (renewing the hold) and, once
// every link holds its source's stream up to the held offset, stops the
// links and releases the writes: the import is complete.
func (r *RedisClusterReconciler) linkCutover(ctx context.Context, st *state, set *linkSet, status *v1alpha1.FromRedisStatus, now time.Time) error {
	if status.Phase != v1alpha1.FromRedisCuttingOver || status.PausedUntil == nil || status.PausedUntil.Time.Sub(now) < importRenewBefore {
		for _, c := range set.clients {
			if err := nodeadmin.PauseWrites(ctx, c, importHold); err != nil {
				return fmt.Errorf("CLIENT PAUSE on %s: %w", c.Options().Addr, err)
			}
		}
		t := metav1.NewTime(now.Add(importHold))
		status.PausedUntil = &t
		if status.Phase != v1alpha1.FromRedisCuttingOver {
			status.Phase = v1alpha1.FromRedisCuttingOver
			r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventImportCutover,
				"Cut-over: writes held on %d source node(s); waiting for the cluster to apply the rest of their streams", len(set.clients))
		}
	}
	// Held, the sources' offsets stay where they are: once the links
	// reach them, the cluster holds every write the sources took.
	caughtUp, err := observeLinks(ctx, set, status)
	if err != nil {
		return err
	}
	if !caughtUp {
		st.importRequeue = importLinkCutoverPoll
		return nil
	}
	r.imports.stop(client.ObjectKeyFromObject(st.rc))
	var errs []error
	for _, addr := range set.sources {
		c := nodeadmin.DialSource(addr, set.auth)
		if err := nodeadmin.UnpauseWrites(ctx, c); err != nil {
			errs = append(errs, err)
		}
		_ = c.Close()
	}
	if err := errors.Join(errs...); err != nil {
		st.log.Info("import: CLIENT UNPAUSE failed; the hold ends on its own", "error", err.Error())
	}
	t := metav1.NewTime(time.Now())
	status.Phase, status.CompletedTime, status.LastSyncedTime = v1alpha1.FromRedisCompleted, &t, &t
	status.LagSeconds, status.LagBytes = 0, 0
	st.importRequeue = 0
	r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventImportCompleted,
		"Import completed: the cluster applied the source's whole stream (%d keys loaded); replication stopped and the source's writes are released", status.KeysCopied)
	return nil
}

// sourceReplOffset is a source's master_repl_offset.
func sourceReplOffset(ctx context.Context, c *redis.Client) (int64, error) {
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return 0, err
	}
	rep, err := clusteradmin.ParseInfoReplication(info)
	return rep.Offset, err
}
