package zset

import "github.com/shoal-dev/shoal/node/keyspace/internal/dict"

// Rand is the injected random source (math/rand/v2's *Rand satisfies it).
type Rand = dict.Rand

// randomSubStrategyMul is ZRANDMEMBER_SUB_STRATEGY_MUL: when count*3 > size
// Redis copies the set and removes random members instead of sampling.
const randomSubStrategyMul = 3

// RandomMember is ZRANDMEMBER without a count; ok is false when empty.
func (z *ZSet) RandomMember(rnd Rand) (Entry, bool) {
	if z.Len() == 0 {
		return Entry{}, false
	}
	if z.sl != nil {
		x := z.sl.index.Random(rnd)
		return Entry{sbytes(x.Key), x.Val.score}, true
	}
	i := rnd.IntN(z.n)
	off := 0
	for ; i > 0; i-- {
		_, _, off = lpDecode(z.lp, off)
	}
	m, s, _ := lpDecode(z.lp, off)
	return Entry{m, s}, true
}

// AppendRandom is ZRANDMEMBER with a count. With unique (a positive count)
// it appends min(count, Len) distinct members: the whole set from the
// highest score down when count >= Len (the order Redis's set iterator
// walks it), else a uniform random subset in random order. Without
// unique (a negative count, whose magnitude is passed) it appends count
// independent uniform picks.
func (z *ZSet) AppendRandom(dst []Entry, count int, unique bool, rnd Rand) []Entry {
	n := z.Len()
	if count <= 0 || n == 0 {
		return dst
	}
	if !unique || count == 1 {
		if z.sl != nil {
			for ; count > 0; count-- {
				x := z.sl.index.Random(rnd)
				dst = append(dst, Entry{sbytes(x.Key), x.Val.score})
			}
			return dst
		}
		offs := lpOffsets(make([]int, 0, 129), z.lp)
		for ; count > 0; count-- {
			m, s, _ := lpDecode(z.lp, offs[rnd.IntN(n)])
			dst = append(dst, Entry{m, s})
		}
		return dst
	}
	if count >= n {
		return z.AppendRangeByRank(dst, 0, n-1, true)
	}
	if count*randomSubStrategyMul > n || z.sl == nil {
		// Partial Fisher-Yates over all members: the first count of a
		// random permutation.
		base := len(dst)
		for m, s := range z.All() {
			dst = append(dst, Entry{m, s})
		}
		all := dst[base:]
		for i := 0; i < count; i++ {
			j := i + rnd.IntN(n-i)
			all[i], all[j] = all[j], all[i]
		}
		return dst[:base+count]
	}
	seen := make(map[*node]struct{}, count)
	for len(seen) < count {
		x := z.sl.index.Random(rnd)
		if _, dup := seen[x]; dup {
			continue
		}
		seen[x] = struct{}{}
		dst = append(dst, Entry{sbytes(x.Key), x.Val.score})
	}
	return dst
}
