package set

import (
	"bytes"
	"iter"

	"github.com/shoal-dev/shoal/node/keyspace/internal/dict"
)

// Limits are the encoding thresholds set-max-intset-entries,
// set-max-listpack-entries and set-max-listpack-value, passed to every call
// that may grow a set so CONFIG SET applies to the next write.
type Limits struct {
	MaxIntsetEntries   int
	MaxListpackEntries int
	MaxListpackValue   int
}

// DefaultLimits are Redis 7.2's defaults (512, 128, 64).
func DefaultLimits() Limits {
	return Limits{MaxIntsetEntries: 512, MaxListpackEntries: 128, MaxListpackValue: 64}
}

type encoding uint8

const (
	encIntset encoding = iota
	encListpack
	encHashtable
)

// Set is a set of byte strings. The zero value is an empty "intset".
type Set struct {
	data  []byte // intset or listpack bytes
	n     int    // members in data
	enc   encoding
	width uint8 // intset member width; 0 until the first member
	ht    *dict.Table[struct{}]
}

// New returns an empty set encoded as SADD creates it for a first member
// and the number of members the command adds (setTypeCreate): intset for an
// integer when the hint fits, listpack when the hint fits, else hashtable.
func New(lim Limits, first []byte, sizeHint int) *Set {
	if _, ok := parseInt(first); ok && sizeHint <= lim.MaxIntsetEntries {
		return &Set{}
	}
	if sizeHint <= lim.MaxListpackEntries {
		return &Set{enc: encListpack}
	}
	return &Set{enc: encHashtable, ht: dict.New[struct{}](sizeHint)}
}

// Len is SCARD.
func (s *Set) Len() int {
	if s.enc == encHashtable {
		return s.ht.Len()
	}
	return s.n
}

// Encoding is what OBJECT ENCODING reports.
func (s *Set) Encoding() string {
	switch s.enc {
	case encListpack:
		return "listpack"
	case encHashtable:
		return "hashtable"
	}
	return "intset"
}

// Add is SADD for one member; it reports whether the member was new.
func (s *Set) Add(lim Limits, member []byte) bool {
	switch s.enc {
	case encIntset:
		if v, ok := parseInt(member); ok {
			if !s.isAdd(v) {
				return false
			}
			if s.n > lim.MaxIntsetEntries {
				s.convert(encHashtable, s.n)
			}
			return true
		}
		// A string joins an intset: listpack if everything fits (the
		// integers as text too), else hashtable.
		maxLen := 0
		if s.n > 0 {
			maxLen = max(digits10(isGet(s.data, s.width, 0)), digits10(isGet(s.data, s.width, s.n-1)))
		}
		if s.n < lim.MaxListpackEntries && len(member) <= lim.MaxListpackValue && maxLen <= lim.MaxListpackValue {
			s.convert(encListpack, s.n+1)
			s.data = lpAppend(s.data, member)
			s.n++
			return true
		}
		s.convert(encHashtable, s.n+1)
		s.htAdd(member)
		return true
	case encListpack:
		if _, _, found := lpFind(s.data, member); found {
			return false
		}
		if s.n < lim.MaxListpackEntries && len(member) <= lim.MaxListpackValue {
			s.data = lpAppend(s.data, member)
			s.n++
			return true
		}
		s.convert(encHashtable, s.n+1)
		s.htAdd(member)
		return true
	}
	if s.ht.Find(member) != nil {
		return false
	}
	s.htAdd(member)
	return true
}

func (s *Set) htAdd(member []byte) {
	s.ht.Insert(&dict.Entry[struct{}]{Key: string(member)})
}

// convert re-encodes the set (intset -> listpack/hashtable, listpack ->
// hashtable), sized for hint members.
func (s *Set) convert(to encoding, hint int) {
	if to == encHashtable {
		ht := dict.New[struct{}](hint)
		for m := range s.All() {
			ht.Insert(&dict.Entry[struct{}]{Key: string(m)})
		}
		*s = Set{enc: encHashtable, ht: ht}
		return
	}
	// intset -> listpack, in integer order.
	buf := make([]byte, 0, growCap(0, s.n*8))
	var scratch [20]byte
	for i := 0; i < s.n; i++ {
		buf = lpAppend(buf, appendInt(scratch[:0], isGet(s.data, s.width, i)))
	}
	*s = Set{enc: encListpack, data: buf, n: s.n}
}

// Remove is SREM for one member.
func (s *Set) Remove(member []byte) bool {
	switch s.enc {
	case encIntset:
		v, ok := parseInt(member)
		return ok && s.isRemove(v)
	case encListpack:
		off, next, found := lpFind(s.data, member)
		if !found {
			return false
		}
		n := copy(s.data[off:], s.data[next:])
		s.data = s.data[:off+n]
		s.n--
		return true
	}
	return s.ht.Delete(member) != nil
}

// IsMember is SISMEMBER.
func (s *Set) IsMember(member []byte) bool {
	switch s.enc {
	case encIntset:
		v, ok := parseInt(member)
		if !ok {
			return false
		}
		_, found := s.isSearch(v)
		return found
	case encListpack:
		_, _, found := lpFind(s.data, member)
		return found
	}
	return s.ht.Find(member) != nil
}

// All yields every member once: in integer order for an intset, insertion
// order for a listpack, hash order for a hashtable. Yielded slices are only
// valid during the callback. The set must not change during the iteration.
func (s *Set) All() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		switch s.enc {
		case encIntset:
			var scratch [20]byte
			for i := 0; i < s.n; i++ {
				if !yield(appendInt(scratch[:0], isGet(s.data, s.width, i))) {
					return
				}
			}
		case encListpack:
			for off := 0; off < len(s.data); {
				m, next := lpNext(s.data, off)
				if !yield(m) {
					return
				}
				off = next
			}
		default:
			for e := range s.ht.All() {
				if !yield(sbytes(e.Key)) {
					return
				}
			}
		}
	}
}

// AppendMembers appends every member (SMEMBERS order, see All). Members of
// an intset are formatted into arena, which is returned grown.
func (s *Set) AppendMembers(dst [][]byte) [][]byte {
	if s.enc == encIntset {
		arena := make([]byte, 0, s.n*8)
		for i := 0; i < s.n; i++ {
			start := len(arena)
			arena = appendInt(arena, isGet(s.data, s.width, i))
			dst = append(dst, arena[start:len(arena):len(arena)])
		}
		return dst
	}
	for m := range s.All() {
		dst = append(dst, m)
	}
	return dst
}

// Clone returns a deep copy with the same encoding (COPY).
func (s *Set) Clone() *Set {
	if s.enc != encHashtable {
		c := *s
		c.data = bytes.Clone(s.data)
		return &c
	}
	ht := dict.New[struct{}](s.ht.Len())
	for e := range s.ht.All() {
		ht.Insert(&dict.Entry[struct{}]{Key: e.Key})
	}
	return &Set{enc: encHashtable, ht: ht}
}

// Copy is Clone for the keyspace's COPY.
func (s *Set) Copy() any { return s.Clone() }

// MemoryUsage estimates the bytes the value occupies (MEMORY USAGE).
func (s *Set) MemoryUsage() int {
	const header = 48 // the Set struct
	if s.enc != encHashtable {
		return header + dict.AllocSize(cap(s.data))
	}
	const entry = 24 // dict.Entry[struct{}]
	return header + s.ht.MemoryUsage() + entry*s.ht.Len()
}
