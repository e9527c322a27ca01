package persistence

import (
	"fmt"

	"github.com/shoal-dev/shoal/node/keyspace/stream"
	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// StreamCodec encodes *stream.Stream, with its groups, consumers and PEL.
type StreamCodec struct{}

// Type implements ValueCodec.
func (StreamCodec) Type() ValueType { return TypeStream }

// AppendValue implements ValueCodec: RDB_TYPE_STREAM_LISTPACKS_2.
func (StreamCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	s, ok := v.(*stream.Stream)
	if !ok {
		return dst, wrongValue("stream", v)
	}
	meta := &rdb.Stream{
		Length: uint64(s.Length()), LastID: rdbID(s.LastID()), FirstID: rdbID(s.FirstID()),
		MaxDeletedID: rdbID(s.MaxDeletedID()), EntriesAdded: uint64(s.EntriesAdded()),
	}
	for _, g := range s.Groups() {
		rg := rdb.StreamGroup{Name: []byte(g.Name), LastID: rdbID(g.LastID), EntriesRead: g.EntriesRead}
		for _, p := range g.PEL() {
			rg.PEL = append(rg.PEL, rdb.StreamNACK{ID: rdbID(p.ID), DeliveryTime: p.DeliveryTime, DeliveryCount: uint64(p.DeliveryCount)})
		}
		for _, c := range g.Consumers() {
			rc := rdb.StreamConsumer{Name: []byte(c.Name), SeenTime: c.SeenTime}
			for _, p := range c.PEL() {
				rc.Pending = append(rc.Pending, rdbID(p.ID))
			}
			rg.Consumers = append(rg.Consumers, rc)
		}
		meta.Groups = append(meta.Groups, rg)
	}
	entries := func(yield func(rdb.StreamID, [][]byte) bool) {
		s.All(func(id stream.ID, fv [][]byte) bool { return yield(rdbID(id), fv) })
	}
	dst, got := rdb.AppendStreamObject(dst, meta, entries)
	return dst, countCheck(s.Len(), got)
}

func rdbID(id stream.ID) rdb.StreamID { return rdb.StreamID{Ms: id.Ms, Seq: id.Seq} }

func streamID(id rdb.StreamID) stream.ID { return stream.ID{Ms: id.Ms, Seq: id.Seq} }

// DecodeValue implements ValueCodec: a stream of either RDB stream type
// (15, Redis 5-6; 19, Redis 7), with its groups, consumers and PEL.
func (StreamCodec) DecodeValue(b []byte) (any, error) {
	o, err := decodeRDB(b, rdb.KindStream)
	if err != nil {
		return nil, err
	}
	return buildStream(o.Stream)
}

// buildStream makes the keyspace's stream of a decoded one. Duplicate
// groups or consumers, and counters below the entries, are corrupt.
func buildStream(rs *rdb.Stream) (*stream.Stream, error) {
	s := stream.New()
	lim := stream.DefaultLimits()
	for i, e := range rs.Entries {
		if len(e.Fields) == 0 || len(e.Fields)%2 != 0 {
			return nil, fmt.Errorf("%w: stream entry with %d fields and values", ErrBadValue, len(e.Fields))
		}
		if i > 0 && !streamID(rs.Entries[i-1].ID).Less(streamID(e.ID)) {
			return nil, fmt.Errorf("%w: stream entries out of order", ErrBadValue)
		}
		s.Append(streamID(e.ID), e.Fields, lim)
	}
	last := streamID(rs.LastID)
	if n := len(rs.Entries); n > 0 && last.Less(streamID(rs.Entries[n-1].ID)) || rs.EntriesAdded > 1<<62 || rs.EntriesAdded < uint64(n) {
		return nil, fmt.Errorf("%w: stream counters below its entries", ErrBadValue)
	}
	s.SetMeta(last, streamID(rs.MaxDeletedID), int64(rs.EntriesAdded))
	for _, rg := range rs.Groups {
		g := s.AddGroup(rg.Name, streamID(rg.LastID), rg.EntriesRead)
		if g == nil {
			return nil, fmt.Errorf("%w: duplicate consumer group", ErrBadValue)
		}
		consumers := make(map[string]*stream.Consumer, len(rg.Consumers))
		for _, rc := range rg.Consumers {
			c := g.AddConsumer(rc.Name, rc.SeenTime)
			if c == nil {
				return nil, fmt.Errorf("%w: duplicate consumer", ErrBadValue)
			}
			consumers[string(rc.Name)] = c
		}
		for _, n := range rg.PEL {
			c := consumers[string(n.Consumer)]
			if c == nil || n.DeliveryCount > 1<<62 || g.Pending(streamID(n.ID)) != nil {
				return nil, fmt.Errorf("%w: bad pending entry", ErrBadValue)
			}
			g.AddPending(streamID(n.ID), c, n.DeliveryTime, int64(n.DeliveryCount))
		}
	}
	s.Compact()
	return s, nil
}

// DecodeLegacy implements ValueCodec. Snapshots of earlier shoal builds
// hold no streams (the type did not exist).
func (StreamCodec) DecodeLegacy([]byte) (any, error) {
	return nil, fmt.Errorf("%w: a stream in the legacy format", ErrBadValue)
}
