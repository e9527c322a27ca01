package replication

import (
	"github.com/shoal-dev/shoal/node/cluster"
)

// Replication in cluster mode: the cluster machine decides whom this node
// replicates from (CLUSTER REPLICATE, failover, replica migration) and
// reads the replication state before each tick. Call sites in
// cluster_node.go: apply() calls s.applyClusterReplication for
// Ready.Replication; replicationState() returns rs.clusterReplicationState().

// applyClusterReplication carries out Ready.Replication (lock held): an
// empty MasterID makes this node a master (promotion keeps the old
// replication ID for the other replicas' partial resync).
func (rs *replState) applyClusterReplication(t cluster.ReplicationTarget) {
	s := rs.s
	if t.MasterID == "" {
		if rs.isReplica() {
			rs.promote()
			s.Logf("Cluster: this node is a master now; replication ID shifted (previous ID valid up to offset %d)", rs.ids.SecondOffset-1)
		}
		return
	}
	if l := rs.link; l != nil && l.host == t.IP && l.port == t.Port {
		return
	}
	s.Logf("Cluster: replicating from %s (%s:%d)", t.MasterID, t.IP, t.Port)
	rs.replicaOf(t.IP, t.Port)
}

// clusterReplicationState is what the machine is told before each tick
// (lock held).
func (rs *replState) clusterReplicationState() cluster.ReplicationState {
	st := cluster.ReplicationState{Offset: rs.ids.Offset}
	if l := rs.link; l != nil {
		st.Connected = l.state == "connected"
		st.LastInteraction = l.lastIO
		st.DownSince = l.downSince
	}
	return st
}
