package topology

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// rpod describes one pod of a rollout fixture; the zero value is a healthy,
// outdated replica of ordinal 0 of the shard.
type rpod struct {
	master  bool
	updated bool
	missing bool
	unready bool
	silent  bool  // no view
	lag     int64 // bytes behind the master
	down    bool  // master_link_status:down
	pfail   bool  // the other pods of the shard flag it fail?
	other   bool  // replicates a node outside the shard
	// seenAsMaster: the other shards still see it as a master.
	seenAsMaster bool
}

func rid(s, o int) string { return fmt.Sprintf("%040d", 1000+s*100+o) }

// rshards builds the rollout input's shards: pods[s][o] is pod o of shard s.
// Every node's view lists every node of every shard.
func rshards(pods ...[]rpod) [][]RolloutPod {
	masterIDs := make([]string, len(pods))
	for s, shard := range pods {
		for o, p := range shard {
			if p.master {
				masterIDs[s] = rid(s, o)
			}
		}
	}
	// node is what a node of shard vs sees about pod o of shard s.
	node := func(vs, s, o int, q rpod) clusteradmin.Node {
		n := clusteradmin.Node{ID: rid(s, o), Flags: []string{clusteradmin.FlagMaster}, LinkState: clusteradmin.LinkConnected}
		switch {
		case q.master:
			n.Slots = []clusteradmin.SlotRange{{First: s * 100, Last: s*100 + 99}}
		case q.seenAsMaster && vs != s:
			// Gossip has not told other shards it is a replica yet.
		default:
			n.Flags = []string{clusteradmin.FlagReplica}
			n.MasterID = masterIDs[s]
			if q.other {
				n.MasterID = strings.Repeat("f", 40)
			}
		}
		if q.pfail {
			n.Flags = append(n.Flags, clusteradmin.FlagPFail)
		}
		return n
	}
	out := make([][]RolloutPod, len(pods))
	for s, shard := range pods {
		for o, p := range shard {
			rp := RolloutPod{
				Member:  Member{Pod: fmt.Sprintf("rc-shard-%d-%d", s, o), Shard: s, Ordinal: o, IP: fmt.Sprintf("10.0.%d.%d", s, o), Port: 6379, BusPort: 16379},
				Exists:  !p.missing,
				Ready:   !p.unready && !p.missing,
				Updated: p.updated,
			}
			if !p.silent && !p.missing {
				v := &clusteradmin.NodeView{Info: clusteradmin.ClusterInfo{State: clusteradmin.StateOK}}
				for ss, other := range pods {
					for oo, q := range other {
						n := node(s, ss, oo, q)
						if ss == s && oo == o {
							n.Flags = append([]string{clusteradmin.FlagMyself}, slices.DeleteFunc(n.Flags, func(f string) bool { return f == clusteradmin.FlagPFail })...)
						}
						v.Nodes = append(v.Nodes, n)
					}
				}
				v.Replication = clusteradmin.Replication{Role: "master", Offset: 1000}
				if !p.master {
					v.Replication = clusteradmin.Replication{Role: "slave", MasterLinkStatus: "up", Offset: 1000 - p.lag}
					if p.down {
						v.Replication.MasterLinkStatus = "down"
					}
				}
				rp.View = v
			}
			out[s] = append(out[s], rp)
		}
	}
	return out
}

func TestPlanRolloutReplicasFirstThenFailoverThenOldMaster(t *testing.T) {
	pend := func(pod string) []PendingFailover {
		return []PendingFailover{{Pod: pod, Reason: "RollingUpdate", Since: time.Unix(0, 0)}}
	}
	tests := []struct {
		name    string
		shards  [][]RolloutPod
		limit   int
		pending []PendingFailover
		want    []string // actions as "Type pod"
		wait    string   // substring of Waiting
		done    bool
		alone   bool
	}{
		{name: "every pod updated: done",
			shards: rshards([]rpod{{master: true, updated: true}, {updated: true}}), done: true},
		{name: "outdated replica restarts first",
			shards: rshards([]rpod{{master: true}, {}}), want: []string{"DeletePod rc-shard-0-1"}},
		{name: "updated replica in sync: coordinated failover to it",
			shards: rshards([]rpod{{master: true}, {updated: true}}), want: []string{"Failover rc-shard-0-1"}},
		{name: "updated replica lagging: wait for its offset",
			shards: rshards([]rpod{{master: true}, {updated: true, lag: 5000}}), wait: "5000 bytes behind"},
		{name: "updated replica's link down: wait",
			shards: rshards([]rpod{{master: true}, {updated: true, down: true}}), wait: "synchronizing"},
		{name: "after the failover the old master, now a replica, restarts",
			shards: rshards([]rpod{{}, {master: true, updated: true}}), want: []string{"DeletePod rc-shard-0-0"}},
		{name: "a deleted pod not back yet: wait",
			shards: rshards([]rpod{{master: true}, {updated: true, missing: true}}), wait: "being recreated"},
		{name: "a restarted pod not ready yet: wait",
			shards: rshards([]rpod{{master: true}, {updated: true, unready: true}}), wait: "not ready"},
		{name: "a restarted pod not seen healthy by the others: wait",
			shards: rshards([]rpod{{master: true}, {updated: true, pfail: true}}), wait: "healthy node"},
		{name: "failover sent: wait until it is master",
			shards: rshards([]rpod{{master: true}, {updated: true}}), pending: pend("rc-shard-0-1"), wait: "CLUSTER FAILOVER sent"},
		{name: "no replica: the master restarts alone",
			shards: rshards([]rpod{{master: true}}), want: []string{"DeletePod rc-shard-0-0"}, alone: true},
		{name: "never two pods of a shard down: second replica waits for the first",
			shards: rshards([]rpod{{master: true}, {updated: true, unready: true}, {}}), wait: "not ready"},
		{name: "a crash-looping outdated replica is replaced when the others are whole",
			shards: rshards([]rpod{{master: true}, {unready: true}}), want: []string{"DeletePod rc-shard-0-1"}},
		{name: "one shard at a time by default",
			shards: rshards([]rpod{{master: true}, {}}, []rpod{{master: true}, {}}, []rpod{{master: true}, {}}),
			want:   []string{"DeletePod rc-shard-0-1"}},
		{name: "maxConcurrentShards 2",
			shards: rshards([]rpod{{master: true}, {}}, []rpod{{master: true}, {}}, []rpod{{master: true}, {}}), limit: 2,
			want: []string{"DeletePod rc-shard-0-1", "DeletePod rc-shard-1-1"}},
		{name: "a shard half done goes on before a fresh one starts",
			shards: rshards([]rpod{{master: true, updated: true}, {updated: true}}, []rpod{{master: true}, {}}, []rpod{{master: true}, {updated: true}}),
			want:   []string{"Failover rc-shard-2-1"}},
		{name: "a finished shard still coming back holds the next one",
			shards: rshards([]rpod{{updated: true, unready: true}, {master: true, updated: true}}, []rpod{{master: true}, {}}),
			wait:   "not ready"},
		{name: "a replica other shards still see as a master: wait for gossip before the failover",
			shards: rshards([]rpod{{master: true}, {updated: true, seenAsMaster: true}}, []rpod{{master: true, updated: true}}), wait: "as a replica"},
		{name: "a replica of a node outside the shard: wait",
			shards: rshards([]rpod{{master: true}, {updated: true, other: true}}), wait: "does not replicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PlanRollout(RolloutInput{Shards: tt.shards, MaxConcurrentShards: tt.limit, MaxLagBytes: 1024, Pending: tt.pending})
			var got []string
			for _, a := range p.Actions {
				got = append(got, fmt.Sprintf("%s %s", a.Type, a.Pod))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || p.Done != tt.done || p.MasterAlone != tt.alone {
				t.Errorf("actions %q done %v alone %v, want %q done %v alone %v (waiting %q)", got, p.Done, p.MasterAlone, tt.want, tt.done, tt.alone, p.Waiting)
			}
			if tt.wait != "" && !strings.Contains(p.Waiting, tt.wait) {
				t.Errorf("waiting %q, want it to mention %q", p.Waiting, tt.wait)
			}
			if len(got) > 0 && p.Waiting != "" && tt.limit <= 1 {
				t.Errorf("acted and waited at once: %q", p.Waiting)
			}
		})
	}
}

func TestPlanRolloutCounts(t *testing.T) {
	p := PlanRollout(RolloutInput{Shards: rshards([]rpod{{master: true, updated: true}, {updated: true}}, []rpod{{master: true}, {updated: true, missing: true}})})
	if p.UpdatedPods != 2 || p.TotalPods != 4 || fmt.Sprint(p.Shards) != "[1]" {
		t.Errorf("updated %d of %d, shards %v", p.UpdatedPods, p.TotalPods, p.Shards)
	}
}

func TestResolveFailovers(t *testing.T) {
	shards := rshards([]rpod{{master: true}, {}})
	members := []Member{shards[0][0].Member, shards[0][1].Member}
	now := time.Unix(100, 0)
	pending := []PendingFailover{
		{Pod: "rc-shard-0-0", Since: now.Add(-time.Second)},     // master now: done
		{Pod: "rc-shard-0-1", Since: now.Add(-time.Second)},     // still a replica: open
		{Pod: "rc-shard-0-1", Since: now.Add(-time.Minute)},     // still a replica long after: expired
		{Pod: "rc-shard-9-9", Since: now.Add(-2 * time.Minute)}, // gone: expired
	}
	open, done, expired := ResolveFailovers(pending, members, now, 15*time.Second)
	if len(done) != 1 || done[0].Pod != "rc-shard-0-0" || len(open) != 1 || open[0].Since != now.Add(-time.Second) || len(expired) != 2 {
		t.Errorf("open %v done %v expired %v", open, done, expired)
	}
}

func TestPlanSwitchover(t *testing.T) {
	healthy := rshards([]rpod{{master: true}, {}}, []rpod{{master: true}, {}})
	lagging := rshards([]rpod{{master: true}, {lag: 1 << 20}})
	emptyMaster := rshards([]rpod{{master: true}, {}})
	emptyMaster[0][1].View.Nodes[1].Flags = []string{clusteradmin.FlagMyself, clusteradmin.FlagMaster}
	tests := []struct {
		name               string
		target             string
		lastPod, lastPhase string
		shards             [][]RolloutPod
		pending            bool
		phase              string
		failover           bool
		msg                string
	}{
		{name: "no annotation", shards: healthy},
		{name: "annotation removed mid-way: failed", lastPod: "rc-shard-0-1", lastPhase: SwitchoverInProgress, shards: healthy, phase: SwitchoverFailed, msg: "annotation was removed"},
		{name: "finished switchover is not repeated", target: "rc-shard-0-1", lastPod: "rc-shard-0-1", lastPhase: SwitchoverSucceeded, shards: healthy},
		{name: "failed switchover is not retried", target: "rc-shard-9-1", lastPod: "rc-shard-9-1", lastPhase: SwitchoverFailed, shards: healthy},
		{name: "replica in sync: failover", target: "rc-shard-1-1", shards: healthy, phase: SwitchoverInProgress, failover: true, msg: "take over from rc-shard-1-0"},
		{name: "in progress switchover resumes", target: "rc-shard-1-1", lastPod: "rc-shard-1-1", lastPhase: SwitchoverInProgress, shards: healthy, phase: SwitchoverInProgress, failover: true},
		{name: "failover sent: wait", target: "rc-shard-1-1", shards: healthy, pending: true, phase: SwitchoverInProgress, msg: "waiting until it is master"},
		{name: "other shards still see it as a master: wait", target: "rc-shard-1-1", shards: rshards([]rpod{{master: true}}, []rpod{{master: true}, {seenAsMaster: true}}), phase: SwitchoverInProgress, msg: "as a replica"},
		{name: "lagging replica: wait for it", target: "rc-shard-0-1", shards: lagging, phase: SwitchoverInProgress, msg: "bytes behind"},
		{name: "already master: succeeded", target: "rc-shard-0-0", shards: healthy, phase: SwitchoverSucceeded, msg: "is the master of shard 0"},
		{name: "no such pod: failed", target: "rc-shard-7-0", shards: healthy, phase: SwitchoverFailed, msg: "not a node of this cluster"},
		{name: "a master without slots: failed", target: "rc-shard-0-1", shards: emptyMaster, phase: SwitchoverFailed, msg: "master without slots"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := PlanSwitchover(tt.target, tt.lastPod, tt.lastPhase, tt.shards, tt.pending, 1024)
			if d.Phase != tt.phase || d.Failover != tt.failover || !strings.Contains(d.Message, tt.msg) {
				t.Errorf("got %+v, want phase %q failover %v message with %q", d, tt.phase, tt.failover, tt.msg)
			}
		})
	}
}

func TestPlanReplicaScaleDownMovesTheMasterOffRemovedPods(t *testing.T) {
	tests := []struct {
		name    string
		shards  [][]RolloutPod
		pending []PendingFailover
		want    string
		wait    string
	}{
		{name: "master on a removed ordinal hands over to ordinal 0",
			shards: rshards([]rpod{{}, {}, {master: true}}), want: "[Failover rc-shard-0-0]"},
		{name: "master on a kept ordinal: nothing to do",
			shards: rshards([]rpod{{}, {master: true}, {}}), want: "[]"},
		{name: "shard not in sync: wait",
			shards: rshards([]rpod{{lag: 1 << 20}, {}, {master: true}}), want: "[]", wait: "bytes behind"},
		{name: "the cluster does not see the replica as one yet: wait",
			shards: rshards([]rpod{{seenAsMaster: true}, {seenAsMaster: true}, {master: true}}, []rpod{{master: true}}), want: "[]", wait: "as a replica"},
		{name: "failover sent: wait",
			shards: rshards([]rpod{{}, {}, {master: true}}), pending: []PendingFailover{{Pod: "rc-shard-0-0"}}, want: "[]", wait: "CLUSTER FAILOVER sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			actions, wait := PlanReplicaScaleDown(tt.shards, 2, tt.pending, 1024)
			var got []string
			for _, a := range actions {
				got = append(got, fmt.Sprintf("%s %s", a.Type, a.Pod))
			}
			if fmt.Sprintf("%v", got) != tt.want || !strings.Contains(wait, tt.wait) {
				t.Errorf("actions %v wait %q, want %s and %q", got, wait, tt.want, tt.wait)
			}
		})
	}
	if ShardSize(2, 2) != 3 || ShardSize(2, 0) != 2 || ShardSize(2, -1) != 2 {
		t.Error("ShardSize keeps the master's pod")
	}
}
