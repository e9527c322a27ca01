package replication

// Backlog is the replication backlog: a ring buffer holding the last Size
// bytes of the replication stream, addressed by replication offset.
// Offsets are those of Redis: the offset of the first byte of the stream
// is 1, and after n bytes the master's offset is n.
//
// As Redis 7's backlog, it takes memory as the stream arrives, not all of
// Size up front: `CONFIG SET repl-backlog-size 1tb` is a limit the node
// may never reach, not an allocation that kills it.
type Backlog struct {
	buf   []byte // the ring; grows up to limit as bytes arrive
	limit int
	// end is the replication offset of the last byte written (the master
	// offset); histlen is how many of the most recent bytes are held.
	end     int64
	histlen int64
	idx     int // where the next byte goes
}

// NewBacklog makes a backlog of size bytes whose stream so far ends at
// offset (the master's replication offset).
func NewBacklog(size int, offset int64) *Backlog {
	if size < 1 {
		size = 1
	}
	return &Backlog{buf: make([]byte, min(size, initialBacklogBytes)), limit: size, end: offset}
}

// initialBacklogBytes is what a new backlog allocates before any traffic.
const initialBacklogBytes = 64 << 10

// Size is the capacity in bytes (repl-backlog-size), not what is allocated.
func (b *Backlog) Size() int { return b.limit }

// Offset is the replication offset of the last byte written.
func (b *Backlog) Offset() int64 { return b.end }

// HistLen is the number of bytes held.
func (b *Backlog) HistLen() int64 { return b.histlen }

// FirstByteOffset is repl_backlog_first_byte_offset: the offset of the
// oldest byte held (end+1 when empty).
func (b *Backlog) FirstByteOffset() int64 { return b.end - b.histlen + 1 }

// Write appends p to the stream, dropping the oldest bytes beyond Size.
func (b *Backlog) Write(p []byte) {
	if need := b.histlen + int64(len(p)); need > int64(len(b.buf)) && len(b.buf) < b.limit {
		b.grow(int(min(int64(b.limit), max(need, 2*int64(len(b.buf))))))
	}
	b.end += int64(len(p))
	if len(p) >= len(b.buf) {
		copy(b.buf, p[len(p)-len(b.buf):])
		b.idx = 0
		b.histlen = int64(len(b.buf))
		return
	}
	n := copy(b.buf[b.idx:], p)
	if n < len(p) {
		copy(b.buf, p[n:])
	}
	b.idx = (b.idx + len(p)) % len(b.buf)
	b.histlen += int64(len(p))
	if b.histlen > int64(len(b.buf)) {
		b.histlen = int64(len(b.buf))
	}
}

// Has reports whether a replica asking for the stream from offset next
// (PSYNC's offset: the first byte it has not processed) can continue from
// the backlog.
func (b *Backlog) Has(next int64) bool {
	return next >= b.FirstByteOffset() && next <= b.end+1
}

// AppendFrom appends to dst the bytes from offset next to the end, as a
// partial resynchronisation sends them. ok is false when they are no
// longer (or not yet) in the backlog.
func (b *Backlog) AppendFrom(dst []byte, next int64) ([]byte, bool) {
	if !b.Has(next) {
		return dst, false
	}
	n := int(b.end - next + 1)
	start := (b.idx - n + len(b.buf)) % len(b.buf)
	if start+n <= len(b.buf) {
		return append(dst, b.buf[start:start+n]...), true
	}
	dst = append(dst, b.buf[start:]...)
	return append(dst, b.buf[:n-(len(b.buf)-start)]...), true
}

// grow reallocates the ring with n bytes, the held bytes first in order.
func (b *Backlog) grow(n int) {
	keep, _ := b.AppendFrom(nil, b.FirstByteOffset())
	b.buf = make([]byte, n)
	copy(b.buf, keep)
	b.idx = len(keep) % n
}

// Resize changes the capacity (CONFIG SET repl-backlog-size), keeping as
// many of the most recent bytes as fit.
func (b *Backlog) Resize(size int) {
	if size < 1 {
		size = 1
	}
	b.limit = size
	if size >= len(b.buf) {
		return // grows as bytes arrive
	}
	keep, _ := b.AppendFrom(nil, b.FirstByteOffset())
	nb := &Backlog{buf: make([]byte, size), limit: size, end: b.end - int64(len(keep))}
	nb.Write(keep)
	*b = *nb
}
