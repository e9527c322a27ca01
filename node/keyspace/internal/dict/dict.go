package dict

import (
	"hash/maphash"
	"iter"
	"math/bits"
)

// Entry is one element of a Table. Key is the member; Val is the caller's
// payload. An Entry may be linked into at most one Table.
type Entry[V any] struct {
	Key  string
	Val  V
	next *Entry[V]
}

// Rand is the random source used for random entries (math/rand/v2's *Rand
// satisfies it).
type Rand interface {
	IntN(n int) int
}

const (
	initialSize = 4
	// minFill is the fill percentage under which the table shrinks
	// (Redis's HASHTABLE_MIN_FILL).
	minFill = 10
	// emptyVisits bounds the empty buckets one rehash step may skip.
	emptyVisits = 10
)

// Table is a hash table of entries. The zero value is not ready: use New.
type Table[V any] struct {
	ht        [2][]*Entry[V]
	used      [2]int
	rehashIdx int // -1 when not rehashing; else next bucket of ht[0] to move
	keyMem    int // bytes allocated for the keys of linked entries
	seed      maphash.Seed
}

// New returns an empty table sized for hint entries.
func New[V any](hint int) *Table[V] {
	t := &Table[V]{rehashIdx: -1, seed: maphash.MakeSeed()}
	if hint > 0 {
		t.ht[0] = make([]*Entry[V], tableSize(hint))
	}
	return t
}

// tableSize is the smallest power of two >= n (and >= initialSize).
func tableSize(n int) int {
	if n <= initialSize {
		return initialSize
	}
	return 1 << bits.Len(uint(n-1))
}

// Len is the number of entries.
func (t *Table[V]) Len() int { return t.used[0] + t.used[1] }

func (t *Table[V]) rehashing() bool { return t.rehashIdx >= 0 }

func (t *Table[V]) hashBytes(b []byte) uint64  { return maphash.Bytes(t.seed, b) }
func (t *Table[V]) hashString(s string) uint64 { return maphash.String(t.seed, s) }

// Find returns the entry whose key equals key, or nil.
func (t *Table[V]) Find(key []byte) *Entry[V] {
	if t.Len() == 0 {
		return nil
	}
	t.rehashStep()
	h := t.hashBytes(key)
	for i := 0; i < 2; i++ {
		tab := t.ht[i]
		if len(tab) == 0 {
			continue
		}
		for e := tab[h&uint64(len(tab)-1)]; e != nil; e = e.next {
			if e.Key == string(key) {
				return e
			}
		}
		if !t.rehashing() {
			break
		}
	}
	return nil
}

// Insert links e into the table. The caller guarantees that no entry with
// e.Key is present.
func (t *Table[V]) Insert(e *Entry[V]) {
	t.rehashStep()
	t.expandIfNeeded()
	i := 0
	if t.rehashing() {
		i = 1
	}
	tab := t.ht[i]
	b := t.hashString(e.Key) & uint64(len(tab)-1)
	e.next = tab[b]
	tab[b] = e
	t.used[i]++
	t.keyMem += AllocSize(len(e.Key))
}

// Delete unlinks and returns the entry whose key equals key, or nil.
// The table may start shrinking afterwards.
func (t *Table[V]) Delete(key []byte) *Entry[V] {
	if t.Len() == 0 {
		return nil
	}
	t.rehashStep()
	h := t.hashBytes(key)
	for i := 0; i < 2; i++ {
		tab := t.ht[i]
		if len(tab) == 0 {
			continue
		}
		b := h & uint64(len(tab)-1)
		var prev *Entry[V]
		for e := tab[b]; e != nil; e = e.next {
			if e.Key == string(key) {
				if prev == nil {
					tab[b] = e.next
				} else {
					prev.next = e.next
				}
				e.next = nil
				t.used[i]--
				t.keyMem -= AllocSize(len(e.Key))
				t.finishRehash()
				t.shrinkIfNeeded()
				return e
			}
			prev = e
		}
		if !t.rehashing() {
			break
		}
	}
	return nil
}

func (t *Table[V]) expandIfNeeded() {
	if t.rehashing() {
		return
	}
	if len(t.ht[0]) == 0 {
		t.ht[0] = make([]*Entry[V], initialSize)
		return
	}
	if t.used[0] >= len(t.ht[0]) {
		t.resize(tableSize(t.used[0] + 1))
	}
}

func (t *Table[V]) shrinkIfNeeded() {
	if t.rehashing() {
		return
	}
	size := len(t.ht[0])
	if size > initialSize && t.used[0]*100/size < minFill {
		t.resize(tableSize(t.used[0]))
	}
}

// resize starts an incremental rehash into a table of size buckets.
func (t *Table[V]) resize(size int) {
	if size == len(t.ht[0]) {
		return
	}
	if t.used[0] == 0 {
		t.ht[0] = make([]*Entry[V], size)
		return
	}
	t.ht[1] = make([]*Entry[V], size)
	t.rehashIdx = 0
}

// rehashStep moves one non-empty bucket (visiting at most emptyVisits empty
// ones) from the old table to the new one, as Redis's _dictRehashStep.
func (t *Table[V]) rehashStep() {
	if !t.rehashing() {
		return
	}
	old, nw := t.ht[0], t.ht[1]
	mask := uint64(len(nw) - 1)
	for visits := emptyVisits; t.used[0] > 0; {
		e := old[t.rehashIdx]
		if e == nil {
			t.rehashIdx++
			if visits--; visits == 0 {
				return
			}
			continue
		}
		for e != nil {
			next := e.next
			b := t.hashString(e.Key) & mask
			e.next = nw[b]
			nw[b] = e
			t.used[0]--
			t.used[1]++
			e = next
		}
		old[t.rehashIdx] = nil
		t.rehashIdx++
		break
	}
	t.finishRehash()
}

// finishRehash makes the new table the main one once the old is empty.
func (t *Table[V]) finishRehash() {
	if t.rehashing() && t.used[0] == 0 {
		t.ht[0], t.ht[1] = t.ht[1], nil
		t.used[0], t.used[1] = t.used[1], 0
		t.rehashIdx = -1
		t.shrinkIfNeeded()
	}
}

// All yields every entry once. The table must not be modified during the
// iteration.
func (t *Table[V]) All() iter.Seq[*Entry[V]] {
	return func(yield func(*Entry[V]) bool) {
		for i := 0; i < 2; i++ {
			for _, e := range t.ht[i] {
				for ; e != nil; e = e.next {
					if !yield(e) {
						return
					}
				}
			}
		}
	}
}

// Scan calls fn for the entries of the bucket(s) at cursor and returns the
// next cursor, 0 when the scan is complete. It is Redis's dictScan: the
// cursor counts up in reversed bit order, so an element that stays in the
// table from the first to the last call is reported at least once even if
// the table grows or shrinks in between; some may be reported twice.
func (t *Table[V]) Scan(cursor uint64, fn func(*Entry[V])) uint64 {
	if t.Len() == 0 {
		return 0
	}
	v := cursor
	emit := func(tab []*Entry[V], b uint64) {
		for e := tab[b]; e != nil; {
			next := e.next
			fn(e)
			e = next
		}
	}
	if !t.rehashing() {
		m0 := uint64(len(t.ht[0]) - 1)
		emit(t.ht[0], v&m0)
		v |= ^m0
		return bits.Reverse64(bits.Reverse64(v) + 1)
	}
	small, large := t.ht[0], t.ht[1]
	if len(small) > len(large) {
		small, large = large, small
	}
	m0, m1 := uint64(len(small)-1), uint64(len(large)-1)
	emit(small, v&m0)
	for {
		emit(large, v&m1)
		v |= ^m1
		v = bits.Reverse64(bits.Reverse64(v) + 1)
		if v&(m0^m1) == 0 {
			break
		}
	}
	return v
}

// fairChain is the chain length up to which Random is exactly uniform.
const fairChain = 5

// Random returns a uniformly random entry, or nil when empty. It picks a
// random non-empty bucket and keeps it with probability min(k, fairChain)/
// fairChain for a chain of k entries, then a random entry of the chain:
// every entry of a chain no longer than fairChain (nearly all, at Redis's
// load factors) is equally likely, unlike Redis's dictGetRandomKey, which
// favours short chains. rnd must be random: the search for a non-empty
// bucket retries until it draws one.
func (t *Table[V]) Random(rnd Rand) *Entry[V] {
	if t.Len() == 0 {
		return nil
	}
	t.rehashStep()
	for {
		head := t.randomBucket(rnd)
		n := 0
		for e := head; e != nil; e = e.next {
			n++
		}
		if n < fairChain && rnd.IntN(fairChain) >= n {
			continue
		}
		e := head
		for i := rnd.IntN(n); i > 0; i-- {
			e = e.next
		}
		return e
	}
}

// randomBucket returns the head of a random non-empty bucket.
func (t *Table[V]) randomBucket(rnd Rand) *Entry[V] {
	if t.rehashing() {
		// Buckets of ht[0] below rehashIdx are empty.
		n0 := len(t.ht[0])
		span := n0 + len(t.ht[1]) - t.rehashIdx
		for {
			i := t.rehashIdx + rnd.IntN(span)
			var head *Entry[V]
			if i >= n0 {
				head = t.ht[1][i-n0]
			} else {
				head = t.ht[0][i]
			}
			if head != nil {
				return head
			}
		}
	}
	tab := t.ht[0]
	for {
		if head := tab[rnd.IntN(len(tab))]; head != nil {
			return head
		}
	}
}

// MemoryUsage estimates the bytes held by the table header, the bucket
// arrays and the entries' keys (not by the entries themselves, which the
// caller allocates).
func (t *Table[V]) MemoryUsage() int {
	const header = 88
	return header + AllocSize(8*len(t.ht[0])) + AllocSize(8*len(t.ht[1])) + t.keyMem
}
