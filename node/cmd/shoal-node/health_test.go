package main

import (
	"errors"
	"strings"
	"testing"
)

// An INFO persistence/replication/cluster reply as Redis 7.0 words it
// (abridged), of a replica in the middle of a full synchronization.
const syncingReplicaInfo = "# Persistence\r\nloading:0\r\nasync_loading:0\r\n\r\n" +
	"# Replication\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\nmaster_link_status:down\r\n" +
	"master_sync_in_progress:1\r\nslave_repl_offset:0\r\n\r\n# Cluster\r\ncluster_enabled:1\r\n"

func TestParseInfo(t *testing.T) {
	f := parseInfo(syncingReplicaInfo)
	want := map[string]string{
		"loading": "0", "async_loading": "0", "role": "slave", "master_host": "10.0.0.1",
		"master_port": "6379", "master_link_status": "down", "master_sync_in_progress": "1",
		"slave_repl_offset": "0", "cluster_enabled": "1",
	}
	if len(f) != len(want) {
		t.Errorf("fields %v, want %v", f, want)
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %q, want %q", k, f[k], v)
		}
	}
}

func TestHealthChecks(t *testing.T) {
	servingMaster := parseInfo("loading:0\r\nrole:master\r\ncluster_enabled:1\r\n")
	tests := []struct {
		name string
		o    observation
		// live and ready are "" when the check passes, else a part of
		// the reason it gives.
		live, ready string
	}{
		{"no reply: neither live nor ready",
			observation{Err: errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")},
			"no reply to PING", "no reply to PING"},
		{"PONG from a serving master: live and ready",
			observation{Answered: true, Ping: "PONG", Info: servingMaster}, "", ""},
		{"LOADING reply: live (restarting would not help), not ready",
			observation{Answered: true, Ping: "LOADING Redis is loading the dataset in memory"},
			"", "loading the dataset"},
		{"MASTERDOWN reply: live, not ready",
			observation{Answered: true, Ping: "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."},
			"", "MASTERDOWN"},
		{"wrong password: live, not ready",
			observation{Answered: true, Ping: "WRONGPASS invalid username-password pair or user is disabled."},
			"", "WRONGPASS"},
		{"loading:1 in INFO: not ready",
			observation{Answered: true, Ping: "PONG", Info: parseInfo("loading:1\r\nrole:master\r\n")},
			"", "loading the dataset"},
		{"async_loading:1 in INFO: not ready",
			observation{Answered: true, Ping: "PONG", Info: parseInfo("loading:0\r\nasync_loading:1\r\nrole:slave\r\n")},
			"", "loading the dataset"},
		{"replica in full sync: not ready",
			observation{Answered: true, Ping: "PONG", Info: parseInfo(syncingReplicaInfo)},
			"", "full synchronization"},
		{"replica with its link down but not syncing: ready (the cluster fails it over; the operator must see it)",
			observation{Answered: true, Ping: "PONG", Info: parseInfo("role:slave\r\nmaster_link_status:down\r\nmaster_sync_in_progress:0\r\ncluster_enabled:1\r\n")},
			"", ""},
		{"cluster mode, cluster_state:fail before formation: ready (the operator forms the cluster of Ready pods)",
			observation{Answered: true, Ping: "PONG", Info: parseInfo("role:master\r\ncluster_enabled:1\r\n")},
			"", ""},
		{"cluster mode, CLUSTER INFO fails: not ready",
			observation{Answered: true, Ping: "PONG", Info: servingMaster, ClusterInfoErr: errors.New("ERR This instance has cluster support disabled")},
			"", "CLUSTER INFO"},
		{"INFO fails: not ready",
			observation{Answered: true, Ping: "PONG", InfoErr: errors.New("i/o timeout")},
			"", "INFO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkVerdict(t, "live", isLive(tt.o), tt.live)
			checkVerdict(t, "ready", isReady(tt.o), tt.ready)
		})
	}
}

func checkVerdict(t *testing.T, check string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: %v, want it to pass", check, err)
	case want != "" && err == nil:
		t.Errorf("%s passed, want it to fail with %q", check, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s: %v, want %q in it", check, err, want)
	}
}
