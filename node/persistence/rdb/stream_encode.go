package rdb

import (
	"encoding/binary"
	"iter"
	"slices"
	"strconv"
)

// Stream nodes are closed at Redis's defaults: stream-node-max-entries 100,
// stream-node-max-bytes 4096.
const (
	streamNodeMaxEntries = 100
	streamNodeMaxBytes   = 4096
)

// AppendStreamObject appends a stream as Redis 7.0 writes it
// (RDB_TYPE_STREAM_LISTPACKS_2): its entries in listpack nodes keyed by
// their master ID, each node's master entry holding the first entry's
// fields (entries with the same fields store only their values), then
// the length, last, first and max-deleted IDs, entries-added, and the
// consumer groups with their pending entries and consumers. s gives
// everything but the entries, which come from entries in ascending ID
// order. It returns how many entries it wrote.
func AppendStreamObject(dst []byte, s *Stream, entries iter.Seq2[StreamID, [][]byte]) ([]byte, int) {
	dst = append(dst, TypeStreamListpacks2)
	dst, nodesAt := reserveLen32(dst)
	var node []StreamEntry
	var arena []byte
	nodes, written, nodeBytes := 0, 0, 0
	flush := func() {
		if len(node) > 0 {
			dst = appendStreamNode(dst, node)
			nodes++
			node, nodeBytes, arena = node[:0], 0, nil
		}
	}
	for id, fv := range entries {
		size := 0
		for _, x := range fv {
			size += len(x) + 2
		}
		if len(node) >= streamNodeMaxEntries || len(node) > 0 && nodeBytes+size > streamNodeMaxBytes {
			flush()
		}
		// fv may be reused by the iterator after this step: keep a copy
		// until the node is written.
		kept := make([][]byte, len(fv))
		for i, x := range fv {
			arena = append(arena, x...)
			kept[i] = arena[len(arena)-len(x) : len(arena) : len(arena)]
		}
		node = append(node, StreamEntry{ID: id, Fields: kept})
		nodeBytes += size
		written++
	}
	flush()
	patchLen32(dst, nodesAt, uint64(nodes))
	dst = AppendLen(dst, s.Length)
	dst = appendStreamID(dst, s.LastID)
	dst = appendStreamID(dst, s.FirstID)
	dst = appendStreamID(dst, s.MaxDeletedID)
	dst = AppendLen(dst, s.EntriesAdded)
	dst = AppendLen(dst, uint64(len(s.Groups)))
	for _, g := range s.Groups {
		dst = AppendString(dst, g.Name)
		dst = appendStreamID(dst, g.LastID)
		dst = AppendLen(dst, uint64(g.EntriesRead)) // -1 (unknown) as Redis writes it
		pel := slices.Clone(g.PEL)
		slices.SortFunc(pel, func(a, b StreamNACK) int { return compareIDs(a.ID, b.ID) })
		dst = AppendLen(dst, uint64(len(pel)))
		for _, n := range pel {
			dst = appendRawID(dst, n.ID)
			dst = binary.LittleEndian.AppendUint64(dst, uint64(n.DeliveryTime))
			dst = AppendLen(dst, n.DeliveryCount)
		}
		dst = AppendLen(dst, uint64(len(g.Consumers)))
		for _, c := range g.Consumers {
			dst = AppendString(dst, c.Name)
			dst = binary.LittleEndian.AppendUint64(dst, uint64(c.SeenTime))
			ids := slices.Clone(c.Pending)
			slices.SortFunc(ids, compareIDs)
			dst = AppendLen(dst, uint64(len(ids)))
			for _, id := range ids {
				dst = appendRawID(dst, id)
			}
		}
	}
	return dst, written
}

func compareIDs(a, b StreamID) int {
	if a.Ms != b.Ms {
		if a.Ms < b.Ms {
			return -1
		}
		return 1
	}
	switch {
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

func appendStreamID(dst []byte, id StreamID) []byte {
	return AppendLen(AppendLen(dst, id.Ms), id.Seq)
}

func appendRawID(dst []byte, id StreamID) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(dst, id.Ms), id.Seq)
}

// appendStreamNode appends one node: its key (the master ID, 16 bytes big
// endian) and its listpack (Redis's stream listpack layout, t_stream.c):
//
//	master entry: count, deleted, master field count, fields..., 0
//	each entry:   flags, ms-diff, seq-diff, [field count], [fields and]
//	              values, lp-count
func appendStreamNode(dst []byte, entries []StreamEntry) []byte {
	master := entries[0]
	dst = AppendString(dst, appendRawID(nil, master.ID))
	masterFields := make([][]byte, 0, len(master.Fields)/2)
	for i := 0; i < len(master.Fields); i += 2 {
		masterFields = append(masterFields, master.Fields[i])
	}
	dst, lpLenAt := reserveLen32(dst)
	lp := len(dst)
	dst = startListpack(dst)
	count := 0
	var num [24]byte
	appendInt := func(v int64) {
		dst = appendLpEntry(dst, strconv.AppendInt(num[:0], v, 10))
		count++
	}
	appendInt(int64(len(entries))) // count
	appendInt(0)                   // deleted
	appendInt(int64(len(masterFields)))
	for _, f := range masterFields {
		dst = appendLpEntry(dst, f)
		count++
	}
	appendInt(0) // the master entry's terminator
	for _, e := range entries {
		pairs := len(e.Fields) / 2
		same := pairs == len(masterFields)
		for i := 0; same && i < pairs; i++ {
			same = string(e.Fields[2*i]) == string(masterFields[i])
		}
		flags := int64(0)
		if same {
			flags = streamItemSameFields
		}
		appendInt(flags)
		appendInt(int64(e.ID.Ms - master.ID.Ms))
		appendInt(int64(e.ID.Seq - master.ID.Seq))
		if same {
			for i := 1; i < len(e.Fields); i += 2 {
				dst = appendLpEntry(dst, e.Fields[i])
				count++
			}
			appendInt(int64(pairs + 3))
		} else {
			appendInt(int64(pairs))
			for _, x := range e.Fields {
				dst = appendLpEntry(dst, x)
				count++
			}
			appendInt(int64(2*pairs + 4))
		}
	}
	dst = finishListpack(dst, lp, count)
	patchLen32(dst, lpLenAt, uint64(len(dst)-lp))
	return dst
}
