package topology

import (
	"fmt"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// Member is one pod of the RedisCluster: where it belongs (shard, ordinal),
// where it listens, and what it reported (View is nil when it could not be
// read).
type Member struct {
	Pod     string
	Shard   int
	Ordinal int
	IP      string
	Port    int
	BusPort int
	View    *clusteradmin.NodeView
}

// Addr is ip:port of the member.
func (m Member) Addr() string { return fmt.Sprintf("%s:%d", m.IP, m.Port) }

// ID is the member's node ID, "" when unknown.
func (m Member) ID() string {
	if m.View == nil {
		return ""
	}
	return m.View.MyID()
}

func (m Member) String() string {
	return fmt.Sprintf("%s (shard %d, %s)", m.Pod, m.Shard, m.Addr())
}

// AnySlotAssigned reports whether any member reports a node, itself or
// another, serving a slot: then the cluster is formed (or was, in part) and
// formation must not touch it.
func AnySlotAssigned(members []Member) bool {
	for _, m := range members {
		if m.View == nil {
			continue
		}
		for _, n := range m.View.Nodes {
			if len(n.Slots) > 0 {
				return true
			}
		}
	}
	return false
}

// WithinShape is the members of the desired shards and ordinals, in order.
func WithinShape(members []Member, d Desired) []Member {
	var out []Member
	for _, m := range members {
		if m.Shard < d.Masters && m.Ordinal <= d.ReplicasPerMaster {
			out = append(out, m)
		}
	}
	return out
}

// Converged reports whether every member reported its view, says
// cluster_state:ok, and, when a replica, has its link to its master up; if
// not, the reason names the first member that is not there yet.
func Converged(members []Member) (string, bool) {
	for _, m := range members {
		if m.View == nil {
			return fmt.Sprintf("%s has not reported its cluster view", m.Pod), false
		}
		if st := m.View.Info.State; st != clusteradmin.StateOK {
			return fmt.Sprintf("%s reports cluster_state:%s", m.Pod, st), false
		}
		if me, _ := m.View.Myself(); me.IsReplica() && m.View.Replication.MasterLinkStatus != "up" {
			return fmt.Sprintf("%s is synchronizing with its master", m.Pod), false
		}
	}
	return "", true
}
