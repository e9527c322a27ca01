package topology

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// PlacedMember is one member of the cluster and the failure domains its
// pod runs in.
type PlacedMember struct {
	Pod    string
	Shard  int
	Master bool
	// Domains is the pod's node's value of each topology key ("" when the
	// node has no such label); nil when the pod is not scheduled.
	Domains map[string]string
	// Eligible (replicas): the replica may take over its master now (its
	// shard is in sync and the cluster agrees on it).
	Eligible bool
}

// PlacementFinding is the first placement rule that does not hold, or an
// empty Reason when all hold.
type PlacementFinding struct {
	// Reason: "ShardsShareDomain" or "MastersCrowded" (the condition
	// reasons of api/v1alpha1), "" when the placement is met.
	Reason  string
	Message string
}

// The reasons of a PlacementFinding.
const (
	PlacementShardsShareDomain = "ShardsShareDomain"
	PlacementMastersCrowded    = "MastersCrowded"
)

// CheckPlacement says whether the members meet the placement rules, key
// by key in order: no two members of a shard share a domain of a key the
// cluster spans more than one domain of, and no domain of a key holds more
// masters than an even spread needs (MasterCap).
func CheckPlacement(members []PlacedMember, keys []string) PlacementFinding {
	for _, key := range keys {
		if len(domainsOf(members, key)) < 2 {
			continue
		}
		byShard := map[int]map[string]string{} // shard → domain → first pod
		for _, m := range sortedMembers(members) {
			v, ok := m.Domains[key]
			if !ok || v == "" {
				continue
			}
			if byShard[m.Shard] == nil {
				byShard[m.Shard] = map[string]string{}
			}
			if other, dup := byShard[m.Shard][v]; dup {
				return PlacementFinding{Reason: PlacementShardsShareDomain,
					Message: fmt.Sprintf("shard %d: %s and %s share %s=%s", m.Shard, other, m.Pod, key, v)}
			}
			byShard[m.Shard][v] = m.Pod
		}
	}
	for _, key := range keys {
		limit := MasterCap(members, key)
		counts := masterCounts(members, key)
		for _, v := range slices.Sorted(maps.Keys(counts)) {
			if counts[v] > limit {
				return PlacementFinding{Reason: PlacementMastersCrowded,
					Message: fmt.Sprintf("%d masters on %s=%s (an even spread over %d domains has at most %d)",
						counts[v], key, v, len(domainsOf(members, key)), limit)}
			}
		}
	}
	return PlacementFinding{}
}

// MasterCap is the most masters one domain of key holds in an even
// spread: the masters over the domains the cluster's pods run in, rounded
// up.
func MasterCap(members []PlacedMember, key string) int {
	d := len(domainsOf(members, key))
	if d == 0 {
		return 0
	}
	n := 0
	for _, m := range members {
		if m.Master {
			n++
		}
	}
	return (n + d - 1) / d
}

// MasterMove is a switchover that spreads the masters better: Replica
// takes over from Master (both in Shard).
type MasterMove struct {
	Shard           int
	Master, Replica string
	Reason          string
}

// PlanMasterBalance picks the one switchover that lowers the masters'
// crowding most, comparing keys in order (the first key's crowding
// matters most: a move that spreads zones but crowds a node is never
// taken). Only eligible replicas are candidates. It returns false when no
// move makes the spread better.
func PlanMasterBalance(members []PlacedMember, keys []string) (MasterMove, bool) {
	best, bestCost := MasterMove{}, crowding(members, keys)
	found := false
	masters := map[int]int{} // shard → index of its master
	for i, m := range members {
		if m.Master {
			masters[m.Shard] = i
		}
	}
	for _, r := range sortedMembers(members) {
		mi, ok := masters[r.Shard]
		if r.Master || !r.Eligible || r.Domains == nil || !ok {
			continue
		}
		moved := slices.Clone(members)
		for i := range moved {
			switch {
			case i == mi:
				moved[i].Master = false
			case moved[i].Pod == r.Pod:
				moved[i].Master = true
			}
		}
		if c := crowding(moved, keys); slices.Compare(c, bestCost) < 0 {
			from := members[mi]
			best, bestCost, found = MasterMove{Shard: r.Shard, Master: from.Pod, Replica: r.Pod,
				Reason: fmt.Sprintf("shard %d's master moves from %s to %s to spread the masters (%s)",
					r.Shard, describeDomains(from.Domains, keys), describeDomains(r.Domains, keys), crowdingText(bestCost, keys))}, c, true
		}
	}
	return best, found
}

// crowding is, per key, the masters above MasterCap summed over the
// key's domains.
func crowding(members []PlacedMember, keys []string) []int {
	out := make([]int, len(keys))
	for i, key := range keys {
		limit := MasterCap(members, key)
		for _, n := range masterCounts(members, key) {
			out[i] += max(0, n-limit)
		}
	}
	return out
}

func crowdingText(c []int, keys []string) string {
	var parts []string
	for i, key := range keys {
		if c[i] > 0 {
			parts = append(parts, fmt.Sprintf("%d master(s) too many per %s", c[i], key))
		}
	}
	return strings.Join(parts, ", ")
}

func describeDomains(d map[string]string, keys []string) string {
	var parts []string
	for _, k := range keys {
		if v := d[k]; v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// masterCounts is the number of masters in each domain of key.
func masterCounts(members []PlacedMember, key string) map[string]int {
	counts := map[string]int{}
	for _, m := range members {
		if v := m.Domains[key]; m.Master && v != "" {
			counts[v]++
		}
	}
	return counts
}

// domainsOf is the domains of key the cluster's scheduled pods run in.
func domainsOf(members []PlacedMember, key string) map[string]bool {
	out := map[string]bool{}
	for _, m := range members {
		if v := m.Domains[key]; v != "" {
			out[v] = true
		}
	}
	return out
}

func sortedMembers(members []PlacedMember) []PlacedMember {
	out := slices.Clone(members)
	slices.SortFunc(out, func(a, b PlacedMember) int {
		return cmp.Or(cmp.Compare(a.Shard, b.Shard), cmp.Compare(a.Pod, b.Pod))
	})
	return out
}
