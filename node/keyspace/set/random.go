package set

import "github.com/shoal-dev/shoal/node/keyspace/internal/dict"

// Rand is the injected random source (math/rand/v2's *Rand satisfies it).
type Rand = dict.Rand

// intMember formats the i-th integer of an intset into arena and returns
// the grown arena and the member's bytes.
func (s *Set) intMember(arena []byte, i int) ([]byte, []byte) {
	start := len(arena)
	arena = appendInt(arena, isGet(s.data, s.width, i))
	return arena, arena[start:len(arena):len(arena)]
}

// offsets returns the offset of every listpack member.
func (s *Set) offsets() []int {
	offs := make([]int, 0, s.n)
	for off := 0; off < len(s.data); {
		offs = append(offs, off)
		_, off = lpNext(s.data, off)
	}
	return offs
}

// RandomMember is SRANDMEMBER without a count; ok is false when empty.
func (s *Set) RandomMember(rnd Rand) ([]byte, bool) {
	if s.Len() == 0 {
		return nil, false
	}
	out := s.AppendRandom(nil, 1, false, rnd)
	return out[0], true
}

// AppendRandom is SRANDMEMBER with a count. With unique (a positive count)
// it appends min(count, Len) distinct members: the whole set when count >=
// Len, else a uniform random subset. Without unique (a negative count, whose
// magnitude is passed) it appends count independent uniform picks.
func (s *Set) AppendRandom(dst [][]byte, count int, unique bool, rnd Rand) [][]byte {
	n := s.Len()
	if count <= 0 || n == 0 {
		return dst
	}
	if unique && count >= n {
		return s.AppendMembers(dst)
	}
	if !unique {
		return s.appendPicks(dst, count, rnd)
	}
	if s.enc == encHashtable && count*3 <= n {
		seen := make(map[*dict.Entry[struct{}]]struct{}, count)
		for len(seen) < count {
			e := s.ht.Random(rnd)
			if _, dup := seen[e]; dup {
				continue
			}
			seen[e] = struct{}{}
			dst = append(dst, sbytes(e.Key))
		}
		return dst
	}
	// A partial Fisher-Yates shuffle of all members.
	base := len(dst)
	dst = s.AppendMembers(dst)
	all := dst[base:]
	for i := 0; i < count; i++ {
		j := i + rnd.IntN(n-i)
		all[i], all[j] = all[j], all[i]
	}
	return dst[:base+count]
}

// appendPicks appends count uniform picks with repetition.
func (s *Set) appendPicks(dst [][]byte, count int, rnd Rand) [][]byte {
	switch s.enc {
	case encIntset:
		arena := make([]byte, 0, min(count, 1<<16)*8)
		for ; count > 0; count-- {
			var m []byte
			arena, m = s.intMember(arena, rnd.IntN(s.n))
			dst = append(dst, m)
		}
	case encListpack:
		offs := s.offsets()
		for ; count > 0; count-- {
			m, _ := lpNext(s.data, offs[rnd.IntN(s.n)])
			dst = append(dst, m)
		}
	default:
		for ; count > 0; count-- {
			dst = append(dst, sbytes(s.ht.Random(rnd).Key))
		}
	}
	return dst
}

// Pop is SPOP: it removes and returns min(count, Len) distinct random
// members. The returned members do not alias the set.
func (s *Set) Pop(count int, rnd Rand) [][]byte {
	n := s.Len()
	count = min(count, n)
	if count <= 0 {
		return nil
	}
	if s.enc == encHashtable {
		out := make([][]byte, 0, count)
		for ; count > 0; count-- {
			e := s.ht.Random(rnd)
			s.ht.Delete(sbytes(e.Key))
			out = append(out, sbytes(e.Key)) // the string outlives the entry
		}
		return out
	}
	// Small encodings: choose the victims by index, then rebuild the
	// encoding in a new buffer so the returned views stay valid.
	out := s.AppendRandom(make([][]byte, 0, count), count, true, rnd)
	if count == n {
		*s = Set{enc: s.enc, width: s.width}
		return out
	}
	if s.enc == encIntset {
		for _, m := range out { // formatted copies, not views
			v, _ := parseInt(m)
			s.isRemove(v)
		}
		return out
	}
	old := s.data
	s.data = append(make([]byte, 0, len(old)), old...)
	for _, m := range out {
		off, next, _ := lpFind(s.data, m)
		k := copy(s.data[off:], s.data[next:])
		s.data = s.data[:off+k]
		s.n--
	}
	return out
}
