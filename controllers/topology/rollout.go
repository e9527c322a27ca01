package topology

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// Rolling updates: the pods of a shard restart one at a time, replicas
// first; then a coordinated CLUSTER FAILOVER makes an updated replica the
// master, and the old master (now a replica) restarts last. Before any pod
// of a shard restarts, every other pod of the shard is back: ready, known
// to the cluster, and (a replica) linked to the master with its offset
// caught up. A master and its replicas are never down together.

// RolloutPod is one pod of a shard as the rollout sees it: the member (its
// View is nil when the node did not answer) and what the API says.
type RolloutPod struct {
	Member
	// Exists is false for a pod the StatefulSet should have but that is
	// missing or being deleted.
	Exists bool
	// Ready is the pod's Ready condition.
	Ready bool
	// Updated: the pod was made from the current pod template.
	Updated bool
}

// PendingFailover is a CLUSTER FAILOVER sent to Pod at Since.
type PendingFailover struct {
	Pod    string
	Reason string
	Since  time.Time
}

// RolloutInput is what PlanRollout decides from.
type RolloutInput struct {
	// Shards holds, by shard index, the pods the shard should have, by
	// ordinal.
	Shards [][]RolloutPod
	// MaxConcurrentShards is how many shards restart pods at a time.
	MaxConcurrentShards int
	// MaxLagBytes is how far a replica's offset may be behind its master's
	// and still count as caught up.
	MaxLagBytes int64
	// Pending are the failovers sent and not yet resolved.
	Pending []PendingFailover
}

// RolloutActionType is what the rollout does to a pod.
type RolloutActionType string

// The actions of a rolling update.
const (
	// RolloutDeletePod deletes the pod: the StatefulSet makes it again
	// from the current template, on the same volume (same node ID).
	RolloutDeletePod RolloutActionType = "DeletePod"
	// RolloutFailover sends a coordinated CLUSTER FAILOVER to the pod, an
	// updated replica in sync with its master.
	RolloutFailover RolloutActionType = "Failover"
)

// RolloutAction is one action on one pod.
type RolloutAction struct {
	Type   RolloutActionType
	Pod    string
	Shard  int
	Reason string
}

func (a RolloutAction) String() string {
	return fmt.Sprintf("%s %s (shard %d): %s", a.Type, a.Pod, a.Shard, a.Reason)
}

// RolloutPlan is the next step of a rolling update.
type RolloutPlan struct {
	// Done: every pod runs the current template (nothing to roll).
	Done bool
	// UpdatedPods of TotalPods run the current template.
	UpdatedPods, TotalPods int
	// Shards being rolled now.
	Shards []int
	// Actions to carry out now, at most one per shard.
	Actions []RolloutAction
	// Waiting says what the shards wait for, when there is no action.
	Waiting string
	// MasterAlone: a shard without replicas restarts its master alone (its
	// slots are unavailable until it is back).
	MasterAlone bool
}

// PlanRollout decides the next step of a rolling update from what is
// observed now; it keeps no memory of its own, so an operator restarted
// between two steps picks up where the pods are.
func PlanRollout(in RolloutInput) RolloutPlan {
	var p RolloutPlan
	for _, shard := range in.Shards {
		for _, pod := range shard {
			p.TotalPods++
			if pod.Exists && pod.Updated {
				p.UpdatedPods++
			}
		}
	}
	if p.UpdatedPods == p.TotalPods {
		p.Done = true
		return p
	}
	limit := max(1, in.MaxConcurrentShards)
	var active, fresh []int
	for s, shard := range in.Shards {
		outdated, updated := 0, 0
		for _, pod := range shard {
			if pod.Exists && pod.Updated {
				updated++
			} else {
				outdated++
			}
		}
		_, unhealthy := ShardHealth(shard, in.MaxLagBytes)
		busy := unhealthy != "" || pendingIn(shard, in.Pending) != ""
		switch {
		case busy || outdated > 0 && updated > 0:
			active = append(active, s)
		case outdated > 0:
			fresh = append(fresh, s)
		}
	}
	for _, s := range fresh {
		if len(active) >= limit {
			break
		}
		active = append(active, s)
	}
	slices.Sort(active)
	var waits []string
	for _, s := range active[:min(len(active), limit)] {
		p.Shards = append(p.Shards, s)
		a, wait, alone := planShard(in.Shards[s], s, in)
		if a != nil {
			p.Actions = append(p.Actions, *a)
			p.MasterAlone = p.MasterAlone || alone
			continue
		}
		if wait != "" {
			waits = append(waits, fmt.Sprintf("shard %d: %s", s, wait))
		}
	}
	if len(active) > limit {
		waits = append(waits, fmt.Sprintf("%d shards busy, at most %d at a time", len(active), limit))
	}
	p.Waiting = strings.Join(waits, "; ")
	return p
}

// planShard is the next action on one shard: restart an outdated replica,
// then fail over to an updated one, then restart the old master.
func planShard(shard []RolloutPod, s int, in RolloutInput) (*RolloutAction, string, bool) {
	if pod := pendingIn(shard, in.Pending); pod != "" {
		return nil, fmt.Sprintf("CLUSTER FAILOVER sent to %s, waiting until it is master", pod), false
	}
	for _, pod := range shard {
		if !pod.Exists {
			return nil, fmt.Sprintf("%s is being recreated", pod.Pod), false
		}
	}
	master := ServingMaster(shard)
	if master == nil {
		_, why := ShardHealth(shard, in.MaxLagBytes)
		return nil, why, false
	}
	// A replica may restart when every other pod of the shard is back.
	for _, pod := range shard {
		if pod.Pod == master.Pod || pod.Updated {
			continue
		}
		others := slices.DeleteFunc(slices.Clone(shard), func(o RolloutPod) bool { return o.Pod == pod.Pod })
		if _, why := ShardHealth(others, in.MaxLagBytes); why != "" {
			return nil, why, false
		}
		return &RolloutAction{Type: RolloutDeletePod, Pod: pod.Pod, Shard: s, Reason: "replica runs an outdated template"}, "", false
	}
	if _, why := ShardHealth(shard, in.MaxLagBytes); why != "" {
		return nil, why, false
	}
	if master.Updated {
		return nil, "", false
	}
	if len(shard) == 1 {
		return &RolloutAction{Type: RolloutDeletePod, Pod: master.Pod, Shard: s,
			Reason: "master runs an outdated template and has no replica: restarting it alone, its slots are unavailable until it is back"}, "", true
	}
	for _, pod := range shard {
		if pod.Pod != master.Pod && pod.Updated {
			if why := ClusterAgrees(in.Shards, pod, *master); why != "" {
				return nil, why, false
			}
			return &RolloutAction{Type: RolloutFailover, Pod: pod.Pod, Shard: s,
				Reason: fmt.Sprintf("promoting the updated replica before restarting master %s", master.Pod)}, "", false
		}
	}
	return nil, "no updated replica to fail over to", false
}

// ShardHealth finds the shard's master (the one master serving slots) and
// says why the shard is not whole, "" when it is: every pod exists, is
// ready and reported its view; every pod sees every other without a
// failure flag; every replica replicates the master with its link up and
// its offset within maxLag bytes of the master's.
func ShardHealth(shard []RolloutPod, maxLag int64) (*RolloutPod, string) {
	var masters []int
	for i, pod := range shard {
		switch {
		case !pod.Exists:
			return nil, fmt.Sprintf("%s is missing", pod.Pod)
		case !pod.Ready:
			return nil, fmt.Sprintf("%s is not ready", pod.Pod)
		case pod.View == nil:
			return nil, fmt.Sprintf("%s has not reported its cluster view", pod.Pod)
		}
		if me, _ := pod.View.Myself(); me.IsMaster() && len(me.Slots) > 0 {
			masters = append(masters, i)
		}
	}
	if len(masters) != 1 {
		return nil, fmt.Sprintf("%d masters serve slots in the shard", len(masters))
	}
	master := &shard[masters[0]]
	for _, pod := range shard {
		for _, other := range shard {
			if other.Pod == pod.Pod {
				continue
			}
			if n, ok := nodeByID(pod.View, other.ID()); !ok || n.HasFlag(clusteradmin.FlagFail) || n.HasFlag(clusteradmin.FlagPFail) || n.HasFlag(clusteradmin.FlagHandshake) {
				return master, fmt.Sprintf("%s does not see %s as a healthy node yet", pod.Pod, other.Pod)
			}
		}
		if pod.Pod == master.Pod {
			continue
		}
		me, _ := pod.View.Myself()
		switch {
		case !me.IsReplica() || me.MasterID != master.ID():
			return master, fmt.Sprintf("%s does not replicate the master %s", pod.Pod, master.Pod)
		case pod.View.Replication.MasterLinkStatus != "up":
			return master, fmt.Sprintf("%s is synchronizing with its master", pod.Pod)
		case master.View.Replication.Offset-pod.View.Replication.Offset > maxLag:
			return master, fmt.Sprintf("%s is %d bytes behind its master", pod.Pod, master.View.Replication.Offset-pod.View.Replication.Offset)
		}
	}
	return master, ""
}

// ClusterAgrees says why a failover to replica would be refused now, ""
// when it would not: every node that reported a view must know replica as
// a replica of master, without a failure flag. The masters vote only for a
// node they see as a replica (a node made a replica moments ago may still
// be a master to them, until gossip tells them).
func ClusterAgrees(shards [][]RolloutPod, replica, master RolloutPod) string {
	for _, shard := range shards {
		for _, pod := range shard {
			if pod.View == nil || pod.Pod == replica.Pod {
				continue
			}
			n, ok := nodeByID(pod.View, replica.ID())
			switch {
			case !ok:
				return fmt.Sprintf("%s does not know %s yet", pod.Pod, replica.Pod)
			case !n.IsReplica() || n.MasterID != master.ID():
				return fmt.Sprintf("%s does not see %s as a replica of %s yet", pod.Pod, replica.Pod, master.Pod)
			case n.HasFlag(clusteradmin.FlagFail) || n.HasFlag(clusteradmin.FlagPFail):
				return fmt.Sprintf("%s flags %s as failing", pod.Pod, replica.Pod)
			}
		}
	}
	return ""
}

// ServingMaster is the one pod of the shard whose node is a master serving
// slots, nil when there is none or more than one.
func ServingMaster(shard []RolloutPod) *RolloutPod {
	var master *RolloutPod
	for i, pod := range shard {
		if pod.View == nil {
			continue
		}
		if me, _ := pod.View.Myself(); me.IsMaster() && len(me.Slots) > 0 {
			if master != nil {
				return nil
			}
			master = &shard[i]
		}
	}
	return master
}

func nodeByID(v *clusteradmin.NodeView, id string) (clusteradmin.Node, bool) {
	for _, n := range v.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return clusteradmin.Node{}, false
}

// pendingIn is the pod of the shard with a failover pending, "" if none.
func pendingIn(shard []RolloutPod, pending []PendingFailover) string {
	for _, pf := range pending {
		for _, pod := range shard {
			if pod.Pod == pf.Pod {
				return pf.Pod
			}
		}
	}
	return ""
}

// ResolveFailovers sorts the failovers sent into those still open, those
// done (the pod is a master serving slots) and those that expired (not
// master after timeout: the node gave up, as a manual failover times out).
func ResolveFailovers(pending []PendingFailover, members []Member, now time.Time, timeout time.Duration) (open, done, expired []PendingFailover) {
	for _, pf := range pending {
		var view *clusteradmin.NodeView
		for _, m := range members {
			if m.Pod == pf.Pod {
				view = m.View
			}
		}
		if view != nil {
			if me, _ := view.Myself(); me.IsMaster() && len(me.Slots) > 0 {
				done = append(done, pf)
				continue
			}
		}
		if now.Sub(pf.Since) > timeout {
			expired = append(expired, pf)
			continue
		}
		open = append(open, pf)
	}
	return open, done, expired
}
