package controllers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/controllers/topology"
)

// Events of the import step.
const (
	eventImportPassFinished = "ImportPassFinished"
	eventImportCutover      = "ImportCutoverStarted"
	eventImportCompleted    = "ImportCompleted"
	eventImportFailed       = "ImportFailed"
)

// Timing of an import.
const (
	// importBudget is how long one reconcile copies batches before it
	// writes its progress to status; importCutoverBudget during the
	// cut-over, while the source's writers wait (the hold is renewed
	// within the loop).
	importBudget        = 1 * time.Second
	importCutoverBudget = 5 * time.Second
	// importRequeue is the pause between two reconciles that copy.
	importRequeue = 20 * time.Millisecond
	// importHold is the length of the hold on the source's writes during
	// the cut-over (renewed while the last pass runs): what the source's
	// writers wait at most if the operator stops in the middle.
	importHold = 30 * time.Second
	// importRenewBefore: the hold is renewed when less is left of it.
	importRenewBefore = 20 * time.Second
	// importSourceTimeout bounds every command to the source and to the
	// cluster's masters.
	importSourceTimeout = 10 * time.Second
)

// ensureFromRedis carries out spec.bootstrap.fromRedis on a converged
// cluster: passes that copy the source's keys, then, once the cut-over
// annotation is set, the last pass under a hold of the source's writes
// (topology.PlanImport decides; nodeadmin carries out). It copies for at
// most importBudget per reconcile and asks for the next reconcile soon
// while there is work; it never stops the other steps: a source that does
// not answer is an Event, the status message and the FromRedisSynced
// condition, and is tried again.
func (r *RedisClusterReconciler) ensureFromRedis(ctx context.Context, st *state) (ctrl.Result, error) {
	spec := importSpec(st.desired)
	if spec == nil {
		r.imports.stop(client.ObjectKeyFromObject(st.rc))
		st.rc.Status.FromRedis = nil
		return ctrl.Result{}, nil
	}
	if st.rc.Status.FromRedis == nil {
		st.rc.Status.FromRedis = &v1alpha1.FromRedisStatus{Phase: v1alpha1.FromRedisWaiting}
	}
	status := st.rc.Status.FromRedis
	auth, problem, err := r.sourceAuth(ctx, st.rc.Namespace, spec)
	if err != nil {
		return ctrl.Result{}, err
	}
	if problem != "" {
		if status.Message != problem {
			r.Recorder.Event(st.rc, corev1.EventTypeWarning, eventImportFailed, "credentialsSecret: "+problem)
		}
		status.Message = problem
		st.rc.SetCondition(v1alpha1.ConditionFromRedisSynced, metav1.ConditionFalse, v1alpha1.ReasonImportBlocked, problem)
		st.importRequeue = blockedRequeue
		return ctrl.Result{}, nil
	}
	if spec.Method != v1alpha1.FromRedisCopy {
		return r.replicatedImport(ctx, st, spec, *auth)
	}
	run := &importRun{r: r, st: st, spec: spec, auth: *auth, sources: map[string]*redis.Client{}}
	defer run.close()
	budget := importBudget
	if status.Phase == v1alpha1.FromRedisCuttingOver {
		budget = importCutoverBudget
	}
	deadline := time.Now().Add(budget)
	for time.Now().Before(deadline) {
		now := time.Now()
		a := topology.PlanImport(status, st.rc.WantsCutover(), true, now, importRenewBefore)
		if a.Step == topology.ImportDone {
			break
		}
		if err := run.step(ctx, a, now); err != nil {
			status.Message = err.Error()
			st.rc.SetCondition(v1alpha1.ConditionFromRedisSynced, metav1.ConditionFalse, v1alpha1.ReasonImportFailed, err.Error())
			r.Recorder.Eventf(st.rc, corev1.EventTypeWarning, eventImportFailed, "%s: %v", a.Step, err)
			st.importRequeue = formationRequeue
			break
		}
		status.Message = ""
		st.importRequeue = importRequeue
		if a.Step == topology.ImportFinishPass || a.Step == topology.ImportBeginCutover {
			break // write what changed before the next pass
		}
	}
	status.LagSeconds = int64(topology.ImportLag(status, time.Now()).Seconds())
	if status.Phase == v1alpha1.FromRedisCompleted {
		st.importRequeue = 0
	}
	if status.Message == "" {
		setImportCondition(st.rc, status)
	}
	return ctrl.Result{}, nil
}

// importSpec is spec.bootstrap.fromRedis, nil when unset.
func importSpec(rc *v1alpha1.RedisCluster) *v1alpha1.FromRedisSpec {
	if rc.Spec.Bootstrap == nil {
		return nil
	}
	return rc.Spec.Bootstrap.FromRedis
}

// importRun is one reconcile's import: its connections to the source
// nodes and the cluster's masters, opened when first needed.
type importRun struct {
	r       *RedisClusterReconciler
	st      *state
	spec    *v1alpha1.FromRedisSpec
	auth    nodeadmin.SourceAuth
	sources map[string]*redis.Client
	target  *nodeadmin.ImportTarget
}

func (run *importRun) close() {
	for _, c := range run.sources {
		_ = c.Close()
	}
	if run.target != nil {
		run.target.Close()
	}
}

// source is the client of the source node at addr.
func (run *importRun) source(addr string) *redis.Client {
	c, ok := run.sources[addr]
	if !ok {
		c = nodeadmin.DialSource(addr, run.auth)
		run.sources[addr] = c
	}
	return c
}

// importTarget connects to the cluster's masters, as the members report
// them.
func (run *importRun) importTarget() (*nodeadmin.ImportTarget, error) {
	if run.target != nil {
		return run.target, nil
	}
	st := run.st
	masters := importMasters(st)
	t, err := nodeadmin.NewImportTarget(masters, nodeadmin.SourceAuth{
		Username: st.auth.Username, Password: st.auth.Password, Timeout: importSourceTimeout, TLS: st.tls})
	run.target = t
	return t, err
}

// step carries out one planned step.
func (run *importRun) step(ctx context.Context, a topology.ImportAction, now time.Time) error {
	r, st, spec, auth := run.r, run.st, run.spec, run.auth
	status := st.rc.Status.FromRedis
	cctx, cancel := context.WithTimeout(ctx, importSourceTimeout)
	defer cancel()
	switch a.Step {
	case topology.ImportStartPass:
		sources, err := nodeadmin.SourceMasters(cctx, spec.Mode == v1alpha1.FromRedisCluster, spec.Addresses, auth)
		if err != nil {
			return err
		}
		phase := v1alpha1.FromRedisCopying
		if status.LastSyncedTime != nil {
			phase = v1alpha1.FromRedisSyncing
		}
		topology.StartImportPass(status, phase, sources, now)
		return nil
	case topology.ImportBeginCutover:
		sources, err := nodeadmin.SourceMasters(cctx, spec.Mode == v1alpha1.FromRedisCluster, spec.Addresses, auth)
		if err != nil {
			return err
		}
		until := now.Add(importHold)
		if err := run.pauseSources(cctx, sources); err != nil {
			return err
		}
		target, err := run.importTarget()
		if err != nil {
			return err
		}
		if err := target.FlushAll(cctx); err != nil {
			return err
		}
		topology.StartImportPass(status, v1alpha1.FromRedisCuttingOver, sources, now)
		t := metav1.NewTime(until)
		status.PausedUntil = &t
		r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventImportCutover,
			"Cut-over: writes held on %d source node(s), cluster emptied, last pass %d started", len(sources), status.Pass)
		return nil
	case topology.ImportRenewPause:
		until := now.Add(importHold)
		if err := run.pauseSources(cctx, sourceAddrs(status)); err != nil {
			return err
		}
		t := metav1.NewTime(until)
		status.PausedUntil = &t
		return nil
	case topology.ImportCopy:
		return run.copyBatch(cctx, a.Source)
	case topology.ImportFinishPass:
		cutover := status.Phase == v1alpha1.FromRedisCuttingOver
		sources := sourceAddrs(status)
		topology.FinishImportPass(status, now)
		if cutover {
			if err := run.unpauseSources(cctx, sources); err != nil {
				// The hold ends on its own at pausedUntil.
				st.log.Info("import: CLIENT UNPAUSE failed; the hold ends on its own", "error", err.Error())
			}
			r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventImportCompleted,
				"Import completed: the cluster holds the source's %d keys; copying stopped and the source's writes are released", status.KeysCopied)
		} else if status.Pass == 1 {
			r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventImportPassFinished,
				"First pass over the source finished: %d keys copied; passes go on until the cut-over annotation %s=true", status.KeysCopied, v1alpha1.CutoverAnnotation)
		}
		return nil
	}
	return fmt.Errorf("unknown import step %q", a.Step)
}

// copyBatch copies one SCAN batch of source i and records it.
func (run *importRun) copyBatch(ctx context.Context, i int) error {
	status := run.st.rc.Status.FromRedis
	src := &status.Sources[i]
	cursor, err := strconv.ParseUint(src.Cursor, 10, 64)
	if err != nil {
		return fmt.Errorf("status cursor %q of %s: %w", src.Cursor, src.Address, err)
	}
	target, err := run.importTarget()
	if err != nil {
		return err
	}
	next, copied, err := nodeadmin.CopyBatch(ctx, run.source(src.Address), cursor, int64(max(1, run.spec.BatchSize)), target)
	if err != nil {
		return fmt.Errorf("%s: %w", src.Address, err)
	}
	topology.AddImportCopies(status, copied)
	src.Cursor = strconv.FormatUint(next, 10)
	src.Done = next == 0
	return nil
}

// sourceAuth reads the source's credentials; a problem (the Secret or its
// key is missing) is the user's to fix, not an error of the step.
func (r *RedisClusterReconciler) sourceAuth(ctx context.Context, ns string, spec *v1alpha1.FromRedisSpec) (auth *nodeadmin.SourceAuth, problem string, err error) {
	auth = &nodeadmin.SourceAuth{Timeout: importSourceTimeout}
	ref := spec.CredentialsSecret
	if ref == nil {
		return auth, "", nil
	}
	secret := &corev1.Secret{}
	err = r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, secret)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Sprintf("Secret %s not found", ref.Name), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading Secret %s: %w", ref.Name, err)
	}
	key := ref.PasswordKey
	if key == "" {
		key = "password"
	}
	pw, ok := secret.Data[key]
	if !ok {
		return nil, fmt.Sprintf("Secret %s has no key %s", ref.Name, key), nil
	}
	auth.Password = string(pw)
	if ref.UsernameKey != "" {
		u, ok := secret.Data[ref.UsernameKey]
		if !ok {
			return nil, fmt.Sprintf("Secret %s has no key %s", ref.Name, ref.UsernameKey), nil
		}
		auth.Username = string(u)
	}
	return auth, "", nil
}

func sourceAddrs(s *v1alpha1.FromRedisStatus) []string {
	out := make([]string, len(s.Sources))
	for i, src := range s.Sources {
		out[i] = src.Address
	}
	return out
}

func (run *importRun) pauseSources(ctx context.Context, addrs []string) error {
	for _, a := range addrs {
		if err := nodeadmin.PauseWrites(ctx, run.source(a), importHold); err != nil {
			return fmt.Errorf("CLIENT PAUSE on %s: %w", a, err)
		}
	}
	return nil
}

func (run *importRun) unpauseSources(ctx context.Context, addrs []string) error {
	var errs []error
	for _, a := range addrs {
		if err := nodeadmin.UnpauseWrites(ctx, run.source(a)); err != nil {
			errs = append(errs, fmt.Errorf("CLIENT UNPAUSE on %s: %w", a, err))
		}
	}
	return errors.Join(errs...)
}

// setImportCondition writes FromRedisSynced from the phase.
func setImportCondition(rc *v1alpha1.RedisCluster, s *v1alpha1.FromRedisStatus) {
	const (
		t = metav1.ConditionTrue
		f = metav1.ConditionFalse
	)
	switch s.Phase {
	case v1alpha1.FromRedisWaiting, v1alpha1.FromRedisCopying:
		rc.SetCondition(v1alpha1.ConditionFromRedisSynced, f, v1alpha1.ReasonImportCopying,
			fmt.Sprintf("first pass over the source: %d keys copied", s.KeysCopied))
	case v1alpha1.FromRedisSyncing:
		rc.SetCondition(v1alpha1.ConditionFromRedisSynced, t, v1alpha1.ReasonImportSyncing,
			fmt.Sprintf("the cluster holds the source's keys as of %s; set %s=true to cut over", s.LastSyncedTime.UTC().Format(time.RFC3339), v1alpha1.CutoverAnnotation))
	case v1alpha1.FromRedisCuttingOver:
		rc.SetCondition(v1alpha1.ConditionFromRedisSynced, f, v1alpha1.ReasonImportCuttingOver,
			fmt.Sprintf("source writes held; last pass: %d keys copied", s.KeysCopied))
	case v1alpha1.FromRedisCompleted:
		rc.SetCondition(v1alpha1.ConditionFromRedisSynced, t, v1alpha1.ReasonImportCompleted,
			"the import is complete: the cluster holds what the source held at the cut-over")
	}
}
