package hash

import "github.com/shoal-dev/shoal/node/keyspace/internal/dict"

// Rand is the random source for HRANDFIELD (math/rand/v2's *Rand
// satisfies it).
type Rand interface {
	IntN(n int) int
}

// subStrategyMul is Redis's HRANDFIELD_SUB_STRATEGY_MUL: when count*3
// exceeds the size, picking by elimination beats picking by rejection.
const subStrategyMul = 3

// RandomField is HRANDFIELD without a count: a random field and its value;
// ok is false when the hash is empty.
func (h *Hash) RandomField(rnd Rand) (field, value []byte, ok bool) {
	if h.Len() == 0 {
		return nil, nil, false
	}
	if h.table != nil {
		e := h.table.Random(rnd)
		return stringBytes(e.Key), entryValue(e), true
	}
	off := 0
	for i := rnd.IntN(h.n); i > 0; i-- {
		_, voff := lpRead(h.lp, off)
		_, off = lpRead(h.lp, voff)
	}
	f, voff := lpRead(h.lp, off)
	v, _ := lpRead(h.lp, voff)
	return f, v, true
}

// RandomCount is how many fields HRANDFIELD key count replies with: -count
// picks, repeats allowed, for a negative count; otherwise count distinct
// fields at most. count must not be math.MinInt (Redis refuses it).
func (h *Hash) RandomCount(count int) int {
	if count < 0 {
		return -count
	}
	return min(count, h.Len())
}

// RandomFields is HRANDFIELD with a count, following Redis's cases: a
// negative count (or 1) picks -count (or 1) times with repetition; a count
// not below the size returns the whole hash in order; otherwise count
// distinct fields in random order. fn is called RandomCount(count) times
// unless it returns false, which stops the picking (a client being closed).
func (h *Hash) RandomFields(count int, rnd Rand, fn func(field, value []byte) bool) {
	size := h.Len()
	if count == 0 || size == 0 {
		return
	}
	if count < 0 || count == 1 {
		h.randomWithRepetition(h.RandomCount(count), rnd, fn)
		return
	}
	if count >= size {
		for f, v := range h.All() {
			if !fn(f, v) {
				return
			}
		}
		return
	}
	if h.table != nil && count*subStrategyMul <= size {
		h.randomByRejection(count, rnd, fn)
		return
	}
	h.randomByShuffle(count, rnd, fn)
}

func (h *Hash) randomWithRepetition(n int, rnd Rand, fn func(field, value []byte) bool) {
	if h.table != nil {
		for ; n > 0; n-- {
			e := h.table.Random(rnd)
			if !fn(stringBytes(e.Key), entryValue(e)) {
				return
			}
		}
		return
	}
	offs := h.pairOffsets()
	for ; n > 0; n-- {
		f, voff := lpRead(h.lp, int(offs[rnd.IntN(len(offs))]))
		v, _ := lpRead(h.lp, voff)
		if !fn(f, v) {
			return
		}
	}
}

// randomByShuffle picks count distinct fields with a partial Fisher-Yates
// shuffle of all of them.
func (h *Hash) randomByShuffle(count int, rnd Rand, fn func(field, value []byte) bool) {
	type pair struct{ f, v []byte }
	all := make([]pair, 0, h.Len())
	for f, v := range h.All() {
		all = append(all, pair{f, v})
	}
	for i := 0; i < count; i++ {
		j := i + rnd.IntN(len(all)-i)
		all[i], all[j] = all[j], all[i]
		if !fn(all[i].f, all[i].v) {
			return
		}
	}
}

// randomByRejection picks random entries of a big table until count
// distinct ones were found.
func (h *Hash) randomByRejection(count int, rnd Rand, fn func(field, value []byte) bool) {
	seen := make(map[*dict.Entry[uint32]]struct{}, count)
	for len(seen) < count {
		e := h.table.Random(rnd)
		if _, dup := seen[e]; dup {
			continue
		}
		seen[e] = struct{}{}
		if !fn(stringBytes(e.Key), entryValue(e)) {
			return
		}
	}
}

// pairOffsets indexes the listpack: the offset of every field entry.
func (h *Hash) pairOffsets() []int32 {
	offs := make([]int32, 0, h.n)
	for off := 0; off < len(h.lp); {
		offs = append(offs, int32(off))
		_, voff := lpRead(h.lp, off)
		_, off = lpRead(h.lp, voff)
	}
	return offs
}
