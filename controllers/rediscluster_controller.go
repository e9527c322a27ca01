package controllers

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// Least privilege: the operator reads RedisClusters and writes only their
// status; it creates and patches (server-side apply) the objects it owns; it
// deletes the StatefulSets of drained shards (scale in); it
// reads pods; it only creates Secrets (a generated password is never
// rewritten) and reads the Secret a RedisCluster names.
//
// +kubebuilder:rbac:groups=redis.shoal.dev,resources=redisclusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=redis.shoal.dev,resources=redisclusters/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=redis.shoal.dev,resources=redisclusters/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=services;configmaps,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// Requeue delays for what no watch reports: the nodes' own progress
// (gossip, replication) and a Secret the operator does not own.
const (
	formationRequeue = 1 * time.Second
	blockedRequeue   = 30 * time.Second
	healthyResync    = 1 * time.Minute
	nodeTimeout      = 3 * time.Second
	// conflictRequeue: a status written from a stale copy was refused;
	// observe again once the cache has the newer object.
	conflictRequeue = 200 * time.Millisecond
)

// RedisClusterReconciler reconciles RedisCluster objects.
type RedisClusterReconciler struct {
	// Client reads from the manager's cache and writes to the API server.
	client.Client
	// APIReader reads what the cache does not hold: Secrets the operator
	// does not own.
	APIReader client.Reader
	Recorder  record.EventRecorder
	// DefaultNodeImage is the node image of clusters whose spec.image is
	// empty.
	DefaultNodeImage string
	// Dial opens an admin client to a node.
	Dial clusteradmin.Dialer
	// DialTLS, when not nil, makes the Dialer of a cluster with spec.tls
	// (rediscluster_tls.go).
	DialTLS func(*tls.Config) clusteradmin.Dialer
	// Now is the clock of certificate renewal (nil: time.Now).
	Now func() time.Time
	// NewPassword makes the password of a generated auth Secret.
	NewPassword func() (string, error)
	// Failpoint, when not nil (tests only), is asked at every named point
	// between non-atomic steps (a slot move, a rolling restart); when it
	// returns true the step stops there as if the operator had crashed.
	Failpoint func(cluster client.ObjectKey, point string) bool
	// Stores opens the store of spec.bootstrap.fromBackup.
	Stores BackupStores

	// metrics are the operator's own per-cluster metrics (metrics.go),
	// made by SetupWithManager; nil records nothing.
	metrics *clusterMetrics
	// imports are the replication links of spec.bootstrap.fromRedis
	// imports (method Replicate), running between reconciles.
	imports importLinks
}

// RandomPassword is a 256-bit random password, hex encoded.
func RandomPassword() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// state is what one reconcile observed and decided. Steps fill it in order.
type state struct {
	log logr.Logger
	// rc is the live object; steps change only its status.
	rc *v1alpha1.RedisCluster
	// desired is a copy of rc with its spec defaulted: the builders' input.
	desired *v1alpha1.RedisCluster
	// before is rc as read (or as last written by writeStatusNow): what
	// the status patch is computed against.
	before     *v1alpha1.RedisCluster
	configHash string
	// password is the default user's (spec.auth); auth is who the operator
	// talks to the nodes as (shoal-operator, ensureUsers).
	password string
	auth     clusteradmin.Auth
	// tls is the admin client's TLS configuration (spec.tls), or nil.
	tls *tls.Config
	// pods are the node pods of the cluster by name, desired or not.
	pods map[string]*corev1.Pod
	// members are those pods placed by shard and ordinal, sorted, with the
	// view each node reported (observeNodes).
	members []topology.Member
	// domains is each scheduled pod's value of every placement topology
	// key (observePlacement).
	domains map[string]map[string]string
	outcome outcome
	// halt ends the reconcile after the current step without an error.
	halt bool
	// functionsPending: some node lacks a library of spec.functions (a
	// replica still syncing, an unreachable node): look again soon.
	functionsPending bool
	// usersPending: spec.users are not on every node yet (a node that
	// does not answer, a missing Secret): look again soon.
	usersPending bool
	// importRequeue: spec.bootstrap.fromRedis has more to copy; look
	// again after this long (rediscluster_fromredis.go).
	importRequeue time.Duration
	// scaleRetry: a change of spec.masters waits for a cool-down that
	// ends after this long (rediscluster_scaling.go).
	scaleRetry time.Duration
}

type step struct {
	name string
	fn   func(context.Context, *state) (ctrl.Result, error)
}

// steps is the reconcile, in order. Each step returns early by setting
// st.halt, returning a non-zero Result, or an error.
func (r *RedisClusterReconciler) steps() []step {
	return []step{
		{"paused", r.checkPaused},
		{"scale gate", r.gateScale},
		{"auth secret", r.ensureAuthSecret},
		{"operator secret", r.ensureOperatorSecret},
		{"tls", r.ensureTLS},
		{"configmap", r.ensureConfigMap},
		{"headless service", r.ensureHeadlessService},
		{"client service", r.ensureClientService},
		{"statefulsets", r.ensureShards},
		{"poddisruptionbudgets", r.ensurePDBs},
		{"networkpolicy", r.ensureNetworkPolicy},
		{"monitoring", r.ensureMonitoring},
		{"pods", r.observePods},
		{"acl users", r.ensureUsers},
		{"placement", r.observePlacement},
		{"nodes", r.observeNodes},
		{"external access", r.ensureExternalAccess},
		{"pods ready", r.waitForPods},
		{"cluster formation", r.formCluster},
		{"membership", r.ensureMembership},
		{"functions", r.ensureFunctions},
		{"open slots", r.fixOpenSlots},
		{"slot coverage", r.ensureCoverage},
		{"slot migration", r.migrateSlots},
		{"shard removal", r.removeShards},
		{"converged", r.checkConverged},
		{"bootstrap from redis", r.ensureFromRedis},
		{"bootstrap from backup", r.ensureFromBackup},
		{"pod operations", r.ensurePodOperations},
		{"status", r.summarize},
	}
}

// Reconcile runs the steps for one RedisCluster and writes its status once.
func (r *RedisClusterReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, err error) {
	rc := &v1alpha1.RedisCluster{}
	if err := r.Get(ctx, req.NamespacedName, rc); err != nil {
		if apierrors.IsNotFound(err) {
			r.metrics.forget(req.Namespace, req.Name)
			r.imports.stop(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !rc.DeletionTimestamp.IsZero() {
		// Owner references hand everything to the garbage collector.
		r.imports.stop(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	desired := rc.DeepCopy()
	desired.Spec.Default(r.DefaultNodeImage)
	st := &state{log: log.FromContext(ctx), rc: rc, desired: desired, before: rc.DeepCopy()}
	failedStep := ""
	defer func() {
		writeConditions(rc, st.outcome, rc.IsPaused())
		r.metrics.observe(st.before, rc, failedStep)
		perr := r.patchStatus(ctx, st.before, rc)
		switch {
		case apierrors.IsConflict(perr):
			// This reconcile began from a copy older than the stored
			// object: its status is stale and is dropped; the next
			// reconcile observes again from the newer copy.
			st.log.V(1).Info("status not written: the object changed since it was read; observing again")
			if err == nil {
				res = ctrl.Result{RequeueAfter: conflictRequeue}
			}
		case perr != nil && err == nil:
			err = perr
		}
	}()

	for _, s := range r.steps() {
		res, err := s.fn(ctx, st)
		if err != nil {
			st.log.Error(err, "reconcile step failed", "step", s.name)
			failedStep = s.name
			r.Recorder.Eventf(rc, corev1.EventTypeWarning, string(v1alpha1.ReasonReconcileError), "%s: %v", s.name, err)
			st.degrade(v1alpha1.ReasonReconcileError, fmt.Sprintf("%s: %v", s.name, err))
			return ctrl.Result{}, err
		}
		if st.halt || !res.IsZero() {
			st.log.V(1).Info("reconcile stopped early", "step", s.name, "requeueAfter", res.RequeueAfter)
			return res, nil
		}
	}
	return ctrl.Result{}, nil
}

func (r *RedisClusterReconciler) checkPaused(_ context.Context, st *state) (ctrl.Result, error) {
	if !st.rc.IsPaused() {
		return ctrl.Result{}, nil
	}
	st.rc.SetCondition(v1alpha1.ConditionProgressing, metav1.ConditionFalse, v1alpha1.ReasonPaused,
		fmt.Sprintf("reconciliation is paused by the annotation %s=true", v1alpha1.PausedAnnotation))
	st.log.Info("paused: not reconciling")
	st.halt = true
	return ctrl.Result{}, nil
}

// SetupWithManager registers the controller: RedisClusters, the objects they
// own, and their pods (owned by the StatefulSets, so mapped by label).
func (r *RedisClusterReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	r.metrics = newClusterMetrics(ctrlmetrics.Registry)
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.RedisCluster{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Secret{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToCluster)).
		Named("rediscluster").
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, workers)}).
		Complete(r)
}

// podToCluster maps a node pod to its RedisCluster by the cluster label.
func podToCluster(ctx context.Context, o client.Object) []reconcile.Request {
	return podToOwner(builders.LabelCluster)(ctx, o)
}

// podToOwner maps a pod to the object named by its label.
func podToOwner(label string) handler.MapFunc {
	return func(_ context.Context, o client.Object) []reconcile.Request {
		name, ok := o.GetLabels()[label]
		if !ok {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
	}
}

// patchStatus writes the status when a step changed it. A merge patch of
// the status subresource does not conflict with spec changes.
func (r *RedisClusterReconciler) patchStatus(ctx context.Context, before, rc *v1alpha1.RedisCluster) error {
	if statusEqual(before.Status, rc.Status) {
		return nil
	}
	// The patch carries the resourceVersion the reconcile started from: a
	// merge patch replaces whole lists (conditions), so one computed from
	// a stale cached copy would put back old conditions next to newer
	// fields written meanwhile (status.rollout without RollingUpdate).
	patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
	if err := r.Status().Patch(ctx, rc, patch); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("patching status: %w", err)
	}
	return nil
}
