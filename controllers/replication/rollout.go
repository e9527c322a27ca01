package replication

import "fmt"

// ActionKind is the kind of the next day-2 step.
type ActionKind string

// The day-2 steps.
const (
	// Nothing to do.
	ActNone ActionKind = ""
	// ActWait: something must settle first (Message says what).
	ActWait ActionKind = "Wait"
	// ActDeletePod restarts Pod (its StatefulSet makes it again from the
	// current template).
	ActDeletePod ActionKind = "DeletePod"
	// ActFailover sends SENTINEL FAILOVER, with replica-priority 0 set
	// first on the replicas in Exclude so that the sentinels promote one
	// of the others.
	ActFailover ActionKind = "Failover"
)

// Action is the next day-2 step.
type Action struct {
	Kind    ActionKind
	Pod     string
	Exclude []string
	Message string
}

func (d Decision) replica(pod string) (ReplicaState, bool) {
	for _, r := range d.Replicas {
		if r.Pod == pod {
			return r, true
		}
	}
	return ReplicaState{}, false
}

// allSynced reports whether every ordinal below want has a pod, and every
// node but the master is a Ready, synced replica. A pod just deleted and
// not made again yet counts as missing, not as fine.
func (d Decision) allSynced(nodes []Node, want int) (bool, string) {
	present := map[int]bool{}
	for _, n := range nodes {
		present[n.Ordinal] = true
	}
	for o := range want {
		if !present[o] {
			return false, fmt.Sprintf("waiting for the pod of ordinal %d", o)
		}
	}
	for _, n := range sortedNodes(nodes) {
		if n.Pod == d.Master {
			continue
		}
		if r, ok := d.replica(n.Pod); !ok || !r.Synced || !n.Ready {
			return false, fmt.Sprintf("waiting for replica %s to be ready and in sync", n.Pod)
		}
	}
	return true, ""
}

// NextRollout is the next step of a rolling update: outdated replicas are
// restarted one at a time, each only when every replica is in sync; then,
// with every replica updated, SENTINEL FAILOVER moves the master to one of
// them; the old master, now an outdated replica, is restarted last. A
// master without replicas (want is 1) is restarted alone. want is the
// number of data node ordinals.
func NextRollout(d Decision, nodes []Node, want int) Action {
	if d.Master == "" {
		return Action{Kind: ActWait, Message: d.Problem}
	}
	var master Node
	var outdated []string
	for _, n := range sortedNodes(nodes) {
		switch {
		case n.Pod == d.Master:
			master = n
		case !n.Updated:
			outdated = append(outdated, n.Pod)
		}
	}
	if len(outdated) == 0 && master.Updated {
		return Action{}
	}
	if ok, why := d.allSynced(nodes, want); !ok {
		return Action{Kind: ActWait, Message: why}
	}
	if len(outdated) > 0 {
		return Action{Kind: ActDeletePod, Pod: outdated[0], Message: "restarting replica " + outdated[0]}
	}
	if want <= 1 {
		return Action{Kind: ActDeletePod, Pod: master.Pod, Message: "restarting master " + master.Pod + " (no replica to fail over to)"}
	}
	return Action{Kind: ActFailover, Message: "failing master " + master.Pod + " over to an updated replica"}
}

// NextSwitchover is the step that makes target the master: SENTINEL
// FAILOVER with every other replica's priority at 0. Done (ActNone) when
// target is the master; an error when it cannot become one.
func NextSwitchover(d Decision, target string) (Action, error) {
	if d.Master == "" {
		return Action{Kind: ActWait, Message: d.Problem}, nil
	}
	if target == d.Master {
		return Action{}, nil
	}
	r, ok := d.replica(target)
	if !ok {
		return Action{}, fmt.Errorf("%s is not a replica of master %s", target, d.Master)
	}
	if !r.Synced {
		return Action{Kind: ActWait, Message: fmt.Sprintf("waiting for %s to be in sync", target)}, nil
	}
	var exclude []string
	for _, o := range d.Replicas {
		if o.Pod != target {
			exclude = append(exclude, o.Pod)
		}
	}
	return Action{Kind: ActFailover, Pod: target, Exclude: exclude, Message: "switching over to " + target}, nil
}

// NextScaleIn is the step before data nodes of ordinal >= want may be
// removed: when the master is one of them, a SENTINEL FAILOVER to a
// replica that stays. keep is how many ordinals the StatefulSet must
// still have (want, or more while the master is beyond it).
func NextScaleIn(d Decision, nodes []Node, want int) (Action, int) {
	ordinal := map[string]int{}
	for _, n := range nodes {
		ordinal[n.Pod] = n.Ordinal
	}
	if d.Master == "" {
		keep := want
		for _, n := range nodes {
			keep = max(keep, n.Ordinal+1)
		}
		return Action{Kind: ActWait, Message: d.Problem}, keep
	}
	mo := ordinal[d.Master]
	if mo < want {
		return Action{}, want
	}
	var exclude []string
	staying := false
	for _, r := range d.Replicas {
		if ordinal[r.Pod] >= want {
			exclude = append(exclude, r.Pod)
		} else if r.Synced {
			staying = true
		}
	}
	if !staying {
		return Action{Kind: ActWait, Message: "scale-in waits for a replica that stays to be in sync"}, mo + 1
	}
	return Action{Kind: ActFailover, Exclude: exclude, Message: "moving the master off " + d.Master + " before it is removed"}, mo + 1
}
