package replication

import (
	"strconv"
	"strings"
)

// Info is what the planner reads of a data node's INFO replication.
type Info struct {
	// Role is "master" or "slave", as INFO says.
	Role string
	// MasterHost and MasterPort are a replica's master_host and
	// master_port.
	MasterHost string
	MasterPort int
	// LinkUp is master_link_status:up.
	LinkUp bool
	// SyncInProgress is master_sync_in_progress:1 (a full
	// synchronization).
	SyncInProgress bool
	// Offset is slave_repl_offset of a replica, master_repl_offset of a
	// master.
	Offset int64
	// ConnectedReplicas is a master's connected_slaves.
	ConnectedReplicas int
}

// ParseInfo reads the fields of INFO replication the planner needs. Lines
// it does not know are ignored; a malformed number reads as 0.
func ParseInfo(text string) Info {
	var in Info
	var masterOffset, replicaOffset int64
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "role":
			in.Role = v
		case "master_host":
			in.MasterHost = v
		case "master_port":
			in.MasterPort, _ = strconv.Atoi(v)
		case "master_link_status":
			in.LinkUp = v == "up"
		case "master_sync_in_progress":
			in.SyncInProgress = v == "1"
		case "slave_repl_offset":
			replicaOffset, _ = strconv.ParseInt(v, 10, 64)
		case "master_repl_offset":
			masterOffset, _ = strconv.ParseInt(v, 10, 64)
		case "connected_slaves":
			in.ConnectedReplicas, _ = strconv.Atoi(v)
		}
	}
	in.Offset = masterOffset
	if in.Role == "slave" {
		in.Offset = replicaOffset
	}
	return in
}

// Node is one data node pod as the reconciler observed it.
type Node struct {
	// Pod is the pod's name; Ordinal its StatefulSet ordinal.
	Pod     string
	Ordinal int
	// Hosts are the names the node is known by: its stable DNS name and
	// its pod IP. A sentinel's answer or a replica's master_host matches
	// the node when it equals one of them.
	Hosts []string
	// Ready is the pod's Ready condition.
	Ready bool
	// Updated: the pod runs the StatefulSet's current template.
	Updated bool
	// Reachable: INFO replication answered; Info is its reply.
	Reachable bool
	Info      Info
}

// Sentinel is one sentinel's answer to SENTINEL GET-MASTER-ADDR-BY-NAME.
type Sentinel struct {
	Pod string
	// Reachable: the sentinel answered.
	Reachable bool
	// MasterHost is the host of its answer, empty when it monitors no
	// master of that name.
	MasterHost string
	// Replicas are the hosts SENTINEL REPLICAS lists as usable (neither
	// down nor disconnected): the replicas a failover it leads could
	// promote or reconfigure. A sentinel discovers replicas from the
	// master's INFO, every 10 s.
	Replicas []string
}

// matches reports whether host names n.
func (n Node) matches(host string) bool {
	for _, h := range n.Hosts {
		if h != "" && strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// PodOf is the pod of nodes known as host, or "".
func PodOf(nodes []Node, host string) string {
	for _, n := range nodes {
		if n.matches(host) {
			return n.Pod
		}
	}
	return ""
}
