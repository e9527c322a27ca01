package persistence

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// SnapshotWriter streams a snapshot into an io.Writer. It keeps the running
// checksum and the current database, so callers only pass records. Errors
// stick: after the first failure every call returns it.
type SnapshotWriter struct {
	dst     io.Writer
	bw      *bufio.Writer
	sum     *crcWriter
	db      int
	closed  bool
	err     error
	scratch []byte
}

// crcWriter checksums everything that passes through it.
type crcWriter struct {
	w   io.Writer
	crc uint64
	n   int64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc = crc64Update(c.crc, p[:n])
	c.n += int64(n)
	return n, err
}

// NewSnapshotWriter starts a snapshot on w by writing the header.
func NewSnapshotWriter(w io.Writer) *SnapshotWriter {
	sum := &crcWriter{w: w}
	s := &SnapshotWriter{dst: w, sum: sum, bw: bufio.NewWriterSize(sum, 256<<10)}
	s.write([]byte(SnapshotMagic))
	s.write(binary.LittleEndian.AppendUint16(s.scratch[:0], SnapshotVersion))
	return s
}

func (s *SnapshotWriter) write(p []byte) {
	if s.closed && s.err == nil {
		s.err = fmt.Errorf("persistence: snapshot writer closed")
	}
	if s.err == nil {
		_, s.err = s.bw.Write(p)
	}
}

// Aux writes a metadata field.
func (s *SnapshotWriter) Aux(name, value string) error {
	b := append(s.scratch[:0], opAux)
	b = appendBytes(b, []byte(name))
	b = appendBytes(b, []byte(value))
	s.scratch = b[:0]
	s.write(b)
	return s.err
}

// ResizeDB writes the size hint of database db (AuxResizeDB): keys keys,
// expires of them with a TTL. Write it before the keys of db.
func (s *SnapshotWriter) ResizeDB(db, keys, expires int) error {
	return s.Aux(AuxResizeDB, formatResizeDB(db, keys, expires))
}

// Key writes one key of database db. value is the type's encoding (see
// Codecs.AppendValue); expireAt is unix ms or NoExpire.
func (s *SnapshotWriter) Key(db int, key []byte, expireAt int64, t ValueType, value []byte) error {
	if s.err != nil {
		return s.err
	}
	if !t.Valid() {
		return fmt.Errorf("persistence: cannot write unknown type tag 0x%02x", byte(t))
	}
	if db < 0 {
		return fmt.Errorf("persistence: negative db %d", db)
	}
	if expireAt < NoExpire {
		return fmt.Errorf("persistence: bad expire time %d", expireAt)
	}
	b := s.scratch[:0]
	if db != s.db {
		b = append(b, opSelectDB)
		b = binary.AppendUvarint(b, uint64(db))
		s.db = db
	}
	if expireAt != NoExpire {
		b = append(b, opExpireMs)
		b = binary.LittleEndian.AppendUint64(b, uint64(expireAt))
	}
	b = append(b, byte(t))
	b = appendBytes(b, key)
	b = binary.AppendUvarint(b, uint64(len(value)))
	s.scratch = b[:0]
	s.write(b)
	s.write(value)
	return s.err
}

// Flush hands what is buffered to the underlying writer, so a reader at
// the other end of a connection sees progress (the snapshot stays open).
func (s *SnapshotWriter) Flush() error {
	if s.err == nil && !s.closed {
		s.err = s.bw.Flush()
	}
	return s.err
}

// Close writes the end marker and the checksum and flushes. It does not
// close the underlying writer (sync and close files yourself).
func (s *SnapshotWriter) Close() error {
	if s.closed {
		return s.err
	}
	s.write([]byte{opEOF})
	s.closed = true
	if s.err == nil {
		s.err = s.bw.Flush()
	}
	if s.err == nil {
		_, s.err = s.dst.Write(binary.LittleEndian.AppendUint64(nil, s.sum.crc))
	}
	return s.err
}

// Size returns how many bytes have reached the underlying writer so far.
func (s *SnapshotWriter) Size() int64 {
	if s.closed && s.err == nil {
		return s.sum.n + 8 // the checksum goes around the crcWriter
	}
	return s.sum.n
}
