// Command shoal-operator is the Shoal operator manager: it runs the
// RedisCluster controller with leader election, a metrics endpoint and health
// probes, watching one namespace, several, or all.
//
// "shoal-operator store-serve" is the store of a PVC backup destination
// instead: it serves a mounted directory to the operator (store_serve.go).
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// Event rate limits per RedisCluster: a burst big enough for the events of
// a rolling update or scale of a large cluster, then one a second.
const (
	eventBurst = 512
	eventQPS   = 1
)

// options are the operator's command-line settings.
type options struct {
	metricsAddr          string
	probeAddr            string
	leaderElect          bool
	leaderElectionNS     string
	watchNamespaces      []string // empty: all namespaces
	defaultNodeImage     string
	storeImage           string
	nodeTimeout          time.Duration
	maxConcurrentWorkers int
	zap                  zap.Options
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("shoal-operator", flag.ContinueOnError)
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Address of the Prometheus metrics endpoint (\"0\" disables it).")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader so that only one replica of the operator reconciles.")
	fs.StringVar(&o.leaderElectionNS, "leader-election-namespace", "", "Namespace of the leader election Lease (default: the operator's own namespace).")
	watch := fs.String("watch-namespaces", "", "Comma-separated namespaces to watch; empty watches all namespaces.")
	fs.StringVar(&o.defaultNodeImage, "default-node-image", "shoal/node:dev", "Node image of RedisClusters that do not set spec.image.")
	fs.StringVar(&o.storeImage, "store-image", "shoal/operator:dev", "Image of the stores of PVC backup destinations: the operator's own.")
	fs.DurationVar(&o.nodeTimeout, "node-timeout", 3*time.Second, "Timeout of every admin command sent to a data node.")
	fs.IntVar(&o.maxConcurrentWorkers, "max-concurrent-reconciles", 4, "RedisClusters reconciled in parallel.")
	o.zap = zap.Options{}
	o.zap.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	ns, err := parseNamespaces(*watch)
	if err != nil {
		return o, err
	}
	o.watchNamespaces = ns
	if o.defaultNodeImage == "" {
		return o, errors.New("--default-node-image must not be empty")
	}
	return o, nil
}

// parseNamespaces splits a comma-separated list, dropping blanks and
// duplicates; empty means all namespaces.
func parseNamespaces(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, ns := range strings.Split(s, ",") {
		ns = strings.TrimSpace(ns)
		if ns == "" || seen[ns] {
			continue
		}
		if strings.ContainsAny(ns, " /") {
			return nil, fmt.Errorf("--watch-namespaces: %q is not a namespace name", ns)
		}
		seen[ns] = true
		out = append(out, ns)
	}
	return out, nil
}

func newScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

func main() {
	run := run
	if len(os.Args) > 1 && os.Args[1] == builders.StoreSubcommand {
		run = func(args []string) error { return storeServe(args[1:]) }
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "shoal-operator:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&o.zap)))
	log := ctrl.Log.WithName("setup")

	scheme, err := newScheme()
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:  o.probeAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        "shoal-operator.redis.shoal.dev",
		LeaderElectionNamespace: o.leaderElectionNS,
		// The new leader starts at once when the old one stops cleanly.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controllers.CacheOptions(o.watchNamespaces),
		// client-go's default spam filter lets 25 events per object
		// through, then one per 5 minutes: a rolling update or a scale of
		// a big cluster records an event per pod and per failover, and
		// they must not be dropped. The manager's lifetime is the
		// process's, so the broadcaster it does not stop leaks nothing.
		EventBroadcaster: record.NewBroadcasterWithCorrelatorOptions(record.CorrelatorOptions{ //nolint:staticcheck // see above
			BurstSize: eventBurst,
			QPS:       eventQPS,
		}),
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	stores := controllers.BackupStores{Image: o.storeImage}
	r := &controllers.RedisClusterReconciler{
		Client:           mgr.GetClient(),
		APIReader:        mgr.GetAPIReader(),
		Recorder:         mgr.GetEventRecorderFor("shoal-operator"),
		DefaultNodeImage: o.defaultNodeImage,
		Dial:             clusteradmin.NewDialer(o.nodeTimeout),
		DialTLS:          func(cfg *tls.Config) clusteradmin.Dialer { return clusteradmin.NewTLSDialer(o.nodeTimeout, cfg) },
		NewPassword:      controllers.RandomPassword,
		Stores:           stores,
	}
	if err := r.SetupWithManager(mgr, o.maxConcurrentWorkers); err != nil {
		return fmt.Errorf("setting up the RedisCluster controller: %w", err)
	}
	rr := &controllers.RedisReplicationReconciler{
		Client:           mgr.GetClient(),
		APIReader:        mgr.GetAPIReader(),
		Recorder:         mgr.GetEventRecorderFor("shoal-operator"),
		DefaultNodeImage: o.defaultNodeImage,
		NewPassword:      controllers.RandomPassword,
		NodeTimeout:      o.nodeTimeout,
		Stores:           stores,
	}
	if err := rr.SetupWithManager(mgr, o.maxConcurrentWorkers); err != nil {
		return fmt.Errorf("setting up the RedisReplication controller: %w", err)
	}
	br := &controllers.RedisBackupReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorderFor("shoal-operator"),
		Dial:      r.Dial,
		DialTLS:   r.DialTLS,
		Stores:    stores,
	}
	if err := br.SetupWithManager(mgr, o.maxConcurrentWorkers); err != nil {
		return fmt.Errorf("setting up the RedisBackup controller: %w", err)
	}
	sr := &controllers.BackupScheduleReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorderFor("shoal-operator"),
		Archives: controllers.NewArchiveManager(), Dial: r.Dial, DialTLS: r.DialTLS, Stores: stores}
	if err := sr.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the backup schedule controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	log.Info("starting manager", "watchNamespaces", o.watchNamespaces, "defaultNodeImage", o.defaultNodeImage, "storeImage", o.storeImage,
		"leaderElection", o.leaderElect)
	return mgr.Start(ctrl.SetupSignalHandler())
}
