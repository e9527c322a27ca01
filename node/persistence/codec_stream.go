package persistence

import (
	"encoding/binary"

	"github.com/shoal-dev/shoal/node/keyspace/stream"
)

// The stream encoding (type tag 5). IDs are two uvarints (ms, seq);
// times are signed varints (unix ms); the rest as in value.go.
//
//	entries   count, then count x (ID, uvarint pair count >= 1, the pairs as bytes)
//	          in ascending ID order
//	meta      last ID, max deleted ID, uvarint entries added
//	groups    count, then count x (bytes name, last ID, uvarint entries read + 1
//	          (0: unknown), consumers)
//	consumers count, then count x (bytes name, varint seen time, pending)
//	pending   count, then count x (ID, varint delivery time, uvarint delivery count),
//	          the consumer's pending entries; an ID is pending for one consumer

// StreamCodec encodes *stream.Stream, with its groups, consumers and PEL.
type StreamCodec struct{}

// Type implements ValueCodec.
func (StreamCodec) Type() ValueType { return TypeStream }

func appendID(dst []byte, id stream.ID) []byte {
	dst = binary.AppendUvarint(dst, id.Ms)
	return binary.AppendUvarint(dst, id.Seq)
}

func (d *decoder) id() stream.ID { return stream.ID{Ms: d.uvarint(), Seq: d.uvarint()} }

// AppendValue implements ValueCodec.
func (StreamCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	s, ok := v.(*stream.Stream)
	if !ok {
		return dst, wrongValue("stream", v)
	}
	dst = binary.AppendUvarint(dst, uint64(s.Length()))
	s.All(func(id stream.ID, fv [][]byte) bool {
		dst = appendID(dst, id)
		dst = binary.AppendUvarint(dst, uint64(len(fv)/2))
		for _, x := range fv {
			dst = appendBytes(dst, x)
		}
		return true
	})
	dst = appendID(dst, s.LastID())
	dst = appendID(dst, s.MaxDeletedID())
	dst = binary.AppendUvarint(dst, uint64(s.EntriesAdded()))
	dst = binary.AppendUvarint(dst, uint64(len(s.Groups())))
	for _, g := range s.Groups() {
		dst = appendBytes(dst, []byte(g.Name))
		dst = appendID(dst, g.LastID)
		dst = binary.AppendUvarint(dst, uint64(g.EntriesRead+1))
		dst = binary.AppendUvarint(dst, uint64(len(g.Consumers())))
		for _, c := range g.Consumers() {
			dst = appendBytes(dst, []byte(c.Name))
			dst = binary.AppendVarint(dst, c.SeenTime)
			dst = binary.AppendUvarint(dst, uint64(len(c.PEL())))
			for _, p := range c.PEL() {
				dst = appendID(dst, p.ID)
				dst = binary.AppendVarint(dst, p.DeliveryTime)
				dst = binary.AppendUvarint(dst, uint64(p.DeliveryCount))
			}
		}
	}
	return dst, nil
}

// DecodeValue implements ValueCodec. Entries out of order, an empty
// entry, duplicate groups, consumers or pending IDs are corrupt.
func (StreamCodec) DecodeValue(b []byte) (any, error) {
	d := decoder{b: b}
	s := stream.New()
	lim := stream.DefaultLimits()
	n := d.count(3)
	var fv [][]byte
	var prev stream.ID
	for i := 0; i < n && d.err == nil; i++ {
		id := d.id()
		pairs := d.count(2)
		if d.err == nil && pairs == 0 {
			d.fail("stream entry without fields")
		}
		fv = fv[:0]
		for j := 0; j < 2*pairs && d.err == nil; j++ {
			fv = append(fv, d.bytes())
		}
		if d.err != nil {
			break
		}
		if i > 0 && !prev.Less(id) {
			d.fail("stream entries out of order")
			break
		}
		s.Append(id, fv, lim)
		prev = id
	}
	last, maxDel := d.id(), d.id()
	added := d.uvarint()
	if d.err == nil && (n > 0 && last.Less(prev) || added > 1<<62 || int64(added) < s.Length()) {
		d.fail("stream counters below its entries")
	}
	s.SetMeta(last, maxDel, int64(added))
	ng := d.count(4)
	for i := 0; i < ng && d.err == nil; i++ {
		decodeGroup(&d, s)
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	s.Compact()
	return s, nil
}

func decodeGroup(d *decoder, s *stream.Stream) {
	name := d.bytes()
	lastID := d.id()
	er := d.uvarint()
	if d.err != nil {
		return
	}
	if er > 1<<62 {
		d.fail("bad entries read")
		return
	}
	g := s.AddGroup(name, lastID, int64(er)-1)
	if g == nil {
		d.fail("duplicate consumer group")
		return
	}
	nc := d.count(2)
	for i := 0; i < nc && d.err == nil; i++ {
		cname := d.bytes()
		seen := d.varint()
		np := d.count(4)
		if d.err != nil {
			return
		}
		c := g.AddConsumer(cname, seen)
		if c == nil {
			d.fail("duplicate consumer")
			return
		}
		for j := 0; j < np && d.err == nil; j++ {
			id := d.id()
			at := d.varint()
			count := d.uvarint()
			if d.err != nil {
				return
			}
			if g.Pending(id) != nil || count > 1<<62 {
				d.fail("duplicate pending entry %s", id)
				return
			}
			g.AddPending(id, c, at, int64(count))
		}
	}
}
