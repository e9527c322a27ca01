package cluster

import (
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/node/bus"
)

// ReplyWriter is the part of a RESP writer the replies below need;
// *resp.Writer implements it. Maps are written as RESP3 maps or, in RESP2,
// as flat arrays of twice the length, by the writer.
type ReplyWriter interface {
	ArrayLen(n int)
	MapLen(n int)
	BulkString(s string)
	Int(n int64)
	Null()
}

// writeSlotsNode is addNodeToNodeReply.
func (m *Machine) writeSlotsNode(w ReplyWriter, n *node) {
	w.ArrayLen(4)
	switch m.cfg.PreferredEndpointType {
	case "hostname":
		w.BulkString(m.endpoint(n))
	case "unknown-endpoint":
		w.Null()
	default:
		w.BulkString(n.ip)
	}
	w.Int(int64(n.clientFacingPort()))
	w.BulkString(n.id)
	// The other known networking information, as a map.
	withIP := m.cfg.PreferredEndpointType != "ip"
	withHostname := m.cfg.PreferredEndpointType != "hostname" && n.hostname != ""
	length := 0
	if withIP {
		length++
	}
	if withHostname {
		length++
	}
	w.MapLen(length)
	if withIP {
		w.BulkString("ip")
		w.BulkString(n.ip)
	}
	if withHostname {
		w.BulkString("hostname")
		w.BulkString(n.hostname)
	}
}

type slotRange struct {
	n          *node
	start, end int
}

// slotRanges lists the maximal runs of slots served by the same master.
func (m *Machine) slotRanges() []slotRange {
	var out []slotRange
	for j := 0; j < Slots; j++ {
		n := m.slots[j]
		if n == nil {
			continue
		}
		start := j
		for j+1 < Slots && m.slots[j+1] == n {
			j++
		}
		out = append(out, slotRange{n, start, j})
	}
	return out
}

// ClusterSlots writes the reply of CLUSTER SLOTS: per range of slots, the
// start, the end, the master and its non-failing replicas.
func (m *Machine) ClusterSlots(w ReplyWriter) {
	ranges := m.slotRanges()
	w.ArrayLen(len(ranges))
	for _, r := range ranges {
		replicas := make([]*node, 0, len(r.n.replicas))
		for _, rep := range r.n.replicas {
			if !rep.failed() {
				replicas = append(replicas, rep)
			}
		}
		w.ArrayLen(3 + len(replicas))
		w.Int(int64(r.start))
		w.Int(int64(r.end))
		m.writeSlotsNode(w, r.n)
		for _, rep := range replicas {
			m.writeSlotsNode(w, rep)
		}
	}
}

// ClusterShards writes the reply of CLUSTER SHARDS: per master, its slot
// ranges as a flat list of start/end pairs and its nodes (master first).
func (m *Machine) ClusterShards(w ReplyWriter) {
	var masters []*node
	for _, n := range m.list {
		if n.isMaster() {
			masters = append(masters, n)
		}
	}
	w.ArrayLen(len(masters))
	for _, master := range masters {
		w.MapLen(2)
		w.BulkString("slots")
		var pairs []int
		for j := 0; j < Slots; j++ {
			if !master.slots.Has(j) {
				continue
			}
			start := j
			for j+1 < Slots && master.slots.Has(j+1) {
				j++
			}
			pairs = append(pairs, start, j)
		}
		w.ArrayLen(len(pairs))
		for _, s := range pairs {
			w.Int(int64(s))
		}
		w.BulkString("nodes")
		w.ArrayLen(1 + len(master.replicas))
		m.writeShardNode(w, master)
		for _, r := range master.replicas {
			m.writeShardNode(w, r)
		}
	}
}

// writeShardNode is addNodeDetailsToShardReply.
func (m *Machine) writeShardNode(w ReplyWriter, n *node) {
	fields := 6 // id, ip, endpoint, role, replication-offset, health
	if n.port != 0 {
		fields++
	}
	if n.hostname != "" {
		fields++
	}
	w.MapLen(fields)
	w.BulkString("id")
	w.BulkString(n.id)
	if n.port != 0 {
		w.BulkString("port")
		w.Int(int64(n.clientFacingPort()))
	}
	w.BulkString("ip")
	w.BulkString(n.ip)
	w.BulkString("endpoint")
	w.BulkString(m.endpoint(n))
	if n.hostname != "" {
		w.BulkString("hostname")
		w.BulkString(n.hostname)
	}
	offset := n.replOffset
	if n.isMyself() {
		offset = m.repl.Offset
	}
	w.BulkString("role")
	if n.isReplica() {
		w.BulkString("replica")
	} else {
		w.BulkString("master")
	}
	w.BulkString("replication-offset")
	w.Int(offset)
	w.BulkString("health")
	switch {
	case n.failed():
		w.BulkString("fail")
	case n.isReplica() && offset == 0:
		w.BulkString("loading")
	default:
		w.BulkString("online")
	}
}

// ClusterInfo is the text of CLUSTER INFO ("field:value\r\n" lines, as
// Redis 7.0). linksBufferLimitExceeded is the I/O layer's count for
// total_cluster_links_buffer_limit_exceeded.
func (m *Machine) ClusterInfo(linksBufferLimitExceeded uint64) string {
	assigned, ok, pfail, fail := 0, 0, 0, 0
	for j := range Slots {
		n := m.slots[j]
		if n == nil {
			continue
		}
		assigned++
		switch {
		case n.failed():
			fail++
		case n.timedOut():
			pfail++
		default:
			ok++
		}
	}
	var b strings.Builder
	field := func(name string, v string) {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(v)
		b.WriteString("\r\n")
	}
	itoa := func(v int) string { return strconv.Itoa(v) }
	u64 := func(v uint64) string { return strconv.FormatUint(v, 10) }
	state := "ok"
	if m.state != bus.StateOK {
		state = "fail"
	}
	field("cluster_state", state)
	field("cluster_slots_assigned", itoa(assigned))
	field("cluster_slots_ok", itoa(ok))
	field("cluster_slots_pfail", itoa(pfail))
	field("cluster_slots_fail", itoa(fail))
	field("cluster_known_nodes", itoa(len(m.list)))
	field("cluster_size", itoa(m.size))
	field("cluster_current_epoch", u64(m.currentEpoch))
	field("cluster_my_epoch", u64(m.myself.epoch()))
	for _, dir := range []struct {
		name  string
		stats *[bus.TypeCount]uint64
	}{{"sent", &m.statsSent}, {"received", &m.statsReceived}} {
		var total uint64
		for t, v := range dir.stats {
			if v == 0 {
				continue
			}
			total += v
			field("cluster_stats_messages_"+bus.Type(t).String()+"_"+dir.name, u64(v))
		}
		field("cluster_stats_messages_"+dir.name, u64(total))
	}
	field("total_cluster_links_buffer_limit_exceeded", u64(linksBufferLimitExceeded))
	return b.String()
}
