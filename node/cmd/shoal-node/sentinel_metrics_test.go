package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// scrapeSeries reads the exposition at url as series ("name{labels}")
// with their values.
func scrapeSeries(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	out := map[string]float64{}
	for line := range strings.Lines(string(body)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("bad sample %q", line)
		}
		out[line[:i]] = v
	}
	return out, nil
}

// TestSentinelMetricsFollowAFailover: `shoal-node --sentinel` with
// metrics-port serves redis_exporter's sentinel metrics, and they follow
// a real failover: the master killed is seen odown, the replica becomes
// the master the series name, the epochs and the failover counters move.
func TestSentinelMetricsFollowAFailover(t *testing.T) {
	master, replica, _, _ := startMasterAndReplica(t)

	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	metricsPort := nodetest.FreePort(t)
	lines := fmt.Sprintf("metrics-port %d\nsentinel monitor m 127.0.0.1 %d 1\nsentinel auth-pass m %s\n"+
		"sentinel down-after-milliseconds m 1000\nsentinel failover-timeout m 10000\n", metricsPort, master.Port, testPassword)
	if err := os.WriteFile(conf, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	sentinel := nodetest.Start(t, nodetest.Options{Dir: dir, Config: conf, Args: []string{"--sentinel"}})
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	old, promoted := master.Addr(), replica.Addr()
	at := func(addr string) string { return `{master_name="m",master_address="` + addr + `"}` }
	byName := `{master_name="m"}`

	// want waits until every series has its value (a missing series is
	// not a value).
	want := func(what string, series map[string]float64) map[string]float64 {
		t.Helper()
		var got map[string]float64
		waitFor(t, what, func() error {
			var err error
			if got, err = scrapeSeries(url); err != nil {
				return err
			}
			for k, v := range series {
				if g, ok := got[k]; !ok || g != v {
					return fmt.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
				}
			}
			return nil
		})
		return got
	}
	before := want("the sentinel's view of a healthy master", map[string]float64{
		"redis_up":               1,
		"redis_sentinel_masters": 1,
		"redis_sentinel_tilt":    0,
		`redis_sentinel_master_status{master_name="m",master_address="` + old + `",master_status="ok"}`: 1,
		"redis_sentinel_master_slaves" + at(old):                                                        1,
		"redis_sentinel_master_ok_slaves" + at(old):                                                     1,
		"redis_sentinel_master_sentinels" + at(old):                                                     1,
		"redis_sentinel_master_ok_sentinels" + at(old):                                                  1,
		"redis_sentinel_master_setting_ckquorum" + at(old):                                              1,
		"redis_sentinel_master_setting_down_after_milliseconds" + at(old):                               1000,
		"redis_sentinel_master_setting_failover_timeout" + at(old):                                      10000,
		"redis_sentinel_master_config_epoch" + at(old):                                                  0,
		"shoal_sentinel_master_leader_epoch" + at(old):                                                  0,
		"shoal_sentinel_master_failover_in_progress" + at(old):                                          0,
		"shoal_sentinel_master_failovers_started_total" + byName:                                        0,
		"shoal_sentinel_master_failovers_ended_total" + byName:                                          0,
		"shoal_sentinel_master_switches_total" + byName:                                                 0,
		`redis_sentinel_master_ckquorum_status{master_name="m",message="OK 1 usable Sentinels. Quorum and failover authorization can be reached"}`: 1,
	})
	for _, k := range []string{"redis_uptime_in_seconds", "redis_connected_clients", "redis_commands_processed_total",
		"redis_connections_received_total", "redis_cpu_user_seconds_total", "redis_start_time_seconds"} {
		if _, ok := before[k]; !ok {
			t.Errorf("process metric %s missing", k)
		}
	}
	if !strings.Contains(fmt.Sprint(before), `redis_mode="sentinel"`) {
		t.Error("redis_instance_info has no redis_mode=\"sentinel\"")
	}

	master.kill()
	want("the master seen objectively down", map[string]float64{
		`redis_sentinel_master_status{master_name="m",master_address="` + old + `",master_status="odown"}`: 0,
	})
	after := want("the failover in the series", map[string]float64{
		`redis_sentinel_master_status{master_name="m",master_address="` + promoted + `",master_status="ok"}`: 1,
		"shoal_sentinel_master_failovers_started_total" + byName:                                             1,
		"shoal_sentinel_master_failovers_ended_total" + byName:                                               1,
		"shoal_sentinel_master_switches_total" + byName:                                                      1,
		"shoal_sentinel_master_failover_in_progress" + at(promoted):                                          0,
		// The old master is now a replica of the new one, and down.
		"redis_sentinel_master_slaves" + at(promoted):    1,
		"redis_sentinel_master_ok_slaves" + at(promoted): 0,
	})
	if e := after["redis_sentinel_master_config_epoch"+at(promoted)]; e < 1 {
		t.Errorf("config epoch %v after a failover, want at least 1", e)
	}
	if e := after["shoal_sentinel_master_leader_epoch"+at(promoted)]; e < 1 {
		t.Errorf("leader epoch %v after a failover, want at least 1", e)
	}
	if _, ok := after["redis_sentinel_master_slaves"+at(old)]; ok {
		t.Error("series of the old master's address remain after the switch")
	}
	t.Logf("sentinel log:\n%s", nodetest.Tail(sentinel.Log(), 12))
}
