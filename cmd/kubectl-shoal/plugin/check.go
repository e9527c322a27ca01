package plugin

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// Levels of a check finding, as redis-cli --cluster check prefixes them.
const (
	levelOK   = "[OK]"
	levelWarn = "[WARNING]"
	levelErr  = "[ERR]"
)

// finding is one line of the check's verdict.
type finding struct {
	Level, Text string
}

// checkReport is the outcome of checkCluster: per-master lines, the
// cluster check's node listing, and the findings.
type checkReport struct {
	Masters  []string
	Nodes    []string
	Findings []finding
}

// Failed reports whether a finding is an error.
func (r checkReport) Failed() bool {
	for _, f := range r.Findings {
		if f.Level == levelErr {
			return true
		}
	}
	return false
}

// write prints the report in the shape of `redis-cli --cluster check`.
func (r checkReport) write(w io.Writer, via string) {
	for _, m := range r.Masters {
		fmt.Fprintln(w, m)
	}
	fmt.Fprintf(w, ">>> Performing Cluster Check (using node %s)\n", via)
	for _, n := range r.Nodes {
		fmt.Fprintln(w, n)
	}
	for _, f := range r.Findings {
		fmt.Fprintln(w, f.Level+" "+f.Text)
	}
}

// checkCluster checks the views of every node of a cluster (by pod name;
// a nil view is a pod that could not be reached) as `redis-cli --cluster
// check` does: every node agrees about the slots configuration, no slot is
// open (MIGRATING/IMPORTING), all 16384 slots are covered; and as the
// operator sees it: every pod answered, every node says cluster_state ok,
// no node is flagged fail or fail?, every replica's link is up. via is the
// pod whose view the node listing comes from.
func checkCluster(views map[string]*clusteradmin.NodeView, via string) checkReport {
	var rep checkReport
	add := func(level, format string, a ...any) {
		rep.Findings = append(rep.Findings, finding{level, fmt.Sprintf(format, a...)})
	}
	pods := make([]string, 0, len(views))
	for p := range views {
		pods = append(pods, p)
	}
	sort.Strings(pods)
	podOf := map[string]string{}
	for _, p := range pods {
		if v := views[p]; v != nil {
			podOf[v.MyID()] = p
		}
	}
	name := func(id string) string {
		if p, ok := podOf[id]; ok {
			return p
		}
		return id
	}

	// Per-master summary from each master's own view.
	totalKeys, masters := int64(0), 0
	for _, p := range pods {
		v := views[p]
		if v == nil {
			continue
		}
		me, _ := v.Myself()
		if !me.IsMaster() {
			continue
		}
		replicas := 0
		for _, n := range v.Nodes {
			if n.MasterID == me.ID {
				replicas++
			}
		}
		masters++
		totalKeys += v.Keys
		rep.Masters = append(rep.Masters, fmt.Sprintf("%s (%s...) -> %d keys | %d slots | %d slaves.", p, short(me.ID), v.Keys, me.SlotCount(), replicas))
	}
	if masters > 0 {
		rep.Masters = append(rep.Masters, fmt.Sprintf("[OK] %d keys in %d masters.", totalKeys, masters),
			fmt.Sprintf("%.2f keys per slot on average.", float64(totalKeys)/clusteradmin.SlotCount))
	}

	// The node listing, from one view.
	if v := views[via]; v != nil {
		nodes := append([]clusteradmin.Node(nil), v.Nodes...)
		sort.Slice(nodes, func(i, j int) bool {
			if nodes[i].IsMaster() != nodes[j].IsMaster() {
				return nodes[i].IsMaster()
			}
			return name(nodes[i].ID) < name(nodes[j].ID)
		})
		for _, n := range nodes {
			role, kind := "S", "slave"
			if n.IsMaster() {
				role, kind = "M", "master"
			}
			rep.Nodes = append(rep.Nodes, fmt.Sprintf("%s: %s %s (%s:%d)", role, n.ID, name(n.ID), n.IP, n.Port),
				fmt.Sprintf("   slots:[%s] (%d slots) %s", strings.Join(n.SlotStrings(), ","), n.SlotCount(), kind))
			if n.MasterID != "" {
				rep.Nodes = append(rep.Nodes, "   replicates "+n.MasterID)
			}
		}
	}

	// Every pod answered.
	for _, p := range pods {
		if views[p] == nil {
			add(levelErr, "Pod %s did not answer.", p)
		}
	}

	// All nodes agree about slots configuration (redis-cli compares each
	// node's list of masters and their slots).
	signatures := map[string][]string{}
	for _, p := range pods {
		if v := views[p]; v != nil {
			signatures[configSignature(v)] = append(signatures[configSignature(v)], p)
		}
	}
	if len(signatures) <= 1 {
		add(levelOK, "All nodes agree about slots configuration.")
	} else {
		var groups []string
		for _, ps := range signatures {
			groups = append(groups, strings.Join(ps, ","))
		}
		sort.Strings(groups)
		add(levelErr, "Nodes don't agree about configuration! (groups: %s)", strings.Join(groups, " | "))
	}

	// Open slots.
	open := map[int]bool{}
	for _, p := range pods {
		v := views[p]
		if v == nil {
			continue
		}
		me, _ := v.Myself()
		if s := openSlots(me.MigratingSlotsTo); s != "" {
			add(levelWarn, "Node %s has slots in migrating state %s.", p, s)
		}
		if s := openSlots(me.ImportingSlotsFrom); s != "" {
			add(levelWarn, "Node %s has slots in importing state %s.", p, s)
		}
		for s := range me.MigratingSlotsTo {
			open[s] = true
		}
		for s := range me.ImportingSlotsFrom {
			open[s] = true
		}
	}
	if len(open) > 0 {
		add(levelWarn, "The following slots are open: %s.", openSlots(boolKeys(open)))
	}

	// Coverage, from the listing node's view.
	if v := views[via]; v != nil {
		covered := map[int]bool{}
		for _, n := range v.Nodes {
			if !n.IsMaster() {
				continue
			}
			for _, r := range n.Slots {
				for s := r.First; s <= r.Last && s < clusteradmin.SlotCount; s++ {
					covered[s] = true
				}
			}
		}
		if len(covered) == clusteradmin.SlotCount {
			add(levelOK, "All %d slots covered.", clusteradmin.SlotCount)
		} else {
			add(levelErr, "Not all %d slots are covered by nodes (%d are).", clusteradmin.SlotCount, len(covered))
		}
	}

	// What the operator watches besides.
	for _, p := range pods {
		v := views[p]
		if v == nil {
			continue
		}
		if v.Info.State != clusteradmin.StateOK {
			add(levelErr, "Node %s says cluster_state:%s.", p, v.Info.State)
		}
		for _, n := range v.Nodes {
			if n.HasFlag(clusteradmin.FlagFail) || n.HasFlag(clusteradmin.FlagPFail) {
				add(levelErr, "Node %s flags %s as %s.", p, name(n.ID), strings.Join(n.Flags, ","))
			}
		}
		if v.Replication.Role == "slave" && v.Replication.MasterLinkStatus != "up" {
			add(levelErr, "Replica %s: master_link_status:%s.", p, v.Replication.MasterLinkStatus)
		}
	}
	return rep
}

// configSignature is a node's view of the masters and their slots, as
// redis-cli's clusterManagerGetConfigSignature builds it.
func configSignature(v *clusteradmin.NodeView) string {
	var parts []string
	for _, n := range v.Nodes {
		if n.IsMaster() && len(n.Slots) > 0 {
			parts = append(parts, n.ID+":"+strings.Join(n.SlotStrings(), ","))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "|")
}

func openSlots(m map[int]string) string {
	slots := make([]int, 0, len(m))
	for s := range m {
		slots = append(slots, s)
	}
	sort.Ints(slots)
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = fmt.Sprint(s)
	}
	return strings.Join(out, ",")
}

func boolKeys(m map[int]bool) map[int]string {
	out := make(map[int]string, len(m))
	for k := range m {
		out[k] = ""
	}
	return out
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
