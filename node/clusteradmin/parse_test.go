package clusteradmin

import (
	"strings"
	"testing"
)

// A CLUSTER NODES reply in the format of Redis 7.0 (from the Redis Cluster
// specification's example, with an open slot on each side).
const clusterNodesReply = `07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,node-4.example slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922 [5461-<-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master - 0 1426238318243 3 connected 10923-16383 [5461->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]
6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@31005 slave 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238316232 5 connected
824fe116063bc5fcf9f4ffd895bc17aee7731ac3 127.0.0.1:30006@31006 slave,fail? 292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 0 1426238317741 6 disconnected
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 7 9-10
`

func TestParseClusterNodes(t *testing.T) {
	nodes, err := ParseClusterNodes(clusterNodesReply)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 6 {
		t.Fatalf("%d nodes", len(nodes))
	}
	replica := nodes[0]
	if replica.ID != "07c37dfeb235213a872192d90877d0cd55635b91" || replica.IP != "127.0.0.1" || replica.Port != 30004 ||
		replica.BusPort != 31004 || replica.Hostname != "node-4.example" || !replica.IsReplica() ||
		replica.MasterID != "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca" || replica.PongRecv != 1426238317239 || replica.ConfigEpoch != 4 {
		t.Errorf("replica line: %+v", replica)
	}
	importing := nodes[1]
	if importing.ImportingSlotsFrom[5461] != "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f" || importing.SlotCount() != 5462 {
		t.Errorf("importing line: %+v", importing)
	}
	if nodes[2].MigratingSlotsTo[5461] != "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1" {
		t.Errorf("migrating line: %+v", nodes[2])
	}
	if !nodes[4].HasFlag(FlagPFail) || nodes[4].LinkState != LinkDisconnected {
		t.Errorf("failing line: %+v", nodes[4])
	}
	me := nodes[5]
	if !me.HasFlag(FlagMyself) || !me.IsMaster() || me.MasterID != "" ||
		strings.Join(me.SlotStrings(), " ") != "0-5460 7 9-10" || me.SlotCount() != 5461+1+2 {
		t.Errorf("myself line: %+v", me)
	}
}

func TestParseClusterNodesRejectsMalformedLines(t *testing.T) {
	tests := []struct{ name, line string }{
		{"fewer than 8 fields", "abc 127.0.0.1:1@2 master - 0 0 1"},
		{"no cport", "abc 127.0.0.1:6379 master - 0 0 1 connected"},
		{"bad port", "abc 127.0.0.1:x@2 master - 0 0 1 connected"},
		{"bad epoch", "abc 127.0.0.1:1@2 master - 0 0 -1 connected"},
		{"slot out of range", "abc 127.0.0.1:1@2 master - 0 0 1 connected 16384"},
		{"reversed range", "abc 127.0.0.1:1@2 master - 0 0 1 connected 10-5"},
		{"bad open slot", "abc 127.0.0.1:1@2 master - 0 0 1 connected [5-?-x]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseClusterNodes(tt.line + "\n"); err == nil {
				t.Errorf("accepted %q", tt.line)
			}
		})
	}
}

func TestParseClusterNodesAddresses(t *testing.T) {
	tests := []struct {
		field    string
		wantIP   string
		wantPort int
	}{
		{":0@0", "", 0}, // a fresh node that does not know its own address yet
		{"10.1.2.3:6379@16379", "10.1.2.3", 6379},
		{"::1:6379@16379", "::1", 6379},
	}
	for _, tt := range tests {
		nodes, err := ParseClusterNodes("abc " + tt.field + " myself,master - 0 0 0 connected\n")
		if err != nil {
			t.Fatalf("%s: %v", tt.field, err)
		}
		if nodes[0].IP != tt.wantIP || nodes[0].Port != tt.wantPort {
			t.Errorf("%s: ip %q port %d", tt.field, nodes[0].IP, nodes[0].Port)
		}
	}
}

func TestParseClusterInfo(t *testing.T) {
	reply := "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16383\r\ncluster_slots_pfail:1\r\n" +
		"cluster_slots_fail:0\r\ncluster_known_nodes:6\r\ncluster_size:3\r\ncluster_current_epoch:6\r\ncluster_my_epoch:2\r\n" +
		"cluster_stats_messages_sent:1483972\r\n"
	ci, err := ParseClusterInfo(reply)
	if err != nil {
		t.Fatal(err)
	}
	want := ClusterInfo{State: "ok", SlotsAssigned: 16384, SlotsOK: 16383, SlotsPFail: 1, KnownNodes: 6, Size: 3, CurrentEpoch: 6, MyEpoch: 2}
	if ci != want {
		t.Errorf("got %+v, want %+v", ci, want)
	}
	if _, err := ParseClusterInfo("cluster_slots_assigned:0\r\n"); err == nil {
		t.Error("a reply without cluster_state must be refused")
	}
	if _, err := ParseClusterInfo("cluster_state:ok\r\ncluster_size:three\r\n"); err == nil {
		t.Error("a malformed number must be refused")
	}
}

func TestParseInfoReplication(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		want  Replication
	}{
		{"master", "# Replication\r\nrole:master\r\nconnected_slaves:1\r\nmaster_repl_offset:1234\r\n",
			Replication{Role: "master", Offset: 1234}},
		{"replica", "# Replication\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_link_status:up\r\nmaster_repl_offset:1200\r\n",
			Replication{Role: "slave", MasterLinkStatus: "up", Offset: 1200}},
	}
	for _, tt := range tests {
		got, err := ParseInfoReplication(tt.reply)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func FuzzParseClusterNodes(f *testing.F) {
	f.Add(clusterNodesReply)
	f.Add("abc :0@0 myself,master - 0 0 0 connected\n")
	f.Fuzz(func(t *testing.T, s string) {
		nodes, err := ParseClusterNodes(s)
		if err != nil {
			return
		}
		for _, n := range nodes {
			for _, r := range n.Slots {
				if r.First < 0 || r.Last >= SlotCount || r.Last < r.First {
					t.Fatalf("bad range %v accepted", r)
				}
			}
		}
	})
}
