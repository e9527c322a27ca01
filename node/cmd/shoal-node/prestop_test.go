package main

import (
	"errors"
	"slices"
	"testing"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

const (
	masterA  = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	masterB  = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	replica1 = "1111111111111111111111111111111111111111"
	replica2 = "2222222222222222222222222222222222222222"
	replica3 = "3333333333333333333333333333333333333333"
	replica4 = "4444444444444444444444444444444444444444"
)

// A CLUSTER NODES reply of master A (myself) with four replicas, one of them
// failing and one disconnected, and a replica of B.
const masterAView = masterA + " 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-8191\n" +
	masterB + " 10.0.0.2:6379@16379 master - 0 1 2 connected 8192-16383\n" +
	replica1 + " 10.0.0.11:6379@16379 slave " + masterA + " 0 1 1 connected\n" +
	replica2 + " 10.0.0.12:6379@16379 slave " + masterA + " 0 1 1 connected\n" +
	replica3 + " 10.0.0.13:6379@16379 slave,fail? " + masterA + " 0 1 1 connected\n" +
	replica4 + " 10.0.0.14:6379@16379 slave " + masterA + " 0 1 1 disconnected\n" +
	"5555555555555555555555555555555555555555 10.0.0.15:6379@16379 slave " + masterB + " 0 1 2 connected\n"

func view(t *testing.T, clusterNodes string) *clusteradmin.NodeView {
	t.Helper()
	nodes, err := clusteradmin.ParseClusterNodes(clusterNodes)
	if err != nil {
		t.Fatal(err)
	}
	return &clusteradmin.NodeView{Nodes: nodes}
}

func ids(nodes []clusteradmin.Node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.ID)
	}
	return out
}

func TestServingMaster(t *testing.T) {
	tests := []struct {
		name  string
		nodes string
		want  bool
	}{
		{"master with slots", masterAView, true},
		{"master without slots", masterA + " 10.0.0.1:6379@16379 myself,master - 0 0 1 connected\n", false},
		{"replica", replica1 + " 10.0.0.11:6379@16379 myself,slave " + masterA + " 0 0 1 connected\n" +
			masterA + " 10.0.0.1:6379@16379 master - 0 1 1 connected 0-16383\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := servingMaster(view(t, tt.nodes)); got != tt.want {
				t.Errorf("servingMaster = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReplicasOfSkipsFailingAndDisconnectedReplicas(t *testing.T) {
	got := ids(replicasOf(view(t, masterAView), masterA))
	if want := []string{replica1, replica2}; !slices.Equal(got, want) {
		t.Errorf("replicas of A: %v, want %v", got, want)
	}
}

func TestFitReplicasPicksTheInSyncReplicaWithTheHighestOffset(t *testing.T) {
	v := view(t, masterAView)
	node := func(id string) clusteradmin.Node {
		for _, n := range v.Nodes {
			if n.ID == id {
				return n
			}
		}
		t.Fatalf("no node %s", id)
		return clusteradmin.Node{}
	}
	inSync := func(offset string) map[string]string {
		return parseInfo("role:slave\r\nmaster_link_status:up\r\nmaster_sync_in_progress:0\r\nslave_repl_offset:" + offset + "\r\n")
	}
	tests := []struct {
		name    string
		reports []replicaReport
		want    []string
	}{
		{"highest offset first",
			[]replicaReport{
				{Node: node(replica1), MasterID: masterA, Info: inSync("100")},
				{Node: node(replica2), MasterID: masterA, Info: inSync("250")},
			},
			[]string{replica2, replica1}},
		{"equal offsets: node ID order, so the choice is stable",
			[]replicaReport{
				{Node: node(replica2), MasterID: masterA, Info: inSync("7")},
				{Node: node(replica1), MasterID: masterA, Info: inSync("7")},
			},
			[]string{replica1, replica2}},
		{"a replica that did not answer is not fit",
			[]replicaReport{
				{Node: node(replica1), Err: errors.New("connection refused")},
				{Node: node(replica2), MasterID: masterA, Info: inSync("1")},
			},
			[]string{replica2}},
		{"a replica that replicates another master by its own account is not fit",
			[]replicaReport{{Node: node(replica1), MasterID: masterB, Info: inSync("900")}},
			nil},
		{"a replica in full sync is not fit",
			[]replicaReport{{Node: node(replica1), MasterID: masterA,
				Info: parseInfo("role:slave\r\nmaster_link_status:up\r\nmaster_sync_in_progress:1\r\nslave_repl_offset:5\r\n")}},
			nil},
		{"a replica whose link is down is not fit",
			[]replicaReport{{Node: node(replica1), MasterID: masterA,
				Info: parseInfo("role:slave\r\nmaster_link_status:down\r\nmaster_sync_in_progress:0\r\nslave_repl_offset:5\r\n")}},
			nil},
		{"a node that says it is a master is not fit",
			[]replicaReport{{Node: node(replica1), MasterID: masterA, Info: parseInfo("role:master\r\n")}},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range fitReplicas(masterA, tt.reports) {
				got = append(got, c.Node.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("fit replicas %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHandedOver(t *testing.T) {
	if handedOver(view(t, masterAView)) {
		t.Error("a master counts as handed over")
	}
	after := masterA + " 10.0.0.1:6379@16379 myself,slave " + replica2 + " 0 0 3 connected\n" +
		replica2 + " 10.0.0.12:6379@16379 master - 0 1 3 connected 0-8191\n"
	if !handedOver(view(t, after)) {
		t.Error("a replica does not count as handed over")
	}
}
