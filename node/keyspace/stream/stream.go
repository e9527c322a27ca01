package stream

import (
	"sort"
)

// Default node limits (stream-node-max-bytes, stream-node-max-entries).
const (
	DefaultNodeMaxBytes   = 4096
	DefaultNodeMaxEntries = 100
	// maxNodeBytes caps a block as Redis's STREAM_LISTPACK_MAX_SIZE.
	maxNodeBytes = 1 << 30
)

// Limits are the block limits a new entry is added under.
type Limits struct {
	NodeMaxBytes   int64 // 0: no limit (up to 1 GiB)
	NodeMaxEntries int64 // 0: no limit
}

// DefaultLimits are Redis's defaults.
func DefaultLimits() Limits {
	return Limits{NodeMaxBytes: DefaultNodeMaxBytes, NodeMaxEntries: DefaultNodeMaxEntries}
}

// Stream is a stream value.
type Stream struct {
	blocks       []*block
	length       int64
	lastID       ID
	firstID      ID
	maxDeletedID ID
	entriesAdded int64
	groups       []*Group // ordered by name
}

// New returns an empty stream.
func New() *Stream { return &Stream{} }

// Len is the number of entries.
func (s *Stream) Len() int { return int(s.length) }

// Length is Len as int64.
func (s *Stream) Length() int64 { return s.length }

// LastID is the last generated ID (last-generated-id).
func (s *Stream) LastID() ID { return s.lastID }

// FirstID is the first entry's ID (0-0 when empty).
func (s *Stream) FirstID() ID { return s.firstID }

// MaxDeletedID is the greatest ID deleted by XDEL (max-deleted-entry-id).
func (s *Stream) MaxDeletedID() ID { return s.maxDeletedID }

// EntriesAdded counts every entry ever added (entries-added).
func (s *Stream) EntriesAdded() int64 { return s.entriesAdded }

// SetMeta sets the stream's counters (XSETID, loaders).
func (s *Stream) SetMeta(lastID, maxDeletedID ID, entriesAdded int64) {
	s.lastID, s.maxDeletedID, s.entriesAdded = lastID, maxDeletedID, entriesAdded
}

// SetLastID sets the last generated ID.
func (s *Stream) SetLastID(id ID) { s.lastID = id }

// Blocks is the number of blocks (radix-tree-keys).
func (s *Stream) Blocks() int { return len(s.blocks) }

// Encoding implements OBJECT ENCODING.
func (s *Stream) Encoding() string { return "stream" }

// MemoryUsage estimates the bytes the stream uses.
func (s *Stream) MemoryUsage() int {
	n := 96 + cap(s.blocks)*8
	for _, b := range s.blocks {
		n += 64 + cap(b.data)
	}
	for _, g := range s.groups {
		n += 96 + len(g.Name) + len(g.pel)*64
		for _, c := range g.consumers {
			n += 64 + len(c.Name) + cap(c.pel)*8
		}
	}
	return n
}

// Append adds an entry whose ID must be above LastID, under lim. It does
// not count in EntriesAdded nor move LastID (Add does): loaders use it.
func (s *Stream) Append(id ID, fv [][]byte, lim Limits) {
	var b *block
	if n := len(s.blocks); n > 0 {
		b = s.blocks[n-1]
		maxBytes := lim.NodeMaxBytes
		if maxBytes <= 0 || maxBytes > maxNodeBytes {
			maxBytes = maxNodeBytes
		}
		size := 0
		for _, x := range fv {
			size += len(x)
		}
		if int64(len(b.data)+size) >= maxBytes ||
			lim.NodeMaxEntries > 0 && int64(b.live+b.deleted) >= lim.NodeMaxEntries {
			b = nil
		}
	}
	if b == nil {
		if n := len(s.blocks); n > 0 {
			// A full block takes no more appends: give back its spare
			// capacity (append grows by doubling).
			if last := s.blocks[n-1]; cap(last.data)-len(last.data) > 64 {
				last.data = append(make([]byte, 0, len(last.data)), last.data...)
			}
		}
		capHint := 64
		if lim.NodeMaxBytes > 0 && lim.NodeMaxBytes <= 1<<16 {
			capHint = 0
		}
		b = newBlock(id, fv, capHint)
		s.blocks = append(s.blocks, b)
	}
	b.append(id, fv)
	if s.length == 0 {
		s.firstID = id
	}
	s.length++
	if s.lastID.Less(id) {
		s.lastID = id
	}
}

// Add appends an entry as XADD does (id above LastID).
func (s *Stream) Add(id ID, fv [][]byte, lim Limits) {
	s.Append(id, fv, lim)
	s.lastID = id
	s.entriesAdded++
}

// Compact shrinks the last block's buffer to its size (after loading).
func (s *Stream) Compact() {
	for _, b := range s.blocks {
		if cap(b.data) > len(b.data) {
			b.data = append([]byte(nil), b.data...)
		}
	}
}

// blockFor is the index of the last block whose first ID is <= id, or -1.
func (s *Stream) blockFor(id ID) int {
	return sort.Search(len(s.blocks), func(i int) bool { return id.Less(s.blocks[i].first) }) - 1
}

// Range calls fn for each entry with start <= ID <= end, ascending (or
// descending when rev), until fn returns false. fv aliases the stream:
// copy what you keep; do not modify the stream during the walk.
func (s *Stream) Range(start, end ID, rev bool, fn func(id ID, fv [][]byte) bool) {
	if end.Less(start) || s.length == 0 {
		return
	}
	var c cursor
	if !rev {
		i := max(s.blockFor(start), 0)
		for ; i < len(s.blocks); i++ {
			b := s.blocks[i]
			if end.Less(b.first) {
				return
			}
			if b.last.Less(start) {
				continue
			}
			b.cursor(&c)
			for c.nextHeader() {
				if c.deleted || c.id.Less(start) {
					c.skipFields()
					continue
				}
				if end.Less(c.id) {
					return
				}
				c.readFields()
				if !fn(c.id, c.fv) {
					return
				}
			}
		}
		return
	}
	var offs []int
	for i := s.blockFor(end); i >= 0; i-- {
		b := s.blocks[i]
		if b.last.Less(start) {
			return
		}
		b.cursor(&c)
		offs = b.offsets(offs[:0])
		for j := len(offs) - 1; j >= 0; j-- {
			c.seek(offs[j])
			c.next()
			if c.deleted || end.Less(c.id) {
				continue
			}
			if c.id.Less(start) {
				return
			}
			if !fn(c.id, c.fv) {
				return
			}
		}
	}
}

// All walks every entry in order (for encoders).
func (s *Stream) All(fn func(id ID, fv [][]byte) bool) { s.Range(ID{}, MaxID, false, fn) }

// Lookup reports whether id is an entry.
func (s *Stream) Lookup(id ID) bool {
	found := false
	s.Range(id, id, false, func(ID, [][]byte) bool { found = true; return false })
	return found
}

// Delete removes the entry id (XDEL); false when absent. It does not move
// MaxDeletedID (XDEL does that for the IDs it deletes).
func (s *Stream) Delete(id ID) bool {
	i := s.blockFor(id)
	if i < 0 {
		return false
	}
	b := s.blocks[i]
	if b.last.Less(id) {
		return false
	}
	var c cursor
	b.cursor(&c)
	for c.nextHeader() {
		c.skipFields()
		if c.id == id {
			if c.deleted {
				return false
			}
			c.markDeleted()
			s.length--
			if b.live == 0 {
				s.blocks = append(s.blocks[:i], s.blocks[i+1:]...)
			}
			if id == s.firstID {
				s.updateFirstID()
			}
			return true
		}
		if id.Less(c.id) {
			return false
		}
	}
	return false
}

// SetMaxDeletedID sets max-deleted-entry-id.
func (s *Stream) SetMaxDeletedID(id ID) { s.maxDeletedID = id }

func (s *Stream) updateFirstID() {
	s.firstID = ID{}
	s.All(func(id ID, _ [][]byte) bool { s.firstID = id; return false })
}

// LastEntryID is the ID of the last entry (0-0 when empty).
func (s *Stream) LastEntryID() ID {
	if n := len(s.blocks); n > 0 && !s.blocks[n-1].lastDeleted {
		return s.blocks[n-1].last
	}
	var last ID
	s.Range(ID{}, MaxID, true, func(id ID, _ [][]byte) bool { last = id; return false })
	return last
}

// Trim strategies.
const (
	TrimNone = iota
	TrimMaxLen
	TrimMinID
)

// TrimArgs are XADD's and XTRIM's trimming arguments.
type TrimArgs struct {
	Strategy int
	MaxLen   int64
	MinID    ID
	Approx   bool
	Limit    int64 // 0: no limit
}

// Trim removes entries from the head as Redis's streamTrim: whole blocks
// while they qualify, then (unless Approx) entries of the first block
// that does not. It returns how many entries it removed.
func (s *Stream) Trim(a TrimArgs) int64 {
	if a.Strategy == TrimNone {
		return 0
	}
	var deleted int64
	removed := 0
	for removed < len(s.blocks) {
		if a.Strategy == TrimMaxLen && s.length <= a.MaxLen {
			break
		}
		b := s.blocks[removed]
		entries := int64(b.live)
		if a.Limit != 0 && deleted+entries > a.Limit {
			break
		}
		var whole bool
		if a.Strategy == TrimMaxLen {
			whole = s.length-entries >= a.MaxLen
		} else {
			whole = b.last.Less(a.MinID)
		}
		if whole {
			removed++
			s.length -= entries
			deleted += entries
			continue
		}
		if a.Approx {
			break
		}
		var c cursor
		b.cursor(&c)
		for c.nextHeader() {
			c.skipFields()
			var stop bool
			if a.Strategy == TrimMaxLen {
				stop = s.length <= a.MaxLen
			} else {
				stop = !c.id.Less(a.MinID)
			}
			if stop {
				break
			}
			if !c.deleted {
				c.markDeleted()
				s.length--
				deleted++
			}
		}
		break
	}
	if removed > 0 {
		clear(s.blocks[:removed])
		s.blocks = s.blocks[removed:]
	}
	if s.length > 0 {
		s.updateFirstID()
	} else {
		s.firstID = ID{}
	}
	return deleted
}

// Copy returns a deep copy (COPY).
func (s *Stream) Copy() any {
	n := &Stream{length: s.length, lastID: s.lastID, firstID: s.firstID,
		maxDeletedID: s.maxDeletedID, entriesAdded: s.entriesAdded}
	n.blocks = make([]*block, len(s.blocks))
	for i, b := range s.blocks {
		n.blocks[i] = b.clone()
	}
	for _, g := range s.groups {
		n.groups = append(n.groups, g.clone())
	}
	return n
}
