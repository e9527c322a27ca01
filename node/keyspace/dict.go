package keyspace

import (
	"hash/maphash"
	"math/bits"
)

const dictMinSize = 4

// dict is a chained hash table with incremental rehashing, shaped like
// Redis's dict so SCAN can use its reverse-binary cursor. t[0] is the main
// table; during a rehash t[1] is the new one and buckets of t[0] below
// rehashIdx have been moved.
type dict struct {
	seed      maphash.Seed
	t         [2][]*Entry
	rehashIdx int // -1 when not rehashing
	n         int
}

func newDict(seed maphash.Seed) dict { return dict{seed: seed, rehashIdx: -1} }

func (d *dict) hash(key []byte) uint64       { return maphash.Bytes(d.seed, key) }
func (d *dict) hashString(key string) uint64 { return maphash.String(d.seed, key) }
func (d *dict) rehashing() bool              { return d.rehashIdx >= 0 }

// rehashStep moves up to n buckets (visiting at most 10n empty ones).
func (d *dict) rehashStep(n int) bool {
	if !d.rehashing() {
		return false
	}
	empty := n * 10
	t0, t1 := d.t[0], d.t[1]
	mask1 := uint64(len(t1) - 1)
	for ; n > 0 && d.rehashIdx < len(t0); n-- {
		for t0[d.rehashIdx] == nil {
			d.rehashIdx++
			if d.rehashIdx == len(t0) {
				break
			}
			if empty--; empty == 0 {
				return true
			}
		}
		if d.rehashIdx == len(t0) {
			break
		}
		for e := t0[d.rehashIdx]; e != nil; {
			next := e.next
			i := d.hashString(e.key) & mask1
			e.next = t1[i]
			t1[i] = e
			e = next
		}
		t0[d.rehashIdx] = nil
		d.rehashIdx++
	}
	if d.rehashIdx >= len(t0) {
		d.t[0], d.t[1] = t1, nil
		d.rehashIdx = -1
		return false
	}
	return true
}

// resize starts a rehash into a table of the smallest power of two >= size.
func (d *dict) resize(size int) {
	if d.rehashing() {
		return
	}
	if size < dictMinSize {
		size = dictMinSize
	}
	size = 1 << bits.Len(uint(size-1))
	if size == len(d.t[0]) {
		return
	}
	if d.t[0] == nil {
		d.t[0] = make([]*Entry, size)
		return
	}
	d.t[1] = make([]*Entry, size)
	d.rehashIdx = 0
}

func (d *dict) find(key []byte) *Entry {
	if d.n == 0 {
		return nil
	}
	if d.rehashing() {
		d.rehashStep(1)
	}
	h := d.hash(key)
	tag := hashTag(h)
	for ti := 0; ti < 2; ti++ {
		t := d.t[ti]
		if t == nil {
			break
		}
		for e := t[h&uint64(len(t)-1)]; e != nil; e = e.next {
			if e.tag() == tag && e.key == string(key) {
				return e
			}
		}
		if !d.rehashing() {
			break
		}
	}
	return nil
}

// insert adds an entry whose key is known to be absent.
func (d *dict) insert(e *Entry) {
	d.prepareAdd()
	d.link(e, d.hashString(e.key))
}

// addIfAbsent links e unless an entry with e's key is present, and returns
// that entry (nil when e was linked): Redis's dictAdd, with one hash and
// one walk of the key's bucket(s) where a lookup then an insert take two.
func (d *dict) addIfAbsent(e *Entry) *Entry {
	d.prepareAdd()
	h := d.hashString(e.key)
	tag := hashTag(h)
	for ti := 0; ti < 2; ti++ {
		t := d.t[ti]
		if t == nil {
			break
		}
		for x := t[h&uint64(len(t)-1)]; x != nil; x = x.next {
			if x.tag() == tag && x.key == e.key {
				return x
			}
		}
		if !d.rehashing() {
			break
		}
	}
	d.link(e, h)
	return nil
}

// prepareAdd does what precedes adding a key: a rehash step, and a grow
// when the table is full (Redis's _dictExpandIfNeeded, load factor 1).
func (d *dict) prepareAdd() {
	if d.rehashing() {
		d.rehashStep(1)
	}
	if !d.rehashing() && d.n >= len(d.t[0]) {
		d.resize(d.n + 1)
	}
}

// link puts e, whose key hashes to h, at the head of its bucket in the
// table new keys go to (the new one during a rehash).
func (d *dict) link(e *Entry, h uint64) {
	t := d.t[0]
	if d.rehashing() {
		t = d.t[1]
	}
	i := h & uint64(len(t)-1)
	e.setTag(hashTag(h))
	e.next = t[i]
	t[i] = e
	d.n++
}

// maxReserve bounds the buckets reserve allocates on a size hint (1 GiB
// of bucket slots): a hint is read from a file or a master before the keys
// it announces, and a bad one must not take all memory.
const maxReserve = 1 << 27

// reserve grows the table so that n keys fit without another resize
// (Redis's dictExpand for RESIZEDB). An empty table gets its buckets at
// once; a non-empty one starts an incremental rehash as a grow would. It
// never shrinks, and does nothing during a rehash.
func (d *dict) reserve(n int) {
	n = min(n, maxReserve)
	if d.rehashing() || n <= len(d.t[0]) {
		return
	}
	if d.n == 0 {
		d.t[0] = nil // a fresh allocation, not a rehash of nothing
	}
	d.resize(n)
}

// unlink removes e from the table.
func (d *dict) unlink(e *Entry) bool {
	if d.n == 0 {
		return false
	}
	if d.rehashing() {
		d.rehashStep(1)
	}
	h := d.hashString(e.key)
	for ti := 0; ti < 2; ti++ {
		t := d.t[ti]
		if t == nil {
			break
		}
		i := h & uint64(len(t)-1)
		var prev *Entry
		for x := t[i]; x != nil; prev, x = x, x.next {
			if x == e {
				if prev == nil {
					t[i] = e.next
				} else {
					prev.next = e.next
				}
				e.next = nil
				d.n--
				d.maybeShrink()
				return true
			}
		}
		if !d.rehashing() {
			break
		}
	}
	return false
}

// maybeShrink starts shrinking when the table is less than 1/8 full.
func (d *dict) maybeShrink() {
	if !d.rehashing() && len(d.t[0]) > dictMinSize && d.n*8 < len(d.t[0]) {
		d.resize(d.n)
	}
}

func (d *dict) clear() {
	d.t[0], d.t[1] = nil, nil
	d.rehashIdx = -1
	d.n = 0
}

// forEach visits every entry; fn must not add or remove keys.
func (d *dict) forEach(fn func(e *Entry) bool) {
	for ti := 0; ti < 2; ti++ {
		for _, b := range d.t[ti] {
			for e := b; e != nil; {
				next := e.next
				if !fn(e) {
					return
				}
				e = next
			}
		}
	}
}

func rev(v uint64) uint64 { return bits.Reverse64(v) }

// scan visits the buckets of cursor v and returns the next cursor (0 when
// done), with Redis's reverse-binary increment: entries present for the
// whole scan are visited at least once across resizes.
func (d *dict) scan(v uint64, fn func(e *Entry)) uint64 {
	if d.n == 0 {
		return 0
	}
	visit := func(b *Entry) {
		for e := b; e != nil; {
			next := e.next
			fn(e)
			e = next
		}
	}
	if !d.rehashing() {
		t := d.t[0]
		m0 := uint64(len(t) - 1)
		visit(t[v&m0])
		v |= ^m0
		v = rev(v)
		v++
		return rev(v)
	}
	small, large := d.t[0], d.t[1]
	if len(small) > len(large) {
		small, large = large, small
	}
	m0, m1 := uint64(len(small)-1), uint64(len(large)-1)
	visit(small[v&m0])
	for {
		visit(large[v&m1])
		v |= ^m1
		v = rev(v)
		v++
		v = rev(v)
		if v&(m0^m1) == 0 {
			break
		}
	}
	return v
}

// random returns a random entry (Redis's dictGetRandomKey), or nil.
func (d *dict) random(rnd func(n int) int) *Entry {
	if d.n == 0 {
		return nil
	}
	if d.rehashing() {
		d.rehashStep(1)
	}
	var b *Entry
	if d.rehashing() {
		s0, s1 := len(d.t[0]), len(d.t[1])
		for b == nil {
			h := d.rehashIdx + rnd(s0+s1-d.rehashIdx)
			if h >= s0 {
				b = d.t[1][h-s0]
			} else {
				b = d.t[0][h]
			}
		}
	} else {
		t := d.t[0]
		for b == nil {
			b = t[rnd(len(t))]
		}
	}
	n := 0
	for e := b; e != nil; e = e.next {
		n++
	}
	i := rnd(n)
	for ; i > 0; i-- {
		b = b.next
	}
	return b
}
