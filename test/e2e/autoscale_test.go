package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// Timeouts of the autoscaling spec.
const (
	// autoscaleMetricsTimeout: metrics-server's first pod metrics come
	// after two scrapes (resolution 15 s) once the API server routes to it.
	autoscaleMetricsTimeout = 3 * time.Minute
	// autoscaleTimeout bounds the whole spec: form, the HPA's decision
	// (15 s sync period) and a scale out of 3277 slots on a loaded machine
	// (see externalScaleTimeout).
	autoscaleTimeout = 20 * time.Minute
	// metricsServerEnv names the metrics-server binary (make metrics-server).
	metricsServerEnv = "SHOAL_METRICS_SERVER"
)

// describeAutoscale adds the autoscaling spec: Kubernetes's metrics-server
// (run on the host, registered as the metrics.k8s.io APIService through
// the API server's aggregation layer) and a real HorizontalPodAutoscaler
// on a RedisCluster's scale subresource: a CPU load on the nodes makes the
// HPA raise spec.masters from 3 to 4, and the operator moves slots to the
// new shard while the load goes on, without a client error.
func describeAutoscale(env func() (client.Client, suiteConfig, string)) {
	Describe("A HorizontalPodAutoscaler drives spec.masters", Label("autoscale"), Ordered, func() {
		var (
			c   client.Client
			cfg suiteConfig
			ns  string
		)
		BeforeAll(func(ctx SpecContext) {
			var operatorNS string
			c, cfg, operatorNS = env()
			ns = createNamespace(ctx, c, "shoal-e2e-autoscale-")
			startMetricsServer(ctx, c, operatorNS)
		}, NodeTimeout(autoscaleMetricsTimeout+time.Minute))

		It("scales a RedisCluster out from 3 to 4 masters when its CPU rises", func(ctx SpecContext) {
			rc := newRedisCluster(ns, "autoscaled", 3, 0, true)
			// A small CPU request, so a modest load is well over the HPA's
			// target (utilization is usage over request).
			rc.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("20m")}
			Expect(c.Create(ctx, rc)).To(Succeed())
			waitReady(ctx, c, rc, formTimeout)

			By("waiting for metrics-server to report the node pods")
			Eventually(func(g Gomega) {
				n, err := podMetricsCount(ctx, cfg, ns)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(n).To(BeNumerically(">=", 3))
			}).WithContext(ctx).WithTimeout(autoscaleMetricsTimeout).WithPolling(2 * time.Second).Should(Succeed())

			By("creating the HPA: 3 to 4 masters at 50% of the CPU request, scale-downs disabled")
			hpa := &autoscalingv2.HorizontalPodAutoscaler{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: rc.Name},
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
					ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
						APIVersion: v1alpha1.GroupVersion.String(), Kind: "RedisCluster", Name: rc.Name},
					MinReplicas: ptr.To[int32](3),
					MaxReplicas: 4,
					Metrics: []autoscalingv2.MetricSpec{{
						Type: autoscalingv2.ResourceMetricSourceType,
						Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
							Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](50)}},
					}},
					Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
						ScaleUp:   &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](0)},
						ScaleDown: &autoscalingv2.HPAScalingRules{SelectPolicy: ptr.To(autoscalingv2.DisabledPolicySelect)},
					},
				},
			}
			Expect(c.Create(ctx, hpa)).To(Succeed())

			By("loading the cluster until the HPA has raised spec.masters")
			cc := clusterClientOf(ctx, c, rc)
			defer cc.Close() //nolint:errcheck // test client
			loadCtx, stopLoad := context.WithCancel(ctx)
			var wg sync.WaitGroup
			var ops, errs atomic.Int64
			for w := range 4 {
				wg.Go(func() {
					for i := 0; loadCtx.Err() == nil; i++ {
						p := cc.Pipeline()
						for j := range 20 {
							p.Set(loadCtx, fmt.Sprintf("as:%d:%d", w, (i*20+j)%5000), i, 0)
						}
						_, err := p.Exec(loadCtx)
						ops.Add(20)
						if err != nil && loadCtx.Err() == nil {
							errs.Add(1)
							fmt.Fprintf(GinkgoWriter, "load error: %v\n", err)
						}
					}
				})
			}
			stop := func() { stopLoad(); wg.Wait() }
			defer stop()
			start := time.Now()
			Eventually(func(g Gomega) {
				g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rc), rc)).To(Succeed())
				g.Expect(rc.Spec.Masters).To(BeEquivalentTo(4), "spec.masters (the HPA's scale)")
			}).WithContext(ctx).WithTimeout(5*time.Minute).WithPolling(2*time.Second).Should(Succeed(), func() string {
				var got autoscalingv2.HorizontalPodAutoscaler
				_ = c.Get(ctx, client.ObjectKeyFromObject(hpa), &got)
				b, _ := json.Marshal(got.Status)
				return "HPA status: " + string(b)
			})
			fmt.Fprintf(GinkgoWriter, "the HPA raised spec.masters to 4 after %s of load\n", time.Since(start).Round(time.Second))

			By("waiting for the operator to move slots to the 4th master, the load still on")
			Eventually(func(g Gomega) {
				g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rc), rc)).To(Succeed())
				g.Expect(isReady(rc)).To(BeTrue(), "Ready")
				g.Expect(rc.Status.ReadyMasters).To(BeEquivalentTo(4))
				g.Expect(slotOwners(rc)).To(Equal(4), "masters owning slots")
			}).WithContext(ctx).WithTimeout(externalScaleTimeout).WithPolling(2 * time.Second).Should(Succeed())
			stop()
			fmt.Fprintf(GinkgoWriter, "scaled 3 -> 4 masters %s after the load began; %d writes, %d failed pipelines\n",
				time.Since(start).Round(time.Second), ops.Load(), errs.Load())
			Expect(errs.Load()).To(BeZero(), "client errors during the HPA's scale out")
			Expect(c.Delete(ctx, hpa)).To(Succeed())
		}, SpecTimeout(autoscaleTimeout))
	})
}

// slotOwners is how many shards of the status own slots.
func slotOwners(rc *v1alpha1.RedisCluster) int {
	n := 0
	for _, s := range rc.Status.Shards {
		if s.Master != nil && len(s.Master.Slots) > 0 {
			n++
		}
	}
	return n
}

// podMetricsCount asks the metrics API (through the aggregation layer)
// how many pods of ns it has metrics for.
func podMetricsCount(ctx context.Context, cfg suiteConfig, ns string) (int, error) {
	raw, err := cfg.Client.Discovery().RESTClient().Get().
		AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces/" + ns + "/pods").DoRaw(ctx)
	if err != nil {
		return 0, err
	}
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return 0, err
	}
	return len(list.Items), nil
}

// startMetricsServer runs metrics-server on the host (stopped by PID at
// the end) with the suite's kubeconfig, and registers it as the
// v1beta1.metrics.k8s.io APIService through a Service whose endpoint is
// the host's address toward the pods.
func startMetricsServer(ctx SpecContext, c client.Client, operatorNS string) {
	bin := os.Getenv(metricsServerEnv)
	Expect(bin).NotTo(BeEmpty(), "%s names the metrics-server binary (make metrics-server)", metricsServerEnv)
	kubeconfig := os.Getenv("KUBECONFIG")
	hostIP := hostAddrTowardPods(ctx, c, operatorNS)
	l, err := net.Listen("tcp", net.JoinHostPort(hostIP, "0"))
	Expect(err).NotTo(HaveOccurred())
	port := l.Addr().(*net.TCPAddr).Port
	Expect(l.Close()).To(Succeed())

	dir := GinkgoT().TempDir()
	logFile, err := os.Create(filepath.Join(dir, "metrics-server.log"))
	Expect(err).NotTo(HaveOccurred())
	cmd := exec.Command(bin,
		"--kubeconfig="+kubeconfig, "--authentication-kubeconfig="+kubeconfig, "--authorization-kubeconfig="+kubeconfig,
		"--bind-address="+hostIP, "--secure-port="+strconv.Itoa(port), "--cert-dir="+dir,
		"--kubelet-insecure-tls", "--kubelet-preferred-address-types=InternalIP", "--metric-resolution=15s")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	By(fmt.Sprintf("starting metrics-server on %s:%d", hostIP, port))
	Expect(cmd.Start()).To(Succeed())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	DeferCleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		_ = logFile.Close()
		if CurrentSpecReport().Failed() {
			b, _ := os.ReadFile(logFile.Name())
			fmt.Fprintf(GinkgoWriter, "metrics-server log:\n%s\n", b)
		}
	})

	const name = "shoal-e2e-metrics-server"
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNS, Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromInt(port)}}}}
	eps := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNS, Name: name}, //nolint:staticcheck // mirrored to an EndpointSlice
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: hostIP}},
			Ports: []corev1.EndpointPort{{Name: "https", Port: int32(port)}}}}}
	api := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": "v1beta1.metrics.k8s.io"},
		"spec": map[string]any{
			"service":               map[string]any{"namespace": operatorNS, "name": name, "port": int64(443)},
			"group":                 "metrics.k8s.io",
			"version":               "v1beta1",
			"insecureSkipTLSVerify": true,
			"groupPriorityMinimum":  int64(100),
			"versionPriority":       int64(100),
		},
	}}
	for _, o := range []client.Object{svc, eps, api} {
		Expect(c.Create(ctx, o)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { _ = c.Delete(ctx, o) })
	}
	By("waiting for the metrics API to answer through the API server")
	Eventually(func(g Gomega) {
		select {
		case <-exited:
			b, _ := os.ReadFile(logFile.Name())
			StopTrying("metrics-server exited:\n" + string(b)).Now()
		default:
		}
		var nodes unstructured.UnstructuredList
		nodes.SetAPIVersion("metrics.k8s.io/v1beta1")
		nodes.SetKind("NodeMetricsList")
		g.Expect(c.List(ctx, &nodes)).To(Succeed())
		g.Expect(nodes.Items).NotTo(BeEmpty(), "node metrics")
	}).WithContext(ctx).WithTimeout(autoscaleMetricsTimeout).WithPolling(2*time.Second).Should(Succeed(), func() string {
		b, _ := os.ReadFile(logFile.Name())
		return "metrics-server log:\n" + string(b)
	})
}
