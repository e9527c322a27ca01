package zset

import (
	"bytes"
	"iter"
	"math"
	"slices"

	"github.com/shoal-dev/shoal/node/keyspace/internal/dict"
)

// Limits are the encoding thresholds zset-max-listpack-entries and
// zset-max-listpack-value. They are passed to every call that may grow a
// set, so a CONFIG SET applies to the next write as in Redis.
type Limits struct {
	MaxListpackEntries int
	MaxListpackValue   int
}

// DefaultLimits are Redis's defaults (128 entries, 64 bytes).
func DefaultLimits() Limits { return Limits{MaxListpackEntries: 128, MaxListpackValue: 64} }

// Entry is a member and its score.
type Entry struct {
	Member []byte
	Score  float64
}

// ZSet is a sorted set. The zero value is an empty "listpack" set.
type ZSet struct {
	lp []byte // listpack encoding, used when sl is nil
	n  int    // entries in lp
	sl *skiplist
}

// New returns an empty set with the encoding ZADD creates for a first
// member of firstLen bytes: "skiplist" if entries are disabled (0) or the
// member is too long for a listpack, else "listpack".
func New(lim Limits, firstLen int) *ZSet {
	if lim.MaxListpackEntries == 0 || firstLen > lim.MaxListpackValue {
		return &ZSet{sl: newSkiplist(0)}
	}
	return &ZSet{}
}

// Len is ZCARD.
func (z *ZSet) Len() int {
	if z.sl != nil {
		return z.sl.length
	}
	return z.n
}

// Encoding is what OBJECT ENCODING reports.
func (z *ZSet) Encoding() string {
	if z.sl != nil {
		return "skiplist"
	}
	return "listpack"
}

// AddFlags are ZADD's input options.
type AddFlags uint8

const (
	AddNX AddFlags = 1 << iota
	AddXX
	AddGT
	AddLT
	AddIncr
)

// AddResult says what Add did (ZADD's out flags).
type AddResult uint8

const (
	// NOP: nothing done (NX/XX/GT/LT ruled it out).
	NOP AddResult = iota
	// Added: a new member.
	Added
	// Updated: an existing member's score changed.
	Updated
	// Unchanged: the member exists with that score already.
	Unchanged
)

// Add is ZADD/ZINCRBY for one member (zsetAdd). With AddIncr, score is an
// increment. It returns the member's resulting score (undefined for NOP).
// ErrNaN is returned when the score, or the incremented score, is NaN;
// the set is then unchanged. Flag conflicts (NX with XX, ...) are the
// caller's to reject.
func (z *ZSet) Add(lim Limits, member []byte, score float64, flags AddFlags) (float64, AddResult, error) {
	if math.IsNaN(score) {
		return 0, NOP, ErrNaN
	}
	if z.sl == nil {
		off, cur, found := lpFind(z.lp, member)
		if found {
			return z.update(member, score, cur, flags, func(newscore float64) {
				_, _, next := lpDecode(z.lp, off)
				z.lp = lpDelete(z.lp, off, next)
				z.lp = lpInsert(z.lp, member, newscore)
			})
		}
		if flags&AddXX != 0 {
			return 0, NOP, nil
		}
		if z.n+1 <= lim.MaxListpackEntries && len(member) <= lim.MaxListpackValue {
			z.lp = lpInsert(z.lp, member, score)
			z.n++
			return score, Added, nil
		}
		z.convertToSkiplist(z.n + 1)
	}
	if x := z.sl.index.Find(member); x != nil {
		return z.update(member, score, x.Val.score, flags, func(newscore float64) {
			z.sl.updateScore(x, newscore)
		})
	}
	if flags&AddXX != 0 {
		return 0, NOP, nil
	}
	z.sl.add(string(member), score)
	return score, Added, nil
}

// update applies ZADD's rules to an existing member whose score is cur;
// move changes the stored score.
func (z *ZSet) update(member []byte, score, cur float64, flags AddFlags, move func(float64)) (float64, AddResult, error) {
	if flags&AddNX != 0 {
		return cur, NOP, nil
	}
	if flags&AddIncr != 0 {
		score += cur
		if math.IsNaN(score) {
			return 0, NOP, ErrNaN
		}
	}
	if (flags&AddLT != 0 && score >= cur) || (flags&AddGT != 0 && score <= cur) {
		return cur, NOP, nil
	}
	if score == cur {
		return score, Unchanged, nil
	}
	move(score)
	return score, Updated, nil
}

// convertToSkiplist switches a listpack set to the skiplist encoding.
func (z *ZSet) convertToSkiplist(hint int) {
	sl := newSkiplist(hint)
	// Insert from the highest so each insertion stops at the head.
	offs := lpOffsets(make([]int, 0, z.n+1), z.lp)
	for i := z.n - 1; i >= 0; i-- {
		m, s, _ := lpDecode(z.lp, offs[i])
		sl.add(string(m), s)
	}
	z.sl, z.lp, z.n = sl, nil, 0
}

// Remove is ZREM for one member.
func (z *ZSet) Remove(member []byte) bool {
	if z.sl != nil {
		return z.sl.remove(member) != nil
	}
	off, _, ok := lpFind(z.lp, member)
	if !ok {
		return false
	}
	_, _, next := lpDecode(z.lp, off)
	z.lp = lpDelete(z.lp, off, next)
	z.n--
	return true
}

// Score is ZSCORE.
func (z *ZSet) Score(member []byte) (float64, bool) {
	if z.sl != nil {
		if x := z.sl.index.Find(member); x != nil {
			return x.Val.score, true
		}
		return 0, false
	}
	_, s, ok := lpFind(z.lp, member)
	return s, ok
}

// Rank is ZRANK (or ZREVRANK with rev): the 0-based rank and the score.
func (z *ZSet) Rank(member []byte, rev bool) (rank int, score float64, ok bool) {
	n := z.Len()
	if z.sl != nil {
		x := z.sl.index.Find(member)
		if x == nil {
			return 0, 0, false
		}
		rank = z.sl.rank(x.Val.score, x.Key) - 1
		score = x.Val.score
	} else {
		for off := 0; off < len(z.lp); rank++ {
			m, s, next := lpDecode(z.lp, off)
			if bytes.Equal(m, member) {
				score, ok = s, true
				break
			}
			off = next
		}
		if !ok {
			return 0, 0, false
		}
	}
	if rev {
		rank = n - 1 - rank
	}
	return rank, score, true
}

// All yields the members in order (for persistence and full replies).
func (z *ZSet) All() iter.Seq2[[]byte, float64] {
	return func(yield func([]byte, float64) bool) {
		if z.sl != nil {
			for x := z.sl.first(); x != nil; x = levels(x)[0].forward {
				if !yield(sbytes(x.Key), x.Val.score) {
					return
				}
			}
			return
		}
		for off := 0; off < len(z.lp); {
			m, s, next := lpDecode(z.lp, off)
			if !yield(m, s) {
				return
			}
			off = next
		}
	}
}

// FromSorted builds a set from entries with unique members, choosing the
// encoding as the STORE commands do (zsetConvertToListpackIfNeeded):
// listpack when both limits allow it. Entries should be sorted by (score,
// member); if they are not (a range read in reverse, a decoded payload),
// they are sorted in place first. Members are copied.
func FromSorted(lim Limits, entries []Entry) *ZSet {
	if !slices.IsSortedFunc(entries, compareEntries) {
		slices.SortFunc(entries, compareEntries)
	}
	maxLen := 0
	for i := range entries {
		maxLen = max(maxLen, len(entries[i].Member))
	}
	if len(entries) <= lim.MaxListpackEntries && maxLen <= lim.MaxListpackValue {
		size := 0
		for i := range entries {
			size += lpEntrySize(entries[i].Member, entries[i].Score)
		}
		buf := make([]byte, 0, size)
		for i := range entries {
			buf = lpAppend(buf, entries[i].Member, entries[i].Score)
		}
		return &ZSet{lp: buf, n: len(entries)}
	}
	sl := newSkiplist(len(entries))
	for i := len(entries) - 1; i >= 0; i-- {
		sl.add(string(entries[i].Member), entries[i].Score)
	}
	return &ZSet{sl: sl}
}

// compareEntries orders entries by score, then member bytes.
func compareEntries(a, b Entry) int {
	switch {
	case a.Score < b.Score:
		return -1
	case a.Score > b.Score:
		return 1
	}
	return bytes.Compare(a.Member, b.Member)
}

// Clone returns a deep copy with the same encoding (COPY).
func (z *ZSet) Clone() *ZSet {
	if z.sl == nil {
		return &ZSet{lp: bytes.Clone(z.lp), n: z.n}
	}
	sl := newSkiplist(z.sl.length)
	for x := z.sl.tail; x != nil; x = x.Val.backward {
		sl.add(x.Key, x.Val.score) // strings are immutable: share them
	}
	return &ZSet{sl: sl}
}

// Copy is Clone for the keyspace's COPY.
func (z *ZSet) Copy() any { return z.Clone() }

// MemoryUsage estimates the bytes the value occupies (MEMORY USAGE).
func (z *ZSet) MemoryUsage() int {
	const header = 48 // the ZSet struct
	if z.sl != nil {
		return header + z.sl.memoryUsage()
	}
	return header + dict.AllocSize(cap(z.lp))
}
