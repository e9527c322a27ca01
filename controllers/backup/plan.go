package backup

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// Source is the node a shard's snapshot is read from, and the shard's
// master and slots at the time.
type Source struct {
	Shard    int
	Pod      string
	Addr     string
	MasterID string
	Slots    []clusteradmin.SlotRange
	// ConfigEpoch of the master: a slot that changes hands bumps it.
	ConfigEpoch uint64
}

// maxReplicaLag is how far (bytes of the replication stream) a replica
// may be behind its master and still count as in sync for a backup.
const maxReplicaLag = 1 << 20

// ChooseSources picks, for every master with slots, the node whose
// snapshot is taken: the master, or with fromReplica a replica linked to
// it and at most maxReplicaLag behind (the master when there is none).
// It returns why the backup must wait instead, when it must: a node that
// does not answer, a slot without a master, a slot MIGRATING or
// IMPORTING anywhere, a cluster not ok. Every master reports its own open
// slots, so the check holds for the cluster as a whole.
func ChooseSources(members []topology.Member, fromReplica bool) ([]Source, string) {
	var masters []topology.Member
	covered := 0
	for _, m := range members {
		if m.View == nil {
			return nil, fmt.Sprintf("pod %s does not answer", m.Pod)
		}
		me, ok := m.View.Myself()
		if !ok {
			return nil, fmt.Sprintf("pod %s reports no node of its own", m.Pod)
		}
		if len(me.MigratingSlotsTo) > 0 || len(me.ImportingSlotsFrom) > 0 {
			return nil, fmt.Sprintf("slots are moving: pod %s has slots %s", m.Pod, openSlots(me))
		}
		if m.View.Info.State != clusteradmin.StateOK {
			return nil, fmt.Sprintf("pod %s reports cluster_state %s", m.Pod, m.View.Info.State)
		}
		if me.IsMaster() && len(me.Slots) > 0 {
			masters = append(masters, m)
			covered += me.SlotCount()
		}
	}
	if covered != clusteradmin.SlotCount {
		return nil, fmt.Sprintf("the masters serve %d of %d slots", covered, clusteradmin.SlotCount)
	}
	var out []Source
	for _, m := range masters {
		me, _ := m.View.Myself()
		src := Source{Shard: m.Shard, Pod: m.Pod, Addr: m.Addr(), MasterID: me.ID, Slots: me.Slots, ConfigEpoch: me.ConfigEpoch}
		if fromReplica {
			if r, ok := inSyncReplica(members, me.ID, m.View.Replication.Offset); ok {
				src.Pod, src.Addr = r.Pod, r.Addr()
			}
		}
		out = append(out, src)
	}
	slices.SortFunc(out, func(a, b Source) int { return a.Slots[0].First - b.Slots[0].First })
	return out, ""
}

// inSyncReplica is a replica of masterID whose link is up and whose
// offset is within maxReplicaLag of the master's.
func inSyncReplica(members []topology.Member, masterID string, masterOffset int64) (topology.Member, bool) {
	for _, m := range members {
		me, _ := m.View.Myself()
		rep := m.View.Replication
		if me.IsReplica() && me.MasterID == masterID && rep.MasterLinkStatus == "up" && masterOffset-rep.Offset <= maxReplicaLag {
			return m, true
		}
	}
	return topology.Member{}, false
}

// ReplicaLink is one replica of a RedisReplication as its status reports
// it.
type ReplicaLink struct {
	Pod string
	// Synced: the link is up and no full synchronisation runs.
	Synced   bool
	LagBytes int64
}

// ChooseReplicationSource picks the pod of a RedisReplication whose
// snapshot is taken: the master, or with fromReplica the first replica in
// sync and at most maxReplicaLag behind (the master when there is none).
// A replication has no slots, so one snapshot of any node is consistent
// on its own.
func ChooseReplicationSource(master string, replicas []ReplicaLink, fromReplica bool) string {
	if fromReplica {
		for _, r := range replicas {
			if r.Synced && r.LagBytes <= maxReplicaLag {
				return r.Pod
			}
		}
	}
	return master
}

func openSlots(n clusteradmin.Node) string {
	var parts []string
	for s, id := range n.MigratingSlotsTo {
		parts = append(parts, fmt.Sprintf("[%d->-%s]", s, id))
	}
	for s, id := range n.ImportingSlotsFrom {
		parts = append(parts, fmt.Sprintf("[%d-<-%s]", s, id))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// SlotMapChanged reports how the slot map of after differs from the
// sources' (taken before the snapshots), or "" when it does not: a slot
// that changed hands or a master whose config epoch moved means keys may
// have moved between two shards' snapshots.
func SlotMapChanged(before []Source, after []Source) string {
	if len(before) != len(after) {
		return fmt.Sprintf("%d masters with slots before, %d after", len(before), len(after))
	}
	for i := range before {
		b, a := before[i], after[i]
		if b.MasterID != a.MasterID || !slices.Equal(b.Slots, a.Slots) || b.ConfigEpoch != a.ConfigEpoch {
			return fmt.Sprintf("shard %d changed during the backup (master %s slots %s epoch %d, now %s slots %s epoch %d)",
				b.Shard, b.MasterID, clusteradmin.FormatSlots(b.Slots), b.ConfigEpoch, a.MasterID, clusteradmin.FormatSlots(a.Slots), a.ConfigEpoch)
		}
	}
	return ""
}

// ArchiveMasters matches the shards of a backup to the cluster's masters
// now (ChooseSources of the cluster): the address of each shard's master,
// or why the slot map is no longer the backup's (an archive continued
// past a slot move would mix two shards' histories).
func ArchiveMasters(shards []ManifestShard, now []Source) (map[int]string, string) {
	if len(now) != len(shards) {
		return nil, fmt.Sprintf("%d masters serve slots, the backup has %d shards", len(now), len(shards))
	}
	byShard := map[int]Source{}
	for _, s := range now {
		byShard[s.Shard] = s
	}
	addrs := map[int]string{}
	for _, sh := range shards {
		s, ok := byShard[sh.Shard]
		if !ok {
			return nil, fmt.Sprintf("shard %d has no master with slots", sh.Shard)
		}
		if got := clusteradmin.FormatSlots(s.Slots); got != strings.Join(sh.Slots, " ") {
			return nil, fmt.Sprintf("shard %d serves slots %s, the backup's were %s", sh.Shard, got, strings.Join(sh.Slots, " "))
		}
		addrs[sh.Shard] = s.Addr
	}
	return addrs, ""
}

// ShardSlots are the slots of a manifest's shard, one by one.
func ShardSlots(sh ManifestShard) ([]int, error) {
	var out []int
	for _, r := range sh.Slots {
		sr, err := topology.ParseSlotRange(r)
		if err != nil {
			return nil, err
		}
		for s := sr.First; s <= sr.Last; s++ {
			out = append(out, s)
		}
	}
	return out, nil
}
