package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }

// node is a node process with its metrics port.
type node struct {
	*nodetest.Proc
	metricsPort int
	rdb         *redis.Client
}

func startNode(t *testing.T, args ...string) *node {
	t.Helper()
	mp := nodetest.FreePort(t)
	p := nodetest.Start(t, nodetest.Options{Args: append([]string{"--save", "", "--metrics-port", strconv.Itoa(mp)}, args...)})
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr, Protocol: 2})
	t.Cleanup(func() { rdb.Close() })
	return &node{Proc: p, metricsPort: mp, rdb: rdb}
}

// scrape reads and parses the node's metrics (the parser is Prometheus's
// own: the exposition must be valid).
func (n *node) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", n.metricsPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, body)
	}
	return fams
}

// info reads INFO everything's fields.
func (n *node) info(t *testing.T, section ...string) map[string]string {
	t.Helper()
	args := []any{"info"}
	for _, s := range section {
		args = append(args, s)
	}
	txt, err := n.rdb.Do(context.Background(), args...).Text()
	if err != nil {
		t.Fatal(err)
	}
	return fieldsOf(txt)
}

func fieldsOf(txt string) map[string]string {
	out := map[string]string{}
	for line := range strings.Lines(txt) {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			out[k] = v
		}
	}
	return out
}

// value is the value of the sample of name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no %s", name)
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if have[want[i]] != want[i+1] {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		case m.Summary != nil:
			return float64(m.Summary.GetSampleCount())
		}
	}
	t.Fatalf("no %s%v in %v", name, want, f)
	return 0
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

// sub reads one field of "calls=3,usec=5".
func sub(t *testing.T, s, name string) float64 {
	t.Helper()
	for part := range strings.SplitSeq(s, ",") {
		if k, v, ok := strings.Cut(part, "="); ok && k == name {
			return num(t, v)
		}
	}
	t.Fatalf("no %s in %q", name, s)
	return 0
}

// TestExpositionMatchesInfo: a standalone node's metrics carry the
// exporter's names and labels, with INFO's values; a scrape counts no
// command.
func TestExpositionMatchesInfo(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	for i := range 20 {
		n.rdb.Set(ctx, "k"+strconv.Itoa(i), "v", 0)
	}
	n.rdb.Set(ctx, "ttl", "v", time.Hour)
	n.rdb.Get(ctx, "k1")
	n.rdb.Get(ctx, "missing")
	n.rdb.Do(ctx, "select", "3")
	n.rdb.Incr(ctx, "k1") // ERR not an integer

	before := n.info(t, "everything")
	fams := n.scrape(t)
	after := n.info(t, "everything")
	// The scrape ran no command: only the first INFO is counted between.
	if got, want := num(t, after["total_commands_processed"]), num(t, before["total_commands_processed"])+1; got != want {
		t.Errorf("total_commands_processed went from %s to %v, want %v: the scrape counted", before["total_commands_processed"], got, want)
	}
	info := before
	// INFO counts itself once it has rendered its text.
	info["total_commands_processed"] = after["total_commands_processed"]

	for name, field := range map[string]string{
		"redis_commands_processed_total":    "total_commands_processed",
		"redis_keyspace_hits_total":         "keyspace_hits",
		"redis_keyspace_misses_total":       "keyspace_misses",
		"redis_expired_keys_total":          "expired_keys",
		"redis_evicted_keys_total":          "evicted_keys",
		"redis_connected_clients":           "connected_clients",
		"redis_blocked_clients":             "blocked_clients",
		"redis_memory_max_bytes":            "maxmemory",
		"redis_connected_slaves":            "connected_slaves",
		"redis_master_repl_offset":          "master_repl_offset",
		"redis_rdb_changes_since_last_save": "rdb_changes_since_last_save",
		"redis_aof_enabled":                 "aof_enabled",
	} {
		if got, want := value(t, fams, name), num(t, info[field]); got != want {
			t.Errorf("%s = %v, INFO %s = %v", name, got, field, want)
		}
	}
	// Values that move between two reads: close to INFO's.
	if got, want := value(t, fams, "redis_uptime_in_seconds"), num(t, info["uptime_in_seconds"]); got < want || got > want+2 {
		t.Errorf("redis_uptime_in_seconds = %v, INFO %v", got, want)
	}
	if got := value(t, fams, "redis_memory_used_bytes"); got <= 0 {
		t.Errorf("redis_memory_used_bytes = %v", got)
	}
	if value(t, fams, "redis_up") != 1 || value(t, fams, "redis_rdb_last_bgsave_status") != 1 {
		t.Error("redis_up or redis_rdb_last_bgsave_status is not 1")
	}
	for _, cmd := range []string{"set", "get", "incr"} {
		st := info["cmdstat_"+cmd]
		if got, want := value(t, fams, "redis_commands_total", "cmd", cmd), sub(t, st, "calls"); got != want {
			t.Errorf("redis_commands_total{cmd=%q} = %v, INFO %v", cmd, got, want)
		}
		if got, want := value(t, fams, "redis_commands_duration_seconds_total", "cmd", cmd), sub(t, st, "usec")/1e6; got != want {
			t.Errorf("redis_commands_duration_seconds_total{cmd=%q} = %v, INFO %v", cmd, got, want)
		}
		if got, want := value(t, fams, "redis_commands_failed_calls_total", "cmd", cmd), sub(t, st, "failed_calls"); got != want {
			t.Errorf("redis_commands_failed_calls_total{cmd=%q} = %v, INFO %v", cmd, got, want)
		}
		if got := value(t, fams, "redis_commands_latencies_usec", "cmd", cmd); got != sub(t, st, "calls") {
			t.Errorf("redis_commands_latencies_usec{cmd=%q} counts %v", cmd, got)
		}
		if got := value(t, fams, "shoal_command_latency_seconds", "cmd", cmd); got != sub(t, st, "calls") {
			t.Errorf("shoal_command_latency_seconds{cmd=%q} counts %v", cmd, got)
		}
		if got := value(t, fams, "redis_latency_percentiles_usec", "cmd", cmd); got != sub(t, st, "calls") {
			t.Errorf("redis_latency_percentiles_usec{cmd=%q} counts %v", cmd, got)
		}
	}
	if got := value(t, fams, "redis_errors_total", "err", "ERR"); got != sub(t, info["errorstat_ERR"], "count") {
		t.Errorf("redis_errors_total{err=ERR} = %v, INFO %s", got, info["errorstat_ERR"])
	}
	if got, want := value(t, fams, "redis_db_keys", "db", "db0"), sub(t, info["db0"], "keys"); got != want || got != 21 {
		t.Errorf("redis_db_keys{db=db0} = %v, INFO %v", got, want)
	}
	if got := value(t, fams, "redis_db_keys_expiring", "db", "db0"); got != 1 {
		t.Errorf("redis_db_keys_expiring{db=db0} = %v", got)
	}
	if got := value(t, fams, "redis_db_keys", "db", "db15"); got != 0 {
		t.Errorf("redis_db_keys{db=db15} = %v", got)
	}
	if got := value(t, fams, "redis_instance_info", "role", "master", "redis_version", info["redis_version"], "run_id", info["run_id"], "tcp_port", strconv.Itoa(n.Port)); got != 1 {
		t.Errorf("redis_instance_info = %v", got)
	}
	// The histograms are cumulative and end at their count.
	for _, m := range fams["shoal_command_latency_seconds"].Metric {
		h := m.Histogram
		var prev uint64
		for _, b := range h.Bucket {
			if b.GetCumulativeCount() < prev || b.GetCumulativeCount() > h.GetSampleCount() {
				t.Errorf("shoal_command_latency_seconds %v: buckets not cumulative", m.Label)
			}
			prev = b.GetCumulativeCount()
		}
		if prev != h.GetSampleCount() {
			t.Errorf("shoal_command_latency_seconds %v: the last bucket (1 s) holds %d of %d", m.Label, prev, h.GetSampleCount())
		}
	}
}

// TestReplicationMetrics: a master's metrics list its replica with its
// offset and lag, a replica's its master link, as INFO replication does.
func TestReplicationMetrics(t *testing.T) {
	m := startNode(t)
	r := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	ctx := context.Background()
	m.rdb.Set(ctx, "a", "1", 0)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ri := r.info(t, "replication")
		mi := m.info(t, "replication")
		if ri["master_link_status"] == "up" && mi["connected_slaves"] == "1" && mi["slave0"] != "" && strings.Contains(mi["slave0"], "state=online") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not sync: %v / %v", ri, mi)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
	mf := m.scrape(t)
	mi := m.info(t, "replication")
	if got := value(t, mf, "redis_connected_slaves"); got != 1 {
		t.Errorf("redis_connected_slaves = %v", got)
	}
	slave := fieldsOfSub(mi["slave0"])
	labels := []string{"slave_ip", slave["ip"], "slave_port", slave["port"], "slave_state", "online"}
	if got := value(t, mf, "redis_connected_slave_offset_bytes", labels...); got < 0 {
		t.Errorf("redis_connected_slave_offset_bytes = %v", got)
	}
	if got := value(t, mf, "redis_connected_slave_lag_seconds", labels...); got < 0 || got > 5 {
		t.Errorf("redis_connected_slave_lag_seconds = %v", got)
	}
	rf := r.scrape(t)
	if got := value(t, rf, "redis_master_link_up", "master_host", "127.0.0.1", "master_port", strconv.Itoa(m.Port)); got != 1 {
		t.Errorf("redis_master_link_up = %v", got)
	}
	if got := value(t, rf, "redis_slave_info", "master_port", strconv.Itoa(m.Port)); got != 1 {
		t.Errorf("redis_slave_info = %v", got)
	}
	if got := value(t, rf, "redis_instance_info", "role", "slave"); got != 1 {
		t.Errorf("redis_instance_info{role=slave} = %v", got)
	}
}

func fieldsOfSub(s string) map[string]string {
	out := map[string]string{}
	for part := range strings.SplitSeq(s, ",") {
		if k, v, ok := strings.Cut(part, "="); ok {
			out[k] = v
		}
	}
	return out
}

// TestClusterMetrics: a cluster-mode node exposes CLUSTER INFO's fields
// under the exporter's names, with CLUSTER INFO's values.
func TestClusterMetrics(t *testing.T) {
	n := startNode(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(nodetest.FreePort(t)))
	ctx := context.Background()
	if err := n.rdb.Do(ctx, "cluster", "addslotsrange", "0", "16383").Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	var ci map[string]string
	for {
		txt, err := n.rdb.ClusterInfo(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		ci = fieldsOf(txt)
		if ci["cluster_state"] == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster_state stays %s", ci["cluster_state"])
		}
		time.Sleep(20 * time.Millisecond)
	}
	fams := n.scrape(t)
	if got := value(t, fams, "redis_cluster_state"); got != 1 {
		t.Errorf("redis_cluster_state = %v", got)
	}
	for _, f := range []string{"cluster_slots_assigned", "cluster_slots_ok", "cluster_slots_pfail", "cluster_slots_fail", "cluster_known_nodes", "cluster_size", "cluster_current_epoch"} {
		if got, want := value(t, fams, "redis_"+f), num(t, ci[f]); got != want {
			t.Errorf("redis_%s = %v, CLUSTER INFO %v", f, got, want)
		}
	}
	if got := value(t, fams, "redis_cluster_enabled"); got != 1 {
		t.Errorf("redis_cluster_enabled = %v", got)
	}
	if _, ok := fams["redis_db_keys"]; !ok {
		t.Error("no redis_db_keys")
	} else if len(fams["redis_db_keys"].Metric) != 1 {
		t.Errorf("redis_db_keys has %d databases in cluster mode", len(fams["redis_db_keys"].Metric))
	}
}
