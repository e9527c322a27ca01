package replication

// Backlog is the replication backlog: a ring buffer holding the last Size
// bytes of the replication stream, addressed by replication offset.
// Offsets are those of Redis: the offset of the first byte of the stream
// is 1, and after n bytes the master's offset is n.
type Backlog struct {
	buf []byte
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
	return &Backlog{buf: make([]byte, size), end: offset}
}

// Size is the capacity in bytes.
func (b *Backlog) Size() int { return len(b.buf) }

// Offset is the replication offset of the last byte written.
func (b *Backlog) Offset() int64 { return b.end }

// HistLen is the number of bytes held.
func (b *Backlog) HistLen() int64 { return b.histlen }

// FirstByteOffset is repl_backlog_first_byte_offset: the offset of the
// oldest byte held (end+1 when empty).
func (b *Backlog) FirstByteOffset() int64 { return b.end - b.histlen + 1 }

// Write appends p to the stream, dropping the oldest bytes beyond Size.
func (b *Backlog) Write(p []byte) {
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

// Resize changes the capacity (CONFIG SET repl-backlog-size), keeping as
// many of the most recent bytes as fit.
func (b *Backlog) Resize(size int) {
	if size < 1 {
		size = 1
	}
	if size == len(b.buf) {
		return
	}
	keep, _ := b.AppendFrom(nil, b.FirstByteOffset())
	nb := &Backlog{buf: make([]byte, size), end: b.end - int64(len(keep))}
	nb.Write(keep)
	*b = *nb
}
