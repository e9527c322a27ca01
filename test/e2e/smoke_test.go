package e2e

import (
	"context"
	"net"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

const (
	smokePodRunningTimeout = 3 * time.Minute
	smokePingTimeout       = time.Minute
	smokeVolumeTimeout     = 2 * time.Minute
	smokeNamespaceTimeout  = 3 * time.Minute
	smokePollInterval      = 500 * time.Millisecond
	smokeRedisPort         = 6379
)

var _ = Describe("Smoke", Label("smoke"), Ordered, func() {
	var (
		cfg suiteConfig
		ns  string
	)

	BeforeAll(func(ctx SpecContext) {
		cfg = mustLoadSuiteConfig()
		By("creating a namespace for the smoke specs")
		created, err := cfg.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "shoal-smoke-"},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		ns = created.Name
		DeferCleanup(func(ctx SpecContext) {
			By("deleting namespace " + ns)
			err := cfg.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
			if !apierrors.IsNotFound(err) {
				Expect(err).NotTo(HaveOccurred())
			}
			Eventually(func(ctx context.Context) bool {
				_, err := cfg.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
				return apierrors.IsNotFound(err)
			}).WithContext(ctx).WithTimeout(smokeNamespaceTimeout).WithPolling(smokePollInterval).
				Should(BeTrue(), "namespace %s is still there", ns)
		}, NodeTimeout(smokeNamespaceTimeout+30*time.Second))
	}, NodeTimeout(time.Minute))

	It("runs a node pod that answers PING from the host", func(ctx SpecContext) {
		By("creating a pod with the node image " + cfg.NodeImage)
		pod := nodePod("node", cfg.NodeImage)
		_, err := cfg.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())

		By("waiting for the pod to be Running with an IP")
		podIP := waitForRunningPodIP(ctx, cfg.Client, ns, pod.Name)

		By("sending PING to " + podIP + " from the host")
		rdb := redis.NewClient(&redis.Options{
			Addr:            net.JoinHostPort(podIP, strconv.Itoa(smokeRedisPort)),
			Protocol:        2,
			DisableIdentity: true,
			MaxRetries:      -1,
			DialTimeout:     2 * time.Second,
			ReadTimeout:     2 * time.Second,
		})
		DeferCleanup(rdb.Close)
		Eventually(func(ctx context.Context) (string, error) {
			return rdb.Ping(ctx).Result()
		}).WithContext(ctx).WithTimeout(smokePingTimeout).WithPolling(smokePollInterval).Should(Equal("PONG"))
	}, SpecTimeout(smokePodRunningTimeout+smokePingTimeout+30*time.Second))

	It("binds a claim of the default StorageClass and deletes its volume after the claim", func(ctx SpecContext) {
		By("creating a claim without a class, so the default class serves it")
		claim := &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceStorage: resource.MustParse("64Mi")}},
			},
		}
		_, err := cfg.Client.CoreV1().PersistentVolumeClaims(ns).Create(ctx, claim, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())

		By("running a node pod that mounts the claim at /data")
		pod := nodePod("with-volume", cfg.NodeImage)
		pod.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim.Name}}}}
		pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		_, err = cfg.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		waitForRunningPodIP(ctx, cfg.Client, ns, pod.Name)

		By("checking the claim is Bound to a volume")
		bound, err := cfg.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim.Name, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(bound.Status.Phase).To(Equal(corev1.ClaimBound))
		volume := bound.Spec.VolumeName
		Expect(volume).NotTo(BeEmpty())

		By("deleting the pod and the claim, then waiting for volume " + volume + " to go")
		Expect(cfg.Client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{})).To(Succeed())
		Expect(cfg.Client.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, claim.Name, metav1.DeleteOptions{})).To(Succeed())
		Eventually(func(ctx context.Context) bool {
			_, err := cfg.Client.CoreV1().PersistentVolumes().Get(ctx, volume, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}).WithContext(ctx).WithTimeout(smokeVolumeTimeout).WithPolling(smokePollInterval).
			Should(BeTrue(), "volume %s was not deleted after its claim", volume)
	}, SpecTimeout(smokePodRunningTimeout+smokeVolumeTimeout+30*time.Second))
})

// nodePod is a one-container pod running the data node on port 6379.
func nodePod(name, image string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app.kubernetes.io/name": "shoal-smoke"}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: new(int64(5)),
			Containers: []corev1.Container{{
				Name:            "node",
				Image:           image,
				ImagePullPolicy: corev1.PullIfNotPresent,
				// Like redis-server, the node refuses non-loopback clients
				// in protected mode (the default) when no password is set.
				Args:  []string{"--port", strconv.Itoa(smokeRedisPort), "--protected-mode", "no"},
				Ports: []corev1.ContainerPort{{Name: "redis", ContainerPort: smokeRedisPort}},
			}},
		},
	}
}

// waitForRunningPodIP waits until the pod is Running and returns its IP.
func waitForRunningPodIP(ctx context.Context, client kubernetes.Interface, ns, name string) string {
	var podIP string
	Eventually(func(g Gomega, ctx context.Context) {
		pod, err := client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(pod.Status.Phase).To(Equal(corev1.PodRunning), "pod %s/%s: %s", ns, name, podSummary(pod))
		g.Expect(pod.Status.PodIP).NotTo(BeEmpty())
		podIP = pod.Status.PodIP
	}).WithContext(ctx).WithTimeout(smokePodRunningTimeout).WithPolling(smokePollInterval).Should(Succeed())
	return podIP
}

// podSummary is the pod's phase and container waiting reasons, for failure messages.
func podSummary(pod *corev1.Pod) string {
	s := string(pod.Status.Phase)
	for _, c := range pod.Status.ContainerStatuses {
		if c.State.Waiting != nil {
			s += " " + c.Name + ": " + c.State.Waiting.Reason + " " + c.State.Waiting.Message
		}
	}
	return s
}
