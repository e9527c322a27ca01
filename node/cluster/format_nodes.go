package cluster

import (
	"strconv"

	"github.com/shoal-dev/shoal/node/bus"
)

// nodeFlagNames is redisNodeFlagsTable: the order flags are printed in.
var nodeFlagNames = [...]struct {
	flag bus.NodeFlags
	name string
}{
	{bus.FlagMyself, "myself"},
	{bus.FlagMaster, "master"},
	{bus.FlagSlave, "slave"},
	{bus.FlagPFail, "fail?"},
	{bus.FlagFail, "fail"},
	{bus.FlagHandshake, "handshake"},
	{bus.FlagNoAddr, "noaddr"},
	{bus.FlagNoFailover, "nofailover"},
}

// flagByName is the inverse of the table, plus "noflags" (no flag).
func flagByName(name string) (bus.NodeFlags, bool) {
	if name == "noflags" {
		return 0, true
	}
	for _, f := range nodeFlagNames {
		if f.name == name {
			return f.flag, true
		}
	}
	return 0, false
}

// appendFlags is representClusterNodeFlags.
func appendFlags(b []byte, flags bus.NodeFlags) []byte {
	start := len(b)
	for _, f := range nodeFlagNames {
		if flags&f.flag != 0 {
			if len(b) > start {
				b = append(b, ',')
			}
			b = append(b, f.name...)
		}
	}
	if len(b) == start {
		b = append(b, "noflags"...)
	}
	return b
}

// appendSlotRanges appends " a-b c d-e" for the slots in the bitmap.
// Bytes of the bitmap with no slot (or, inside a range, all eight) are
// stepped over whole: nodes.conf is written on every configuration change
// and this ran 16384 bit tests per node each time.
func appendSlotRanges(b []byte, slots *bus.SlotBitmap) []byte {
	for j := 0; j < Slots; j++ {
		if j&7 == 0 && slots[j>>3] == 0 {
			j += 7
			continue
		}
		if !slots.Has(j) {
			continue
		}
		start := j
		for j+1 < Slots {
			if next := j + 1; next&7 == 0 && slots[next>>3] == 0xff {
				j += 8
				continue
			}
			if !slots.Has(j + 1) {
				break
			}
			j++
		}
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(start), 10)
		if j != start {
			b = append(b, '-')
			b = strconv.AppendInt(b, int64(j), 10)
		}
	}
	return b
}

// appendNodeDescription is clusterGenNodeDescription: one CLUSTER NODES
// line without its newline. forConf adds what nodes.conf keeps and CLUSTER
// NODES does not show (the shard ID).
func (m *Machine) appendNodeDescription(b []byte, n *node, forConf bool) []byte {
	b = append(b, n.id...)
	b = append(b, ' ')
	b = append(b, n.ip...)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(n.port), 10)
	b = append(b, '@')
	b = strconv.AppendInt(b, int64(n.cport), 10)
	if forConf {
		b = append(b, ',')
		b = append(b, n.hostname...)
		b = append(b, ",shard-id="...)
		b = append(b, n.shardID...)
	} else if n.hostname != "" {
		b = append(b, ',')
		b = append(b, n.hostname...)
	}
	b = append(b, ' ')
	b = appendFlags(b, n.flags)
	b = append(b, ' ')
	if n.master != nil {
		b = append(b, n.master.id...)
	} else {
		b = append(b, '-')
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, n.pingSent, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, n.pongReceived, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, n.epoch(), 10)
	if n.link != 0 || n.isMyself() {
		b = append(b, " connected"...)
	} else {
		b = append(b, " disconnected"...)
	}
	b = appendSlotRanges(b, &n.slots)
	// Only for myself: the slots we are migrating or importing.
	if n.isMyself() {
		m.eachOpenSlot(func(j int) {
			if to := m.migratingSlotsTo[j]; to != nil {
				b = append(b, " ["...)
				b = strconv.AppendInt(b, int64(j), 10)
				b = append(b, "->-"...)
				b = append(b, to.id...)
				b = append(b, ']')
			} else if from := m.importingSlotsFrom[j]; from != nil {
				b = append(b, " ["...)
				b = strconv.AppendInt(b, int64(j), 10)
				b = append(b, "-<-"...)
				b = append(b, from.id...)
				b = append(b, ']')
			}
		})
	}
	return b
}

// ClusterNodes is the reply of CLUSTER NODES: one line per node, each
// ending in "\n", exactly as Redis 7 prints them.
func (m *Machine) ClusterNodes() string {
	var b []byte
	for _, n := range m.list {
		b = m.appendNodeDescription(b, n, false)
		b = append(b, '\n')
	}
	return string(b)
}

// NodeLine is the CLUSTER NODES line of one node (without newline), for
// CLUSTER REPLICAS; ok is false for an unknown node.
func (m *Machine) NodeLine(id string) (line string, ok bool) {
	n := m.lookup(id)
	if n == nil {
		return "", false
	}
	return string(m.appendNodeDescription(nil, n, false)), true
}
