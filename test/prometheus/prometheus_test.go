package prometheus

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/internal/testenv"
	"github.com/shoal-dev/shoal/node/nodetest"
)

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }

// Deadlines of the waits (polls, no sleeps for state).
const (
	readyTimeout  = 30 * time.Second
	dataTimeout   = 30 * time.Second
	alertTimeout  = 30 * time.Second
	pollInterval  = 200 * time.Millisecond
	testNamespace = "default"
	testCluster   = "metrics"
	dashboardFile = "../../charts/shoal/dashboards/shoal-rediscluster.json"
)

// member is a node with the ports it keeps across restarts: cluster
// mode, or a plain master or replica (standalone).
type member struct {
	pod                        string
	port, busPort, metricsPort int
	standalone                 bool
	dir                        string
	proc                       *nodetest.Proc
}

func (m *member) args() []string {
	args := []string{"--save", "", "--metrics-port", strconv.Itoa(m.metricsPort)}
	if m.standalone {
		return args
	}
	return append(args, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(m.busPort), "--cluster-node-timeout", "2000")
}

func (m *member) start(t *testing.T) {
	t.Helper()
	m.proc = nodetest.Start(t, nodetest.Options{Port: m.port, Dir: m.dir, Args: m.args()})
}

func newMember(t *testing.T, pod string) *member {
	m := &member{pod: pod, port: nodetest.FreePort(t), busPort: nodetest.FreePort(t), metricsPort: nodetest.FreePort(t), dir: t.TempDir()}
	m.start(t)
	return m
}

func newStandaloneMember(t *testing.T, pod string) *member {
	m := &member{pod: pod, port: nodetest.FreePort(t), metricsPort: nodetest.FreePort(t), standalone: true, dir: t.TempDir()}
	m.start(t)
	return m
}

func (m *member) client(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: m.proc.Addr, Protocol: 2})
	t.Cleanup(func() { c.Close() })
	return c
}

// poll calls f until it returns "" or the deadline passes (then it fails
// the test with f's last reason).
func poll(t *testing.T, within time.Duration, what string, f func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		why := f()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %s", what, within, why)
		}
		time.Sleep(pollInterval) // polling with a deadline
	}
}

// TestPrometheusScrapesNodes: a real Prometheus scrapes a master and its
// replica; every node query of the dashboard returns data; killing the
// replica fires RedisClusterNodeDown and RedisMasterWithoutReplica, and
// both clear once it is back.
func TestPrometheusScrapesNodes(t *testing.T) {
	promBin := testenv.LookTool(t, "prometheus", "prometheus")
	promtool := testenv.LookTool(t, "promtool", "prometheus")
	ctx := context.Background()

	master := newMember(t, testCluster+"-shard-0-0")
	replica := newMember(t, testCluster+"-shard-0-1")
	mc, rcl := master.client(t), replica.client(t)
	if err := mc.Do(ctx, "cluster", "addslotsrange", "0", "16383").Err(); err != nil {
		t.Fatal(err)
	}
	masterID, err := mc.Do(ctx, "cluster", "myid").Text()
	if err != nil {
		t.Fatal(err)
	}
	if err := rcl.Do(ctx, "cluster", "meet", "127.0.0.1", strconv.Itoa(master.port), strconv.Itoa(master.busPort)).Err(); err != nil {
		t.Fatal(err)
	}
	poll(t, readyTimeout, "the replica follows the master", func() string {
		if err := rcl.Do(ctx, "cluster", "replicate", masterID).Err(); err != nil {
			return err.Error()
		}
		info, _ := rcl.Info(ctx, "replication").Result()
		if !strings.Contains(info, "master_link_status:up") {
			return "replica link not up"
		}
		ci, _ := mc.ClusterInfo(ctx).Result()
		if !strings.Contains(ci, "cluster_state:ok") {
			return "cluster_state not ok"
		}
		return ""
	})

	// The rules the operator's PrometheusRule holds, with short for:.
	rc := &v1alpha1.RedisCluster{ObjectMeta: metav1.ObjectMeta{Name: testCluster, Namespace: testNamespace},
		Spec: v1alpha1.RedisClusterSpec{Masters: 3, ReplicasPerMaster: 1}}
	var targets []any
	for i, m := range []*member{master, replica} {
		targets = append(targets, m.target(map[string]string{builders.MetricLabelCluster: testCluster,
			builders.MetricLabelShard: "0", "role_hint": strconv.Itoa(i)}))
	}
	prom := startPrometheusWithRules(t, promBin, promtool, builders.RuleGroup(rc, "1s"), targets)

	// Traffic, so that the rates and the latency quantiles have data.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := "key" + strconv.Itoa(i%500) + "{a}"
			mc.Set(ctx, k, i, 0)
			mc.Get(ctx, k)
			mc.Get(ctx, "missing{a}")
			mc.Do(ctx, "incr", "notanumber{a}") // an error reply: redis_errors_total
			if i == 0 {
				mc.Set(ctx, "notanumber{a}", "x", 0)
			}
			time.Sleep(2 * time.Millisecond) // pacing the traffic, not waiting for state
		}
	}()
	t.Cleanup(func() { close(stop); <-done })

	t.Run("dashboard queries return data", func(t *testing.T) {
		for _, expr := range dashboardExprs(t) {
			if strings.Contains(expr, "shoal_rediscluster_") {
				continue // the operator's series: not scraped here
			}
			q := strings.NewReplacer("$namespace", testNamespace, "$rediscluster", testCluster, "$__rate_interval", "10s").Replace(expr)
			poll(t, dataTimeout, q, func() string {
				n, err := prom.query(q)
				if err != nil {
					return err.Error()
				}
				if n == 0 {
					return "empty result"
				}
				return ""
			})
		}
	})

	t.Run("alerts fire when the replica dies and clear when it is back", func(t *testing.T) {
		prom.waitAlerts(t, "", "RedisClusterNodeDown", "RedisMasterWithoutReplica", "RedisReplicaLinkDown")
		replica.proc.Kill()
		prom.waitAlerts(t, "firing", "RedisClusterNodeDown", "RedisMasterWithoutReplica")
		replica.start(t)
		prom.waitAlerts(t, "", "RedisClusterNodeDown", "RedisMasterWithoutReplica")
	})
}

// TestPrometheusReplicationAlerts: a real Prometheus scrapes a
// RedisReplication's master and replica, labelled as its PodMonitor
// labels them (the replica's pod carries the operator's role label,
// which Prometheus puts before the node's own: the master's does not
// yet), with the rules of the RedisReplication's PrometheusRule: nothing
// fires while healthy; killing the replica fires node down and master
// without replica; the replica back without REPLICAOF is a second
// master; REPLICAOF clears everything; killing the master leaves no
// master and the replica's link down.
func TestPrometheusReplicationAlerts(t *testing.T) {
	promBin, promtool, master, replica := startReplicationMembers(t)
	ctx := context.Background()
	rcl := replica.client(t)
	follow := func() {
		if err := rcl.Do(ctx, "replicaof", "127.0.0.1", strconv.Itoa(master.port)).Err(); err != nil {
			t.Fatal(err)
		}
		poll(t, readyTimeout, "the replica follows the master", func() string {
			if info, _ := rcl.Info(ctx, "replication").Result(); !strings.Contains(info, "master_link_status:up") {
				return "replica link not up"
			}
			return ""
		})
	}
	follow()

	rr := &v1alpha1.RedisReplication{ObjectMeta: metav1.ObjectMeta{Name: "repl", Namespace: testNamespace},
		Spec: v1alpha1.RedisReplicationSpec{Replicas: 2}}
	labels := func(role string) map[string]string {
		l := map[string]string{builders.MetricLabelReplication: rr.Name}
		if role != "" {
			l[builders.MetricLabelRole] = role
		}
		return l
	}
	targets := []any{master.target(labels("")), replica.target(labels(builders.RoleReplica))}
	prom := startPrometheusWithRules(t, promBin, promtool, builders.ReplicationRuleGroup(rr, "1s"), targets)

	all := []string{"RedisReplicationNodeDown", "RedisReplicationMasterCountNotOne", "RedisMasterWithoutReplica", "RedisReplicaLinkDown"}
	prom.waitAlerts(t, "", all...)
	replica.proc.Kill()
	prom.waitAlerts(t, "firing", "RedisReplicationNodeDown", "RedisMasterWithoutReplica")
	replica.start(t) // a master of its own, with no REPLICAOF
	prom.waitAlerts(t, "firing", "RedisReplicationMasterCountNotOne")
	follow()
	prom.waitAlerts(t, "", all...)
	master.proc.Kill()
	prom.waitAlerts(t, "firing", "RedisReplicationNodeDown", "RedisReplicationMasterCountNotOne", "RedisReplicaLinkDown")
}

// TestPrometheusReplicationSentinelAlerts: a real Prometheus scrapes a
// RedisReplication's master, replica and two sentinels (`shoal-node
// --sentinel` with metrics-port, labelled as the sentinels' PodMonitor
// labels them), with the RedisReplication's rules: nothing fires while
// healthy; one sentinel killed fires sentinel down and, once the other
// flags it down, quorum at risk (quorum 2 of 2); the master killed is
// then sdown for the sentinel left, which cannot fail it over alone:
// master down fires, and the data node alerts name the data nodes only.
func TestPrometheusReplicationSentinelAlerts(t *testing.T) {
	promBin, promtool, master, replica := startReplicationMembers(t)
	ctx := context.Background()
	if err := replica.client(t).Do(ctx, "replicaof", "127.0.0.1", strconv.Itoa(master.port)).Err(); err != nil {
		t.Fatal(err)
	}
	sentinels := []*member{newSentinelMember(t, "repl-sentinel-0", master.port), newSentinelMember(t, "repl-sentinel-1", master.port)}
	sc := redis.NewClient(&redis.Options{Addr: sentinels[0].proc.Addr, Protocol: 2})
	t.Cleanup(func() { sc.Close() })
	poll(t, readyTimeout, "the sentinels know each other and the replica", func() string {
		m, err := sc.Do(ctx, "SENTINEL", "MASTER", "m").StringSlice()
		if err != nil {
			return err.Error()
		}
		if s := fmt.Sprint(m); !strings.Contains(s, "num-slaves 1 ") || !strings.Contains(s, "num-other-sentinels 1 ") {
			return s
		}
		return ""
	})

	rr := &v1alpha1.RedisReplication{ObjectMeta: metav1.ObjectMeta{Name: "repl", Namespace: testNamespace},
		Spec: v1alpha1.RedisReplicationSpec{Replicas: 2}}
	node := map[string]string{builders.MetricLabelReplication: rr.Name}
	sentinel := map[string]string{builders.MetricLabelReplication: rr.Name, builders.MetricLabelComponent: "sentinel"}
	targets := []any{master.target(node), replica.target(map[string]string{builders.MetricLabelReplication: rr.Name, builders.MetricLabelRole: builders.RoleReplica}),
		sentinels[0].target(sentinel), sentinels[1].target(sentinel)}
	prom := startPrometheusWithRules(t, promBin, promtool, builders.ReplicationRuleGroup(rr, "1s"), targets)

	all := []string{"RedisSentinelDown", "RedisSentinelMasterDown", "RedisSentinelQuorumAtRisk", "RedisReplicationNodeDown", "RedisReplicationMasterCountNotOne"}
	prom.waitAlerts(t, "", all...)
	poll(t, dataTimeout, "both sentinels scraped saying the master is ok", func() string {
		if n, err := prom.query(`redis_sentinel_master_status{master_status="ok"} == 1`); err != nil || n != 2 {
			return fmt.Sprintf("%d series (%v)", n, err)
		}
		return ""
	})
	sentinels[1].proc.Kill()
	prom.waitAlerts(t, "firing", "RedisSentinelDown", "RedisSentinelQuorumAtRisk")
	prom.waitAlerts(t, "", "RedisReplicationNodeDown", "RedisSentinelMasterDown")
	master.proc.Kill()
	prom.waitAlerts(t, "firing", "RedisSentinelMasterDown", "RedisReplicationNodeDown")
	if n, err := prom.query(`ALERTS{alertname="RedisReplicationNodeDown",alertstate="firing",pod=~".*sentinel.*"}`); err != nil || n != 0 {
		t.Errorf("%d sentinels reported as a data node down (%v)", n, err)
	}
}

// startReplicationMembers finds Prometheus and promtool and starts a
// RedisReplication's two data nodes (standalone, no REPLICAOF yet).
func startReplicationMembers(t *testing.T) (promBin, promtool string, master, replica *member) {
	promBin = testenv.LookTool(t, "prometheus", "prometheus")
	promtool = testenv.LookTool(t, "promtool", "prometheus")
	return promBin, promtool, newStandaloneMember(t, "repl-node-0"), newStandaloneMember(t, "repl-node-1")
}

// newSentinelMember runs `shoal-node --sentinel` with metrics-port,
// monitoring the master on masterPort as "m" with quorum 2, flagging an
// instance down after a second.
func newSentinelMember(t *testing.T, pod string, masterPort int) *member {
	m := &member{pod: pod, port: nodetest.FreePort(t), metricsPort: nodetest.FreePort(t), dir: t.TempDir()}
	conf := filepath.Join(m.dir, "sentinel.conf")
	writeFile(t, conf, fmt.Appendf(nil, "metrics-port %d\nsentinel monitor m 127.0.0.1 %d 2\nsentinel down-after-milliseconds m 1000\n", m.metricsPort, masterPort))
	m.proc = nodetest.Start(t, nodetest.Options{Port: m.port, Dir: m.dir, Config: conf, Args: []string{"--sentinel"}})
	return m
}

// target is m's static scrape target with the labels a PodMonitor gives
// it (namespace, pod, container) and more.
func (m *member) target(more map[string]string) map[string]any {
	labels := map[string]string{"namespace": testNamespace, "pod": m.pod, "container": "node"}
	for k, v := range more {
		labels[k] = v
	}
	return map[string]any{"targets": []string{fmt.Sprintf("127.0.0.1:%d", m.metricsPort)}, "labels": labels}
}

// startPrometheusWithRules writes the rule file of group, checks it with
// promtool and starts Prometheus scraping targets every second and
// evaluating the rules every second.
func startPrometheusWithRules(t *testing.T, promBin, promtool string, group map[string]any, targets []any) *promServer {
	t.Helper()
	dir := t.TempDir()
	rules, err := yaml.Marshal(map[string]any{"groups": []any{group}})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "rules.yml"), rules)
	if out, err := exec.Command(promtool, "check", "rules", filepath.Join(dir, "rules.yml")).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	cfg, _ := yaml.Marshal(map[string]any{
		"global":         map[string]any{"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
		"rule_files":     []string{filepath.Join(dir, "rules.yml")},
		"scrape_configs": []any{map[string]any{"job_name": "shoal-nodes", "static_configs": targets}},
	})
	writeFile(t, filepath.Join(dir, "prometheus.yml"), cfg)
	return startPrometheus(t, promBin, dir)
}

// waitAlerts polls until every alert of names is in state ("firing", or
// "" for inactive). Polled for inactive too: on a busy machine one
// scrape can miss its 900 ms timeout (up 0), which makes a node-down
// alert pending for a moment.
func (p *promServer) waitAlerts(t *testing.T, state string, names ...string) {
	t.Helper()
	what := map[string]string{"": " inactive", "firing": " fires"}[state]
	for _, a := range names {
		poll(t, alertTimeout, a+what, func() string {
			if s := p.alertState(t, a); s != state {
				return "state " + strconv.Quote(s)
			}
			return ""
		})
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dashboardExprs are the expressions of the chart's dashboard.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, tg.Expr)
		}
	}
	if len(out) == 0 {
		t.Fatal("the dashboard has no queries")
	}
	return out
}

// promServer is a running Prometheus.
type promServer struct{ base string }

// startPrometheus runs Prometheus on a free loopback port with dir's
// configuration and waits until it is ready; it is stopped (by PID) when
// the test ends.
func startPrometheus(t *testing.T, bin, dir string) *promServer {
	t.Helper()
	port := nodetest.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := nodetest.Spawn(t, nodetest.Options{Binary: bin, Dir: dir, Port: port, Log: filepath.Join(dir, "prometheus.log"),
		CommandLine: []string{"--config.file=" + filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr, "--log.level=warn"}})
	ps := &promServer{base: "http://" + addr}
	poll(t, readyTimeout, "Prometheus ready", func() string {
		select {
		case <-p.Exited():
			t.Fatalf("prometheus exited:\n%s", p.Log())
		default:
		}
		resp, err := http.Get(ps.base + "/-/ready")
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.Status
		}
		return ""
	})
	return ps
}

// query runs an instant query and returns the number of series (or
// scalar) it returned.
func (p *promServer) query(q string) (int, error) {
	resp, err := http.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
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
		return 0, fmt.Errorf("query failed: %s", r.Error)
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

// alertState is the state of alert name ("firing", "pending", or "").
func (p *promServer) alertState(t *testing.T, name string) string {
	t.Helper()
	resp, err := http.Get(p.base + "/api/v1/alerts")
	if err != nil {
		t.Fatal(err)
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
		t.Fatal(err)
	}
	state := ""
	for _, a := range r.Data.Alerts {
		if a.Labels["alertname"] == name {
			if a.State == "firing" || state == "" {
				state = a.State
			}
		}
	}
	return state
}
