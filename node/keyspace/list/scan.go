package list

import (
	"bytes"
	"iter"
)

// normRange normalises LRANGE/LTRIM bounds for a list of n elements: negative
// indexes count from the tail, start is clamped to 0 and stop to n-1. ok is
// false when the range is empty.
func normRange(start, stop, n int) (from, to int, ok bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, -1, false
	}
	if stop >= n {
		stop = n - 1
	}
	return start, stop, true
}

// Iterator walks a run of elements, towards the tail or towards the head.
// It is valid until the list changes.
type Iterator struct {
	n       *node
	off     int
	left    int
	reverse bool
}

// Len is the number of elements the iterator has still to return.
func (it *Iterator) Len() int { return it.left }

// Next returns the next element; ok is false when the run is exhausted.
func (it *Iterator) Next() (v []byte, ok bool) {
	if it.left == 0 {
		return nil, false
	}
	it.left--
	if !it.reverse {
		if it.off == int(it.n.hi) {
			it.n = it.n.next
			it.off = int(it.n.lo)
		}
		v, it.off = readForward(it.n.buf, it.off)
		return v, true
	}
	if it.off == int(it.n.lo) {
		it.n = it.n.prev
		it.off = int(it.n.hi)
	}
	v, it.off = readBackward(it.n.buf, it.off)
	return v, true
}

// Range is LRANGE: an iterator over the elements from start to stop, both
// inclusive, negative indexes counting from the tail. Its Len is the reply's
// array length.
func (l *List) Range(start, stop int) Iterator {
	from, to, ok := normRange(start, stop, l.count)
	if !ok {
		return Iterator{}
	}
	n, _, off := l.locate(from)
	return Iterator{n: n, off: off, left: to - from + 1}
}

// Backward iterates over the whole list from the tail to the head.
func (l *List) Backward() Iterator {
	if l.tail == nil {
		return Iterator{}
	}
	return Iterator{n: l.tail, off: int(l.tail.hi), left: l.count, reverse: true}
}

// All yields every element from head to tail, for snapshot and AOF writers.
func (l *List) All() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for n := l.head; n != nil; n = n.next {
			for off := int(n.lo); off < int(n.hi); {
				var v []byte
				v, off = readForward(n.buf, off)
				if !yield(v) {
					return
				}
			}
		}
	}
}

// Pos is LPOS: it appends to dst the indexes of elements equal to elem and
// returns the extended slice. rank picks the first match to report (1 the
// first from the head, -1 the first from the tail, never 0), count how many
// to report (0: all), maxlen how many elements to compare (0: all).
func (l *List) Pos(dst []int, elem []byte, rank, count, maxlen int) []int {
	it := l.Range(0, -1)
	if rank < 0 {
		it = l.Backward()
		// -math.MinInt stays negative, so every match qualifies, as in
		// Redis 7.0.
		rank = -rank
	}
	matches := 0
	for index := 0; maxlen == 0 || index < maxlen; index++ {
		v, ok := it.Next()
		if !ok {
			break
		}
		if !bytes.Equal(v, elem) {
			continue
		}
		matches++
		if matches < rank {
			continue
		}
		pos := index
		if it.reverse {
			pos = l.count - index - 1
		}
		dst = append(dst, pos)
		if count != 0 && matches-rank+1 >= count {
			break
		}
	}
	return dst
}
