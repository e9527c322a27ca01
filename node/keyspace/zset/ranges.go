package zset

// Range queries and range deletions. Ranks are 0-based and already
// sanitised (see RankRange); with rev, rank 0 is the highest member.
// A negative count means no LIMIT; a negative offset selects nothing (as in
// Redis, whose skip loop never ends early).

// AppendRangeByRank appends the members at ranks start..stop (ZRANGE).
func (z *ZSet) AppendRangeByRank(dst []Entry, start, stop int, rev bool) []Entry {
	n := z.Len()
	if start < 0 || stop >= n || start > stop {
		return dst
	}
	count := stop - start + 1
	if z.sl != nil {
		var x *node
		if rev {
			x = z.sl.tail
			if start > 0 {
				x = z.sl.byRank(n - start)
			}
		} else {
			x = z.sl.first()
			if start > 0 {
				x = z.sl.byRank(start + 1)
			}
		}
		for ; count > 0 && x != nil; count-- {
			dst = append(dst, Entry{sbytes(x.Key), x.Val.score})
			if rev {
				x = x.Val.backward
			} else {
				x = levels(x)[0].forward
			}
		}
		return dst
	}
	if rev {
		offs := lpOffsets(make([]int, 0, 129), z.lp)
		for i := n - 1 - start; count > 0; i, count = i-1, count-1 {
			m, s, _ := lpDecode(z.lp, offs[i])
			dst = append(dst, Entry{m, s})
		}
		return dst
	}
	off, i := 0, 0
	for ; i < start; i++ {
		_, _, off = lpDecode(z.lp, off)
	}
	for ; count > 0; count-- {
		m, s, next := lpDecode(z.lp, off)
		dst = append(dst, Entry{m, s})
		off = next
	}
	return dst
}

// matcher abstracts score and lex ranges over both encodings.
type matcher interface {
	gte(m []byte, s float64) bool // at or above min
	lte(m []byte, s float64) bool // at or below max
	isEmpty() bool
}

type scoreMatcher struct{ r *ScoreRange }

func (sm scoreMatcher) gte(_ []byte, s float64) bool { return sm.r.gteMin(s) }
func (sm scoreMatcher) lte(_ []byte, s float64) bool { return sm.r.lteMax(s) }
func (sm scoreMatcher) isEmpty() bool                { return sm.r.empty() }

type lexMatcher struct{ r *LexRange }

func (lm lexMatcher) gte(m []byte, _ float64) bool { return lm.r.gteMin(m) }
func (lm lexMatcher) lte(m []byte, _ float64) bool { return lm.r.lteMax(m) }
func (lm lexMatcher) isEmpty() bool                { return lm.r.empty() }

// lpInRange is zzlIsInRange / zzlIsInLexRange: the last entry is at or
// above min and the first at or below max.
func (z *ZSet) lpInRange(mt matcher, offs []int) bool {
	if mt.isEmpty() || z.n == 0 {
		return false
	}
	m, s, _ := lpDecode(z.lp, offs[z.n-1])
	if !mt.gte(m, s) {
		return false
	}
	m, s, _ = lpDecode(z.lp, 0)
	return mt.lte(m, s)
}

// lpFirstIn returns the index of the first entry in range (zzlFirstInRange),
// or -1.
func (z *ZSet) lpFirstIn(mt matcher, offs []int) int {
	if !z.lpInRange(mt, offs) {
		return -1
	}
	for i := 0; i < z.n; i++ {
		m, s, _ := lpDecode(z.lp, offs[i])
		if mt.gte(m, s) {
			if mt.lte(m, s) {
				return i
			}
			return -1
		}
	}
	return -1
}

// lpLastIn returns the index of the last entry in range (zzlLastInRange),
// or -1.
func (z *ZSet) lpLastIn(mt matcher, offs []int) int {
	if !z.lpInRange(mt, offs) {
		return -1
	}
	for i := z.n - 1; i >= 0; i-- {
		m, s, _ := lpDecode(z.lp, offs[i])
		if mt.lte(m, s) {
			if mt.gte(m, s) {
				return i
			}
			return -1
		}
	}
	return -1
}

// AppendRangeByScore appends members in r (ZRANGEBYSCORE, or
// ZREVRANGEBYSCORE with rev) after skipping offset, at most count.
func (z *ZSet) AppendRangeByScore(dst []Entry, r ScoreRange, rev bool, offset, count int) []Entry {
	if z.sl != nil && !rev && offset == 0 {
		// The common walk (GEOSEARCH's cells, ZRANGEBYSCORE without
		// LIMIT) without the matcher interface, which would move r to
		// the heap on every call.
		for x := z.sl.firstInRange(&r); x != nil && count != 0 && r.lteMax(x.Val.score); x, count = step(x, false), count-1 {
			dst = append(dst, Entry{sbytes(x.Key), x.Val.score})
		}
		return dst
	}
	rc := r
	return z.appendRange(dst, scoreMatcher{&rc}, rev, offset, count)
}

// AppendRangeByLex appends members in r (ZRANGEBYLEX, or ZREVRANGEBYLEX
// with rev) after skipping offset, at most count.
func (z *ZSet) AppendRangeByLex(dst []Entry, r LexRange, rev bool, offset, count int) []Entry {
	return z.appendRange(dst, lexMatcher{&r}, rev, offset, count)
}

func (z *ZSet) appendRange(dst []Entry, mt matcher, rev bool, offset, count int) []Entry {
	if offset < 0 || (offset > 0 && offset >= z.Len()) || count == 0 {
		return dst
	}
	if z.sl != nil {
		x := z.slEdge(mt, rev)
		for ; x != nil && offset > 0; offset-- {
			x = step(x, rev)
		}
		for ; x != nil && count != 0; count-- {
			m := sbytes(x.Key)
			if rev && !mt.gte(m, x.Val.score) || !rev && !mt.lte(m, x.Val.score) {
				break
			}
			dst = append(dst, Entry{m, x.Val.score})
			x = step(x, rev)
		}
		return dst
	}
	offs := lpOffsets(make([]int, 0, 129), z.lp)
	var i, dir int
	if rev {
		i, dir = z.lpLastIn(mt, offs), -1
	} else {
		i, dir = z.lpFirstIn(mt, offs), 1
	}
	if i < 0 {
		return dst
	}
	for i += dir * offset; i >= 0 && i < z.n && count != 0; i, count = i+dir, count-1 {
		m, s, _ := lpDecode(z.lp, offs[i])
		if rev && !mt.gte(m, s) || !rev && !mt.lte(m, s) {
			break
		}
		dst = append(dst, Entry{m, s})
	}
	return dst
}

func step(x *node, rev bool) *node {
	if rev {
		return x.Val.backward
	}
	return levels(x)[0].forward
}

// slEdge is the first (or, with rev, last) node in range.
func (z *ZSet) slEdge(mt matcher, rev bool) *node {
	switch mt := mt.(type) {
	case scoreMatcher:
		if rev {
			return z.sl.lastInRange(mt.r)
		}
		return z.sl.firstInRange(mt.r)
	case lexMatcher:
		if rev {
			return z.sl.lastInLexRange(mt.r)
		}
		return z.sl.firstInLexRange(mt.r)
	}
	return nil
}

// CountByScore is ZCOUNT.
func (z *ZSet) CountByScore(r ScoreRange) int { return z.countRange(scoreMatcher{&r}) }

// CountByLex is ZLEXCOUNT.
func (z *ZSet) CountByLex(r LexRange) int { return z.countRange(lexMatcher{&r}) }

func (z *ZSet) countRange(mt matcher) int {
	if z.sl != nil {
		first := z.slEdge(mt, false)
		if first == nil {
			return 0
		}
		count := z.sl.length - (z.sl.rank(first.Val.score, first.Key) - 1)
		if last := z.slEdge(mt, true); last != nil {
			count -= z.sl.length - z.sl.rank(last.Val.score, last.Key)
		}
		return count
	}
	offs := lpOffsets(make([]int, 0, 129), z.lp)
	i := z.lpFirstIn(mt, offs)
	if i < 0 {
		return 0
	}
	count := 0
	for ; i < z.n; i++ {
		m, s, _ := lpDecode(z.lp, offs[i])
		if !mt.lte(m, s) {
			break
		}
		count++
	}
	return count
}

// RemoveRangeByRank is ZREMRANGEBYRANK over sanitised 0-based ranks.
func (z *ZSet) RemoveRangeByRank(start, stop int) int {
	if start < 0 || stop >= z.Len() || start > stop {
		return 0
	}
	if z.sl != nil {
		return z.sl.removeRangeByRank(start+1, stop+1)
	}
	offs := lpOffsets(make([]int, 0, 129), z.lp)
	z.lp = lpDelete(z.lp, offs[start], offs[stop+1])
	z.n -= stop - start + 1
	return stop - start + 1
}

// RemoveRangeByScore is ZREMRANGEBYSCORE.
func (z *ZSet) RemoveRangeByScore(r ScoreRange) int {
	if z.sl != nil {
		return z.sl.removeRangeByScore(&r)
	}
	return z.lpRemoveRange(scoreMatcher{&r})
}

// RemoveRangeByLex is ZREMRANGEBYLEX.
func (z *ZSet) RemoveRangeByLex(r LexRange) int {
	if z.sl != nil {
		return z.sl.removeRangeByLex(&r)
	}
	return z.lpRemoveRange(lexMatcher{&r})
}

// lpRemoveRange is zzlDeleteRangeByScore / zzlDeleteRangeByLex: from the
// first entry in range, delete while at or below max.
func (z *ZSet) lpRemoveRange(mt matcher) int {
	offs := lpOffsets(make([]int, 0, 129), z.lp)
	i := z.lpFirstIn(mt, offs)
	if i < 0 {
		return 0
	}
	j := i
	for ; j < z.n; j++ {
		m, s, _ := lpDecode(z.lp, offs[j])
		if !mt.lte(m, s) {
			break
		}
	}
	z.lp = lpDelete(z.lp, offs[i], offs[j])
	z.n -= j - i
	return j - i
}

// Pop removes and returns up to count members from the low end (ZPOPMIN) or,
// with max, the high end (ZPOPMAX), in pop order. The returned members do
// not alias the set.
func (z *ZSet) Pop(count int, max bool) []Entry {
	n := z.Len()
	count = min(count, n)
	if count <= 0 {
		return nil
	}
	out := make([]Entry, 0, count)
	if z.sl != nil {
		for ; count > 0; count-- {
			x := z.sl.first()
			if max {
				x = z.sl.tail
			}
			// Members are immutable strings: the views stay valid.
			out = append(out, Entry{sbytes(x.Key), x.Val.score})
			z.sl.remove(sbytes(x.Key))
		}
		return out
	}
	if max {
		out = z.AppendRangeByRank(out, 0, count-1, true)
	} else {
		out = z.AppendRangeByRank(out, 0, count-1, false)
	}
	// Rebuild the listpack in a new buffer so the returned views survive.
	offs := lpOffsets(make([]int, 0, 129), z.lp)
	var rest []byte
	if max {
		rest = z.lp[:offs[n-count]]
	} else {
		rest = z.lp[offs[count]:]
	}
	z.lp = append(make([]byte, 0, len(rest)), rest...)
	z.n -= count
	return out
}
