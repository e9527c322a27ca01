package plugin

import (
	"bytes"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

const (
	idA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	idB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	idC = "cccccccccccccccccccccccccccccccccccccccc"
)

// viewOf builds a node's view from CLUSTER NODES text in Redis's format
// (the line flagged myself is the reporting node).
func viewOf(t *testing.T, nodes string, keys int64, role, link string) *clusteradmin.NodeView {
	t.Helper()
	ns, err := clusteradmin.ParseClusterNodes(nodes)
	if err != nil {
		t.Fatal(err)
	}
	return &clusteradmin.NodeView{Nodes: ns, Keys: keys, Info: clusteradmin.ClusterInfo{State: "ok"},
		Replication: clusteradmin.Replication{Role: role, MasterLinkStatus: link}}
}

func line(id, addr, flags, master, slots string) string {
	return id + " " + addr + "@16379 " + flags + " " + master + " 0 0 1 connected" + slots + "\n"
}

// healthyViews: two masters and a replica of the first, every node
// agreeing.
func healthyViews(t *testing.T) map[string]*clusteradmin.NodeView {
	table := func(me string) string {
		f := func(id, flags string) string {
			if id == me {
				return "myself," + flags
			}
			return flags
		}
		return line(idA, "10.0.0.1:6379", f(idA, "master"), "-", " 0-8191") +
			line(idB, "10.0.0.2:6379", f(idB, "master"), "-", " 8192-16383") +
			line(idC, "10.0.0.3:6379", f(idC, "slave"), idA, "")
	}
	return map[string]*clusteradmin.NodeView{
		"c-shard-0-0": viewOf(t, table(idA), 10, "master", ""),
		"c-shard-1-0": viewOf(t, table(idB), 20, "master", ""),
		"c-shard-0-1": viewOf(t, table(idC), 10, "slave", "up"),
	}
}

func TestCheckClusterHealthy(t *testing.T) {
	rep := checkCluster(healthyViews(t), "c-shard-0-0")
	var out bytes.Buffer
	rep.write(&out, "c-shard-0-0")
	got := out.String()
	for _, want := range []string{
		"c-shard-0-0 (aaaaaaaa...) -> 10 keys | 8192 slots | 1 slaves.\n",
		"c-shard-1-0 (bbbbbbbb...) -> 20 keys | 8192 slots | 0 slaves.\n",
		"[OK] 30 keys in 2 masters.\n",
		">>> Performing Cluster Check (using node c-shard-0-0)\n",
		"M: " + idA + " c-shard-0-0 (10.0.0.1:6379)\n   slots:[0-8191] (8192 slots) master\n",
		"S: " + idC + " c-shard-0-1 (10.0.0.3:6379)\n   slots:[] (0 slots) slave\n   replicates " + idA + "\n",
		"[OK] All nodes agree about slots configuration.\n",
		"[OK] All 16384 slots covered.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("check lacks %q:\n%s", want, got)
		}
	}
	if rep.Failed() || strings.Contains(got, "[WARNING]") {
		t.Errorf("healthy cluster reported problems:\n%s", got)
	}
}

// TestCheckClusterFindings: each way a cluster can be wrong gives the
// finding redis-cli --cluster check (or the operator) would.
func TestCheckClusterFindings(t *testing.T) {
	cases := []struct {
		name        string
		breakIt     func(map[string]*clusteradmin.NodeView)
		level, text string
	}{
		{"unreached pod", func(v map[string]*clusteradmin.NodeView) { v["c-shard-1-1"] = nil },
			levelErr, "Pod c-shard-1-1 did not answer."},
		{"disagreement", func(v map[string]*clusteradmin.NodeView) {
			v["c-shard-1-0"].Nodes[1].Slots = []clusteradmin.SlotRange{{First: 8193, Last: 16383}}
		}, levelErr, "Nodes don't agree about configuration!"},
		{"migrating slot", func(v map[string]*clusteradmin.NodeView) {
			v["c-shard-0-0"].Nodes[0].MigratingSlotsTo = map[int]string{5: idB}
		}, levelWarn, "Node c-shard-0-0 has slots in migrating state 5."},
		{"open slots", func(v map[string]*clusteradmin.NodeView) {
			v["c-shard-1-0"].Nodes[1].ImportingSlotsFrom = map[int]string{7: idA}
		}, levelWarn, "The following slots are open: 7."},
		{"uncovered", func(v map[string]*clusteradmin.NodeView) {
			for _, view := range v {
				view.Nodes[1].Slots = []clusteradmin.SlotRange{{First: 8192, Last: 16382}}
			}
		}, levelErr, "Not all 16384 slots are covered by nodes (16383 are)."},
		{"cluster down", func(v map[string]*clusteradmin.NodeView) { v["c-shard-1-0"].Info.State = "fail" },
			levelErr, "Node c-shard-1-0 says cluster_state:fail."},
		{"failing node", func(v map[string]*clusteradmin.NodeView) {
			v["c-shard-0-0"].Nodes[1].Flags = []string{"master", "fail?"}
		}, levelErr, "Node c-shard-0-0 flags c-shard-1-0 as master,fail?."},
		{"replica link down", func(v map[string]*clusteradmin.NodeView) { v["c-shard-0-1"].Replication.MasterLinkStatus = "down" },
			levelErr, "Replica c-shard-0-1: master_link_status:down."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			views := healthyViews(t)
			c.breakIt(views)
			rep := checkCluster(views, "c-shard-0-0")
			found := false
			for _, f := range rep.Findings {
				found = found || (f.Level == c.level && strings.HasPrefix(f.Text, c.text))
			}
			if !found {
				t.Errorf("no %s %q in %+v", c.level, c.text, rep.Findings)
			}
			if rep.Failed() != (c.level == levelErr) {
				t.Errorf("Failed() = %v for a %s", rep.Failed(), c.level)
			}
		})
	}
}
