package topology

import (
	"fmt"
	"strings"
	"testing"
)

var placementKeys = []string{"host", "zone"}

// placed builds members from "pod shard role host zone" lines; role is M
// (master), R (eligible replica) or r (replica not eligible); host "-"
// means not scheduled.
func placed(lines ...string) []PlacedMember {
	var out []PlacedMember
	for _, l := range lines {
		f := strings.Fields(l)
		var shard int
		fmt.Sscan(f[1], &shard)
		m := PlacedMember{Pod: f[0], Shard: shard, Master: f[2] == "M", Eligible: f[2] == "R"}
		if f[3] != "-" {
			m.Domains = map[string]string{"host": f[3], "zone": f[4]}
		}
		out = append(out, m)
	}
	return out
}

func TestCheckPlacement(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members []PlacedMember
		reason  string
		message string
	}{
		{"spread", placed("a0 0 M h1 z1", "a1 0 R h2 z2", "b0 1 M h2 z2", "b1 1 R h3 z3", "c0 2 M h3 z3", "c1 2 R h1 z1"), "", ""},
		{"one node: nothing better is possible", placed("a0 0 M h1 z1", "a1 0 R h1 z1", "b0 1 M h1 z1", "b1 1 R h1 z1"), "", ""},
		{"shard on one host", placed("a0 0 M h1 z1", "a1 0 R h1 z1", "b0 1 M h2 z1", "b1 1 R h3 z1"),
			PlacementShardsShareDomain, "shard 0: a0 and a1 share host=h1"},
		{"shard in one zone of two", placed("a0 0 M h1 z1", "a1 0 R h2 z1", "b0 1 M h3 z2", "b1 1 R h4 z1"),
			PlacementShardsShareDomain, "shard 0: a0 and a1 share zone=z1"},
		{"two masters on one host of three", placed("a0 0 M h1 z1", "a1 0 R h2 z2", "b0 1 R h1 z1", "b1 1 M h1 z1", "c0 2 M h3 z3", "c1 2 R h2 z2"),
			PlacementShardsShareDomain, "shard 1: b0 and b1 share host=h1"},
		{"masters crowded", placed("a0 0 M h1 z1", "a1 0 R h2 z2", "b0 1 R h2 z2", "b1 1 M h1 z1", "c0 2 M h3 z3", "c1 2 R h2 z2"),
			PlacementMastersCrowded, "2 masters on host=h1 (an even spread over 3 domains has at most 1)"},
		{"unscheduled pods are not counted", placed("a0 0 M h1 z1", "a1 0 R - -", "b0 1 M h2 z1", "b1 1 R - -"), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := CheckPlacement(tc.members, placementKeys)
			if f.Reason != tc.reason || f.Message != tc.message {
				t.Errorf("CheckPlacement = %q %q, want %q %q", f.Reason, f.Message, tc.reason, tc.message)
			}
		})
	}
}

func TestPlanMasterBalance(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members []PlacedMember
		want    string // "master->replica", "" for no move
	}{
		{"balanced", placed("a0 0 M h1 z1", "a1 0 R h2 z2", "b0 1 M h2 z2", "b1 1 R h3 z3", "c0 2 M h3 z3", "c1 2 R h1 z1"), ""},
		// After a failover shard 1's master sits on h1 beside shard 0's:
		// either may move to h2 (the first shard does).
		{"failover crowded h1", placed("a0 0 M h1 z1", "a1 0 R h2 z2", "b0 1 R h2 z2", "b1 1 M h1 z1", "c0 2 M h3 z3", "c1 2 R h2 z2"), "a0->a1"},
		{"the replica is not in sync", placed("a0 0 M h1 z1", "a1 0 R h2 z2", "b0 1 r h2 z2", "b1 1 M h1 z1", "c0 2 M h3 z3", "c1 2 R h2 z2"), "a0->a1"},
		{"no eligible replica", placed("a0 0 M h1 z1", "a1 0 r h2 z2", "b0 1 r h2 z2", "b1 1 M h1 z1", "c0 2 M h3 z3", "c1 2 R h2 z2"), ""},
		{"one node", placed("a0 0 M h1 z1", "a1 0 R h1 z1", "b0 1 M h1 z1", "b1 1 R h1 z1"), ""},
		// Hosts h1 and h2 are in zone z1, h3 in z2: the masters are on
		// two hosts but one zone.
		{"zone spread", placed("a0 0 M h1 z1", "a1 0 R h3 z2", "b0 1 M h2 z1", "b1 1 R h1 z1"), "a0->a1"},
		{"four masters on two hosts, two zones", placed("a0 0 M h1 z1", "a1 0 R h2 z2", "b0 1 M h1 z1", "b1 1 R h2 z2",
			"c0 2 M h1 z1", "c1 2 R h2 z2", "d0 3 M h2 z2", "d1 3 R h1 z1"), "a0->a1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mv, ok := PlanMasterBalance(tc.members, placementKeys)
			got := ""
			if ok {
				got = mv.Master + "->" + mv.Replica
				if mv.Reason == "" {
					t.Error("a move without a reason")
				}
			}
			if got != tc.want {
				t.Errorf("PlanMasterBalance = %q (%s), want %q", got, mv.Reason, tc.want)
			}
		})
	}
}

// TestPlanMasterBalanceConverges applies the planner's moves one by one on
// many shapes: it ends with no crowding a move could fix, within as many
// moves as there are shards, and never makes the first key's crowding
// worse.
func TestPlanMasterBalanceConverges(t *testing.T) {
	for hosts := 2; hosts <= 5; hosts++ {
		for shards := 3; shards <= 7; shards++ {
			// Every master on host 0, each shard's replicas on the others.
			var members []PlacedMember
			for s := range shards {
				for o := range 3 {
					h := 0
					if o > 0 {
						h = (s+o)%(hosts-1) + 1
					}
					members = append(members, PlacedMember{Pod: fmt.Sprintf("s%d-%d", s, o), Shard: s, Master: o == 0, Eligible: o > 0,
						Domains: map[string]string{"host": fmt.Sprint("h", h), "zone": fmt.Sprint("z", h%2)}})
				}
			}
			moves := 0
			for {
				before := crowding(members, placementKeys)
				mv, ok := PlanMasterBalance(members, placementKeys)
				if !ok {
					break
				}
				for i := range members {
					switch members[i].Pod {
					case mv.Master:
						members[i].Master = false
					case mv.Replica:
						members[i].Master = true
					}
				}
				if after := crowding(members, placementKeys); after[0] > before[0] {
					t.Fatalf("%d hosts %d shards: %s made the host crowding worse: %v -> %v", hosts, shards, mv.Reason, before, after)
				}
				if moves++; moves > shards {
					t.Fatalf("%d hosts %d shards: more than %d moves", hosts, shards, shards)
				}
			}
			if c := crowding(members, placementKeys); c[0] != 0 {
				t.Errorf("%d hosts %d shards: host crowding %v left", hosts, shards, c)
			}
		}
	}
}
