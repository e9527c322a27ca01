package controllers

import (
	"context"
	"crypto/tls"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/replication"
	"github.com/shoal-dev/shoal/controllers/users"
)

// The RedisReplication controller: it reads RedisReplications and writes
// their status, applies the objects it owns, labels the data node pods with
// their role (the master and replicas Services select by it), and deletes
// pods for rolling updates.
//
// +kubebuilder:rbac:groups=redis.shoal.dev,resources=redisreplications,verbs=get;list;watch
// +kubebuilder:rbac:groups=redis.shoal.dev,resources=redisreplications/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=redis.shoal.dev,resources=redisreplications/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;patch;delete

// Requeue delays of a RedisReplication: soon while it converges, then a
// slow poll as the fallback of the +switch-master subscription.
const (
	replicationConverging = 1 * time.Second
	replicationResync     = 30 * time.Second
)

// RedisReplicationReconciler reconciles RedisReplication objects.
type RedisReplicationReconciler struct {
	client.Client
	// APIReader reads Secrets the operator does not own.
	APIReader client.Reader
	Recorder  record.EventRecorder
	// DefaultNodeImage is the image of replications whose spec.image is
	// empty.
	DefaultNodeImage string
	// NewPassword makes the password of a generated auth Secret.
	NewPassword func() (string, error)
	// NodeTimeout bounds every call to a node or a sentinel.
	NodeTimeout time.Duration
	// PodHost is the host the nodes, the sentinels and the operator use
	// for a pod: nil means its stable DNS name under the headless Service
	// (builders.ReplicationPodHost). Tests without cluster DNS use the pod
	// IP.
	PodHost func(rr *v1alpha1.RedisReplication, pod *corev1.Pod) string
	// Now is the clock of certificate renewals (nil: the wall clock).
	Now func() time.Time
	// Stores opens the store of spec.bootstrap.fromBackup.
	Stores BackupStores

	watcher *switchWatcher
}

// replState is what one reconcile of a RedisReplication observed.
type replState struct {
	log     logr.Logger
	rr      *v1alpha1.RedisReplication
	desired *v1alpha1.RedisReplication
	// username and password are who the operator is on the data nodes:
	// the default user with spec.auth's password, or shoal-operator with
	// its own when the default user is off.
	username string
	password string
	// tls is the configuration of the operator's clients of the data
	// nodes and sentinels with spec.tls (nil: plain TCP).
	tls      *tls.Config
	nodes    map[string]*corev1.Pod
	sents    map[string]*corev1.Pod
	in       replication.Input
	decision replication.Decision
	// nodeSetSize is how many data node ordinals the StatefulSet keeps
	// (more than spec.replicas while the master must first move off a
	// pod a scale-in removes).
	nodeSetSize int
	// usersPending: spec.users could not be applied on every data node
	// yet; usersMissing says which users' Secrets are missing.
	usersPending bool
	usersMissing string
	// preparingFailover: replica-priority 0 is set on the replicas a
	// failover must not promote; the live config must not undo it.
	preparingFailover bool
}

// Reconcile brings one RedisReplication one step closer to its spec.
func (r *RedisReplicationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	rr := &v1alpha1.RedisReplication{}
	if err := r.Get(ctx, req.NamespacedName, rr); err != nil {
		if apierrors.IsNotFound(err) {
			r.watcher.stop(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if rr.IsPaused() || !rr.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	st := &replState{log: log.FromContext(ctx), rr: rr, desired: rr.DeepCopy()}
	st.desired.Spec.Default(r.DefaultNodeImage)
	before := rr.DeepCopy()
	res, err := r.steps(ctx, st)
	if err != nil {
		rr.SetCondition(v1alpha1.ConditionDegraded, metav1.ConditionTrue, v1alpha1.ReasonReconcileError, err.Error())
	}
	rr.Status.ObservedGeneration = rr.Generation
	if perr := r.patchReplicationStatus(ctx, before, rr); perr != nil && err == nil {
		err = perr
	}
	return res, err
}

// steps are the reconcile's ordered steps; each may end it early.
func (r *RedisReplicationReconciler) steps(ctx context.Context, st *replState) (ctrl.Result, error) {
	if err := r.ensureReplicationSecret(ctx, st); err != nil {
		return ctrl.Result{}, err
	}
	if res, err := r.ensureReplicationTLS(ctx, st); err != nil || !res.IsZero() {
		return res, err
	}
	if err := r.observeReplication(ctx, st); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.applyReplicationObjects(ctx, st); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.ensureReplicationMonitoring(ctx, st); err != nil {
		return ctrl.Result{}, err
	}
	r.watcher.ensure(client.ObjectKeyFromObject(st.rr), r.sentinelAddrs(st), st.tls)
	if err := r.pointReplicas(ctx, st); err != nil {
		return ctrl.Result{}, err
	}
	if res, held, err := r.ensureReplicationRestore(ctx, st); err != nil || held {
		return res, err
	}
	if err := r.labelRoles(ctx, st); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.ensureReplicationUsers(ctx, st); err != nil {
		return ctrl.Result{}, err
	}
	acted, err := r.dayTwo(ctx, st)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.applyReplicationLiveConfig(ctx, st); err != nil {
		st.log.V(1).Info("live config not applied yet", "error", err)
	}
	ready := r.writeReplicationStatus(st)
	if st.usersMissing != "" {
		st.rr.SetCondition(v1alpha1.ConditionDegraded, metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound, st.usersMissing)
	}
	if acted || !ready || st.usersPending {
		return ctrl.Result{RequeueAfter: replicationConverging}, nil
	}
	return ctrl.Result{RequeueAfter: replicationResync}, nil
}

// ensureReplicationSecret reads the password, generating the Secret when
// spec.auth names none; with the default user off, the operator's own
// (<name>-operator, generated once) is who it is on the data nodes.
func (r *RedisReplicationReconciler) ensureReplicationSecret(ctx context.Context, st *replState) error {
	if err := r.ensureAuthSecret(ctx, st); err != nil || !st.desired.Spec.IsDefaultUserDisabled() {
		return err
	}
	key := client.ObjectKey{Namespace: st.rr.Namespace, Name: builders.ReplicationOperatorSecretName(st.desired)}
	password, err := ensureOperatorPassword(ctx, operatorSecretSource{r.Client, r.APIReader, r.Recorder, r.NewPassword}, st.rr, key,
		func(pw string) *corev1.Secret { return builders.ReplicationOperatorSecret(st.desired, pw) })
	if err != nil {
		return err
	}
	st.username, st.password = users.OperatorUser, password
	return nil
}

// ensureAuthSecret reads spec.auth's password, generating the Secret when
// spec.auth names none.
func (r *RedisReplicationReconciler) ensureAuthSecret(ctx context.Context, st *replState) error {
	ref, generated := st.desired.AuthSecret()
	sec := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: st.rr.Namespace, Name: ref.Name}, sec)
	switch {
	case err == nil:
		pw, ok := sec.Data[ref.Key]
		if !ok {
			return fmt.Errorf("secret %s has no key %s", ref.Name, ref.Key)
		}
		st.password = string(pw)
		return nil
	case !apierrors.IsNotFound(err):
		return err
	case !generated:
		return fmt.Errorf("secret %s not found", ref.Name)
	}
	pw, err := r.NewPassword()
	if err != nil {
		return err
	}
	if err := r.Create(ctx, builders.ReplicationAuthSecret(st.desired, pw)); err != nil {
		return err
	}
	st.password = pw
	return nil
}

func (r *RedisReplicationReconciler) podHost(rr *v1alpha1.RedisReplication, pod *corev1.Pod) string {
	if r.PodHost != nil {
		return r.PodHost(rr, pod)
	}
	return builders.ReplicationPodHost(rr, pod.Name)
}

func podOrdinal(pod, set string) (int, bool) {
	o, err := strconv.Atoi(strings.TrimPrefix(pod, set+"-"))
	return o, err == nil && strings.HasPrefix(pod, set+"-")
}

func isPodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// observeReplication lists the pods, asks every data node for INFO
// replication and every sentinel for the master's address, and plans.
func (r *RedisReplicationReconciler) observeReplication(ctx context.Context, st *replState) error {
	rr := st.desired
	list := func(sel map[string]string) (map[string]*corev1.Pod, error) {
		var pods corev1.PodList
		if err := r.List(ctx, &pods, client.InNamespace(rr.Namespace), client.MatchingLabels(sel)); err != nil {
			return nil, err
		}
		out := map[string]*corev1.Pod{}
		for i := range pods.Items {
			if pods.Items[i].DeletionTimestamp.IsZero() {
				out[pods.Items[i].Name] = &pods.Items[i]
			}
		}
		return out, nil
	}
	var err error
	if st.nodes, err = list(builders.ReplicationNodeSelector(rr)); err != nil {
		return err
	}
	if st.sents, err = list(builders.ReplicationSentinelSelector(rr)); err != nil {
		return err
	}
	sts := &appsv1.StatefulSet{}
	template := ""
	if err := r.Get(ctx, types.NamespacedName{Namespace: rr.Namespace, Name: builders.ReplicationNodeSetName(rr)}, sts); err == nil {
		template = sts.Spec.Template.Annotations[builders.AnnotationPodTemplateHash]
	}
	in := replication.Input{
		WantReplicas:  int(rr.Spec.Replicas),
		WantSentinels: int(rr.Spec.Sentinel.Replicas),
		KnownMaster:   st.rr.Status.Master,
	}
	for name, p := range st.nodes {
		o, ok := podOrdinal(name, builders.ReplicationNodeSetName(rr))
		if !ok {
			continue
		}
		n := replication.Node{Pod: name, Ordinal: o, Ready: isPodReady(p),
			Updated: template == "" || p.Annotations[builders.AnnotationPodTemplateHash] == template,
			Hosts:   []string{r.podHost(rr, p), builders.ReplicationPodHost(rr, name), p.Status.PodIP}}
		if p.Status.PodIP != "" {
			if info, err := r.nodeInfo(ctx, st, p.Status.PodIP); err == nil {
				n.Reachable, n.Info = true, replication.ParseInfo(info)
			}
		}
		in.Nodes = append(in.Nodes, n)
	}
	for name, p := range st.sents {
		s := replication.Sentinel{Pod: name}
		if p.Status.PodIP != "" {
			s = r.observeSentinel(ctx, st, name, p.Status.PodIP)
		}
		in.Sentinels = append(in.Sentinels, s)
	}
	st.in = in
	st.decision = replication.Plan(in)
	return nil
}

func (r *RedisReplicationReconciler) timeout() time.Duration {
	if r.NodeTimeout > 0 {
		return r.NodeTimeout
	}
	return nodeTimeout
}

// nodeClient is a client of the data node at ip, with the password and,
// with spec.tls, over TLS.
func (r *RedisReplicationReconciler) nodeClient(st *replState, ip string) *redis.Client {
	return r.client(st, net.JoinHostPort(ip, strconv.Itoa(builders.RedisPort)), st.username, st.password)
}

// sentinelClient is a client of the sentinel at ip (over TLS with
// spec.tls).
func (r *RedisReplicationReconciler) sentinelClient(st *replState, ip string) *redis.Client {
	return r.client(st, net.JoinHostPort(ip, strconv.Itoa(builders.SentinelPort)), "", "")
}

func (r *RedisReplicationReconciler) client(st *replState, addr, username, password string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: addr, Username: username, Password: password, TLSConfig: tlsConfigOf(st.tls),
		DialTimeout: r.timeout(), ReadTimeout: r.timeout(), WriteTimeout: r.timeout(),
		MaxRetries: -1, PoolSize: 1, DisableIdentity: true,
	})
}

func (r *RedisReplicationReconciler) nodeInfo(ctx context.Context, st *replState, ip string) (string, error) {
	c := r.nodeClient(st, ip)
	defer c.Close() //nolint:errcheck // a probe
	return c.Info(ctx, "replication").Result()
}

// observeSentinel asks a sentinel for the master's address (SENTINEL
// GET-MASTER-ADDR-BY-NAME; a null reply is no master of that name) and
// for the replicas it could use (SENTINEL REPLICAS). Reachable only when
// both answer.
func (r *RedisReplicationReconciler) observeSentinel(ctx context.Context, st *replState, pod, ip string) replication.Sentinel {
	name := st.desired.SentinelMasterName()
	s := replication.Sentinel{Pod: pod}
	c := r.sentinelClient(st, ip)
	defer c.Close() //nolint:errcheck // a probe
	reply, err := c.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", name).StringSlice()
	switch {
	case err == redis.Nil:
		s.Reachable = true
		return s
	case err != nil || len(reply) != 2:
		return s
	}
	replicas, err := sentinelReplicas(ctx, c, name)
	if err != nil {
		return s
	}
	for _, f := range replicas {
		if !sentinelFlagged(f["flags"], "s_down", "o_down", "disconnected") {
			s.Replicas = append(s.Replicas, f["ip"])
		}
	}
	s.Reachable, s.MasterHost = true, reply[0]
	return s
}

// sentinelReplicas is SENTINEL REPLICAS, one field map per replica.
func sentinelReplicas(ctx context.Context, c *redis.Client, name string) ([]map[string]string, error) {
	reply, err := c.Do(ctx, "SENTINEL", "REPLICAS", name).Slice()
	if err != nil {
		return nil, err
	}
	out := make([]map[string]string, 0, len(reply))
	for _, item := range reply {
		out = append(out, replyFields(item))
	}
	return out, nil
}

// sentinelFlagged reports whether a Sentinel "flags" field (comma
// separated) holds one of the flags.
func sentinelFlagged(flags string, want ...string) bool {
	for _, f := range strings.Split(flags, ",") {
		if slices.Contains(want, f) {
			return true
		}
	}
	return false
}

// masterHostForTemplate is the host sentinel.conf's template monitors: the
// current master's, else the last known one's, else the first pod's.
func (r *RedisReplicationReconciler) masterHostForTemplate(st *replState) string {
	pod := st.decision.Master
	if pod == "" {
		pod = st.rr.Status.Master
	}
	if p, ok := st.nodes[pod]; ok {
		return r.podHost(st.desired, p)
	}
	if pod == "" {
		pod = builders.ReplicationPodName(st.desired, 0)
	}
	return builders.ReplicationPodHost(st.desired, pod)
}

// applyReplicationObjects server-side applies the ConfigMap, Services,
// StatefulSets and PodDisruptionBudgets.
func (r *RedisReplicationReconciler) applyReplicationObjects(ctx context.Context, st *replState) error {
	rr := st.desired
	st.nodeSetSize = int(rr.Spec.Replicas)
	if len(st.nodes) > st.nodeSetSize {
		_, st.nodeSetSize = replication.NextScaleIn(st.decision, st.in.Nodes, int(rr.Spec.Replicas))
	}
	nodeSet := builders.ReplicationNodeStatefulSet(rr, builders.ReplicationRestartConfigHash(rr))
	nodeSet.Spec.Replicas = ptrInt32(int32(st.nodeSetSize))
	objs := []client.Object{builders.ReplicationConfigMap(rr, r.masterHostForTemplate(st))}
	for _, s := range builders.ReplicationServices(rr) {
		objs = append(objs, s)
	}
	objs = append(objs, nodeSet, builders.ReplicationSentinelStatefulSet(rr))
	if *rr.Spec.PodDisruptionBudget.Enabled {
		for _, p := range builders.ReplicationPDBs(rr) {
			objs = append(objs, p)
		}
	}
	for _, obj := range objs {
		if err := serverSideApply(ctx, r.Client, obj); err != nil {
			return err
		}
	}
	return nil
}

func ptrInt32(v int32) *int32 { return &v }

// pointReplicas sends REPLICAOF <master> to the nodes that do not follow
// the master (new nodes, and the first pod's peers at seeding).
func (r *RedisReplicationReconciler) pointReplicas(ctx context.Context, st *replState) error {
	d := st.decision
	if d.Master == "" || len(d.ReplicaOf) == 0 {
		return nil
	}
	host := r.podHost(st.desired, st.nodes[d.Master])
	for _, pod := range d.ReplicaOf {
		p := st.nodes[pod]
		c := r.nodeClient(st, p.Status.PodIP)
		err := c.Do(ctx, "REPLICAOF", host, strconv.Itoa(builders.RedisPort)).Err()
		_ = c.Close()
		if err != nil {
			return fmt.Errorf("REPLICAOF on %s: %w", pod, err)
		}
		st.log.Info("pointed at the master", "pod", pod, "master", d.Master)
		r.Recorder.Eventf(st.rr, corev1.EventTypeNormal, "Replicating", "REPLICAOF %s on %s", d.Master, pod)
	}
	return nil
}

// labelRoles puts the role label the planner decided on every data node pod.
func (r *RedisReplicationReconciler) labelRoles(ctx context.Context, st *replState) error {
	for pod, role := range st.decision.Roles {
		p, ok := st.nodes[pod]
		if !ok || p.Labels[builders.LabelRole] == role {
			continue
		}
		var value any
		if role != "" {
			value = role
		}
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%s}}}`, builders.LabelRole, jsonValue(value))
		if err := r.Patch(ctx, p, client.RawPatch(types.MergePatchType, []byte(patch))); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("labelling %s: %w", pod, err)
		}
		if role == replication.RoleMaster {
			st.log.Info("master labelled", "pod", pod)
			r.Recorder.Eventf(st.rr, corev1.EventTypeNormal, "MasterChanged", "%s is the master", pod)
		}
	}
	return nil
}

func jsonValue(v any) string {
	if v == nil {
		return "null"
	}
	return strconv.Quote(fmt.Sprint(v))
}

// dayTwo carries out at most one step of a switchover, a scale-in or a
// rolling update, in that order of priority. It reports whether it acted.
func (r *RedisReplicationReconciler) dayTwo(ctx context.Context, st *replState) (bool, error) {
	rr := st.rr
	if f := rr.Status.Failover; f != nil {
		// A failover the operator asked for: wait until the sentinels
		// report a master other than the one it was sent for, or time out.
		if st.decision.Master != "" && st.decision.Master != f.Pod {
			rr.Status.Failover = nil
		} else if time.Since(f.Time.Time) < time.Duration(st.desired.Spec.Sentinel.FailoverTimeout)*time.Millisecond {
			return true, nil
		} else {
			rr.Status.Failover = nil
		}
	}
	if target := rr.Annotations[v1alpha1.SwitchoverAnnotation]; target != "" &&
		(rr.Status.LastSwitchover == nil || rr.Status.LastSwitchover.Pod != target || rr.Status.LastSwitchover.Phase == "InProgress") {
		act, err := replication.NextSwitchover(st.decision, target)
		now := metav1.Now()
		switch {
		case err != nil:
			rr.Status.LastSwitchover = &v1alpha1.SwitchoverStatus{Pod: target, Phase: "Failed", Message: err.Error(), Time: &now}
			return false, nil
		case act.Kind == replication.ActNone:
			rr.Status.LastSwitchover = &v1alpha1.SwitchoverStatus{Pod: target, Phase: "Succeeded", Message: target + " is the master", Time: &now}
			return false, nil
		}
		if rr.Status.LastSwitchover == nil || rr.Status.LastSwitchover.Pod != target {
			rr.Status.LastSwitchover = &v1alpha1.SwitchoverStatus{Pod: target, Phase: "InProgress", Message: act.Message, Time: &now}
		}
		return true, r.act(ctx, st, act)
	}
	if len(st.nodes) > int(st.desired.Spec.Replicas) {
		if act, _ := replication.NextScaleIn(st.decision, st.in.Nodes, int(st.desired.Spec.Replicas)); act.Kind != replication.ActNone {
			return true, r.act(ctx, st, act)
		}
	}
	act := replication.NextRollout(st.decision, st.in.Nodes, st.nodeSetSize)
	if act.Kind == replication.ActNone || (act.Kind == replication.ActWait && st.decision.Master == "") {
		return false, nil
	}
	return true, r.act(ctx, st, act)
}

// act carries out one planned step.
func (r *RedisReplicationReconciler) act(ctx context.Context, st *replState, act replication.Action) error {
	switch act.Kind {
	case replication.ActDeletePod:
		st.log.Info("rolling update", "step", act.Message)
		r.Recorder.Event(st.rr, corev1.EventTypeNormal, "RollingUpdate", act.Message)
		return client.IgnoreNotFound(r.Delete(ctx, st.nodes[act.Pod]))
	case replication.ActFailover:
		for _, pod := range act.Exclude {
			// replica-priority 0: never promoted. applyReplicationLiveConfig
			// sets spec.config's value back once no failover is pending.
			if p, ok := st.nodes[pod]; ok {
				c := r.nodeClient(st, p.Status.PodIP)
				err := c.ConfigSet(ctx, "replica-priority", "0").Err()
				_ = c.Close()
				if err != nil {
					return fmt.Errorf("replica-priority 0 on %s: %w", pod, err)
				}
			}
		}
		st.preparingFailover = true
		sent, err := r.sentinelFailover(ctx, st, act.Exclude)
		if err != nil || !sent {
			return err
		}
		st.log.Info("SENTINEL FAILOVER", "reason", act.Message)
		r.Recorder.Event(st.rr, corev1.EventTypeNormal, "Failover", act.Message)
		st.rr.Status.Failover = &v1alpha1.PendingFailover{Pod: st.decision.Master, Reason: act.Message, Time: metav1.Now()}
	}
	return nil
}

// sentinelFailover sends SENTINEL FAILOVER to the first sentinel that
// knows every replica and already sees replica-priority 0 on every
// excluded one (a sentinel reads its replicas' INFO every few seconds,
// and chooses the replica to promote from what it last read) and accepts
// the command. It reports false, to be tried again, while no sentinel
// is ready to.
func (r *RedisReplicationReconciler) sentinelFailover(ctx context.Context, st *replState, exclude []string) (bool, error) {
	var last error
	name := st.desired.SentinelMasterName()
	for _, pod := range slices.Sorted(maps.Keys(st.sents)) {
		p := st.sents[pod]
		if p.Status.PodIP == "" {
			continue
		}
		c := r.sentinelClient(st, p.Status.PodIP)
		ok, err := r.sentinelReadyToFailover(ctx, c, st, exclude)
		if err == nil && ok {
			err = c.Do(ctx, "SENTINEL", "FAILOVER", name).Err()
		}
		_ = c.Close()
		if err == nil && ok {
			return true, nil
		}
		last = err
	}
	if last != nil {
		return false, fmt.Errorf("SENTINEL FAILOVER: %w", last)
	}
	return false, nil
}

// sentinelReadyToFailover reports whether SENTINEL REPLICAS lists every
// replica of the master (a failover leaves a replica it does not know
// behind the old master) and every excluded pod with slave-priority 0.
func (r *RedisReplicationReconciler) sentinelReadyToFailover(ctx context.Context, c *redis.Client, st *replState, exclude []string) (bool, error) {
	replicas, err := sentinelReplicas(ctx, c, st.desired.SentinelMasterName())
	if err != nil {
		return false, err
	}
	priority := map[string]string{}
	for _, f := range replicas {
		if pod := replication.PodOf(st.in.Nodes, f["ip"]); pod != "" {
			priority[pod] = f["slave-priority"]
		}
	}
	for _, rep := range st.decision.Replicas {
		if _, ok := priority[rep.Pod]; !ok {
			return false, nil
		}
	}
	for _, pod := range exclude {
		if priority[pod] != "0" {
			return false, nil
		}
	}
	return true, nil
}

// replyFields reads a Sentinel instance description: a flat list of field
// names and values (RESP2) or a map (RESP3).
func replyFields(item any) map[string]string {
	out := map[string]string{}
	switch t := item.(type) {
	case []any:
		for i := 0; i+1 < len(t); i += 2 {
			out[fmt.Sprint(t[i])] = fmt.Sprint(t[i+1])
		}
	case map[any]any:
		for k, v := range t {
			out[fmt.Sprint(k)] = fmt.Sprint(v)
		}
	}
	return out
}

// applyReplicationLiveConfig sets spec.config's live keys on every data
// node that answers (replica-priority back to its spec value too, once no
// failover is pending).
func (r *RedisReplicationReconciler) applyReplicationLiveConfig(ctx context.Context, st *replState) error {
	if st.rr.Status.Failover != nil || st.preparingFailover {
		return nil
	}
	want := builders.ReplicationLiveConfig(st.desired)
	if _, ok := want["replica-priority"]; !ok {
		want["replica-priority"] = "100"
	}
	for _, n := range st.in.Nodes {
		if !n.Reachable {
			continue
		}
		c := r.nodeClient(st, st.nodes[n.Pod].Status.PodIP)
		err := setLive(ctx, c, want)
		_ = c.Close()
		if err != nil {
			return fmt.Errorf("CONFIG SET on %s: %w", n.Pod, err)
		}
	}
	return nil
}

// setLive sets the keys whose CONFIG GET value differs.
func setLive(ctx context.Context, c *redis.Client, want map[string]string) error {
	have, err := c.ConfigGet(ctx, "*").Result()
	if err != nil {
		return err
	}
	var args []any
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if h, ok := have[k]; !ok || h != want[k] {
			args = append(args, k, want[k])
		}
	}
	if len(args) == 0 {
		return nil
	}
	return c.Do(ctx, append([]any{"CONFIG", "SET"}, args...)...).Err()
}

// writeReplicationStatus records the decision and the conditions, and
// reports whether the replication is Ready.
func (r *RedisReplicationReconciler) writeReplicationStatus(st *replState) bool {
	rr, d := st.rr, st.decision
	if d.Master != "" {
		rr.Status.Master = d.Master
		rr.Status.MasterAddress = net.JoinHostPort(d.MasterHost, strconv.Itoa(builders.RedisPort))
	}
	rr.Status.Replicas = nil
	for _, rep := range d.Replicas {
		link := "down"
		if rep.LinkUp {
			link = "up"
		}
		rr.Status.Replicas = append(rr.Status.Replicas, v1alpha1.ReplicationReplicaStatus{
			Pod: rep.Pod, LinkState: link, Offset: rep.Offset, LagBytes: rep.LagBytes, Synced: rep.Synced})
	}
	rr.Status.ReadyReplicas = int32(d.ReadyReplicas)
	rr.Status.Sentinels = int32(d.AgreeingSentinels)
	rr.Status.Selector = labels.SelectorFromSet(builders.ReplicationNodeSelector(st.desired)).String()
	ready, msg := d.Ready(st.in)
	switch {
	case ready:
		rr.SetCondition(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonReplicationOK, msg)
		rr.SetCondition(v1alpha1.ConditionDegraded, metav1.ConditionFalse, v1alpha1.ReasonAsExpected, "")
	case d.Master == "":
		rr.SetCondition(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonNoMaster, msg)
		rr.SetCondition(v1alpha1.ConditionDegraded, metav1.ConditionTrue, v1alpha1.ReasonNoMaster, msg)
	case d.AgreeingSentinels < st.in.WantSentinels:
		rr.SetCondition(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonSentinelsMissing, msg)
		rr.SetCondition(v1alpha1.ConditionDegraded, metav1.ConditionTrue, v1alpha1.ReasonSentinelsMissing, msg)
	default:
		rr.SetCondition(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonReplicasSyncing, msg)
		rr.SetCondition(v1alpha1.ConditionDegraded, metav1.ConditionFalse, v1alpha1.ReasonAsExpected, "")
	}
	return ready
}

func (r *RedisReplicationReconciler) patchReplicationStatus(ctx context.Context, before, rr *v1alpha1.RedisReplication) error {
	if equality.Semantic.DeepEqual(before.Status, rr.Status) {
		return nil
	}
	patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
	if err := r.Status().Patch(ctx, rr, patch); err != nil && !apierrors.IsNotFound(err) {
		if apierrors.IsConflict(err) {
			return nil
		}
		return fmt.Errorf("patching status: %w", err)
	}
	return nil
}

// sentinelAddrs are the sentinels' addresses for the +switch-master
// subscription.
func (r *RedisReplicationReconciler) sentinelAddrs(st *replState) []string {
	var out []string
	for _, p := range st.sents {
		if p.Status.PodIP != "" {
			out = append(out, net.JoinHostPort(p.Status.PodIP, strconv.Itoa(builders.SentinelPort)))
		}
	}
	slices.Sort(out)
	return out
}

// SetupWithManager registers the controller: RedisReplications, the objects
// they own, their pods, and the +switch-master events of their sentinels.
func (r *RedisReplicationReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	r.watcher = newSwitchWatcher(log.Log.WithName("switch-master"))
	if err := mgr.Add(r.watcher); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.RedisReplication{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToOwner(builders.LabelReplication))).
		WatchesRawSource(source.Channel(r.watcher.events, &handler.TypedEnqueueRequestForObject[*v1alpha1.RedisReplication]{})).
		Named("redisreplication").
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, workers)}).
		Complete(r)
}
