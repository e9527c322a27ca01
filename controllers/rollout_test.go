package controllers

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// rolloutWait bounds the long waits of these tests (a whole rolling update
// of six real nodes on a loaded 2-core machine).
const rolloutWait = 4 * time.Minute

// failpoints lets a test stop the operator at a named point of one
// cluster's reconcile, once, as if it crashed there
// (RedisClusterReconciler.Failpoint).
type failpoints struct {
	mu    sync.Mutex
	armed map[string]bool
	hits  map[string]int
}

func newFailpoints() *failpoints {
	return &failpoints{armed: map[string]bool{}, hits: map[string]int{}}
}

func fpKey(key client.ObjectKey, point string) string { return key.String() + " " + point }

// Arm makes the next Hit of point for the cluster key return true.
func (f *failpoints) Arm(key client.ObjectKey, point string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed[fpKey(key, point)] = true
}

// Hit is the reconciler's Failpoint.
func (f *failpoints) Hit(key client.ObjectKey, point string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := fpKey(key, point)
	if !f.armed[k] {
		return false
	}
	delete(f.armed, k)
	f.hits[k]++
	return true
}

// Hits is how often point stopped the operator for key.
func (f *failpoints) Hits(key client.ObjectKey, point string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[fpKey(key, point)]
}

// podSim plays the StatefulSet controller and the kubelet for one
// namespace: for every ordinal a StatefulSet asks for it runs a real node
// process on a loopback address of its own and keeps a Ready pod made from
// the StatefulSet's current template. When the operator deletes a pod, it
// stops the process (SIGTERM, as the kubelet does), starts it again on the
// same data directory (same nodes.conf, same node ID) with the current
// ConfigMap and template, and makes the pod again. Ordinals a StatefulSet
// no longer asks for are stopped and their pods deleted.
type podSim struct {
	t        *testing.T
	c        client.Client
	ns       string
	bin      string
	password string
	// env are the pod's other environment variables, expanded as the
	// kubelet expands $(NAME) anywhere in an argument.
	env map[string]string

	// nodeName, when set, is the Kubernetes node each pod is placed on.
	nodeName func(pod string) string

	mu        sync.Mutex
	nodes     map[string]*simNode
	deletions []simDeletion
	removals  []simDeletion
	starts    map[string]int
}

// simDeletion is a pod the operator deleted, and the role its node had
// then (ROLE's first element: "master" or "slave").
type simDeletion struct {
	pod, role string
}

type simNode struct {
	ip, dir string
	proc    *nodetest.Proc
}

func newPodSim(t *testing.T, c client.Client, ns, bin, password string, opts ...func(*podSim)) *podSim {
	s := &podSim{t: t, c: c, ns: ns, bin: bin, password: password, nodes: map[string]*simNode{}, starts: map[string]int{}}
	for _, o := range opts {
		o(s)
	}
	stop := simLoop(t, "pod simulator", s.sync)
	t.Cleanup(func() {
		stop()
		s.mu.Lock()
		defer s.mu.Unlock()
		for name, n := range s.nodes {
			n.stop()
			if t.Failed() {
				t.Logf("node %s (%s) log:\n%s", name, n.ip, n.log())
			}
		}
	})
	return s
}

// simLoop runs sync every pollInterval, logging its errors as name's,
// until the returned stop is called; stop returns once sync has returned.
func simLoop(t *testing.T, name string, sync func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if err := sync(ctx); err != nil && ctx.Err() == nil {
				t.Logf("%s: %v", name, err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(pollInterval):
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

func (s *podSim) sync(ctx context.Context) error {
	var list appsv1.StatefulSetList
	if err := s.c.List(ctx, &list, client.InNamespace(s.ns)); err != nil {
		return err
	}
	for i := range list.Items {
		sts := &list.Items[i]
		for o := range int(*sts.Spec.Replicas) {
			if err := s.syncPod(ctx, sts, fmt.Sprintf("%s-%d", sts.Name, o)); err != nil {
				return err
			}
		}
		if err := s.removeBeyond(ctx, sts); err != nil {
			return err
		}
	}
	return nil
}

// syncPod makes sure the pod exists and its node runs.
func (s *podSim) syncPod(ctx context.Context, sts *appsv1.StatefulSet, name string) error {
	pod := &corev1.Pod{}
	err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, pod)
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return err
	}
	s.mu.Lock()
	n, known := s.nodes[name]
	s.mu.Unlock()
	if known {
		// The operator deleted the pod: note what the node was, stop it.
		role := nodeRole(ctx, n.ip, s.password)
		s.mu.Lock()
		s.deletions = append(s.deletions, simDeletion{pod: name, role: role})
		s.mu.Unlock()
		n.stop()
	} else {
		n = &simNode{ip: freeLoopbackIPs(s.t, 1)[0], dir: s.t.TempDir()}
	}
	if err := s.start(ctx, sts, n); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	s.mu.Lock()
	s.nodes[name] = n
	s.starts[name]++
	s.mu.Unlock()
	return s.makePod(ctx, sts, name, n.ip)
}

// removeBeyond stops the nodes of ordinals the StatefulSet no longer has.
func (s *podSim) removeBeyond(ctx context.Context, sts *appsv1.StatefulSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, n := range s.nodes {
		var o int
		if !strings.HasPrefix(name, sts.Name+"-") {
			continue
		}
		if _, err := fmt.Sscanf(strings.TrimPrefix(name, sts.Name+"-"), "%d", &o); err != nil || o < int(*sts.Spec.Replicas) {
			continue
		}
		s.removals = append(s.removals, simDeletion{pod: name, role: nodeRole(ctx, n.ip, s.password)})
		n.stop()
		delete(s.nodes, name)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name}}
		if err := s.c.Delete(ctx, pod); client.IgnoreNotFound(err) != nil {
			return err
		}
	}
	return nil
}

// start runs the node as the pod's container would: the template's args,
// with the ConfigMap's node.conf, the data directory, the pod IP and the
// password substituted, bound to the pod's address.
func (s *podSim) start(ctx context.Context, sts *appsv1.StatefulSet, n *simNode) error {
	cm := &corev1.ConfigMap{}
	if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: sts.Labels[builders.LabelCluster] + "-config"}, cm); err != nil {
		return err
	}
	conf := filepath.Join(n.dir, "node.conf")
	if err := os.WriteFile(conf, []byte(cm.Data[builders.ConfigFileKey]), 0o600); err != nil {
		return err
	}
	var args []string
	for _, a := range sts.Spec.Template.Spec.Containers[0].Args {
		switch a {
		case builders.ConfigDir + "/" + builders.ConfigFileKey:
			a = conf
		case builders.DataDir:
			a = n.dir
		case fmt.Sprintf("$(%s)", builders.PodIPEnv):
			a = n.ip
		case fmt.Sprintf("$(%s)", builders.PasswordEnv):
			a = s.password
		}
		for k, v := range s.env {
			a = strings.ReplaceAll(a, "$("+k+")", v)
		}
		args = append(args, a)
	}
	args = append(args, "--bind", n.ip)
	p, err := nodetest.Launch(nodetest.Options{Binary: s.bin, CommandLine: args, Host: n.ip, Port: builders.RedisPort,
		Dir: n.dir, Log: n.dir + ".log", Ready: waitFor, Grace: 20 * time.Second})
	if err != nil {
		return err
	}
	n.proc = p
	return p.WaitReady()
}

// makePod creates the pod from the StatefulSet's current template, running
// and Ready at ip.
func (s *podSim) makePod(ctx context.Context, sts *appsv1.StatefulSet, name, ip string) error {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: s.ns, Name: name,
			Labels:      sts.Spec.Template.Labels,
			Annotations: sts.Spec.Template.Annotations,
		},
		Spec: *sts.Spec.Template.Spec.DeepCopy(),
	}
	if s.nodeName != nil {
		pod.Spec.NodeName = s.nodeName(name)
	}
	if err := s.c.Create(ctx, pod); err != nil {
		return err
	}
	now := metav1.Now()
	pod.Status = corev1.PodStatus{
		Phase:      corev1.PodRunning,
		PodIP:      ip,
		PodIPs:     []corev1.PodIP{{IP: ip}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}},
	}
	return s.c.Status().Update(ctx, pod)
}

// stop sends SIGTERM and waits for the node to exit (SIGKILL after 20s).
func (n *simNode) stop() {
	if n.proc != nil && !n.proc.Stop(20*time.Second) {
		n.proc.Kill()
	}
}

// log is what the node logged since it last started.
func (n *simNode) log() string {
	if n.proc == nil {
		return ""
	}
	return n.proc.Log()
}

func nodeRole(ctx context.Context, ip, password string) string {
	rdb := redis.NewClient(&redis.Options{Addr: ip + ":6379", Password: password, MaxRetries: -1})
	defer rdb.Close() //nolint:errcheck // test probe
	reply, err := rdb.Do(ctx, "ROLE").Slice()
	if err != nil || len(reply) == 0 {
		return "unknown"
	}
	role, _ := reply[0].(string)
	return role
}

// snapshot returns the deletions and start counts so far.
func (s *podSim) snapshot() ([]simDeletion, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	starts := make(map[string]int, len(s.starts))
	for k, v := range s.starts {
		starts[k] = v
	}
	return slices.Clone(s.deletions), starts
}

// addrs are the client addresses of every node.
func (s *podSim) addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, n := range s.nodes {
		out = append(out, n.ip+":6379")
	}
	slices.Sort(out)
	return out
}

func (s *podSim) ip(pod string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodes[pod].ip
}

// poll is eventually with its own deadline.
func poll(t *testing.T, within time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %v", within, err)
		}
		time.Sleep(pollInterval)
	}
}

// writer writes unique keys through a cluster client until stopped and
// remembers the ones acknowledged.
type writer struct {
	rdb   *redis.ClusterClient
	mu    sync.Mutex
	acked map[string]string
	fails int
}

func (w *writer) run(ctx context.Context, prefix string) {
	for i := 0; ctx.Err() == nil; i++ {
		k, v := fmt.Sprintf("%s:%d", prefix, i), fmt.Sprintf("v%d", i)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := w.rdb.Set(wctx, k, v, 0).Err()
		cancel()
		w.mu.Lock()
		if err == nil {
			w.acked[k] = v
		} else {
			w.fails++
		}
		w.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
}

// verify reads every acknowledged key back.
func (w *writer) verify(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, v := range w.acked {
		got, err := w.rdb.Get(ctx, k).Result()
		if err != nil {
			return fmt.Errorf("key %s: %w", k, err)
		}
		if got != v {
			return fmt.Errorf("key %s: got %q, want %q", k, got, v)
		}
	}
	return nil
}

func clusterCheck(addr, password string) error {
	out, err := exec.Command("redis-cli", "--cluster", "check", addr, "-a", password, "--no-auth-warning").CombinedOutput()
	if err != nil {
		return fmt.Errorf("redis-cli --cluster check: %w\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("[OK] All 16384 slots covered.")) ||
		bytes.Contains(out, []byte("[ERR]")) || bytes.Contains(out, []byte("[WARNING]")) {
		return fmt.Errorf("redis-cli --cluster check:\n%s", out)
	}
	return nil
}

// templateHashes are the pod-template hashes of the cluster's StatefulSets.
func templateHashes(t *testing.T, ns string) map[string]string {
	var list appsv1.StatefulSetList
	if err := testEnv.c.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, sts := range list.Items {
		out[sts.Name] = sts.Spec.Template.Annotations[builders.AnnotationPodTemplateHash]
	}
	return out
}

// shardSizes are the replicas of the cluster's StatefulSets.
func shardSizes(t *testing.T, ns string) map[string]int32 {
	var list appsv1.StatefulSetList
	if err := testEnv.c.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	out := map[string]int32{}
	for _, sts := range list.Items {
		out[sts.Name] = *sts.Spec.Replicas
	}
	return out
}

// podUIDs are the UIDs of the cluster's pods by name.
func podUIDs(t *testing.T, ns string) map[string]string {
	var list corev1.PodList
	if err := testEnv.c.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range list.Items {
		out[p.Name] = string(p.UID)
	}
	return out
}

func updateCluster(t *testing.T, c client.Client, key client.ObjectKey, change func(*v1alpha1.RedisCluster)) {
	t.Helper()
	poll(t, waitFor, func() error {
		rc := &v1alpha1.RedisCluster{}
		if err := c.Get(context.Background(), key, rc); err != nil {
			return err
		}
		change(rc)
		return c.Update(context.Background(), rc)
	})
}

func getCluster(c client.Client, key client.ObjectKey) (*v1alpha1.RedisCluster, error) {
	rc := &v1alpha1.RedisCluster{}
	return rc, c.Get(context.Background(), key, rc)
}

// TestDay2PodOperationsOfShoalNodes runs a 3-master, 1-replica cluster of
// this repository's node under the operator, with the test playing the
// StatefulSet controller and the kubelet, and takes it through a rolling
// image update (with the operator stopped twice mid-way by failpoints), a
// live configuration change and switchovers.
func TestDay2PodOperationsOfShoalNodes(t *testing.T) {
	bin := nodetest.Binary(t)
	ns := newNamespace(t)
	rc := newCluster(ns, "day2", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.ReplicasPerMaster = 1
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	secret := &corev1.Secret{}
	poll(t, waitFor, func() error {
		return testEnv.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "day2-auth"}, secret)
	})
	password := string(secret.Data["password"])
	sim := newPodSim(t, testEnv.c, ns, bin, password)

	start := time.Now()
	poll(t, rolloutWait, func() error {
		rc, err := getCluster(testEnv.c, key)
		if err != nil {
			return err
		}
		if c := rc.Condition(v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("not ready: %+v", c)
		}
		return nil
	})
	t.Logf("formed in %s", time.Since(start).Round(time.Millisecond))

	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: sim.addrs(), Password: password, MaxRedirects: 8})
	t.Cleanup(func() { _ = rdb.Close() })
	w := &writer{rdb: rdb, acked: map[string]string{}}
	ctx := context.Background()
	for i := range 300 {
		k, v := fmt.Sprintf("before:%d", i), fmt.Sprintf("v%d", i)
		if err := rdb.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
		w.acked[k] = v
	}

	t.Run("rolling image update", func(t *testing.T) {
		before := templateHashes(t, ns)
		_, startsBefore := sim.snapshot()
		testEnv.failpoints.Arm(key, FailpointAfterPodDelete)
		testEnv.failpoints.Arm(key, FailpointAfterFailover)
		wctx, stopWriting := context.WithCancel(ctx)
		writing := make(chan struct{})
		go func() { defer close(writing); w.run(wctx, "during") }()

		start := time.Now()
		updateCluster(t, testEnv.c, key, func(rc *v1alpha1.RedisCluster) { rc.Spec.Image = "shoal/node:envtest-v2" })
		var sawRollout bool
		poll(t, rolloutWait, func() error {
			rc, err := getCluster(testEnv.c, key)
			if err != nil {
				return err
			}
			sawRollout = sawRollout || rc.Status.Rollout != nil
			ru := rc.Condition(v1alpha1.ConditionRollingUpdate)
			ready := rc.Condition(v1alpha1.ConditionReady)
			if ru == nil || ru.Status != metav1.ConditionFalse || ru.ObservedGeneration != rc.Generation || rc.Status.Rollout != nil ||
				ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != rc.Generation {
				return fmt.Errorf("rollout not finished: RollingUpdate %+v, rollout %+v, Ready %+v", ru, rc.Status.Rollout, ready)
			}
			return nil
		})
		stopWriting()
		<-writing
		t.Logf("rolled 6 pods in %s; %d writes acknowledged during the rollout, %d failed", time.Since(start).Round(time.Millisecond), len(w.acked)-300, w.fails)

		if !sawRollout {
			t.Error("status.rollout was never seen set during the rollout")
		}
		after := templateHashes(t, ns)
		for name, h := range after {
			if h == before[name] {
				t.Errorf("%s: template hash did not change with the image", name)
			}
		}
		var pods corev1.PodList
		if err := testEnv.c.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			sts := p.Name[:strings.LastIndex(p.Name, "-")]
			if p.Annotations[builders.AnnotationPodTemplateHash] != after[sts] || p.Spec.Containers[0].Image != "shoal/node:envtest-v2" {
				t.Errorf("pod %s not updated: hash %s image %s", p.Name, p.Annotations[builders.AnnotationPodTemplateHash], p.Spec.Containers[0].Image)
			}
		}
		deletions, startsAfter := sim.snapshot()
		for name, n := range startsAfter {
			if n != startsBefore[name]+1 {
				t.Errorf("pod %s started %d times during the rollout, want once", name, n-startsBefore[name])
			}
		}
		for _, d := range deletions {
			if d.role != "slave" {
				t.Errorf("pod %s was deleted while its node was %s: only replicas may restart", d.pod, d.role)
			}
		}
		if len(deletions) != 6 {
			t.Errorf("%d pod deletions, want 6: %v", len(deletions), deletions)
		}
		// Replicas first: the first deletion of each shard is its original
		// replica (ordinal 1), the old master (ordinal 0) restarts after it.
		order := map[string][]string{}
		for _, d := range deletions {
			sts := d.pod[:strings.LastIndex(d.pod, "-")]
			order[sts] = append(order[sts], d.pod)
		}
		for sts, pods := range order {
			if !slices.Equal(pods, []string{sts + "-1", sts + "-0"}) {
				t.Errorf("%s restarted in order %v, want the replica then the old master", sts, pods)
			}
		}
		for _, fp := range []string{FailpointAfterPodDelete, FailpointAfterFailover} {
			if testEnv.failpoints.Hits(key, fp) != 1 {
				t.Errorf("failpoint %s hit %d times, want 1", fp, testEnv.failpoints.Hits(key, fp))
			}
		}
		// (Events are not counted: client-go's spam filter drops an
		// object's events beyond a burst of 25.)
		rc, err := getCluster(testEnv.c, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(rc.Status.Failovers) != 0 {
			t.Errorf("failovers still pending after the rollout: %+v", rc.Status.Failovers)
		}
		for _, sh := range rc.Status.Shards {
			if sh.Master == nil || !strings.HasSuffix(sh.Master.Pod, "-1") {
				t.Errorf("shard %s: master %+v, want ordinal 1 (promoted by the rollout's failover)", sh.Name, sh.Master)
			}
		}
		if err := w.verify(ctx); err != nil {
			t.Error(err)
		}
		// Ready says every shard serves its slots; the last failover's
		// epoch may still be on its way by gossip to some node, which
		// redis-cli reports as a disagreement for a moment.
		poll(t, waitFor, func() error { return clusterCheck(sim.addrs()[0], password) })
	})

	t.Run("live config change restarts nothing", func(t *testing.T) {
		uids := podUIDs(t, ns)
		hashes := templateHashes(t, ns)
		deletionsBefore, _ := sim.snapshot()
		updateCluster(t, testEnv.c, key, func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Config = map[string]v1alpha1.ConfigValue{"maxmemory-policy": "allkeys-lru", "slowlog-max-len": "333"}
		})
		poll(t, rolloutWait, func() error {
			for _, addr := range sim.addrs() {
				c := redis.NewClient(&redis.Options{Addr: addr, Password: password, MaxRetries: -1})
				got, err := c.ConfigGet(ctx, "*").Result()
				_ = c.Close()
				if err != nil {
					return err
				}
				if got["maxmemory-policy"] != "allkeys-lru" || got["slowlog-max-len"] != "333" {
					return fmt.Errorf("%s: maxmemory-policy %q slowlog-max-len %q", addr, got["maxmemory-policy"], got["slowlog-max-len"])
				}
			}
			return nil
		})
		poll(t, waitFor, func() error {
			rc, err := getCluster(testEnv.c, key)
			if err != nil {
				return err
			}
			if c := rc.Condition(v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != rc.Generation {
				return fmt.Errorf("not ready after the config change: %+v", c)
			}
			return nil
		})
		if after := podUIDs(t, ns); !mapsEqual(after, uids) {
			t.Errorf("pods changed with a live config change: %v -> %v", uids, after)
		}
		if after := templateHashes(t, ns); !mapsEqual(after, hashes) {
			t.Errorf("template hashes changed with a live config change: %v -> %v", hashes, after)
		}
		if d, _ := sim.snapshot(); len(d) != len(deletionsBefore) {
			t.Errorf("pods deleted by a live config change: %v", d[len(deletionsBefore):])
		}
	})

	t.Run("switchover", func(t *testing.T) {
		// After the rollout the replicas are the ordinals 0.
		target := "day2-shard-2-0"
		if role := nodeRole(ctx, sim.ip(target), password); role != "slave" {
			t.Fatalf("%s is %s before the switchover", target, role)
		}
		switchover := func(pod string) *v1alpha1.SwitchoverStatus {
			updateCluster(t, testEnv.c, key, func(rc *v1alpha1.RedisCluster) {
				if rc.Annotations == nil {
					rc.Annotations = map[string]string{}
				}
				rc.Annotations[v1alpha1.SwitchoverAnnotation] = pod
			})
			var last *v1alpha1.SwitchoverStatus
			poll(t, rolloutWait, func() error {
				rc, err := getCluster(testEnv.c, key)
				if err != nil {
					return err
				}
				last = rc.Status.LastSwitchover
				if last == nil || last.Pod != pod || last.Phase == "InProgress" {
					return fmt.Errorf("switchover to %s: %+v", pod, last)
				}
				return nil
			})
			return last
		}
		if last := switchover(target); last.Phase != "Succeeded" {
			t.Errorf("switchover to replica %s: %+v", target, last)
		}
		if role := nodeRole(ctx, sim.ip(target), password); role != "master" {
			t.Errorf("%s is %s after the switchover", target, role)
		}
		if last := switchover("day2-shard-0-1"); last.Phase != "Succeeded" || !strings.Contains(last.Message, "is the master") {
			t.Errorf("switchover to a master: %+v", last)
		}
		if last := switchover("day2-shard-7-0"); last.Phase != "Failed" || !strings.Contains(last.Message, "not a node of this cluster") {
			t.Errorf("switchover to a pod that does not exist: %+v", last)
		}
		if err := w.verify(ctx); err != nil {
			t.Error(err)
		}
		poll(t, waitFor, func() error { return clusterCheck(sim.addrs()[0], password) })
	})

	t.Run("replica scale-down moves the master off the removed pod first", func(t *testing.T) {
		updateCluster(t, testEnv.c, key, func(rc *v1alpha1.RedisCluster) { rc.Spec.ReplicasPerMaster = 2 })
		waitReady(t, testEnv.c, key)
		const target = "day2-shard-1-2"
		updateCluster(t, testEnv.c, key, func(rc *v1alpha1.RedisCluster) { rc.Annotations[v1alpha1.SwitchoverAnnotation] = target })
		poll(t, rolloutWait, func() error {
			rc, err := getCluster(testEnv.c, key)
			if err != nil {
				return err
			}
			if last := rc.Status.LastSwitchover; last == nil || last.Pod != target || last.Phase != "Succeeded" {
				return fmt.Errorf("switchover to %s: %+v", target, last)
			}
			return nil
		})
		if role := nodeRole(ctx, sim.ip(target), password); role != "master" {
			t.Fatalf("%s is %s after the switchover", target, role)
		}

		start := time.Now()
		updateCluster(t, testEnv.c, key, func(rc *v1alpha1.RedisCluster) { rc.Spec.ReplicasPerMaster = 1 })
		waitReady(t, testEnv.c, key)
		poll(t, rolloutWait, func() error {
			if n := len(sim.addrs()); n != 6 {
				rc, _ := getCluster(testEnv.c, key)
				return fmt.Errorf("%d nodes running, want 6; sizes %v; status %+v", n, shardSizes(t, ns), rc.Status)
			}
			return clusterCheck(sim.addrs()[0], password)
		})
		t.Logf("scaled replicas 2 -> 1 in %s", time.Since(start).Round(time.Millisecond))
		sim.mu.Lock()
		removals := slices.Clone(sim.removals)
		sim.mu.Unlock()
		if len(removals) != 3 {
			t.Errorf("removed pods %v, want the three ordinals 2", removals)
		}
		for _, d := range removals {
			if d.role != "slave" {
				t.Errorf("pod %s was removed while its node was %s", d.pod, d.role)
			}
		}
		rc, err := getCluster(testEnv.c, key)
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range rc.Status.Shards {
			if sh.Master == nil || strings.HasSuffix(sh.Master.Pod, "-2") || len(sh.Replicas) != 1 {
				t.Errorf("shard %s after the scale-down: master %+v replicas %+v", sh.Name, sh.Master, sh.Replicas)
			}
		}
		if err := w.verify(ctx); err != nil {
			t.Error(err)
		}
	})
}

// waitReady waits until the cluster is Ready for its current generation.
func waitReady(t *testing.T, c client.Client, key client.ObjectKey) *v1alpha1.RedisCluster {
	t.Helper()
	var rc *v1alpha1.RedisCluster
	poll(t, rolloutWait, func() error {
		var err error
		if rc, err = getCluster(c, key); err != nil {
			return err
		}
		if c := rc.Condition(v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != rc.Generation {
			return fmt.Errorf("not ready: %+v", c)
		}
		return nil
	})
	return rc
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRollingUpdateWithoutReplicasRestartsMastersAlone: with
// replicasPerMaster 0 there is no replica to fail over to, so each master
// restarts alone, one shard at a time, and status says so; its data comes
// back from its own volume.
func TestRollingUpdateWithoutReplicasRestartsMastersAlone(t *testing.T) {
	bin := nodetest.Binary(t)
	ns := newNamespace(t)
	rc := newCluster(ns, "alone", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.ReplicasPerMaster = 0
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	secret := &corev1.Secret{}
	poll(t, waitFor, func() error {
		return testEnv.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "alone-auth"}, secret)
	})
	password := string(secret.Data["password"])
	sim := newPodSim(t, testEnv.c, ns, bin, password)
	waitReady(t, testEnv.c, key)

	ctx := context.Background()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: sim.addrs(), Password: password, MaxRedirects: 8})
	t.Cleanup(func() { _ = rdb.Close() })
	w := &writer{rdb: rdb, acked: map[string]string{}}
	for i := range 200 {
		k, v := fmt.Sprintf("before:%d", i), fmt.Sprintf("v%d", i)
		if err := rdb.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
		w.acked[k] = v
	}

	start := time.Now()
	updateCluster(t, testEnv.c, key, func(rc *v1alpha1.RedisCluster) { rc.Spec.Image = "shoal/node:envtest-v2" })
	sawAlone := false
	poll(t, rolloutWait, func() error {
		rc, err := getCluster(testEnv.c, key)
		if err != nil {
			return err
		}
		ru := rc.Condition(v1alpha1.ConditionRollingUpdate)
		if ru != nil && ru.Status == metav1.ConditionTrue && ru.Reason == string(v1alpha1.ReasonRestartingMasterAlone) {
			sawAlone = true
		}
		ready := rc.Condition(v1alpha1.ConditionReady)
		if ru == nil || ru.Status != metav1.ConditionFalse || ru.ObservedGeneration != rc.Generation ||
			ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != rc.Generation {
			return fmt.Errorf("rollout not finished: RollingUpdate %+v, Ready %+v", ru, ready)
		}
		return nil
	})
	t.Logf("restarted 3 masters alone in %s", time.Since(start).Round(time.Millisecond))
	if !sawAlone {
		t.Errorf("RollingUpdate never said %s", v1alpha1.ReasonRestartingMasterAlone)
	}
	deletions, _ := sim.snapshot()
	if len(deletions) != 3 {
		t.Errorf("deletions %v, want the 3 masters", deletions)
	}
	for _, d := range deletions {
		if d.role != "master" {
			t.Errorf("%s was %s when deleted", d.pod, d.role)
		}
	}
	if err := w.verify(ctx); err != nil {
		t.Error(err)
	}
	poll(t, waitFor, func() error { return clusterCheck(sim.addrs()[0], password) })
}

// TestRollingUpdateResumesAfterOperatorRestarts stops the operator's
// process for real in the middle of a rolling update — its manager is
// cancelled right after it deleted a replica pod, and again right after it
// sent a CLUSTER FAILOVER, each time before it wrote its status — and
// starts a new one, which must finish the rollout from what it observes:
// replicas before masters, every acknowledged write kept, the cluster clean.
// It runs in an API server of its own (opEnv), where the test owns the
// operator.
func TestRollingUpdateResumesAfterOperatorRestarts(t *testing.T) {
	bin := nodetest.Binary(t)
	e := newOpEnv(t)
	var mu sync.Mutex
	armed := map[string]bool{FailpointAfterPodDelete: true, FailpointAfterFailover: true}
	crashed := make(chan string, len(armed))
	failpoint := func(_ client.ObjectKey, point string) bool {
		mu.Lock()
		defer mu.Unlock()
		if !armed[point] {
			return false
		}
		delete(armed, point)
		crashed <- point
		return true
	}
	stop := e.startOperator(t, failpoint)

	ctx := context.Background()
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "rollout-"}}
	if err := e.c.Create(ctx, nsObj); err != nil {
		t.Fatal(err)
	}
	ns := nsObj.Name
	rc := newCluster(ns, "restart", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.ReplicasPerMaster = 1
	})
	if err := e.c.Create(ctx, rc); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKeyFromObject(rc)
	secret := &corev1.Secret{}
	poll(t, waitFor, func() error {
		return e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "restart-auth"}, secret)
	})
	password := string(secret.Data["password"])
	sim := newPodSim(t, e.c, ns, bin, password)
	waitReady(t, e.c, key)

	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: sim.addrs(), Password: password, MaxRedirects: 8})
	t.Cleanup(func() { _ = rdb.Close() })
	w := &writer{rdb: rdb, acked: map[string]string{}}
	wctx, stopWriting := context.WithCancel(ctx)
	writing := make(chan struct{})
	go func() { defer close(writing); w.run(wctx, "k") }()
	defer func() { stopWriting(); <-writing }()

	start := time.Now()
	updateCluster(t, e.c, key, func(rc *v1alpha1.RedisCluster) { rc.Spec.Image = "shoal/node:envtest-v2" })
	for range 2 {
		select {
		case point := <-crashed:
			stop()
			deletions, _ := sim.snapshot()
			t.Logf("operator stopped at %s after %d pod deletions; starting a new one", point, len(deletions))
			stop = e.startOperator(t, failpoint)
		case <-time.After(rolloutWait):
			t.Fatal("the rollout never reached its failpoints")
		}
	}
	poll(t, rolloutWait, func() error {
		rc, err := getCluster(e.c, key)
		if err != nil {
			return err
		}
		ru := rc.Condition(v1alpha1.ConditionRollingUpdate)
		ready := rc.Condition(v1alpha1.ConditionReady)
		if ru == nil || ru.Status != metav1.ConditionFalse || ru.ObservedGeneration != rc.Generation ||
			ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != rc.Generation {
			return fmt.Errorf("rollout not finished: RollingUpdate %+v, Ready %+v", ru, ready)
		}
		return nil
	})
	stopWriting()
	<-writing
	t.Logf("rolled 6 pods across 2 operator restarts in %s; %d writes acknowledged, %d failed", time.Since(start).Round(time.Millisecond), len(w.acked), w.fails)

	deletions, starts := sim.snapshot()
	if len(deletions) != 6 {
		t.Errorf("%d pod deletions, want 6: %v", len(deletions), deletions)
	}
	for _, d := range deletions {
		if d.role != "slave" {
			t.Errorf("pod %s was deleted while its node was %s", d.pod, d.role)
		}
	}
	for name, n := range starts {
		if n != 2 {
			t.Errorf("pod %s started %d times, want twice (created, then rolled once)", name, n)
		}
	}
	if err := w.verify(ctx); err != nil {
		t.Error(err)
	}
	poll(t, waitFor, func() error { return clusterCheck(sim.addrs()[0], password) })
}
