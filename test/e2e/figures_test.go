package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// The idle figures: the operator's CPU and memory while it watches
// idleClusters small RedisClusters that are all Ready and left alone.
const (
	idleClusters    = 10
	idleMasters     = 3
	idleFormTimeout = 10 * time.Minute
	// idleWindow is the measurement window of the CPU figure, sampled
	// every idleSample (for the memory range) from the operator's metrics.
	idleWindow  = 60 * time.Second
	idleSample  = 5 * time.Second
	metricsPort = 8080
	cpuMetric   = "process_cpu_seconds_total"
	rssMetric   = "process_resident_memory_bytes"
)

// processSample is one scrape of the operator's process metrics.
type processSample struct {
	At         time.Time
	CPUSeconds float64
	RSSBytes   float64
}

// measureIdle creates the clusters, waits until all are Ready, samples the
// operator's process metrics over idleWindow, reports the figures and
// deletes the clusters.
func measureIdle(ctx SpecContext, c client.Client, operatorNS string) {
	ns := createNamespace(ctx, c, "shoal-e2e-idle-")
	By(fmt.Sprintf("creating %d RedisClusters of %d masters, no replicas, ephemeral storage", idleClusters, idleMasters))
	created := time.Now()
	var clusters []*v1alpha1.RedisCluster
	for i := range idleClusters {
		rc := newRedisCluster(ns, fmt.Sprintf("idle-%d", i), idleMasters, 0, true)
		Expect(c.Create(ctx, rc)).To(Succeed())
		clusters = append(clusters, rc)
	}
	DeferCleanup(func(ctx SpecContext) {
		By("deleting the idle RedisClusters")
		for _, rc := range clusters {
			Expect(client.IgnoreNotFound(c.Delete(ctx, rc))).To(Succeed())
		}
		Eventually(func(g Gomega, ctx context.Context) {
			var pods corev1.PodList
			g.Expect(c.List(ctx, &pods, client.InNamespace(ns))).To(Succeed())
			g.Expect(pods.Items).To(BeEmpty(), "pods left")
		}).WithContext(ctx).WithTimeout(objectsGoneTimeout).WithPolling(operatorPollInterval).Should(Succeed())
	}, NodeTimeout(objectsGoneTimeout+30*time.Second))

	By("waiting for all of them to be Ready")
	for _, rc := range clusters {
		waitReady(ctx, c, rc, idleFormTimeout-time.Since(created))
	}
	AddReportEntry(fmt.Sprintf("%d RedisClusters of %d masters: create to all Ready", idleClusters, idleMasters),
		time.Since(created).Round(100*time.Millisecond).String())

	addr := operatorMetricsAddr(ctx, c, operatorNS)
	By(fmt.Sprintf("sampling %s and %s from %s over %v", cpuMetric, rssMetric, addr, idleWindow))
	samples := []processSample{scrape(ctx, addr)}
	tick := time.NewTicker(idleSample)
	defer tick.Stop()
	for time.Since(samples[0].At) < idleWindow {
		// A measurement window, not a wait for state: the operator is
		// watched while nothing happens.
		select {
		case <-ctx.Done():
			Fail("interrupted while measuring")
		case <-tick.C:
		}
		samples = append(samples, scrape(ctx, addr))
	}
	first, last := samples[0], samples[len(samples)-1]
	cpu := (last.CPUSeconds - first.CPUSeconds) / last.At.Sub(first.At).Seconds()
	minRSS, maxRSS := first.RSSBytes, first.RSSBytes
	for _, s := range samples {
		minRSS, maxRSS = min(minRSS, s.RSSBytes), max(maxRSS, s.RSSBytes)
	}
	Expect(cpu).To(BeNumerically(">=", 0))
	Expect(maxRSS).To(BeNumerically(">", 0))

	// Every cluster is Ready after the window. A pod whose exec readiness
	// probe timed out on a machine at load 50 (seen with 30 node pods and
	// other tests beside this one) makes its cluster WaitingForPods for a
	// moment: that is the kubelet's view of the machine, not the operator
	// at idle, so a cluster gets a while to be Ready again, and one that
	// was not at the window's end is reported.
	for _, rc := range clusters {
		Expect(c.Get(ctx, client.ObjectKeyFromObject(rc), rc)).To(Succeed())
		if !isReady(rc) {
			AddReportEntry(rc.Name+" not Ready at the end of the idle window",
				fmt.Sprintf("%+v", meta.FindStatusCondition(rc.Status.Conditions, string(v1alpha1.ConditionReady))))
		}
		Eventually(func(g Gomega, ctx context.Context) {
			g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rc), rc)).To(Succeed())
			g.Expect(isReady(rc)).To(BeTrue(), "%s is not Ready again after the idle window: %+v", rc.Name,
				meta.FindStatusCondition(rc.Status.Conditions, string(v1alpha1.ConditionReady)))
		}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(operatorPollInterval).Should(Succeed())
	}
	cpuFigure := fmt.Sprintf("%.2f%% of one core (%.3f CPU-s over %v)", 100*cpu,
		last.CPUSeconds-first.CPUSeconds, last.At.Sub(first.At).Round(time.Second))
	rssFigure := fmt.Sprintf("%.1f MiB (%.1f-%.1f MiB over the window)", last.RSSBytes/(1<<20), minRSS/(1<<20), maxRSS/(1<<20))
	AddReportEntry(fmt.Sprintf("operator CPU at idle, %d RedisClusters", idleClusters), cpuFigure)
	AddReportEntry(fmt.Sprintf("operator RSS at idle, %d RedisClusters", idleClusters), rssFigure)
	fmt.Fprintf(GinkgoWriter, "operator at idle with %d RedisClusters: CPU %s, RSS %s\n", idleClusters, cpuFigure, rssFigure)
}

// operatorMetricsAddr is ip:port of the operator pod's metrics endpoint
// (plain HTTP, --metrics-bind-address; pod IPs are routable from the host).
func operatorMetricsAddr(ctx context.Context, c client.Client, operatorNS string) string {
	GinkgoHelper()
	var pods corev1.PodList
	Expect(c.List(ctx, &pods, client.InNamespace(operatorNS),
		client.MatchingLabels{"app.kubernetes.io/component": "operator"})).To(Succeed())
	Expect(pods.Items).To(HaveLen(1))
	Expect(pods.Items[0].Status.PodIP).NotTo(BeEmpty())
	return net.JoinHostPort(pods.Items[0].Status.PodIP, strconv.Itoa(metricsPort))
}

func scrape(ctx context.Context, addr string) processSample {
	GinkgoHelper()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	Expect(err).NotTo(HaveOccurred())
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusOK))
	values, err := parseMetrics(resp.Body, cpuMetric, rssMetric)
	Expect(err).NotTo(HaveOccurred())
	return processSample{At: time.Now(), CPUSeconds: values[cpuMetric], RSSBytes: values[rssMetric]}
}

// parseMetrics reads the values of unlabelled metrics from the Prometheus
// text format; every name asked for must be there.
func parseMetrics(r io.Reader, names ...string) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		for _, want := range names {
			if name == want {
				v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				out[name] = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, want := range names {
		if _, ok := out[want]; !ok {
			return nil, fmt.Errorf("no %s in the metrics", want)
		}
	}
	return out, nil
}
