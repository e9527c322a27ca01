package rdb

import (
	"encoding/binary"
	"strconv"
)

// StreamID is a stream entry ID.
type StreamID struct{ Ms, Seq uint64 }

// StreamEntry is one live entry: its ID and its fields and values,
// alternating.
type StreamEntry struct {
	ID     StreamID
	Fields [][]byte
}

// StreamNACK is a pending entry of a consumer group.
type StreamNACK struct {
	ID            StreamID
	DeliveryTime  int64 // unix ms
	DeliveryCount uint64
	Consumer      []byte // owner, from the consumers' lists
}

// StreamConsumer is a consumer of a group.
type StreamConsumer struct {
	Name     []byte
	SeenTime int64 // unix ms
	Pending  []StreamID
}

// StreamGroup is a consumer group.
type StreamGroup struct {
	Name        []byte
	LastID      StreamID
	EntriesRead int64 // -1 when unknown (type 15 files, or after deletions)
	PEL         []StreamNACK
	Consumers   []StreamConsumer
}

// Stream is a stream's full content as Redis 7.0 keeps it.
type Stream struct {
	Entries      []StreamEntry // ascending IDs, deleted entries left out
	Length       uint64
	LastID       StreamID
	FirstID      StreamID
	MaxDeletedID StreamID
	EntriesAdded uint64
	Groups       []StreamGroup
}

const (
	streamItemDeleted    = 1
	streamItemSameFields = 2
)

func (r *Reader) streamID() StreamID {
	return StreamID{Ms: r.Len(), Seq: r.Len()}
}

func (r *Reader) rawID() StreamID {
	b := r.Raw(16)
	if b == nil {
		return StreamID{}
	}
	return StreamID{Ms: binary.BigEndian.Uint64(b), Seq: binary.BigEndian.Uint64(b[8:])}
}

func (r *Reader) stream(t byte) *Stream {
	s := &Stream{}
	nodes := r.Count(2)
	for i := 0; i < nodes && r.err == nil; i++ {
		key := r.String()
		lp := r.String()
		if r.err != nil {
			break
		}
		if len(key) != 16 {
			r.fail("stream node key of %d bytes", len(key))
			break
		}
		master := StreamID{Ms: binary.BigEndian.Uint64(key), Seq: binary.BigEndian.Uint64(key[8:])}
		if err := s.addListpack(master, lp); err != nil {
			r.err = err
			break
		}
	}
	s.Length = r.Len()
	s.LastID = r.streamID()
	if t == TypeStreamListpacks2 {
		s.FirstID = r.streamID()
		s.MaxDeletedID = r.streamID()
		s.EntriesAdded = r.Len()
	} else {
		s.EntriesAdded = s.Length
		if len(s.Entries) > 0 {
			s.FirstID = s.Entries[0].ID
		}
	}
	if r.err == nil && uint64(len(s.Entries)) != s.Length {
		r.fail("stream length %d, %d entries", s.Length, len(s.Entries))
	}
	groups := r.Count(3)
	for i := 0; i < groups && r.err == nil; i++ {
		g := StreamGroup{Name: r.String(), LastID: r.streamID(), EntriesRead: -1}
		if t == TypeStreamListpacks2 {
			g.EntriesRead = int64(r.Len())
		}
		npel := r.Count(17)
		byID := make(map[StreamID]int, npel)
		for j := 0; j < npel && r.err == nil; j++ {
			n := StreamNACK{ID: r.rawID(), DeliveryTime: r.Millis(), DeliveryCount: r.Len()}
			if _, dup := byID[n.ID]; dup {
				r.fail("duplicate pending entry")
			}
			byID[n.ID] = len(g.PEL)
			g.PEL = append(g.PEL, n)
		}
		ncons := r.Count(10)
		for j := 0; j < ncons && r.err == nil; j++ {
			c := StreamConsumer{Name: r.String(), SeenTime: r.Millis()}
			np := r.Count(16)
			for k := 0; k < np && r.err == nil; k++ {
				id := r.rawID()
				at, ok := byID[id]
				if !ok || g.PEL[at].Consumer != nil {
					r.fail("consumer pending entry not in the group's list")
					break
				}
				g.PEL[at].Consumer = c.Name
				c.Pending = append(c.Pending, id)
			}
			g.Consumers = append(g.Consumers, c)
		}
		for _, n := range g.PEL {
			if n.Consumer == nil && r.err == nil {
				r.fail("pending entry without a consumer")
			}
		}
		s.Groups = append(s.Groups, g)
	}
	return s
}

// addListpack appends the live entries of one stream listpack.
func (s *Stream) addListpack(master StreamID, lp []byte) error {
	var es [][]byte
	if err := walkListpack(lp, func(e []byte) error { es = append(es, e); return nil }); err != nil {
		return err
	}
	p := lpCursor{es: es}
	count := p.int()
	deleted := p.int()
	nmaster := p.int()
	if p.bad || nmaster < 0 || nmaster > int64(len(es)) || count < 0 || deleted < 0 {
		return corrupt("stream listpack header")
	}
	masterFields := make([][]byte, nmaster)
	for i := range masterFields {
		masterFields[i] = p.next()
	}
	if p.int() != 0 {
		return corrupt("stream listpack master entry terminator")
	}
	var live, dead int64
	for !p.bad && p.i < len(es) {
		flags := p.int()
		ms := p.int()
		seq := p.int()
		id := StreamID{Ms: master.Ms + uint64(ms), Seq: master.Seq + uint64(seq)}
		var fields [][]byte
		if flags&streamItemSameFields != 0 {
			fields = make([][]byte, 0, 2*nmaster)
			for _, f := range masterFields {
				fields = append(fields, f, p.next())
			}
		} else {
			nf := p.int()
			if nf < 0 || nf > int64(len(es)) {
				return corrupt("stream entry field count")
			}
			fields = make([][]byte, 0, 2*nf)
			for j := int64(0); j < nf && !p.bad; j++ {
				fields = append(fields, p.next(), p.next())
			}
		}
		p.int() // lp-count
		if p.bad {
			break
		}
		if flags&streamItemDeleted != 0 {
			dead++
			continue
		}
		live++
		if n := len(s.Entries); n > 0 {
			prev := s.Entries[n-1].ID
			if id.Ms < prev.Ms || id.Ms == prev.Ms && id.Seq <= prev.Seq {
				return corrupt("stream entry IDs out of order")
			}
		}
		s.Entries = append(s.Entries, StreamEntry{ID: id, Fields: fields})
	}
	if p.bad || live != count || dead != deleted {
		return corrupt("stream listpack entries")
	}
	return nil
}

// lpCursor reads a stream listpack's entries one by one.
type lpCursor struct {
	es  [][]byte
	i   int
	bad bool
}

func (p *lpCursor) next() []byte {
	if p.i >= len(p.es) {
		p.bad = true
		return nil
	}
	e := p.es[p.i]
	p.i++
	return e
}

func (p *lpCursor) int() int64 {
	e := p.next()
	if p.bad {
		return 0
	}
	v, err := strconv.ParseInt(string(e), 10, 64)
	if err != nil {
		p.bad = true
	}
	return v
}
