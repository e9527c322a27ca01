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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
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

	It("creates the objects of a RedisCluster and removes them with it", func(ctx SpecContext) {
		rc := &v1alpha1.RedisCluster{
			ObjectMeta: metav1.ObjectMeta{Namespace: appNS, Name: "e2e"},
			Spec: v1alpha1.RedisClusterSpec{
				Masters: 3, ReplicasPerMaster: 1,
				Storage: v1alpha1.StorageSpec{Size: ptr.To(resource.MustParse("64Mi"))},
			},
		}
		By("applying a 3-master, 1-replica RedisCluster")
		Expect(c.Create(ctx, rc)).To(Succeed())

		By("waiting for the Secret, ConfigMap, Services, StatefulSets and PDBs, owned by the RedisCluster")
		Eventually(func(g Gomega, ctx context.Context) {
			g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rc), rc)).To(Succeed())
			for _, o := range ownedObjects(appNS) {
				g.Expect(c.Get(ctx, client.ObjectKeyFromObject(o), o)).To(Succeed(), "%T %s", o, o.GetName())
				ref := metav1.GetControllerOf(o)
				g.Expect(ref).NotTo(BeNil(), "%T %s has no controller", o, o.GetName())
				g.Expect(ref.UID).To(Equal(rc.UID))
			}
			g.Expect(rc.Status.ObservedGeneration).To(Equal(rc.Generation))
			g.Expect(rc.Condition(v1alpha1.ConditionReady)).NotTo(BeNil())
		}).WithContext(ctx).WithTimeout(objectsCreatedTimeout).WithPolling(operatorPollInterval).Should(Succeed())

		var sts appsv1.StatefulSet
		Expect(c.Get(ctx, client.ObjectKey{Namespace: appNS, Name: "e2e-shard-0"}, &sts)).To(Succeed())
		Expect(*sts.Spec.Replicas).To(Equal(int32(2)))
		Expect(sts.Spec.UpdateStrategy.Type).To(Equal(appsv1.OnDeleteStatefulSetStrategyType))
		Expect(sts.Spec.Template.Spec.Containers[0].Image).To(Equal(cfg.NodeImage), "the chart's default node image")

		By("deleting the RedisCluster")
		Expect(c.Delete(ctx, rc)).To(Succeed())
		Eventually(func(g Gomega, ctx context.Context) {
			for _, o := range ownedObjects(appNS) {
				err := c.Get(ctx, client.ObjectKeyFromObject(o), o)
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%T %s still there (%v)", o, o.GetName(), err)
			}
			var pods corev1.PodList
			g.Expect(c.List(ctx, &pods, client.InNamespace(appNS))).To(Succeed())
			g.Expect(pods.Items).To(BeEmpty(), "pods left")
			var claims corev1.PersistentVolumeClaimList
			g.Expect(c.List(ctx, &claims, client.InNamespace(appNS))).To(Succeed())
			g.Expect(claims.Items).To(BeEmpty(), "claims left (retention policy Delete)")
		}).WithContext(ctx).WithTimeout(objectsGoneTimeout).WithPolling(operatorPollInterval).Should(Succeed())
	}, SpecTimeout(objectsCreatedTimeout+objectsGoneTimeout+time.Minute))
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
		objs = append(objs, &appsv1.StatefulSet{ObjectMeta: meta(fmt.Sprintf("e2e-shard-%d", i))})
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
