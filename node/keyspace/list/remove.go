package list

import "bytes"

// Remove is LREM: it removes elements equal to v and returns how many. A
// positive count removes the first count matches from the head, a negative
// one the first -count matches from the tail, zero removes them all.
func (l *List) Remove(count int, v []byte) int {
	quota := count
	if count < 0 {
		// -math.MinInt overflows to itself, which like 0 means no limit,
		// as it does in Redis.
		quota = -count
	}
	if quota < 0 {
		quota = 0
	}
	removed := 0
	if count >= 0 {
		for n := l.head; n != nil && (quota == 0 || removed < quota); {
			next := n.next
			removed += l.removeInNode(n, v, quotaLeft(quota, removed), Head)
			n = next
		}
		return removed
	}
	for n := l.tail; n != nil && (quota == 0 || removed < quota); {
		prev := n.prev
		removed += l.removeInNode(n, v, quotaLeft(quota, removed), Tail)
		n = prev
	}
	return removed
}

// quotaLeft is how many more matches may be removed; 0 means no limit.
func quotaLeft(quota, removed int) int {
	if quota == 0 {
		return 0
	}
	return quota - removed
}

// removeInNode removes up to quota (0: all) entries equal to v from n,
// scanning from the given end, in one compacting pass, and returns how
// many it removed. An emptied node is unlinked; a shrunk one is merged
// into the neighbour already scanned when both fit in one node.
func (l *List) removeInNode(n *node, v []byte, quota int, from End) int {
	k := 0
	if from == Head {
		w, r := int(n.lo), int(n.lo)
		for r < int(n.hi) {
			e, next := readForward(n.buf, r)
			if (quota == 0 || k < quota) && bytes.Equal(e, v) {
				k++
			} else {
				if w != r {
					copy(n.buf[w:], n.buf[r:next])
				}
				w += next - r
			}
			r = next
		}
		n.hi = int32(w)
	} else {
		w, r := int(n.hi), int(n.hi)
		for r > int(n.lo) {
			e, start := readBackward(n.buf, r)
			if (quota == 0 || k < quota) && bytes.Equal(e, v) {
				k++
			} else {
				w -= r - start
				if w != start {
					copy(n.buf[w:], n.buf[start:r])
				}
			}
			r = start
		}
		n.lo = int32(w)
	}
	if k == 0 {
		return 0
	}
	n.count -= int32(k)
	l.count -= k
	switch {
	case n.count == 0:
		l.unlink(n)
	case from == Head && n.prev != nil && l.fits(n.prev, n):
		l.mergeInto(n.prev, n, Tail)
	case from == Tail && n.next != nil && l.fits(n.next, n):
		l.mergeInto(n.next, n, Head)
	}
	return k
}

// fits reports whether the entries of a and b fit in one node.
func (l *List) fits(a, b *node) bool {
	if a.size()+b.size() > l.limit() {
		return false
	}
	return l.fill < 0 || a.count+b.count <= l.fill
}

// mergeInto moves all entries of n to the given end of dst, a neighbour of
// n, and unlinks n.
func (l *List) mergeInto(dst, n *node, end End) {
	sz := n.size()
	off := dst.reserve(sz, end, l.limit())
	copy(dst.buf[off:off+sz], n.buf[n.lo:n.hi])
	dst.count += n.count
	l.unlink(n)
}

// Trim is LTRIM: it keeps only the elements from start to stop, both
// inclusive and normalised as LRANGE does; an empty range empties the list.
func (l *List) Trim(start, stop int) {
	from, to, ok := normRange(start, stop, l.count)
	if !ok {
		l.dropFront(l.count)
		return
	}
	l.dropBack(l.count - 1 - to)
	l.dropFront(from)
}

// dropFront removes the first k elements.
func (l *List) dropFront(k int) {
	for k > 0 {
		n := l.head
		if int(n.count) <= k {
			k -= int(n.count)
			l.count -= int(n.count)
			l.unlink(n)
			continue
		}
		n.lo = int32(n.seek(k))
		n.count -= int32(k)
		l.count -= k
		return
	}
}

// dropBack removes the last k elements.
func (l *List) dropBack(k int) {
	for k > 0 {
		n := l.tail
		if int(n.count) <= k {
			k -= int(n.count)
			l.count -= int(n.count)
			l.unlink(n)
			continue
		}
		n.hi = int32(n.seek(int(n.count) - k))
		n.count -= int32(k)
		l.count -= k
		return
	}
}
