package replication

import (
	"fmt"
	"sort"
)

// MasterSource says how the planner knows the master.
type MasterSource string

// The sources of the master.
const (
	// FromSentinels: a majority of the sentinels name it.
	FromSentinels MasterSource = "Sentinels"
	// Seeded: no sentinel names a master and none was ever known: the
	// first pod is made master (it is the one sentinel.conf monitors).
	Seeded MasterSource = "Seed"
)

// Input is what one reconcile observed.
type Input struct {
	// Nodes are the data node pods, any order.
	Nodes []Node
	// Sentinels are the sentinels' answers.
	Sentinels []Sentinel
	// WantReplicas is spec.replicas (data nodes), WantSentinels
	// spec.sentinel.replicas.
	WantReplicas  int
	WantSentinels int
	// KnownMaster is status.master: empty only before the first master
	// was ever seeded.
	KnownMaster string
}

// ReplicaState is one replica of the master, for the status.
type ReplicaState struct {
	Pod      string
	LinkUp   bool
	Offset   int64
	LagBytes int64
	// Synced: linked, no full synchronization in progress.
	Synced bool
}

// Decision is what the planner concluded.
type Decision struct {
	// Master is the master pod, "" when none is confirmed (Problem says
	// why). Confirmed: the node answers and reports role:master.
	Master string
	// MasterHost is the master's host as the sentinels name it (or the
	// seed's first host).
	MasterHost string
	Source     MasterSource
	// AgreeingSentinels is how many sentinels name Master.
	AgreeingSentinels int
	// ReplicaOf are the nodes to point at Master with REPLICAOF: they
	// answer and are not its replicas (fresh nodes, a restarted old
	// master, a node still following another).
	ReplicaOf []string
	// Roles is the role label every data node pod must carry (RoleMaster,
	// RoleReplica, or "" for none). Nil when no master is confirmed: the
	// labels are left as they are rather than cut traffic on a guess.
	Roles map[string]string
	// Replicas are the master's replicas, by ordinal.
	Replicas      []ReplicaState
	ReadyReplicas int
	// Problem explains an unconfirmed master.
	Problem string
}

// The role label values (builders.RoleMaster and RoleReplica).
const (
	RoleMaster  = "master"
	RoleReplica = "replica"
)

// sortedNodes returns nodes by ordinal.
func sortedNodes(nodes []Node) []Node {
	out := append([]Node(nil), nodes...)
	sort.Slice(out, func(i, j int) bool { return out[i].Ordinal < out[j].Ordinal })
	return out
}

// sentinelMaster is the pod a majority of wantSentinels name, with its host
// and the number of votes, or "" and the largest vote count.
func sentinelMaster(nodes []Node, sentinels []Sentinel, wantSentinels int) (pod, host string, votes int) {
	count := map[string]int{}
	hostOf := map[string]string{}
	for _, s := range sentinels {
		if !s.Reachable || s.MasterHost == "" {
			continue
		}
		if p := PodOf(nodes, s.MasterHost); p != "" {
			count[p]++
			hostOf[p] = s.MasterHost
		}
	}
	best := ""
	for p, c := range count {
		if c > count[best] || (c == count[best] && p < best) {
			best = p
		}
	}
	if count[best] >= wantSentinels/2+1 {
		return best, hostOf[best], count[best]
	}
	return "", "", count[best]
}

// Plan decides the master, the REPLICAOF commands and the role labels.
func Plan(in Input) Decision {
	nodes := sortedNodes(in.Nodes)
	var d Decision
	pod, host, votes := sentinelMaster(nodes, in.Sentinels, in.WantSentinels)
	d.AgreeingSentinels = votes
	switch {
	case pod != "":
		d.Master, d.MasterHost, d.Source = pod, host, FromSentinels
	case in.KnownMaster == "" && len(nodes) > 0 && nodes[0].Ordinal == 0 && len(nodes[0].Hosts) > 0:
		d.Master, d.MasterHost, d.Source = nodes[0].Pod, nodes[0].Hosts[0], Seeded
	default:
		d.Problem = fmt.Sprintf("no master: %d of %d sentinels agree on a data node pod", votes, in.WantSentinels)
		return d
	}
	var master Node
	for _, n := range nodes {
		if n.Pod == d.Master {
			master = n
		}
	}
	if !master.Reachable || master.Info.Role != "master" {
		d.Problem = fmt.Sprintf("master %s does not answer as a master yet", d.Master)
		d.Master = ""
		return d
	}
	// REPLICAOF only when the sentinels are unanimous (while one of them
	// runs a failover it may name the promoted replica and the others
	// still the old master), and only to stray nodes (strayNode): the
	// sentinels reconfigure the nodes they know themselves, and a
	// promoted replica, a master already while every sentinel still
	// names the old one, must not be pointed back.
	repoint := d.Source == Seeded || unanimous(nodes, in.Sentinels, d.Master)
	d.Roles = map[string]string{}
	for _, n := range nodes {
		if n.Pod == d.Master {
			d.Roles[n.Pod] = RoleMaster
			continue
		}
		d.Roles[n.Pod] = ""
		if !n.Reachable {
			continue
		}
		following := n.Info.Role == "slave" && master.matches(n.Info.MasterHost)
		if !following {
			if repoint && strayNode(nodes, n) {
				d.ReplicaOf = append(d.ReplicaOf, n.Pod)
			}
			continue
		}
		r := ReplicaState{Pod: n.Pod, LinkUp: n.Info.LinkUp, Offset: n.Info.Offset}
		if lag := master.Info.Offset - n.Info.Offset; lag > 0 {
			r.LagBytes = lag
		}
		r.Synced = n.Info.LinkUp && !n.Info.SyncInProgress
		if r.Synced {
			d.Roles[n.Pod] = RoleReplica
			d.ReadyReplicas++
		}
		d.Replicas = append(d.Replicas, r)
	}
	return d
}

// Ready reports whether the replication is whole: a confirmed master, every
// replica in sync, every sentinel agreeing on the master.
func (d Decision) Ready(in Input) (bool, string) {
	switch {
	case d.Master == "":
		return false, d.Problem
	case d.ReadyReplicas < in.WantReplicas-1:
		return false, fmt.Sprintf("%d of %d replicas in sync", d.ReadyReplicas, in.WantReplicas-1)
	case d.AgreeingSentinels < in.WantSentinels:
		return false, fmt.Sprintf("%d of %d sentinels monitor the master", d.AgreeingSentinels, in.WantSentinels)
	}
	if s, pod := d.UnknownReplica(in); pod != "" {
		return false, fmt.Sprintf("sentinel %s does not know replica %s yet", s, pod)
	}
	return true, fmt.Sprintf("master %s, %d replicas in sync, %d sentinels", d.Master, d.ReadyReplicas, d.AgreeingSentinels)
}

// UnknownReplica is a sentinel naming the master and a replica of the
// master it does not list as usable, or "", "". A failover led by that
// sentinel would leave the replica behind the old master (a sentinel
// reconfigures only the replicas it knows), so the replication is not
// Ready, and no planned failover starts, until every sentinel knows every
// replica.
func (d Decision) UnknownReplica(in Input) (sentinel, pod string) {
	for _, s := range in.Sentinels {
		if !s.Reachable || PodOf(in.Nodes, s.MasterHost) != d.Master {
			continue
		}
		known := map[string]bool{}
		for _, h := range s.Replicas {
			known[PodOf(in.Nodes, h)] = true
		}
		for _, r := range d.Replicas {
			if !known[r.Pod] {
				return s.Pod, r.Pod
			}
		}
	}
	return "", ""
}

// unanimous reports whether every sentinel that answered names master.
func unanimous(nodes []Node, sentinels []Sentinel, master string) bool {
	for _, s := range sentinels {
		if s.Reachable && PodOf(nodes, s.MasterHost) != master {
			return false
		}
	}
	return true
}

// strayNode reports whether n is a node the sentinels cannot have
// reconfigured: a fresh master (a new pod, or one restarted without its
// replication state: offset 0, no replicas), a replica of a host that is
// none of the data nodes, or a replica of a data node that is itself a
// replica. The last is a replica the sentinels had not discovered yet when
// they failed its master over: they reconfigure only the replicas they
// know, then turn the old master into a replica, and the unknown one stays
// chained behind it.
func strayNode(nodes []Node, n Node) bool {
	switch n.Info.Role {
	case "master":
		return n.Info.Offset == 0 && n.Info.ConnectedReplicas == 0
	case "slave":
		for _, up := range nodes {
			if up.matches(n.Info.MasterHost) {
				return up.Reachable && up.Info.Role == "slave"
			}
		}
		return true
	}
	return false
}
