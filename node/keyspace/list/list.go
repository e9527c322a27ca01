package list

// End is the end of a list a command works on: LEFT (Head) or RIGHT (Tail)
// in LMOVE and LMPOP, the L or R of LPUSH and RPOP.
type End uint8

const (
	Head End = iota // LEFT: index 0
	Tail            // RIGHT: index -1
)

// Other returns the opposite end.
func (e End) Other() End { return 1 - e }

// Fill bounds as Redis's quicklist applies them to list-max-listpack-size.
const (
	DefaultFill = -2
	minFill     = -5
	maxFill     = 1<<15 - 1
	// sizeSafetyLimit caps a node in bytes when fill counts elements.
	sizeSafetyLimit = 8192
)

// List is a Redis list. The zero value is not usable; call New.
type List struct {
	head, tail *node
	count      int
	nodes      int32
	fill       int32
}

// New returns an empty list whose nodes follow list-max-listpack-size fill:
// a negative fill -1..-5 caps a node at 4, 8, 16, 32 or 64 KB, a positive
// fill caps it at that many elements (and at 8 KB).
func New(fill int) *List {
	return &List{fill: int32(clampFill(fill))}
}

func clampFill(fill int) int {
	switch {
	case fill == 0:
		return 1
	case fill < minFill:
		return minFill
	case fill > maxFill:
		return maxFill
	}
	return fill
}

// limit is the most bytes a node holding more than one element may use.
func (l *List) limit() int {
	if l.fill < 0 {
		// fill -1 .. -5 is Redis's optimization_level: 4 KB .. 64 KB.
		return 4096 << (-l.fill - 1)
	}
	return sizeSafetyLimit
}

// allowInsert reports whether one more entry of sz bytes fits into n.
func (l *List) allowInsert(n *node, sz int) bool {
	if n.size()+sz > l.limit() {
		return false
	}
	return l.fill < 0 || n.count < l.fill
}

// Len is LLEN.
func (l *List) Len() int { return l.count }

// Encoding is what OBJECT ENCODING reports for a list in Redis 7.0, which
// keeps every list in a quicklist.
func (l *List) Encoding() string { return "quicklist" }

// nodeStructSize and listStructSize are the sizes of node and List on a
// 64-bit platform, rounded to the allocator's size class.
const (
	nodeStructSize = 64
	listStructSize = 32
)

// MemoryUsage approximates the bytes the list holds, for MEMORY USAGE and
// maxmemory accounting.
func (l *List) MemoryUsage() int {
	m := listStructSize
	for n := l.head; n != nil; n = n.next {
		m += nodeStructSize + cap(n.buf)
	}
	return m
}

// Push adds v at the given end (LPUSH pushes at Head, RPUSH at Tail). The
// bytes of v are copied.
func (l *List) Push(end End, v []byte) {
	sz := entrySize(len(v))
	n := l.endNode(end)
	if n == nil || !l.allowInsert(n, sz) {
		n = l.addEndNode(end, sz)
	}
	l.pushInto(n, end, v)
}

func (l *List) endNode(end End) *node {
	if end == Head {
		return l.head
	}
	return l.tail
}

// addEndNode links a new empty node at the given end, sized for an entry
// of sz bytes: a first node starts small, so that short lists stay small,
// later ones start at an eighth of the node limit.
func (l *List) addEndNode(end End, sz int) *node {
	size := sz
	if l.head != nil {
		size = max(sz, l.limit()/8)
	}
	n := newNode(size, end)
	if end == Head {
		l.link(nil, n, l.head)
	} else {
		l.link(l.tail, n, nil)
	}
	return n
}

// unlink removes n from the list.
func (l *List) unlink(n *node) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		l.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = nil, nil
	l.nodes--
}

// Pop removes and returns the element at the given end (LPOP from Head,
// RPOP from Tail); ok is false when the list is empty.
func (l *List) Pop(end End) (v []byte, ok bool) {
	n := l.endNode(end)
	if n == nil {
		return nil, false
	}
	if end == Head {
		var next int
		v, next = readForward(n.buf, int(n.lo))
		n.lo = int32(next)
	} else {
		var start int
		v, start = readBackward(n.buf, int(n.hi))
		n.hi = int32(start)
	}
	n.count--
	l.count--
	if n.count == 0 {
		l.unlink(n)
	}
	return v, true
}

// Move pops an element from src's from end and pushes it at dst's to end,
// as LMOVE and RPOPLPUSH do; src and dst may be the same list. It returns
// the moved element, valid until dst changes.
func Move(src, dst *List, from, to End) ([]byte, bool) {
	v, ok := src.Pop(from)
	if !ok {
		return nil, false
	}
	if src == dst {
		// Pushing may move the popped bytes inside the shared buffer.
		v = append([]byte(nil), v...)
	}
	dst.Push(to, v)
	return v, true
}

// Copy returns an independent copy of the list (COPY), each node packed
// into a buffer of exactly its size.
func (l *List) Copy() any { return l.Clone() }

// Clone is Copy with its type.
func (l *List) Clone() *List {
	c := &List{count: l.count, fill: l.fill}
	for n := l.head; n != nil; n = n.next {
		m := &node{buf: allocBuf(n.size()), count: n.count}
		m.hi = int32(copy(m.buf, n.buf[n.lo:n.hi]))
		c.link(c.tail, m, nil)
	}
	return c
}
