package server

import (
	"strconv"
	"testing"
)

// TestClusterRollingRestartKeepsAckedWrites does what the operator's rolling
// update does, under a ClusterClient write load, on nodes with
// appendonly yes as the pods run: for every shard, restart the replica
// (SIGTERM, same directory), wait until it is in sync, CLUSTER FAILOVER
// on it (twice, as an operator that retries), then restart the old master,
// which rejoins as a replica. Every
// acknowledged write must be there at the end: a coordinated failover
// pauses the master until the replica has its whole stream.
func TestClusterRollingRestartKeepsAckedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six nodes")
	}
	nodes := startAOFCluster(t)
	load := startAckLoad(t, failoverClient(t, nodes), 8, false, "roll")
	load.waitProgress(t, 2000)
	for _, sh := range clusterShards(t, nodes, nodes[0]) {
		sh.replica.stop(t)
		sh.replica.start(t)
		waitInSyncProcs(t, sh.master, sh.replica)
		load.waitProgress(t, 500)
		// Asked twice, as an operator retrying does: the replica sends
		// MFSTART again and the master restarts the manual failover.
		// The first may complete before the second arrives: the node is
		// then a master and refuses it, as Redis does.
		for i := range 2 {
			err := sh.replica.do(t, "CLUSTER", "FAILOVER").Err()
			if i == 1 && isNotReplicaErr(err) {
				break
			}
			if err != nil {
				t.Fatalf("CLUSTER FAILOVER: %v", err)
			}
		}
		manualFailover(t, sh)
		sh.master.stop(t)
		sh.master.start(t)
		waitInSyncProcs(t, sh.replica, sh.master)
		load.waitProgress(t, 500)
	}
	load.verify(t, nodes)
	checkClean(t, nodes[0])
}

// startAOFCluster starts three masters with a replica each on
// appendonly yes, as the operator's pods run.
func startAOFCluster(t *testing.T) []*clusterProc {
	t.Helper()
	nodes := make([]*clusterProc, 6)
	addrs := make([]string, len(nodes))
	for i := range nodes {
		nodes[i] = startClusterProc(t, "", 0, "--cluster-node-timeout", strconv.Itoa(failoverNodeTimeout), "--appendonly", "yes")
		addrs[i] = nodes[i].Addr()
	}
	createReplicatedCluster(t, nodes, addrs)
	return nodes
}
