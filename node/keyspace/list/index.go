package list

import "bytes"

// normIndex turns a Redis index, where -1 is the last element, into a
// position from the head; ok is false when it is out of range.
func normIndex(i, n int) (int, bool) {
	if i < 0 {
		i += n
	}
	return i, i >= 0 && i < n
}

// locate returns the node holding element i (0 <= i < Len), the element's
// index inside that node and its byte offset, walking from the nearer end.
func (l *List) locate(i int) (n *node, idx, off int) {
	if i < l.count/2 {
		n = l.head
		for i >= int(n.count) {
			i -= int(n.count)
			n = n.next
		}
		return n, i, n.seek(i)
	}
	j := l.count - 1 - i
	n = l.tail
	for j >= int(n.count) {
		j -= int(n.count)
		n = n.prev
	}
	idx = int(n.count) - 1 - j
	return n, idx, n.seek(idx)
}

// Index is LINDEX: the element at index i (negative counts from the tail).
func (l *List) Index(i int) ([]byte, bool) {
	i, ok := normIndex(i, l.count)
	if !ok {
		return nil, false
	}
	n, _, off := l.locate(i)
	v, _ := readForward(n.buf, off)
	return v, true
}

// Set is LSET: it replaces the element at index i and reports false when
// the index is out of range.
func (l *List) Set(i int, v []byte) bool {
	i, ok := normIndex(i, l.count)
	if !ok {
		return false
	}
	n, idx, off := l.locate(i)
	_, next := readForward(n.buf, off)
	oldSz, sz := next-off, entrySize(len(v))
	if sz == oldSz {
		putEntry(n.buf[off:next], v)
		return true
	}
	at := n.closeGap(off, oldSz)
	if n.count == 1 || n.size()+sz <= l.limit() {
		at = n.openGap(at, sz, l.limit())
		putEntry(n.buf[at:at+sz], v)
		return true
	}
	n.count--
	l.count--
	l.insertAt(n, idx, at, v)
	return true
}

// Insert is LINSERT: it puts v before (or after) the first element equal to
// pivot, searching from the head, and returns the new length, or -1 when no
// element equals pivot.
func (l *List) Insert(pivot, v []byte, after bool) int {
	for n := l.head; n != nil; n = n.next {
		off := int(n.lo)
		for idx := 0; idx < int(n.count); idx++ {
			e, next := readForward(n.buf, off)
			if bytes.Equal(e, pivot) {
				if after {
					idx, off = idx+1, next
				}
				l.insertAt(n, idx, off, v)
				return l.count
			}
			off = next
		}
	}
	return -1
}

// insertAt inserts v into n so that it becomes the idx-th element of n,
// at byte offset off. When n is full the entry goes to a neighbour with
// room, a new node, or n is split around it, as quicklist does.
func (l *List) insertAt(n *node, idx, off int, v []byte) {
	sz := entrySize(len(v))
	if l.allowInsert(n, sz) {
		at := n.openGap(off, sz, l.limit())
		putEntry(n.buf[at:at+sz], v)
		n.count++
		l.count++
		return
	}
	switch {
	case idx == 0 && n.prev != nil && l.allowInsert(n.prev, sz):
		l.pushInto(n.prev, Tail, v)
	case idx == int(n.count) && n.next != nil && l.allowInsert(n.next, sz):
		l.pushInto(n.next, Head, v)
	case idx == 0:
		l.pushInto(l.linkNew(n.prev, n, sz), Tail, v)
	case idx == int(n.count):
		l.pushInto(l.linkNew(n, n.next, sz), Tail, v)
	default:
		m := n.split(off, idx)
		l.linkAfter(n, m)
		switch {
		case l.allowInsert(n, sz):
			l.pushInto(n, Tail, v)
		case l.allowInsert(m, sz):
			l.pushInto(m, Head, v)
		default:
			l.pushInto(l.linkNew(n, m, sz), Tail, v)
		}
	}
}

// pushInto adds v at the given end of node n.
func (l *List) pushInto(n *node, end End, v []byte) {
	sz := entrySize(len(v))
	off := n.reserve(sz, end, l.limit())
	putEntry(n.buf[off:off+sz], v)
	n.count++
	l.count++
}

// linkNew links a new empty node, sized for sz bytes, between prev and next
// (either may be nil at an end of the list).
func (l *List) linkNew(prev, next *node, sz int) *node {
	m := newNode(sz, Tail)
	l.link(prev, m, next)
	return m
}

// linkAfter links m right after n.
func (l *List) linkAfter(n, m *node) { l.link(n, m, n.next) }

// link puts m between prev and next, neighbours or nil at an end.
func (l *List) link(prev, m, next *node) {
	m.prev, m.next = prev, next
	if prev != nil {
		prev.next = m
	} else {
		l.head = m
	}
	if next != nil {
		next.prev = m
	} else {
		l.tail = m
	}
	l.nodes++
}
