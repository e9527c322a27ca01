package plugin

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	corev1 "k8s.io/api/core/v1"
)

// nodeStats is what a node itself reports (INFO memory and replication),
// gathered over a port-forward; absent when the node was not reached.
type nodeStats struct {
	UsedMemory, MaxMemory int64
	Role                  string // "master" or "slave", as INFO replication
	Offset                int64  // master_repl_offset
	Keys                  int64
}

// statusRow is one pod of the status table.
type statusRow struct {
	Shard, Pod, Role, Slots, Link, Lag, Memory, Keys, PodState string
}

// statusTable writes the status of rc: a summary line, the conditions, one
// row per pod (shards as status.shards reports them, then the cluster's pods
// status does not name), and the migration, rollout and switchover in
// progress. stats may lack any pod (shown as "-"); now dates ages.
func statusTable(w io.Writer, rc *v1alpha1.RedisCluster, pods []corev1.Pod, stats map[string]nodeStats, now time.Time) error {
	st := rc.Status
	state := st.ClusterState
	if state == "" {
		state = "not formed"
	}
	fmt.Fprintf(w, "RedisCluster %s/%s: cluster_state %s, slots %d/16384, masters %d/%d ready, replicas %d/%d ready",
		rc.Namespace, rc.Name, state, st.SlotsAssigned, st.ReadyMasters, rc.Spec.Masters,
		st.ReadyReplicas, rc.Spec.Masters*rc.Spec.ReplicasPerMaster)
	if rc.IsPaused() {
		fmt.Fprint(w, ", PAUSED")
	}
	if st.ObservedGeneration != rc.Generation {
		fmt.Fprintf(w, " (status of generation %d, spec is %d)", st.ObservedGeneration, rc.Generation)
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(st.Conditions) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "CONDITION\tSTATUS\tREASON\tAGE\tMESSAGE")
		for _, c := range st.Conditions {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, c.Reason, age(c.LastTransitionTime.Time, now), c.Message)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w)
	fmt.Fprintln(tw, "SHARD\tPOD\tROLE\tSLOTS\tLINK\tLAG\tKEYS\tMEMORY\tPOD STATUS")
	for _, r := range statusRows(rc, pods, stats) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Shard, r.Pod, r.Role, r.Slots, r.Link, r.Lag, r.Keys, r.Memory, r.PodState)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if m := st.Migration; m != nil {
		fmt.Fprintln(w)
		pct := 0.0
		if m.TotalSlots > 0 {
			pct = 100 * float64(m.MovedSlots) / float64(m.TotalSlots)
		}
		dry := ""
		if m.DryRun {
			dry = " (dry run: nothing moves)"
		}
		since := ""
		if m.StartTime != nil {
			since = ", started " + age(m.StartTime.Time, now) + " ago"
		}
		fmt.Fprintf(w, "Migration %s%s: %d/%d slots moved (%.1f%%)%s\n", m.Reason, dry, m.MovedSlots, m.TotalSlots, pct, since)
		for _, mv := range m.Moves {
			fmt.Fprintf(w, "  shard %d -> shard %d: %s\n", mv.FromShard, mv.ToShard, strings.Join(mv.Slots, " "))
		}
	}
	if r := st.Rollout; r != nil {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Rollout: %d/%d pods updated", r.UpdatedPods, r.TotalPods)
		if len(r.Shards) > 0 {
			fmt.Fprintf(w, ", restarting %s", strings.Join(r.Shards, ", "))
		}
		if r.Message != "" {
			fmt.Fprintf(w, ": %s", r.Message)
		}
		fmt.Fprintln(w)
	}
	if s := st.LastSwitchover; s != nil {
		fmt.Fprintln(w)
		when := ""
		if s.Time != nil {
			when = " (" + age(s.Time.Time, now) + " ago)"
		}
		fmt.Fprintf(w, "Last switchover: to %s %s%s", s.Pod, s.Phase, when)
		if s.Message != "" {
			fmt.Fprintf(w, ": %s", s.Message)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// statusRows lists the pods shard by shard: the master and replicas of
// status.shards first, then pods of the cluster status does not name.
func statusRows(rc *v1alpha1.RedisCluster, pods []corev1.Pod, stats map[string]nodeStats) []statusRow {
	byName := map[string]*corev1.Pod{}
	for i := range pods {
		byName[pods[i].Name] = &pods[i]
	}
	seen := map[string]bool{}
	var rows []statusRow
	row := func(shard, pod, role, slots, link, lag string) {
		seen[pod] = true
		r := statusRow{Shard: shard, Pod: pod, Role: role, Slots: slots, Link: link, Lag: lag, Memory: "-", Keys: "-", PodState: "missing"}
		if p := byName[pod]; p != nil {
			r.PodState = podState(p)
		}
		if s, ok := stats[pod]; ok {
			r.Memory = memory(s.UsedMemory, s.MaxMemory)
			r.Keys = fmt.Sprint(s.Keys)
			if want := roleName(s.Role); role != "-" && want != role {
				r.Role = role + " (node says " + want + ")"
			}
		}
		rows = append(rows, r)
	}
	for _, sh := range rc.Status.Shards {
		shard := sh.Name
		if m := sh.Master; m != nil {
			row(shard, m.Pod, "master", slotSummary(m.Slots), "-", "-")
			shard = ""
		}
		for _, rp := range sh.Replicas {
			link := rp.LinkState
			if link == "" {
				link = "-"
			}
			row(shard, rp.Pod, "replica", "-", link, byteSize(rp.LagBytes))
			shard = ""
		}
	}
	var rest []corev1.Pod
	for _, p := range pods {
		if !seen[p.Name] {
			rest = append(rest, p)
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Name < rest[j].Name })
	for _, p := range rest {
		shard := "shard " + p.Labels[builders.LabelShard]
		row(shard, p.Name, "-", "-", "-", "-")
	}
	return rows
}

// slotSummary is "0-5460 (5461)": the ranges and how many slots.
func slotSummary(slots []string) string {
	if len(slots) == 0 {
		return "none"
	}
	n := 0
	for _, s := range slots {
		var a, b int
		if k, _ := fmt.Sscanf(s, "%d-%d", &a, &b); k == 2 && b >= a {
			n += b - a + 1
		} else if k >= 1 {
			n++
		}
	}
	shown := slots
	more := ""
	if len(shown) > 3 {
		shown, more = shown[:3], fmt.Sprintf(" +%d ranges", len(slots)-3)
	}
	return fmt.Sprintf("%s%s (%d)", strings.Join(shown, ","), more, n)
}

func roleName(infoRole string) string {
	if infoRole == "slave" {
		return "replica"
	}
	return infoRole
}

// podState is the pod's phase, readiness and restarts, as `kubectl get
// pods` shows them.
func podState(p *corev1.Pod) string {
	if p.DeletionTimestamp != nil {
		return "Terminating"
	}
	ready, total, restarts := 0, len(p.Spec.Containers), int32(0)
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Ready {
			ready++
		}
		restarts += cs.RestartCount
	}
	phase := string(p.Status.Phase)
	if phase == "" {
		phase = "Pending"
	}
	s := fmt.Sprintf("%s %d/%d", phase, ready, total)
	if restarts > 0 {
		s += fmt.Sprintf(", %d restarts", restarts)
	}
	return s
}

// byteSize formats a byte count with binary units.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// memory is used memory, and its share of maxmemory when one is set.
func memory(used, max int64) string {
	if max <= 0 {
		return byteSize(used)
	}
	return fmt.Sprintf("%s/%s (%d%%)", byteSize(used), byteSize(max), used*100/max)
}

// age formats a duration as kubectl does (seconds, minutes, hours, days).
func age(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
