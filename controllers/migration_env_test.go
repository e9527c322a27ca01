package controllers

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/clusteradmin"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// The Day-2 tests run in an API server of their own (a second envtest)
// where they start and stop the operator themselves: stopping the manager
// mid-migration and starting a new one is an operator restart, which the
// suite's shared manager cannot do. A fake kubelet plays the StatefulSet
// controller and the kubelet with real shoal-node processes.

// day2Wait bounds every wait of these tests: moving thousands of slots on a
// loaded 2-core machine.
const day2Wait = 4 * time.Minute

// opEnv is one API server with the operator's RBAC.
type opEnv struct {
	operatorCfg *rest.Config
	c           client.Client
}

func newOpEnv(t *testing.T) *opEnv {
	t.Helper()
	te := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		// envtest waits 20 s by default for etcd and kube-apiserver: a
		// busy machine took longer five times in a row.
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	cfg, err := te.Start()
	if err != nil {
		t.Fatal("starting envtest:", err)
	}
	t.Cleanup(func() {
		if err := te.Stop(); err != nil {
			t.Log("stopping envtest:", err)
		}
	})
	c, err := client.New(cfg, client.Options{Scheme: testEnv.scheme})
	if err != nil {
		t.Fatal(err)
	}
	opCfg, err := operatorIdentity(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &opEnv{operatorCfg: opCfg, c: c}
}

// startOperator runs a manager with the reconciler, as the operator's
// process would; stop ends it like a crash of that process would (nothing
// runs after it returns).
func (e *opEnv) startOperator(t *testing.T, failpoint func(client.ObjectKey, string) bool) (stop func()) {
	t.Helper()
	mgr, err := ctrl.NewManager(e.operatorCfg, ctrl.Options{
		Scheme:                 testEnv.scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  CacheOptions(nil),
		// Every restart registers the controller again in this process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &RedisClusterReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorderFor("shoal-operator"),
		DefaultNodeImage: testImage, Dial: clusteradmin.NewDialer(10 * time.Second), NewPassword: RandomPassword,
		Failpoint: failpoint,
	}
	if err := r.SetupWithManager(mgr, 2); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("manager stopped with: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitUntil polls f until it returns nil, failing the test after day2Wait.
func waitUntil(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(day2Wait)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, day2Wait, err)
		}
		time.Sleep(pollInterval)
	}
}

// nodeProc is one node process standing in for a pod.
type nodeProc struct {
	*nodetest.Proc
	ip string
}

func (p *nodeProc) kill() { p.Kill() }

// kubelet plays the StatefulSet controller and the kubelet for one
// namespace: for every StatefulSet ordinal it starts a shoal-node process on
// a loopback address of its own with the container's arguments and creates
// the pod, Ready, at that IP; pods of deleted StatefulSets (or beyond their
// replicas) are killed and deleted.
type kubelet struct {
	t   *testing.T
	c   client.Client
	ns  string
	bin string
	dir string

	mu    sync.Mutex
	procs map[string]*nodeProc
}

func startKubelet(t *testing.T, c client.Client, ns, bin string) *kubelet {
	k := &kubelet{t: t, c: c, ns: ns, bin: bin, dir: t.TempDir(), procs: map[string]*nodeProc{}}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for ctx.Err() == nil {
			if err := k.sync(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("kubelet: %v", err)
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(pollInterval):
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-stopped
		k.mu.Lock()
		defer k.mu.Unlock()
		for name, p := range k.procs {
			p.kill()
			if t.Failed() {
				t.Logf("%s (%s):\n%s", name, p.ip, nodetest.Tail(p.Log(), 30))
			}
		}
	})
	return k
}

func (k *kubelet) sync(ctx context.Context) error {
	var list appsv1.StatefulSetList
	if err := k.c.List(ctx, &list, client.InNamespace(k.ns)); err != nil {
		return err
	}
	want := map[string]*appsv1.StatefulSet{}
	for i := range list.Items {
		sts := &list.Items[i]
		for o := range int(*sts.Spec.Replicas) {
			want[fmt.Sprintf("%s-%d", sts.Name, o)] = sts
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := k.procs[name]; !ok {
			if err := k.startPod(ctx, want[name], name); err != nil {
				return err
			}
		}
	}
	for name, p := range k.procs {
		if _, ok := want[name]; ok {
			continue
		}
		p.kill()
		delete(k.procs, name)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: k.ns, Name: name}}
		if err := k.c.Delete(ctx, pod); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// running is the number of node processes.
func (k *kubelet) running() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.procs)
}

// addrs are the ip:port of every node process.
func (k *kubelet) addrs() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, p := range k.procs {
		out = append(out, net.JoinHostPort(p.ip, fmt.Sprint(builders.RedisPort)))
	}
	sort.Strings(out)
	return out
}

func (k *kubelet) startPod(ctx context.Context, sts *appsv1.StatefulSet, name string) error {
	rcName := sts.Labels[builders.LabelCluster]
	var secret corev1.Secret
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: rcName + "-auth"}, &secret); err != nil {
		return err
	}
	var cm corev1.ConfigMap
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: rcName + "-config"}, &cm); err != nil {
		return err
	}
	conf := filepath.Join(k.dir, name+".conf")
	if err := os.WriteFile(conf, []byte(cm.Data[builders.ConfigFileKey]), 0o600); err != nil {
		return err
	}
	ip, err := pickLoopbackIP()
	if err != nil {
		return err
	}
	data := filepath.Join(k.dir, name)
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	args := podArgs(sts.Spec.Template.Spec.Containers[0].Args, conf, data, ip, string(secret.Data["password"]))
	proc, err := nodetest.Launch(nodetest.Options{Binary: k.bin, CommandLine: append(args, "--bind", ip), Host: ip,
		Port: builders.RedisPort, Dir: data, Log: data + ".log", Ready: waitFor})
	if err != nil {
		return err
	}
	k.procs[name] = &nodeProc{Proc: proc, ip: ip}
	if err := proc.WaitReady(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: k.ns, Name: name, Labels: sts.Spec.Template.Labels, Annotations: sts.Spec.Template.Annotations},
		Spec:       *sts.Spec.Template.Spec.DeepCopy(),
	}
	if err := k.c.Create(ctx, pod); err != nil {
		return err
	}
	now := metav1.Now()
	pod.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}},
	}
	return k.c.Status().Update(ctx, pod)
}

// pickLoopbackIP finds an address in 127.0.0.0/8 whose ports 6379 and
// 16379 are free.
func pickLoopbackIP() (string, error) {
	for range 1000 {
		ip := fmt.Sprintf("127.%d.%d.%d", 10+rand.IntN(240), rand.IntN(256), 1+rand.IntN(254))
		if portFree(ip, builders.RedisPort) && portFree(ip, builders.BusPort) {
			return ip, nil
		}
	}
	return "", errors.New("no free loopback address")
}

// podArgs substitutes in a container's args what the volumes and the
// kubelet would: the config file, the data volume, $(POD_IP) and
// $(SHOAL_PASSWORD).
func podArgs(containerArgs []string, conf, dataDir, ip, password string) []string {
	args := make([]string, 0, len(containerArgs))
	for _, a := range containerArgs {
		switch a {
		case builders.ConfigDir + "/" + builders.ConfigFileKey:
			a = conf
		case builders.DataDir:
			a = dataDir
		case fmt.Sprintf("$(%s)", builders.PodIPEnv):
			a = ip
		case fmt.Sprintf("$(%s)", builders.PasswordEnv):
			a = password
		}
		args = append(args, a)
	}
	return args
}

// clusterClient is a Redis Cluster client of the test's nodes.
func clusterClient(addrs []string, password string) *redis.ClusterClient {
	return redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: addrs, Password: password, MaxRedirects: 16,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, DialTimeout: 5 * time.Second,
	})
}
