package controllers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"go.uber.org/zap/zapcore"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/node/clusteradmin"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// The controller tests run the reconciler in a manager against a real
// kube-apiserver and etcd (envtest) with the CRD from config/crd/bases. There
// is no kube-controller-manager: no StatefulSet controller makes pods and no
// garbage collector deletes owned objects, so tests that need pods create
// them as the StatefulSet controller would.

const (
	// Deadlines are generous: the machine is a loaded 2-core box.
	waitFor      = 60 * time.Second
	pollInterval = 100 * time.Millisecond
	testImage    = "shoal/node:envtest"
	// testStoreImage is the image of the PVC stores (the operator's).
	testStoreImage = "shoal/operator:envtest"
)

// env is the one test environment of this package: the API server, a client
// that reads straight from it, and the running manager.
type env struct {
	cfg    *rest.Config
	c      client.Client
	scheme *runtime.Scheme
	// failpoints stop the manager's reconciler at named points.
	failpoints *failpoints
}

// testEnv is set once by TestMain before any test runs and never changed.
var testEnv env //nolint:gochecknoglobals // the suite's fixture, set once in TestMain

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "controllers tests need a real kube-apiserver and etcd: set KUBEBUILDER_ASSETS, "+
			"e.g. KUBEBUILDER_ASSETS=\"$(hack/envtest-assets.sh)\" go test ./controllers/ (make test does this)")
		return 1
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(zapLevel())))

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
		fmt.Fprintln(os.Stderr, "starting envtest:", err)
		return 1
	}
	defer func() {
		if err := te.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping envtest:", err)
		}
	}()

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}
	// The manager runs as the operator's ServiceAccount, with only the
	// rights of the generated ClusterRole: a missing RBAC rule fails tests.
	operatorCfg, err := operatorIdentity(c, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "operator RBAC:", err)
		return 1
	}
	mgr, err := ctrl.NewManager(operatorCfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  CacheOptions(nil),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		return 1
	}
	fp := newFailpoints()
	// There are no store pods: a test serves a PVC store itself and
	// registers its address (testStores).
	stores := BackupStores{Image: testStoreImage, Address: testStores.address}
	r := &RedisClusterReconciler{
		Client:           mgr.GetClient(),
		APIReader:        mgr.GetAPIReader(),
		Recorder:         mgr.GetEventRecorderFor("shoal-operator"),
		DefaultNodeImage: testImage,
		Dial:             clusteradmin.NewDialer(2 * time.Second),
		NewPassword:      RandomPassword,
		Failpoint:        fp.Hit,
		Stores:           stores,
	}
	if err := r.SetupWithManager(mgr, 4); err != nil {
		fmt.Fprintln(os.Stderr, "controller:", err)
		return 1
	}
	rr := &RedisReplicationReconciler{
		Client:           mgr.GetClient(),
		APIReader:        mgr.GetAPIReader(),
		Recorder:         mgr.GetEventRecorderFor("shoal-operator"),
		DefaultNodeImage: testImage,
		NewPassword:      RandomPassword,
		NodeTimeout:      2 * time.Second,
		// envtest has no cluster DNS: the pods' addresses are their IPs.
		PodHost: func(_ *v1alpha1.RedisReplication, p *corev1.Pod) string { return p.Status.PodIP },
		Stores:  stores,
	}
	if err := rr.SetupWithManager(mgr, 2); err != nil {
		fmt.Fprintln(os.Stderr, "replication controller:", err)
		return 1
	}
	br := &RedisBackupReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorderFor("shoal-operator"), Dial: r.Dial, Stores: stores}
	if err := br.SetupWithManager(mgr, 2); err != nil {
		fmt.Fprintln(os.Stderr, "backup controller:", err)
		return 1
	}
	sr := &BackupScheduleReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorderFor("shoal-operator"),
		Archives: NewArchiveManager(), Dial: r.Dial, Stores: stores}
	if err := sr.SetupWithManager(mgr); err != nil {
		fmt.Fprintln(os.Stderr, "backup schedule controller:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped with:", err)
		}
	}()

	testEnv = env{cfg: cfg, c: c, scheme: scheme, failpoints: fp}
	return nodetest.Run(m)
}

// operatorIdentity installs config/rbac/role.yaml, binds it cluster-wide to
// the operator's ServiceAccount (as config/rbac/role_binding.yaml does), and
// returns a config that impersonates that ServiceAccount.
func operatorIdentity(c client.Client, admin *rest.Config) (*rest.Config, error) {
	raw, err := os.ReadFile(filepath.Join("..", "config", "rbac", "role.yaml"))
	if err != nil {
		return nil, err
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(raw, role); err != nil {
		return nil, err
	}
	ctx := context.Background()
	if err := c.Create(ctx, role); err != nil {
		return nil, err
	}
	const ns, sa = "shoal-system", "shoal-operator"
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "shoal-manager-rolebinding"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa}},
	}
	if err := c.Create(ctx, binding); err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(admin)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: fmt.Sprintf("system:serviceaccount:%s:%s", ns, sa)}
	return cfg, nil
}

// zapLevel is the manager's log verbosity in tests: errors only unless
// SHOAL_TEST_LOG=debug.
func zapLevel() zapcore.Level {
	if os.Getenv("SHOAL_TEST_LOG") == "debug" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}

// newNamespace makes a namespace of its own for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "rc-test-"}}
	if err := testEnv.c.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// envtest has no namespace controller: remove the clusters so the
		// manager stops reconciling them, then the namespace.
		_ = testEnv.c.DeleteAllOf(context.Background(), &v1alpha1.RedisCluster{}, client.InNamespace(ns.Name))
		_ = testEnv.c.DeleteAllOf(context.Background(), &v1alpha1.RedisReplication{}, client.InNamespace(ns.Name))
		_ = testEnv.c.Delete(context.Background(), ns)
	})
	return ns.Name
}

// eventually polls f until it returns nil, failing the test with f's last
// error after waitFor.
func eventually(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %v", waitFor, err)
		}
		time.Sleep(pollInterval)
	}
}
