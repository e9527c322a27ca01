package controllers

import (
	"context"
	"crypto/tls"
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
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/nodetest"
	"github.com/shoal-dev/shoal/node/tlsconf"
)

// replSim plays the StatefulSet controller and the kubelet for the pods of
// one RedisReplication: data node pods run the real node with the
// container's arguments; sentinel pods run the init container's real
// `shoal-node install-file` with its arguments, then the container's
// `shoal-node --sentinel` on the file it wrote, bound to the pod's
// loopback address. envtest has no DNS: every pod's stable host name in
// arguments and files is replaced by its address.
type replSim struct {
	t        *testing.T
	c        client.Client
	rr       *v1alpha1.RedisReplication
	bin      string
	password string
	// operator is the operator's password and its hash (<name>-operator)
	// when the default user is off, read before the first pod starts.
	operator map[string][]byte
	// root holds the pods' directories and logs.
	root string

	mu    sync.Mutex
	ips   map[string]string
	procs map[string]*simNode
	// deletions are the data node pods the operator deleted, with the
	// role (ROLE) their node had then.
	deletions []simDeletion
}

func newReplSim(t *testing.T, rr *v1alpha1.RedisReplication, password string) *replSim {
	s := &replSim{t: t, c: testEnv.c, rr: rr, bin: nodetest.Binary(t), password: password,
		ips: map[string]string{}, procs: map[string]*simNode{}}
	root, err := os.MkdirTemp("", "replsim-")
	if err != nil {
		t.Fatal(err)
	}
	s.root = root
	stop := simLoop(t, "replication pod simulator", s.sync)
	t.Cleanup(func() {
		stop()
		s.mu.Lock()
		defer s.mu.Unlock()
		for name, n := range s.procs {
			n.stop()
			if t.Failed() {
				t.Logf("%s (%s) log:\n%s", name, n.ip, n.log())
			}
		}
		if t.Failed() && os.Getenv("SHOAL_KEEP_SIM") != "" {
			t.Logf("pods' directories and logs kept in %s", root)
			return
		}
		_ = os.RemoveAll(root)
	})
	return s
}

func (s *replSim) ip(pod string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ips[pod]
}

func (s *replSim) proc(pod string) *simNode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.procs[pod]
}

func (s *replSim) sync(ctx context.Context) error {
	// Only this replication's StatefulSets: a namespace may hold others.
	var list appsv1.StatefulSetList
	if err := s.c.List(ctx, &list, client.InNamespace(s.rr.Namespace), client.MatchingLabels{builders.LabelReplication: s.rr.Name}); err != nil {
		return err
	}
	// Every pod's address is known before any process starts, so that
	// host names in arguments and sentinel.conf can be replaced.
	s.mu.Lock()
	for _, sts := range list.Items {
		for o := range int(*sts.Spec.Replicas) {
			pod := fmt.Sprintf("%s-%d", sts.Name, o)
			if _, ok := s.ips[pod]; !ok {
				s.ips[pod] = freeLoopbackIPs(s.t, 1)[0]
			}
		}
	}
	s.mu.Unlock()
	for i := range list.Items {
		sts := &list.Items[i]
		for o := range int(*sts.Spec.Replicas) {
			if err := s.syncPod(ctx, sts, fmt.Sprintf("%s-%d", sts.Name, o)); err != nil {
				return err
			}
		}
		s.mu.Lock()
		var beyond []string
		for name := range s.procs {
			var o int
			if strings.HasPrefix(name, sts.Name+"-") {
				if _, err := fmt.Sscanf(strings.TrimPrefix(name, sts.Name+"-"), "%d", &o); err == nil && o >= int(*sts.Spec.Replicas) {
					beyond = append(beyond, name)
				}
			}
		}
		s.mu.Unlock()
		for _, name := range beyond {
			s.proc(name).stop()
			s.mu.Lock()
			delete(s.procs, name)
			s.mu.Unlock()
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: s.rr.Namespace, Name: name}}
			if err := s.c.Delete(ctx, pod); client.IgnoreNotFound(err) != nil {
				return err
			}
		}
	}
	return nil
}

func (s *replSim) syncPod(ctx context.Context, sts *appsv1.StatefulSet, name string) error {
	err := s.c.Get(ctx, client.ObjectKey{Namespace: s.rr.Namespace, Name: name}, &corev1.Pod{})
	if err == nil || !apierrors.IsNotFound(err) {
		return err
	}
	n := s.proc(name)
	if n != nil {
		// The operator deleted the pod.
		if len(sts.Spec.Template.Spec.InitContainers) == 0 {
			role := nodeRole(ctx, n.ip, s.password)
			s.mu.Lock()
			s.deletions = append(s.deletions, simDeletion{pod: name, role: role})
			s.mu.Unlock()
		}
		n.stop()
	} else {
		// Not t.TempDir: its cleanup would remove the logs before the
		// simulator's prints them.
		dir, err := os.MkdirTemp(s.root, name+"-")
		if err != nil {
			return err
		}
		n = &simNode{ip: s.ip(name), dir: dir}
	}
	if err := s.start(ctx, sts, name, n); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	s.mu.Lock()
	s.procs[name] = n
	s.mu.Unlock()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.rr.Namespace, Name: name,
			Labels: sts.Spec.Template.Labels, Annotations: sts.Spec.Template.Annotations},
		Spec: *sts.Spec.Template.Spec.DeepCopy(),
	}
	if err := s.c.Create(ctx, pod); err != nil {
		return err
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: n.ip, PodIPs: []corev1.PodIP{{IP: n.ip}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}}
	return s.c.Status().Update(ctx, pod)
}

// subst expands what the kubelet would ($(VAR)), puts the pod's files in
// its directory, and replaces every pod host name by its address.
func (s *replSim) subst(a, pod, dir string) string {
	a = strings.ReplaceAll(a, "$("+builders.PodNameEnv+")", pod)
	a = strings.ReplaceAll(a, "$("+builders.PasswordEnv+")", s.password)
	a = strings.ReplaceAll(a, "$("+builders.OperatorPasswordHashEnv+")", string(s.operator[builders.OperatorSecretHashKey]))
	a = strings.ReplaceAll(a, "$("+builders.OperatorPasswordEnv+")", string(s.operator[builders.OperatorSecretPasswordKey]))
	a = strings.ReplaceAll(a, builders.ConfigDir+"/", dir+"/etc-")
	if a == builders.DataDir || strings.HasPrefix(a, builders.DataDir+"/") {
		a = dir + strings.TrimPrefix(a, builders.DataDir)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, ip := range s.ips {
		a = strings.ReplaceAll(a, builders.ReplicationPodHost(s.rr, p), ip)
	}
	return a
}

func (s *replSim) start(ctx context.Context, sts *appsv1.StatefulSet, pod string, n *simNode) error {
	cm := &corev1.ConfigMap{}
	if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.rr.Namespace, Name: builders.ReplicationConfigMapName(s.rr)}, cm); err != nil {
		return err
	}
	for key, body := range cm.Data {
		if err := os.WriteFile(filepath.Join(n.dir, "etc-"+key), []byte(s.subst(body, pod, n.dir)), 0o600); err != nil {
			return err
		}
	}
	if s.rr.Spec.IsDefaultUserDisabled() && s.operator == nil {
		sec := &corev1.Secret{}
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.rr.Namespace, Name: builders.ReplicationOperatorSecretName(s.rr)}, sec); err != nil {
			return err
		}
		s.operator = sec.Data
	}
	spec := sts.Spec.Template.Spec
	if err := s.mountSecrets(ctx, spec, pod, n.dir); err != nil {
		return err
	}
	if len(spec.InitContainers) == 0 {
		var args []string
		for _, a := range spec.Containers[0].Args {
			args = append(args, s.subst(a, pod, n.dir))
		}
		p, err := nodetest.Launch(nodetest.Options{Binary: s.bin, CommandLine: append(args, "--bind", n.ip), Host: n.ip,
			Port: builders.RedisPort, Dir: n.dir, Log: n.dir + ".log", Ready: waitFor, Grace: 20 * time.Second})
		if err != nil {
			return err
		}
		n.proc = p
		return p.WaitReady()
	}
	// The sentinel pod: the init container, then Sentinel on its file.
	var initArgs []string
	for _, a := range spec.InitContainers[0].Args {
		initArgs = append(initArgs, s.subst(a, pod, n.dir))
	}
	initArgs = append(initArgs, "--append", "bind "+n.ip)
	if out, err := exec.CommandContext(ctx, s.bin, initArgs...).CombinedOutput(); err != nil {
		return fmt.Errorf("init container %v: %v: %s", initArgs, err, out)
	}
	conf := s.subst(builders.SentinelConfigFile, pod, n.dir)
	body, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(string(body), "dir "+builders.DataDir+"\n", "dir "+n.dir+"\n")), 0o600); err != nil {
		return err
	}
	var args []string
	for _, a := range spec.Containers[0].Args {
		args = append(args, s.subst(a, pod, n.dir))
	}
	p, err := nodetest.Launch(nodetest.Options{Binary: s.bin, CommandLine: args, Host: n.ip,
		Port: builders.SentinelPort, Dir: n.dir, Log: n.dir + ".log", Ready: waitFor, Grace: 20 * time.Second})
	if err != nil {
		return err
	}
	n.proc = p
	return p.WaitReady()
}

// mountSecrets writes the Secret volumes of the pod's container into the
// pod's directory where subst puts their mount path, as the kubelet
// mounts them (the TLS Secret at builders.TLSDir).
func (s *replSim) mountSecrets(ctx context.Context, spec corev1.PodSpec, pod, dir string) error {
	secrets := map[string]string{}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			secrets[v.Name] = v.Secret.SecretName
		}
	}
	for _, m := range spec.Containers[0].VolumeMounts {
		name, ok := secrets[m.Name]
		if !ok {
			continue
		}
		sec := &corev1.Secret{}
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.rr.Namespace, Name: name}, sec); err != nil {
			return err
		}
		to := s.subst(m.MountPath, pod, dir)
		if err := os.MkdirAll(to, 0o700); err != nil {
			return err
		}
		for key, b := range sec.Data {
			if err := os.WriteFile(filepath.Join(to, key), b, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// startReplication creates, in ns, the password Secret "pw" (unless a
// replication made before made it) and a
// RedisReplication of 3 data nodes and 3 sentinels using it (then
// changed by change), and the simulator that runs its pods.
func startReplication(t *testing.T, ns, name, password string, change func(*v1alpha1.RedisReplication)) (*v1alpha1.RedisReplication, *replSim) {
	t.Helper()
	ctx := context.Background()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pw"}, Data: map[string][]byte{"password": []byte(password)}}
	if err := testEnv.c.Create(ctx, sec); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	rr := &v1alpha1.RedisReplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.RedisReplicationSpec{
			Replicas: 3,
			Storage:  v1alpha1.StorageSpec{Ephemeral: true},
			Auth:     &v1alpha1.AuthSpec{ExistingSecret: &v1alpha1.SecretKeyRef{Name: "pw"}},
			Sentinel: v1alpha1.SentinelSpec{Replicas: 3, DownAfterMilliseconds: 5000, FailoverTimeout: 10000, ParallelSyncs: 1},
		},
	}
	if change != nil {
		change(rr)
	}
	if err := testEnv.c.Create(ctx, rr); err != nil {
		t.Fatal(err)
	}
	return rr, newReplSim(t, rr, password)
}

// TestRedisReplication: the objects are made, the first pod seeds the
// master and is labelled, every sentinel knows every replica once Ready,
// the Services select by role, the status fills in; data written to the master reaches a replica; a master change made
// by the sentinels (SENTINEL FAILOVER) moves the master label, the status
// and so the master Service; a switchover by annotation moves it to the
// pod asked for.
func TestRedisReplication(t *testing.T) {
	ctx := context.Background()
	begin := time.Now()
	ns := newNamespace(t)
	const password = "repl-secret"
	rr, sim := startReplication(t, ns, "rp", password, func(rr *v1alpha1.RedisReplication) {
		rr.Spec.Config = map[string]v1alpha1.ConfigValue{"maxmemory-policy": "allkeys-lru"}
	})

	get := func() *v1alpha1.RedisReplication {
		cur := &v1alpha1.RedisReplication{}
		if err := testEnv.c.Get(ctx, client.ObjectKeyFromObject(rr), cur); err != nil {
			t.Fatal(err)
		}
		return cur
	}
	roleOf := func(pod string) string {
		p := &corev1.Pod{}
		if err := testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: pod}, p); err != nil {
			return "?"
		}
		return p.Labels[builders.LabelRole]
	}
	waitReadyWithMaster := func(within time.Duration, master func(string) error) string {
		t.Helper()
		var m string
		poll(t, within, func() error {
			cur := get()
			c := cur.Condition(v1alpha1.ConditionReady)
			if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != cur.Generation {
				return fmt.Errorf("not Ready: %+v", c)
			}
			if err := master(cur.Status.Master); err != nil {
				return err
			}
			if roleOf(cur.Status.Master) != builders.RoleMaster {
				return fmt.Errorf("master %s not labelled", cur.Status.Master)
			}
			for _, r := range cur.Status.Replicas {
				if roleOf(r.Pod) != builders.RoleReplica {
					return fmt.Errorf("replica %s labelled %q", r.Pod, roleOf(r.Pod))
				}
			}
			m = cur.Status.Master
			return nil
		})
		return m
	}

	master := waitReadyWithMaster(3*waitFor, func(m string) error {
		if m != "rp-node-0" {
			return fmt.Errorf("master %q, want the seed rp-node-0", m)
		}
		return nil
	})
	t.Logf("seeded: rp-node-0 is the master, Ready after %v", time.Since(begin).Round(time.Millisecond))
	cur := get()
	if len(cur.Status.Replicas) != 2 || cur.Status.ReadyReplicas != 2 || cur.Status.Sentinels != 3 || cur.Status.ObservedGeneration != cur.Generation {
		t.Fatalf("status %+v", cur.Status)
	}
	for _, r := range cur.Status.Replicas {
		if !r.Synced || r.LinkState != "up" {
			t.Fatalf("replica %+v", r)
		}
	}

	// Ready means every sentinel knows every replica: a failover it leads
	// reconfigures only the replicas it knows.
	for o := range 3 {
		sc := redis.NewClient(&redis.Options{Addr: sim.ip(fmt.Sprintf("rp-sentinel-%d", o)) + ":26379", MaxRetries: -1})
		reply, err := sc.Do(ctx, "SENTINEL", "REPLICAS", "rp").Slice()
		_ = sc.Close()
		if err != nil {
			t.Fatal(err)
		}
		known := map[string]bool{}
		for _, item := range reply {
			known[replyFields(item)["ip"]] = true
		}
		for _, r := range cur.Status.Replicas {
			if !known[sim.ip(r.Pod)] {
				t.Fatalf("Ready, but rp-sentinel-%d does not list %s (%s): %v", o, r.Pod, sim.ip(r.Pod), reply)
			}
		}
	}

	// The Services select the master and the replicas by role.
	for name, role := range map[string]string{"rp-master": builders.RoleMaster, "rp-replicas": builders.RoleReplica} {
		svc := &corev1.Service{}
		if err := testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, svc); err != nil {
			t.Fatal(err)
		}
		if svc.Spec.Selector[builders.LabelRole] != role || svc.Spec.Selector[builders.LabelReplication] != "rp" {
			t.Fatalf("%s selector %v", name, svc.Spec.Selector)
		}
	}
	svc := &corev1.Service{}
	if err := testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "rp-sentinel"}, svc); err != nil || svc.Spec.Ports[0].Port != builders.SentinelPort {
		t.Fatalf("sentinel Service %v %v", svc.Spec, err)
	}

	// Live config reached the nodes; a write to the master reaches a replica.
	client := func(pod string) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: sim.ip(pod) + ":6379", Password: password, MaxRetries: -1})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	if v, err := client(master).ConfigGet(ctx, "maxmemory-policy").Result(); err != nil || v["maxmemory-policy"] != "allkeys-lru" {
		t.Fatalf("maxmemory-policy %v %v", v, err)
	}
	if err := client(master).Set(ctx, "k", "v1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	poll(t, waitFor, func() error {
		v, err := client(cur.Status.Replicas[0].Pod).Get(ctx, "k").Result()
		if v != "v1" {
			return fmt.Errorf("replica has %q %v", v, err)
		}
		return nil
	})

	// The sentinels fail the master over on their own: the operator learns
	// it (+switch-master) and moves the label and the status.
	sentinel := redis.NewClient(&redis.Options{Addr: sim.ip("rp-sentinel-0") + ":26379", MaxRetries: -1})
	t.Cleanup(func() { _ = sentinel.Close() })
	poll(t, waitFor, func() error {
		// NOGOODSLAVE until the sentinel has discovered the replicas.
		return sentinel.Do(ctx, "SENTINEL", "FAILOVER", "rp").Err()
	})
	start := time.Now()
	newMaster := waitReadyWithMaster(2*waitFor, func(m string) error {
		if m == master {
			return fmt.Errorf("master still %s", m)
		}
		return nil
	})
	t.Logf("SENTINEL FAILOVER: %s is the master, labelled and Ready after %v", newMaster, time.Since(start).Round(time.Millisecond))
	if roleOf(master) == builders.RoleMaster {
		t.Fatalf("old master %s still labelled master", master)
	}
	if v, err := client(newMaster).Get(ctx, "k").Result(); err != nil || v != "v1" {
		t.Fatalf("new master has %q %v", v, err)
	}

	// A switchover by annotation to a chosen replica.
	var target string
	for _, r := range get().Status.Replicas {
		if r.Pod != master {
			target = r.Pod
		}
	}
	if target == "" {
		target = master
	}
	start = time.Now()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, v1alpha1.SwitchoverAnnotation, target)
	if err := testEnv.c.Patch(ctx, get(), ctrlRawMerge(patch)); err != nil {
		t.Fatal(err)
	}
	waitReadyWithMaster(2*waitFor, func(m string) error {
		if m != target {
			return fmt.Errorf("master %s, want %s", m, target)
		}
		return nil
	})
	t.Logf("switchover: %s is the master, labelled and Ready after %v", target, time.Since(start).Round(time.Millisecond))
	poll(t, waitFor, func() error {
		if ls := get().Status.LastSwitchover; ls == nil || ls.Phase != "Succeeded" || ls.Pod != target {
			return fmt.Errorf("lastSwitchover %+v", ls)
		}
		return nil
	})
	// replica-priority is back at its spec value on the other replicas.
	poll(t, waitFor, func() error {
		for _, r := range get().Status.Replicas {
			v, err := client(r.Pod).ConfigGet(ctx, "replica-priority").Result()
			if err != nil || v["replica-priority"] != "100" {
				return fmt.Errorf("%s replica-priority %v %v", r.Pod, v, err)
			}
		}
		return nil
	})

	// A rolling update (a new image): replicas restart first, each while
	// a slave, then the master moves by SENTINEL FAILOVER, then the old
	// master restarts, a replica by then.
	start = time.Now()
	updated := get()
	updated.Spec.Image = "shoal/node:envtest-2"
	if err := testEnv.c.Update(ctx, updated); err != nil {
		t.Fatal(err)
	}
	poll(t, 3*waitFor, func() error {
		sim.mu.Lock()
		n := len(sim.deletions)
		sim.mu.Unlock()
		if n < 3 {
			return fmt.Errorf("%d of 3 pods restarted", n)
		}
		cur := get()
		if c := cur.Condition(v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != cur.Generation {
			return fmt.Errorf("not Ready after the rollout: %+v", c)
		}
		return nil
	})
	sim.mu.Lock()
	deletions := slices.Clone(sim.deletions)
	sim.mu.Unlock()
	restarted := map[string]bool{}
	for _, d := range deletions {
		if d.role != "slave" {
			t.Fatalf("rolling update restarted %s while it was %s: %v", d.pod, d.role, deletions)
		}
		restarted[d.pod] = true
	}
	if len(deletions) != 3 || len(restarted) != 3 {
		t.Fatalf("rolling update restarted %v, want each pod once", deletions)
	}
	t.Logf("rolling update of 3 data nodes: %v", time.Since(start).Round(time.Millisecond))
	if v, err := client(get().Status.Master).Get(ctx, "k").Result(); err != nil || v != "v1" {
		t.Fatalf("after the rollout the master has %q %v", v, err)
	}

	// The objects the operator owns.
	for _, name := range []string{"rp-node", "rp-sentinel"} {
		sts := &appsv1.StatefulSet{}
		if err := testEnv.c.Get(ctx, types2(ns, name), sts); err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(sts.OwnerReferences, func(o metav1.OwnerReference) bool {
			return o.Kind == "RedisReplication" && ptr.Deref(o.Controller, false)
		}) {
			t.Fatalf("%s owner %v", name, sts.OwnerReferences)
		}
	}
}

func types2(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

func ctrlRawMerge(patch string) client.Patch {
	return client.RawPatch("application/merge-patch+json", []byte(patch))
}

// TestRedisReplicationTLS: with spec.tls (the operator's own CA) the
// operator issues the Secret, the data nodes and the sentinels (real
// processes on the files of the mounted Secret) serve TLS only, the
// replica replicates over TLS and is in sync, every sentinel names the
// master over TLS, and the operator, which observes all of it through
// its TLS clients, reports Ready.
func TestRedisReplicationTLS(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	const password = "repl-tls-secret"
	rr, sim := startReplication(t, ns, "rt", password, func(rr *v1alpha1.RedisReplication) {
		rr.Spec.Replicas, rr.Spec.TLS = 2, &v1alpha1.TLSSpec{}
	})

	cur := &v1alpha1.RedisReplication{}
	poll(t, 3*waitFor, func() error {
		if err := testEnv.c.Get(ctx, client.ObjectKeyFromObject(rr), cur); err != nil {
			return err
		}
		if c := cur.Condition(v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue || cur.Status.Sentinels != 3 {
			return fmt.Errorf("not Ready: %+v, %d sentinels", c, cur.Status.Sentinels)
		}
		return nil
	})
	master := cur.Status.Master
	if len(cur.Status.Replicas) != 1 || !cur.Status.Replicas[0].Synced {
		t.Fatalf("replicas %+v", cur.Status.Replicas)
	}
	replica := cur.Status.Replicas[0].Pod

	// The operator's CA signed the Secret the pods mount.
	caSec, nodeSec := &corev1.Secret{}, &corev1.Secret{}
	get(t, ns, "rt-tls-ca", caSec)
	get(t, ns, "rt-tls", nodeSec)
	leaf := verifyNodeSecret(t, nodeSec, caSec.Data[builders.TLSCAKey])
	for _, want := range []string{"rt-master", "rt-sentinel." + ns + ".svc", "*.rt-nodes." + ns + ".svc"} {
		if !containsString(leaf.DNSNames, want) {
			t.Errorf("the certificate names %v, not %s", leaf.DNSNames, want)
		}
	}
	for _, name := range []string{"rt-node", "rt-sentinel"} {
		sts := &appsv1.StatefulSet{}
		get(t, ns, name, sts)
		if !mountsSecret(sts.Spec.Template.Spec, "rt-tls") {
			t.Errorf("%s does not mount rt-tls: %+v", name, sts.Spec.Template.Spec.Volumes)
		}
	}

	cfg, err := tlsconf.ClientConfigFromPEM(nodeSec.Data[builders.TLSCertKey], nodeSec.Data[builders.TLSKeyKey], nodeSec.Data[builders.TLSCAKey])
	if err != nil {
		t.Fatal(err)
	}
	dial := func(addr, password string, cfg *tls.Config) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr, Password: password, TLSConfig: cfg, MaxRetries: -1, DialTimeout: nodeTimeout, ReadTimeout: nodeTimeout})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	nodeAddr := func(pod string) string { return sim.ip(pod) + ":6379" }

	// TLS only: the client port refuses plain text, on the data nodes and
	// on the sentinels.
	for _, addr := range []string{nodeAddr(master), nodeAddr(replica), sim.ip("rt-sentinel-0") + ":26379"} {
		if err := dial(addr, password, nil).Ping(ctx).Err(); err == nil {
			t.Errorf("%s answered a plain-text PING", addr)
		}
	}

	// The replica replicates over TLS: a write on the master reaches it.
	mc := dial(nodeAddr(master), password, cfg.Clone())
	if err := mc.Set(ctx, "k", "over-tls", 0).Err(); err != nil {
		t.Fatal(err)
	}
	poll(t, waitFor, func() error {
		info, err := mc.Info(ctx, "replication").Result()
		if err != nil || !strings.Contains(info, "connected_slaves:1") || !strings.Contains(info, "state=online") {
			return fmt.Errorf("master's INFO replication %q %v", info, err)
		}
		v, err := dial(nodeAddr(replica), password, cfg.Clone()).Get(ctx, "k").Result()
		if v != "over-tls" {
			return fmt.Errorf("replica has %q %v", v, err)
		}
		return nil
	})

	// Every sentinel names the master, over TLS.
	for o := range 3 {
		addr, err := dial(sim.ip(fmt.Sprintf("rt-sentinel-%d", o))+":26379", "", cfg.Clone()).
			Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "rt").StringSlice()
		if err != nil || len(addr) != 2 || addr[0] != sim.ip(master) || addr[1] != "6379" {
			t.Fatalf("rt-sentinel-%d names %v %v, want %s:6379", o, addr, err, sim.ip(master))
		}
	}
}

// mountsSecret reports whether a pod spec has a volume of Secret name.
func mountsSecret(spec corev1.PodSpec, name string) bool {
	for _, v := range spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == name {
			return true
		}
	}
	return false
}

// TestRedisReplicationUsers: a spec.users entry becomes an ACL user of
// every data node with the password of its Secret: it authenticates,
// may run what its rules allow on its keys, is refused other commands
// and keys (NOPERM), and reaches a node that starts later; removed from
// the spec, it is deleted from every node and from status.managedUsers.
func TestRedisReplicationUsers(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	const password, appPassword = "repl-users-secret", "app-secret"
	app := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app-pw"}, Data: map[string][]byte{"password": []byte(appPassword)}}
	if err := testEnv.c.Create(ctx, app); err != nil {
		t.Fatal(err)
	}
	rr, sim := startReplication(t, ns, "ru", password, func(rr *v1alpha1.RedisReplication) {
		rr.Spec.Replicas, rr.Spec.Sentinel.Replicas = 2, 1
		rr.Spec.Users = []v1alpha1.UserSpec{{Name: "app", Rules: []string{"+get", "+set", "+ping", "~app:*"},
			Passwords: []v1alpha1.SecretKeyRef{{Name: "app-pw"}}}}
	})
	cur := &v1alpha1.RedisReplication{}
	poll(t, 3*waitFor, func() error {
		if err := testEnv.c.Get(ctx, client.ObjectKeyFromObject(rr), cur); err != nil {
			return err
		}
		if c := cur.Condition(v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue || !slices.Equal(cur.Status.ManagedUsers, []string{"app"}) {
			return fmt.Errorf("not Ready with the user: %+v, managed %v", c, cur.Status.ManagedUsers)
		}
		return nil
	})
	as := func(pod, user, pw string) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: sim.ip(pod) + ":6379", Username: user, Password: pw, MaxRetries: -1, DialTimeout: nodeTimeout})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	master, replica := cur.Status.Master, cur.Status.Replicas[0].Pod
	if err := as(master, "app", appPassword).Set(ctx, "app:k", "v", 0).Err(); err != nil {
		t.Fatalf("app's SET on its key: %v", err)
	}
	for _, refused := range [][]any{{"SET", "other:k", "v"}, {"FLUSHALL"}, {"CONFIG", "GET", "maxmemory"}} {
		if err := as(master, "app", appPassword).Do(ctx, refused...).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
			t.Errorf("app's %v: %v, want NOPERM", refused, err)
		}
	}
	if err := as(master, "app", "wrong").Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Errorf("app with a wrong password: %v, want WRONGPASS", err)
	}
	poll(t, waitFor, func() error {
		v, err := as(replica, "app", appPassword).Get(ctx, "app:k").Result()
		if v != "v" {
			return fmt.Errorf("app's GET on the replica: %q %v", v, err)
		}
		return nil
	})

	// A node that starts later (scale out) gets the user too.
	if err := updateReplication(t, cur, func(rr *v1alpha1.RedisReplication) { rr.Spec.Replicas = 3 }); err != nil {
		t.Fatal(err)
	}
	poll(t, 2*waitFor, func() error {
		if sim.ip("ru-node-2") == "" {
			return fmt.Errorf("ru-node-2 not started")
		}
		return as("ru-node-2", "app", appPassword).Ping(ctx).Err()
	})

	// Removed from the spec: deleted from every node, then no longer managed.
	if err := updateReplication(t, cur, func(rr *v1alpha1.RedisReplication) { rr.Spec.Users = nil }); err != nil {
		t.Fatal(err)
	}
	poll(t, waitFor, func() error {
		for _, pod := range []string{"ru-node-0", "ru-node-1", "ru-node-2"} {
			if err := as(pod, "app", appPassword).Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
				return fmt.Errorf("%s still authenticates app: %v", pod, err)
			}
		}
		if err := testEnv.c.Get(ctx, client.ObjectKeyFromObject(rr), cur); err != nil {
			return err
		}
		if len(cur.Status.ManagedUsers) != 0 {
			return fmt.Errorf("managedUsers %v", cur.Status.ManagedUsers)
		}
		return nil
	})
}
