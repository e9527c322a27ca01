package server

import (
	"github.com/shoal-dev/shoal/node/cluster"
)

// Replication in cluster mode: the cluster machine decides whom this node
// replicates from (CLUSTER REPLICATE, failover, replica migration) and
// reads the replication state before each tick. The cluster node
// (node/clusternode) reaches both through cluster_api.go:
// ApplyClusterReplication for Ready.Replication, ClusterReplicationState
// before each tick.

// applyClusterReplication carries out Ready.Replication (lock held): an
// empty MasterID makes this node a master (promotion keeps the old
// replication ID for the other replicas' partial resync).
func (s *Server) applyClusterReplication(t cluster.ReplicationTarget) {
	if t.MasterID == "" {
		if s.isReplica() {
			s.promote()
			s.log.Printf("Cluster: this node is a master now; replication ID shifted (previous ID valid up to offset %d)", s.repl.ids.SecondOffset-1)
		}
		return
	}
	if l := s.repl.link; l != nil && l.host == t.IP && l.port == t.Port {
		return
	}
	s.log.Printf("Cluster: replicating from %s (%s:%d)", t.MasterID, t.IP, t.Port)
	s.replicaOf(t.IP, t.Port)
}

// clusterReplicationState is what the machine is told before each tick
// (lock held).
func (s *Server) clusterReplicationState() cluster.ReplicationState {
	st := cluster.ReplicationState{Offset: s.repl.ids.Offset}
	if l := s.repl.link; l != nil {
		st.Connected = l.state == "connected"
		st.LastInteraction = l.lastIO
		st.DownSince = l.downSince
	}
	return st
}
