package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// Timeouts of the operator specs, named so a slow machine can be diagnosed.
const (
	operatorInstallTimeout   = 5 * time.Minute
	operatorAvailableTimeout = 3 * time.Minute
	objectsCreatedTimeout    = 2 * time.Minute
	objectsGoneTimeout       = 3 * time.Minute
	operatorPollInterval     = time.Second
	operatorRelease          = "shoal-e2e"
)

var _ = Describe("Operator", Label("operator"), Ordered, func() {
	var (
		cfg        suiteConfig
		c          client.Client
		operatorNS string
		appNS      string
	)

	BeforeAll(func(ctx SpecContext) {
		cfg = mustLoadSuiteConfig()
		scheme := runtime.NewScheme()
		Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
		Expect(v1alpha1.AddToScheme(scheme)).To(Succeed())
		var err error
		c, err = client.New(cfg.Rest, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())

		operatorNS = createNamespace(ctx, c, "shoal-e2e-operator-")
		appNS = createNamespace(ctx, c, "shoal-e2e-app-")

		By("installing the chart with operator image " + cfg.OperatorImage + " and node image " + cfg.NodeImage)
		opRepo, opTag := splitImage(cfg.OperatorImage)
		nodeRepo, nodeTag := splitImage(cfg.NodeImage)
		out, err := helmCommand(ctx, "upgrade", "--install", operatorRelease, filepath.Join("..", "..", "charts", "shoal"),
			"--namespace", operatorNS, "--wait", "--timeout", operatorInstallTimeout.String(),
			"--set", "image.repository="+opRepo, "--set", "image.tag="+opTag,
			"--set", "nodeImage.repository="+nodeRepo, "--set", "nodeImage.tag="+nodeTag,
			"--set", "logLevel=debug")
		Expect(err).NotTo(HaveOccurred(), "helm install:\n%s", out)
		DeferCleanup(func(ctx SpecContext) {
			By("uninstalling the chart")
			out, err := helmCommand(ctx, "uninstall", operatorRelease, "--namespace", operatorNS, "--wait")
			Expect(err).NotTo(HaveOccurred(), "helm uninstall:\n%s", out)
		}, NodeTimeout(operatorInstallTimeout))
	}, NodeTimeout(operatorInstallTimeout+2*time.Minute))

	AfterEach(func(ctx SpecContext) {
		By("checking the operator did not restart")
		var pods corev1.PodList
		Expect(c.List(ctx, &pods, client.InNamespace(operatorNS),
			client.MatchingLabels{"app.kubernetes.io/component": "operator"})).To(Succeed())
		for _, p := range pods.Items {
			for _, s := range p.Status.ContainerStatuses {
				Expect(s.RestartCount).To(BeZero(), "operator pod %s restarted", p.Name)
			}
		}
	})

	It("runs the operator Deployment until it is Available", func(ctx SpecContext) {
		Eventually(func(g Gomega, ctx context.Context) {
			// Found by the chart's labels, not by name: the chart names objects
			// after the release alone when the release name contains "shoal".
			var list appsv1.DeploymentList
			g.Expect(c.List(ctx, &list, client.InNamespace(operatorNS), client.MatchingLabels{
				"app.kubernetes.io/instance":  operatorRelease,
				"app.kubernetes.io/component": "operator",
			})).To(Succeed())
			g.Expect(list.Items).To(HaveLen(1), "operator Deployments of release %s", operatorRelease)
			d := list.Items[0]
			available := slices.ContainsFunc(d.Status.Conditions, func(cond appsv1.DeploymentCondition) bool {
				return cond.Type == appsv1.DeploymentAvailable && cond.Status == corev1.ConditionTrue
			})
			g.Expect(available).To(BeTrue(), "Deployment conditions %+v", d.Status.Conditions)
		}).WithContext(ctx).WithTimeout(operatorAvailableTimeout).WithPolling(operatorPollInterval).Should(Succeed())
	}, SpecTimeout(operatorAvailableTimeout+30*time.Second))

	Describe("a 3-master 1-replica RedisCluster on persistent volumes", Ordered, func() {
		var lc *lifecycle
		BeforeAll(func() { lc = &lifecycle{c: c, cfg: cfg, ns: appNS} })

		It("forms the cluster and reports it Ready", func(ctx SpecContext) { lc.form(ctx) },
			SpecTimeout(formTimeout+objectsCreatedTimeout))
		It("serves 10,000 keys to a go-redis ClusterClient", func(ctx SpecContext) { lc.writeAndReadKeys(ctx) },
			SpecTimeout(keysTimeout))
		It("passes redis-cli --cluster check", func(ctx SpecContext) { lc.checkClean(ctx) },
			SpecTimeout(checkTimeout))
		It("recovers a deleted master pod with its node ID and every key", func(ctx SpecContext) { lc.recoverMaster(ctx) },
			SpecTimeout(recoverTimeout+keysTimeout+checkTimeout))
		It("removes every object, pod and claim with the RedisCluster", func(ctx SpecContext) { lc.deleteAll(ctx) },
			SpecTimeout(objectsGoneTimeout+30*time.Second))
	})

	describeDay2(func() (client.Client, suiteConfig, string) { return c, cfg, operatorNS })
	describePlugin(func() (client.Client, suiteConfig, string) { return c, cfg, operatorNS })
	describeFromRedis(func() (client.Client, suiteConfig, string) { return c, cfg, operatorNS })
	describeExternal(func() (client.Client, suiteConfig, string) { return c, cfg, operatorNS })
	describeAutoscale(func() (client.Client, suiteConfig, string) { return c, cfg, operatorNS })
	describeBackup(func() (client.Client, suiteConfig, string) { return c, cfg, operatorNS })
	describeBackupToPVC(func() (client.Client, suiteConfig, string) { return c, cfg, operatorNS })
	describeSecurity(func() (client.Client, suiteConfig, string) { return c, cfg, operatorNS })
	describeReplication(func() (client.Client, suiteConfig, string) { return c, cfg, operatorNS })

	It("reports the operator's CPU and memory at idle with 10 RedisClusters", Label("figures"), func(ctx SpecContext) {
		measureIdle(ctx, c, operatorNS)
	}, SpecTimeout(idleFormTimeout+idleWindow+objectsGoneTimeout+2*time.Minute))
})

// ownedObjects are the objects the operator makes for the RedisCluster "e2e"
// of 3 shards, empty, keyed by namespace and name.
func ownedObjects(ns string) []client.Object {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: meta("e2e-auth")},
		&corev1.ConfigMap{ObjectMeta: meta("e2e-config")},
		&corev1.Service{ObjectMeta: meta("e2e-nodes")},
		&corev1.Service{ObjectMeta: meta("e2e")},
	}
	for i := range 3 {
		objs = append(objs,
			&appsv1.StatefulSet{ObjectMeta: meta(fmt.Sprintf("e2e-shard-%d", i))},
			&policyv1.PodDisruptionBudget{ObjectMeta: meta(fmt.Sprintf("e2e-shard-%d", i))})
	}
	return objs
}

func createNamespace(ctx context.Context, c client.Client, prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	Expect(c.Create(ctx, ns)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		By("deleting namespace " + ns.Name)
		Expect(client.IgnoreNotFound(c.Delete(ctx, ns))).To(Succeed())
	}, NodeTimeout(time.Minute))
	return ns.Name
}

// splitImage splits repository:tag (the tag after the last colon that follows
// the last slash).
func splitImage(image string) (repo, tag string) {
	i := strings.LastIndexByte(image, ':')
	if i < 0 || strings.Contains(image[i:], "/") {
		return image, "latest"
	}
	return image[:i], image[i+1:]
}

// helmCommand runs the pinned helm: $HELM (the Makefile sets it; a relative
// path is taken from the repository root), else the one `make helm` installs
// into ./bin. KUBECONFIG passes through.
func helmCommand(ctx context.Context, args ...string) (string, error) {
	bin := os.Getenv("HELM")
	if !filepath.IsAbs(bin) && strings.ContainsRune(bin, filepath.Separator) {
		bin = filepath.Join("..", "..", bin)
	}
	if bin == "" {
		found, _ := filepath.Glob(filepath.Join("..", "..", "bin", "helm-v*"))
		if len(found) == 0 {
			return "", fmt.Errorf("helm not found: run `make helm` or set HELM")
		}
		slices.Sort(found)
		bin = found[len(found)-1]
	}
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}
