package list

import (
	"math/bits"
	"slices"
)

// An entry is laid out as uvarint(len) | data | reverse(uvarint(len)), so a
// node can be walked from either end: the trailing length lets a reader step
// backwards over an entry the way a listpack's backlen does.

// uvarintLen is the number of bytes uvarint(n) takes.
func uvarintLen(n int) int {
	return (bits.Len64(uint64(n)|1) + 6) / 7
}

// entrySize is the number of bytes an element of n bytes takes in a node.
func entrySize(n int) int {
	return 2*uvarintLen(n) + n
}

// putEntry writes v as an entry into b, which is exactly entrySize(len(v)) long.
func putEntry(b, v []byte) {
	n := uint64(len(v))
	h := uvarintLen(len(v))
	i := 0
	for ; n >= 0x80; i++ {
		b[i] = byte(n) | 0x80
		b[len(b)-1-i] = byte(n) | 0x80
		n >>= 7
	}
	b[i] = byte(n)
	b[len(b)-1-i] = byte(n)
	copy(b[h:], v)
}

// readForward decodes the entry starting at off and returns its data and the
// offset just past it.
func readForward(buf []byte, off int) ([]byte, int) {
	b := buf[off]
	if b < 0x80 {
		start := off + 1
		end := start + int(b)
		return buf[start:end:end], end + 1
	}
	var n uint64
	var shift uint
	i := off
	for ; buf[i] >= 0x80; i++ {
		n |= uint64(buf[i]&0x7f) << shift
		shift += 7
	}
	n |= uint64(buf[i]) << shift
	h := i - off + 1
	start := off + h
	end := start + int(n)
	return buf[start:end:end], end + h
}

// readBackward decodes the entry ending at end and returns its data and the
// offset where the entry starts.
func readBackward(buf []byte, end int) ([]byte, int) {
	b := buf[end-1]
	if b < 0x80 {
		stop := end - 1
		start := stop - int(b)
		return buf[start:stop:stop], start - 1
	}
	var n uint64
	var shift uint
	i := end - 1
	for ; buf[i] >= 0x80; i-- {
		n |= uint64(buf[i]&0x7f) << shift
		shift += 7
	}
	n |= uint64(buf[i]) << shift
	h := end - i
	stop := end - h
	start := stop - int(n)
	return buf[start:stop:stop], start - h
}

// node is one quicklist node: its elements are packed in buf[lo:hi], with
// free room on both sides so that pushes at either end rarely move data.
type node struct {
	prev, next *node
	buf        []byte
	lo, hi     int32
	count      int32
}

// size is the number of bytes the node's entries occupy.
func (n *node) size() int { return int(n.hi - n.lo) }

// allocBuf returns a buffer of at least size bytes, using the whole of the
// allocator's size class.
func allocBuf(size int) []byte {
	b := slices.Grow([]byte(nil), size)
	return b[:cap(b)]
}

// newNode returns an empty node with room for about size bytes, positioned
// so that the room is on the side where the first entry will be pushed.
func newNode(size int, end End) *node {
	n := &node{buf: allocBuf(size)}
	if end == Head {
		n.lo = int32(len(n.buf))
		n.hi = n.lo
	}
	return n
}

// reserve makes room for sz bytes at the given end of the node and returns
// the offset where they go; limit is the node size the list aims for, used
// to bound how far the buffer grows.
func (n *node) reserve(sz int, end End, limit int) int {
	if end == Head {
		if int(n.lo) < sz {
			n.makeRoom(sz, end, limit)
		}
		n.lo -= int32(sz)
		return int(n.lo)
	}
	if len(n.buf)-int(n.hi) < sz {
		n.makeRoom(sz, end, limit)
	}
	off := int(n.hi)
	n.hi += int32(sz)
	return off
}

// makeRoom moves or reallocates the node's data so that at least sz bytes
// are free at the given end.
func (n *node) makeRoom(sz int, end End, limit int) {
	used := n.size()
	free := len(n.buf) - used
	var buf []byte
	if free >= sz {
		buf = n.buf
	} else {
		c := 2 * len(n.buf)
		if c > limit {
			c = limit
		}
		if c < used+sz {
			c = used + sz
		}
		buf = allocBuf(c)
		free = len(buf) - used
	}
	// Put all free room on the side being pushed, unless the node is the
	// whole list, where both ends are pushed: then split it evenly.
	lo := (free - sz) / 2
	if n.prev != nil || n.next != nil {
		lo = 0
	}
	if end == Head {
		lo = free - lo
	}
	copy(buf[lo:lo+used], n.buf[n.lo:n.hi])
	n.buf = buf
	n.lo = int32(lo)
	n.hi = int32(lo + used)
}

// openGap makes d free bytes at offset off inside the node's data (off lies
// in [lo, hi]) by moving whichever side is cheaper, growing the buffer when
// needed, and returns the offset of the gap.
func (n *node) openGap(off, d, limit int) int {
	lo, hi := int(n.lo), int(n.hi)
	backRoom := len(n.buf) - hi
	moveBack := hi-off <= off-lo
	switch {
	case backRoom >= d && (moveBack || lo < d):
		copy(n.buf[off+d:hi+d], n.buf[off:hi])
		n.hi += int32(d)
		return off
	case lo >= d:
		copy(n.buf[lo-d:off-d], n.buf[lo:off])
		n.lo -= int32(d)
		return off - d
	}
	used := hi - lo
	c := 2 * len(n.buf)
	if c > limit {
		c = limit
	}
	if c < used+d {
		c = used + d
	}
	buf := allocBuf(c)
	nlo := (len(buf) - used - d) / 2
	k := copy(buf[nlo:], n.buf[lo:off])
	copy(buf[nlo+k+d:], n.buf[off:hi])
	n.buf = buf
	n.lo = int32(nlo)
	n.hi = int32(nlo + used + d)
	return nlo + k
}

// closeGap removes the d bytes at offset off from the node's data by moving
// whichever side is cheaper, and returns the offset where the bytes that
// followed the removed ones now start.
func (n *node) closeGap(off, d int) int {
	lo, hi := int(n.lo), int(n.hi)
	if hi-(off+d) <= off-lo {
		copy(n.buf[off:], n.buf[off+d:hi])
		n.hi -= int32(d)
		return off
	}
	copy(n.buf[lo+d:off+d], n.buf[lo:off])
	n.lo += int32(d)
	return off + d
}

// seek returns the offset of the i-th entry of the node (0 <= i <= count;
// i == count gives hi), walking from the nearer end.
func (n *node) seek(i int) int {
	if i <= int(n.count)/2 {
		off := int(n.lo)
		for ; i > 0; i-- {
			_, off = readForward(n.buf, off)
		}
		return off
	}
	off := int(n.hi)
	for j := int(n.count); j > i; j-- {
		_, off = readBackward(n.buf, off)
	}
	return off
}

// split moves the entries from offset off (the idx-th entry) to the end of
// n into a new node, which the caller links after n.
func (n *node) split(off, idx int) *node {
	right := int(n.hi) - off
	m := &node{buf: allocBuf(right)}
	copy(m.buf, n.buf[off:n.hi])
	m.hi = int32(right)
	m.count = n.count - int32(idx)
	n.hi = int32(off)
	n.count = int32(idx)
	return m
}
