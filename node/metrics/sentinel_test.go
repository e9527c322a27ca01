package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/sentinel"
)

// TestExposeSentinelNamesAsTheExporter: INFO sentinel and the per-master
// view become redis_exporter's sentinel series (its names and labels),
// the counters shoal's, and INFO's other sections the data node's names.
func TestExposeSentinelNamesAsTheExporter(t *testing.T) {
	info := "# Server\r\nredis_version:7.0.15\r\nredis_mode:sentinel\r\nuptime_in_seconds:10\r\n\r\n" +
		"# Stats\r\ntotal_commands_processed:7\r\n\r\n# CPU\r\nused_cpu_user:0.5\r\n\r\n" +
		"# Sentinel\r\nsentinel_masters:2\r\nsentinel_tilt:0\r\n" +
		"master0:name=a,status=odown,address=10.0.0.1:6379,slaves=2,sentinels=3\r\n" +
		"master1:name=b,status=ok,address=10.0.0.2:6379,slaves=1,sentinels=3\r\n"
	sc := sentinel.Scrape{Info: info, Masters: []sentinel.MasterView{{
		Name: "a", Address: "10.0.0.1:6379", Status: "odown", Replicas: 2, OKReplicas: 1, Sentinels: 3, OKSentinels: 1,
		Quorum: 2, ParallelSyncs: 1, DownAfter: 5 * time.Second, FailoverTimeout: time.Minute, LastOKPing: 1500 * time.Millisecond,
		ConfigEpoch: 4, LeaderEpoch: 5, QuorumMessage: "NOQUORUM 1 usable Sentinels. x", FailoverInProgress: true,
		FailoversStarted: 3, FailoversEnded: 2, Switches: 2,
	}}}
	out := string(ExposeSentinel(sc, time.Unix(1000, 0)))
	a := `{master_name="a",master_address="10.0.0.1:6379"}`
	for _, want := range []string{
		"redis_up 1",
		"redis_sentinel_masters 2",
		"redis_sentinel_tilt 0",
		`redis_sentinel_master_status{master_name="a",master_address="10.0.0.1:6379",master_status="odown"} 0`,
		`redis_sentinel_master_status{master_name="b",master_address="10.0.0.2:6379",master_status="ok"} 1`,
		"redis_sentinel_master_slaves" + a + " 2",
		"redis_sentinel_master_sentinels" + a + " 3",
		"redis_sentinel_master_ok_slaves" + a + " 1",
		"redis_sentinel_master_ok_sentinels" + a + " 1",
		"redis_sentinel_master_setting_ckquorum" + a + " 2",
		"redis_sentinel_master_setting_parallel_syncs" + a + " 1",
		"redis_sentinel_master_setting_down_after_milliseconds" + a + " 5000",
		"redis_sentinel_master_setting_failover_timeout" + a + " 60000",
		"redis_sentinel_master_config_epoch" + a + " 4",
		"redis_sentinel_master_last_ok_ping_reply_seconds" + a + " 1.5",
		`redis_sentinel_master_ckquorum_status{master_name="a",message="NOQUORUM 1 usable Sentinels. x"} 0`,
		"shoal_sentinel_master_leader_epoch" + a + " 5",
		"shoal_sentinel_master_failover_in_progress" + a + " 1",
		`shoal_sentinel_master_failovers_started_total{master_name="a"} 3`,
		`shoal_sentinel_master_failovers_ended_total{master_name="a"} 2`,
		`shoal_sentinel_master_switches_total{master_name="a"} 2`,
		"# TYPE shoal_sentinel_master_switches_total counter",
		"redis_uptime_in_seconds 10",
		"redis_start_time_seconds 990",
		"redis_commands_processed_total 7",
		"redis_cpu_user_seconds_total 0.5",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "redis_sentinel_master_status{master_name=\"a\",master_address=\"10.0.0.1:6379\",master_status=\"ok\"}") {
		t.Error("an odown master exposed as ok")
	}
}
