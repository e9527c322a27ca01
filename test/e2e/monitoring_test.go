package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/shoal-dev/shoal/controllers/builders"
)

// The real Prometheus of the metrics specs (Debian's prometheus package).
const (
	promReadyTimeout = time.Minute
	promDataTimeout  = 3 * time.Minute
	promAlertTimeout = 3 * time.Minute
	// promRateInterval replaces the dashboard's $__rate_interval: several
	// scrapes of 1 s.
	promRateInterval = "20s"
	dashboardFile    = "../../charts/shoal/dashboards/shoal-rediscluster.json"
	// masterAlert is the alert a deleted master pod raises: its replica
	// takes the slots over and is a master without a replica until the pod
	// is back as its replica.
	masterAlert = "RedisMasterWithoutReplica"
)

// lostNodeAlerts are the alerts a lost master may raise, depending on how
// long it is away: the replica that took its slots over has no replica;
// its scrape fails; a replica lost its link; a node saw slots down.
var lostNodeAlerts = []string{masterAlert, "RedisClusterNodeDown", "RedisReplicaLinkDown", "RedisClusterStateNotOK", "RedisClusterSlotsNotOK"}

// masterDownSeen reports whether the alerts of a deleted master fired: its
// shard's new master without a replica (the preStop hand-over, then until
// the pod is back as its replica), or its scrape failing (the pod away
// before a hand-over). Which one depends on the timing.
func masterDownSeen(fired []string) bool {
	return slices.Contains(fired, masterAlert) || slices.Contains(fired, "RedisClusterNodeDown")
}

// dump writes to the spec's output what Prometheus holds of ns over window
// and the health of its rules: the evidence of an alert that did not fire.
func (p *promServer) dump(ctx context.Context, ns, window string) {
	for _, q := range []string{
		fmt.Sprintf(`redis_connected_slaves{namespace=%q}[%s]`, ns, window),
		fmt.Sprintf(`redis_instance_info{namespace=%q}[%s]`, ns, window),
		fmt.Sprintf(`up{namespace=%q}[%s]`, ns, window),
		fmt.Sprintf(`ALERTS{namespace=%q}[%s]`, ns, window),
	} {
		fmt.Fprintf(GinkgoWriter, "%s:\n%s\n", q, p.get(ctx, "/api/v1/query?query="+url.QueryEscape(q)))
	}
	fmt.Fprintf(GinkgoWriter, "rules:\n%s\n", p.get(ctx, "/api/v1/rules"))
}

func (p *promServer) get(ctx context.Context, path string) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// promServer is a Prometheus process run by the suite, on loopback.
type promServer struct {
	base     string
	cmd      *exec.Cmd
	dir      string
	exited   chan struct{}
	stopSync context.CancelFunc
}

// ensurePrometheus starts (once) a Prometheus that scrapes the pods of the
// cluster as the PodMonitor the operator makes does, and the operator,
// and loads the rules of the operator's PrometheusRule with for: 0s.
func (s *secured) ensurePrometheus(ctx context.Context) *promServer {
	GinkgoHelper()
	if s.prom != nil {
		return s.prom
	}
	bin, err := exec.LookPath("prometheus")
	Expect(err).NotTo(HaveOccurred(), "Debian's prometheus package (.ci/run installs it)")
	dir, err := os.MkdirTemp("", "shoal-e2e-prometheus-")
	Expect(err).NotTo(HaveOccurred())

	rules, err := yaml.Marshal(map[string]any{"groups": []any{builders.RuleGroup(s.rc, "0s")}})
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o600)).To(Succeed())
	// Debian's Prometheus is built without Kubernetes discovery: the
	// node targets are what the PodMonitor resolves to (every pod of the
	// cluster with an IP, its metrics port, the PodMonitor's labels),
	// written to a file_sd file that follows the pods (syncTargets).
	targets := filepath.Join(dir, "nodes.json")
	cfg, err := yaml.Marshal(map[string]any{
		"global":     map[string]any{"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
		"rule_files": []string{filepath.Join(dir, "rules.yml")},
		"scrape_configs": []any{
			map[string]any{"job_name": "shoal-nodes",
				"file_sd_configs": []any{map[string]any{"files": []string{targets}, "refresh_interval": "1s"}}},
			map[string]any{"job_name": "shoal-operator",
				"static_configs": []any{map[string]any{"targets": []string{operatorMetricsAddr(ctx, s.c, s.operatorNS)}}}},
		},
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(filepath.Join(dir, "prometheus.yml"), cfg, 0o600)).To(Succeed())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	Expect(ln.Close()).To(Succeed())
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	Expect(err).NotTo(HaveOccurred())
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	Expect(s.writeTargets(ctx, targets)).To(Succeed())
	Expect(cmd.Start()).To(Succeed())
	logFile.Close()
	syncCtx, stopSync := context.WithCancel(context.Background())
	p := &promServer{base: "http://" + addr, cmd: cmd, dir: dir, exited: make(chan struct{}), stopSync: stopSync}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	go s.syncTargets(syncCtx, targets)
	s.prom = p
	By("started Prometheus (pid " + strconv.Itoa(cmd.Process.Pid) + ") on " + addr)
	Eventually(func(ctx context.Context) error {
		select {
		case <-p.exited:
			return StopTrying("prometheus exited: " + p.log())
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.prom.base+"/-/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s", resp.Status)
		}
		return nil
	}).WithContext(ctx).WithTimeout(promReadyTimeout).WithPolling(secPoll).Should(Succeed())
	return s.prom
}

// writeTargets writes the node targets file: every pod of the cluster
// with an IP, at its metrics port, with the labels the PodMonitor's
// relabelling gives (namespace, pod, rediscluster, shard). It is written
// to a temporary file and renamed, so Prometheus never reads half of it.
func (s *secured) writeTargets(ctx context.Context, file string) error {
	pods, err := nodePodsOrErr(ctx, s.c, s.rc)
	if err != nil {
		return err
	}
	groups := []any{}
	for _, p := range pods {
		groups = append(groups, map[string]any{
			"targets": []string{net.JoinHostPort(p.Status.PodIP, strconv.Itoa(int(s.rc.MetricsPort())))},
			"labels": map[string]string{"namespace": p.Namespace, "pod": p.Name,
				builders.MetricLabelCluster: p.Labels[builders.LabelCluster], builders.MetricLabelShard: p.Labels[builders.LabelShard]},
		})
	}
	b, err := json.Marshal(groups)
	if err != nil {
		return err
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// syncTargets rewrites the targets file every second until ctx ends, as
// the Prometheus Operator follows a PodMonitor's pods.
func (s *secured) syncTargets(ctx context.Context, file string) {
	defer GinkgoRecover()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := s.writeTargets(ctx, file); err != nil && ctx.Err() == nil {
			fmt.Fprintf(GinkgoWriter, "writing the Prometheus targets: %v\n", err)
		}
	}
}

func (p *promServer) log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "prometheus.log"))
	return string(b)
}

// stop ends the Prometheus this suite started (by its PID) and removes
// its files.
func (p *promServer) stop() {
	p.stopSync()
	_ = p.cmd.Process.Kill()
	<-p.exited
	fmt.Fprintf(GinkgoWriter, "prometheus log:\n%s", p.log())
	_ = os.RemoveAll(p.dir)
}

// query runs an instant query: the number of samples it returned (not NaN).
func (p *promServer) query(ctx context.Context, q string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/api/v1/query?query="+url.QueryEscape(q), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("query %s: %s", q, r.Error)
	}
	if r.Data.ResultType == "scalar" {
		return 1, nil
	}
	var series []struct {
		Value []any `json:"value"`
	}
	if err := json.Unmarshal(r.Data.Result, &series); err != nil {
		return 0, err
	}
	n := 0
	for _, s := range series {
		if len(s.Value) == 2 && s.Value[1] != "NaN" {
			n++
		}
	}
	return n, nil
}

// alertStates are the states (firing, pending) of alert name for the
// series of namespace ns, by pod.
func (p *promServer) alertStates(ctx context.Context, name, ns string) (map[string]string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/api/v1/alerts", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	states := map[string]string{}
	for _, a := range r.Data.Alerts {
		if a.Labels["alertname"] == name && a.Labels["namespace"] == ns {
			states[a.Labels["pod"]] = a.State
		}
	}
	return states, nil
}

// dashboardExprs are the queries of the chart's dashboard.
func dashboardExprs() []string {
	GinkgoHelper()
	b, err := os.ReadFile(dashboardFile)
	Expect(err).NotTo(HaveOccurred())
	var d struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	Expect(json.Unmarshal(b, &d)).To(Succeed())
	var out []string
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			out = append(out, t.Expr)
		}
	}
	Expect(out).NotTo(BeEmpty())
	return out
}

func (s *secured) metricsDashboard(ctx SpecContext) {
	prom := s.ensurePrometheus(ctx)
	By("a light load over TLS: SET, GET of present and missing keys, an INCR refused (an error reply)")
	cc := s.clusterClient(ctx, "", s.password, 0)
	defer cc.Close()
	l := startLoad(func(ctx context.Context, w, i int) error {
		k := fmt.Sprintf("m:%d:%d", w, i%100)
		if err := cc.Set(ctx, k, "x", 0).Err(); err != nil {
			return err
		}
		cc.Get(ctx, k)
		cc.Get(ctx, "m:missing")
		cc.Incr(ctx, k) // ERR value is not an integer: redis_errors_total
		return nil
	})
	defer l.stop()

	exprs := dashboardExprs()
	By(fmt.Sprintf("polling each of the dashboard's %d queries until it returns data", len(exprs)))
	vars := strings.NewReplacer("$namespace", s.ns, "$rediscluster", s.rc.Name, "$__rate_interval", promRateInterval)
	start := time.Now()
	for _, expr := range exprs {
		q := vars.Replace(expr)
		Eventually(func(ctx context.Context) (int, error) { return prom.query(ctx, q) }).
			WithContext(ctx).WithTimeout(promDataTimeout).WithPolling(secPoll).
			Should(BeNumerically(">", 0), "dashboard query %s", q)
	}
	AddReportEntry("Prometheus started to every dashboard query returning data", time.Since(start).Round(time.Second).String())
	n, err := prom.query(ctx, fmt.Sprintf(`up{namespace=%q,rediscluster=%q} == 1`, s.ns, s.rc.Name))
	Expect(err).NotTo(HaveOccurred())
	Expect(n).To(Equal(6), "node targets up")
	n, err = prom.query(ctx, `up{job="shoal-operator"} == 1`)
	Expect(err).NotTo(HaveOccurred())
	Expect(n).To(Equal(1), "operator target up")
	_, errs, _ := l.stop()
	Expect(errs).To(BeZero(), "load errors")
}

func (s *secured) metricsAlert(ctx SpecContext) {
	prom := s.ensurePrometheus(ctx)
	By("waiting for all 6 nodes to be scraped and no alert of a lost node")
	Eventually(func(g Gomega, ctx context.Context) {
		n, err := prom.query(ctx, fmt.Sprintf(`up{namespace=%q,rediscluster=%q} == 1`, s.ns, s.rc.Name))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(n).To(Equal(6), "node targets up")
		for _, a := range lostNodeAlerts {
			states, err := prom.alertStates(ctx, a, s.ns)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(states).To(BeEmpty(), "%s", a)
		}
	}).WithContext(ctx).WithTimeout(promDataTimeout).WithPolling(secPoll).Should(Succeed())

	Expect(s.c.Get(ctx, client.ObjectKeyFromObject(s.rc), s.rc)).To(Succeed())
	Expect(s.rc.Status.Shards).NotTo(BeEmpty())
	Expect(s.rc.Status.Shards[0].Master).NotTo(BeNil())
	victim := s.rc.Status.Shards[0].Master.Pod
	var pod corev1.Pod
	Expect(s.c.Get(ctx, types.NamespacedName{Namespace: s.ns, Name: victim}, &pod)).To(Succeed())
	oldUID := pod.UID
	By("deleting master pod " + victim)
	deleted := time.Now()
	Expect(s.c.Delete(ctx, &pod)).To(Succeed())

	By("waiting for the pod back Ready and the RedisCluster Ready with 3 replicas")
	Eventually(func(g Gomega, ctx context.Context) {
		var p corev1.Pod
		g.Expect(s.c.Get(ctx, types.NamespacedName{Namespace: s.ns, Name: victim}, &p)).To(Succeed())
		g.Expect(p.UID).NotTo(Equal(oldUID), "the old pod is still there")
		g.Expect(podIsReady(&p)).To(BeTrue(), "pod %s: %s", victim, podSummary(&p))
		g.Expect(s.c.Get(ctx, client.ObjectKeyFromObject(s.rc), s.rc)).To(Succeed())
		g.Expect(isReady(s.rc)).To(BeTrue(), "conditions %+v", s.rc.Status.Conditions)
		g.Expect(s.rc.Status.ReadyReplicas).To(BeEquivalentTo(3))
	}).WithContext(ctx).WithTimeout(recoverTimeout).WithPolling(clusterPoll).Should(Succeed())
	AddReportEntry("master pod deleted to the RedisCluster Ready again", time.Since(deleted).Round(time.Second).String())

	// Whether an alert fired is read from the ALERTS series over the whole
	// window (the rules' for is 0s), so that a window shorter than a poll
	// is not missed; the last evaluations may lag the recovery a little.
	window := fmt.Sprintf("%ds", int(time.Since(deleted).Seconds())+30)
	firedAlerts := func(ctx context.Context) ([]string, error) {
		var names []string
		for _, a := range lostNodeAlerts {
			n, err := prom.query(ctx, fmt.Sprintf(`max_over_time(ALERTS{alertname=%q,alertstate="firing",namespace=%q}[%s])`, a, s.ns, window))
			if err != nil {
				return nil, err
			}
			if n > 0 {
				names = append(names, a)
			}
		}
		return names, nil
	}
	By("checking that the alerts of a lost master fired while the pod was away")
	var (
		fired []string
		err   error
	)
	for deadline := time.Now().Add(30 * time.Second); ; {
		fired, err = firedAlerts(ctx)
		if err == nil && masterDownSeen(fired) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			Fail("interrupted while reading the alerts")
		case <-time.After(secPoll): // polling Prometheus with a deadline
		}
	}
	if !masterDownSeen(fired) {
		prom.dump(ctx, s.ns, window)
	}
	Expect(err).NotTo(HaveOccurred())
	Expect(masterDownSeen(fired)).To(BeTrue(), "alerts that fired: %q", fired)
	AddReportEntry("alerts fired for the deleted master pod", strings.Join(fired, ", "))

	By("waiting for every one of them to clear")
	Eventually(func(g Gomega, ctx context.Context) {
		for _, a := range lostNodeAlerts {
			states, err := prom.alertStates(ctx, a, s.ns)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(states).To(BeEmpty(), "%s", a)
		}
	}).WithContext(ctx).WithTimeout(promAlertTimeout).WithPolling(secPoll).Should(Succeed())
	AddReportEntry("master pod deleted to its alerts cleared", time.Since(deleted).Round(time.Second).String())
	s.expectClusterOK(ctx)
	// The TLS client still works after the pod came back (new IP).
	cc := s.clusterClient(ctx, "", s.password, 0)
	defer cc.Close()
	Expect(cc.Set(ctx, "after:recovery", "1", 0).Err()).To(Succeed())
}
