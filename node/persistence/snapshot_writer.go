package persistence

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// SnapshotWriter streams an RDB file (version 10, as Redis 7.0 writes it)
// into an io.Writer. It keeps the running checksum and the current
// database, so callers only pass records. Errors stick: after the first
// failure every call returns it.
type SnapshotWriter struct {
	dst     io.Writer
	bw      *bufio.Writer
	sum     *crcWriter
	db      int
	closed  bool
	err     error
	scratch []byte
	opt     SnapshotOptions
	lzf     *rdb.LZF
}

// SnapshotOptions are Redis's settings of what a snapshot holds beyond
// the keys and values.
type SnapshotOptions struct {
	// Compress is rdbcompression yes: strings longer than 20 bytes (keys,
	// string values, the blobs of packed encodings, the members of plain
	// ones) are written LZF-compressed when that saves 4 bytes or more.
	Compress bool
	// Access is the access hint written before each key whose Record
	// carries one of that kind: its LRU idle time (RDB_OPCODE_IDLE) or
	// its LFU counter (RDB_OPCODE_FREQ), as Redis writes them when its
	// maxmemory-policy is an LRU or LFU one.
	Access AccessPolicy
}

// AccessPolicy is the kind of a key's access information: Redis's
// maxmemory-policy flags MAXMEMORY_FLAG_LRU and MAXMEMORY_FLAG_LFU.
type AccessPolicy uint8

// The access policies.
const (
	AccessNone AccessPolicy = iota
	AccessLRU               // Record.Access is the idle time in seconds
	AccessLFU               // Record.Access is the LFU counter (0-255)
)

// AccessPolicyOf maps a maxmemory-policy to the hint Redis saves with it.
func AccessPolicyOf(maxmemoryPolicy string) AccessPolicy {
	switch maxmemoryPolicy {
	case "allkeys-lru", "volatile-lru":
		return AccessLRU
	case "allkeys-lfu", "volatile-lfu":
		return AccessLFU
	}
	return AccessNone
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
	s := &SnapshotWriter{dst: w, sum: sum, bw: bufio.NewWriterSize(sum, 256<<10), db: -1}
	s.write(fmt.Appendf(nil, "%s%04d", RDBMagic, rdb.Version))
	return s
}

// SetOptions sets what the keys written from now on carry (call it
// before the first key).
func (s *SnapshotWriter) SetOptions(o SnapshotOptions) {
	s.opt = o
	if o.Compress && s.lzf == nil {
		s.lzf = new(rdb.LZF)
	}
}

// Options are the writer's options.
func (s *SnapshotWriter) Options() SnapshotOptions { return s.opt }

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
	b := append(s.scratch[:0], rdb.OpAux)
	b = rdb.AppendString(b, []byte(name))
	b = rdb.AppendString(b, []byte(value))
	s.scratch = b[:0]
	s.write(b)
	return s.err
}

// Function writes a function library's code (RDB_OPCODE_FUNCTION2).
func (s *SnapshotWriter) Function(code []byte) error {
	b := append(s.scratch[:0], rdb.OpFunction2)
	b = rdb.AppendString(b, code)
	s.scratch = b[:0]
	s.write(b)
	return s.err
}

// ResizeDB selects database db and writes its size hint (RESIZEDB): keys
// keys, expires of them with a TTL. Write it before the keys of db.
func (s *SnapshotWriter) ResizeDB(db, keys, expires int) error {
	if db < 0 || keys < 0 || expires < 0 {
		return fmt.Errorf("persistence: bad size hint %d %d %d", db, keys, expires)
	}
	b := s.selectDB(s.scratch[:0], db)
	b = append(b, rdb.OpResizeDB)
	b = rdb.AppendLen(b, uint64(keys))
	b = rdb.AppendLen(b, uint64(expires))
	s.scratch = b[:0]
	s.write(b)
	return s.err
}

func (s *SnapshotWriter) selectDB(b []byte, db int) []byte {
	if db != s.db {
		b = append(b, rdb.OpSelectDB)
		b = rdb.AppendLen(b, uint64(db))
		s.db = db
	}
	return b
}

// Key writes one key of database db. value is the type's RDB encoding
// (type byte, object: see Codecs.AppendValue); expireAt is unix ms or
// NoExpire.
func (s *SnapshotWriter) Key(db int, key []byte, expireAt int64, t ValueType, value []byte) error {
	return s.key(db, key, expireAt, t, value, AccessNone, 0)
}

// WriteRecord writes one key with its access hint when the record
// carries one of the writer's kind (SnapshotOptions.Access).
func (s *SnapshotWriter) WriteRecord(r Record) error {
	return s.key(r.DB, r.Key, r.ExpireAt, r.Type, r.Value, r.AccessKind, r.Access)
}

func (s *SnapshotWriter) key(db int, key []byte, expireAt int64, t ValueType, value []byte, kind AccessPolicy, access uint64) error {
	if s.err != nil {
		return s.err
	}
	if !t.Valid() {
		return fmt.Errorf("persistence: cannot write unknown type tag 0x%02x", byte(t))
	}
	if len(value) == 0 || !rdb.IsObjectType(value[0]) {
		return fmt.Errorf("persistence: key %q: not an RDB object", string(key)) // a copy: key must not escape
	}
	if db < 0 {
		return fmt.Errorf("persistence: negative db %d", db)
	}
	if expireAt < NoExpire {
		return fmt.Errorf("persistence: bad expire time %d", expireAt)
	}
	// Encode straight into the buffered writer's free space when the
	// record fits there (one copy fewer), else into scratch.
	b := s.scratch[:0]
	fromBuf := !s.closed && s.bw.Available() >= len(key)+len(value)+48
	if fromBuf {
		b = s.bw.AvailableBuffer()
	}
	b = s.selectDB(b, db)
	if expireAt != NoExpire {
		b = append(b, rdb.OpExpireTimeMs)
		b = binary.LittleEndian.AppendUint64(b, uint64(expireAt))
	}
	if kind != AccessNone && kind == s.opt.Access {
		if kind == AccessLRU {
			b = rdb.AppendLen(append(b, rdb.OpIdle), access)
		} else {
			b = append(b, rdb.OpFreq, byte(min(access, 255)))
		}
	}
	b = append(b, value[0])
	switch {
	case s.lzf != nil && s.opt.Compress:
		b = s.lzf.AppendString(b, key)
		b = s.lzf.AppendObjectBody(b, value)
		s.write(b)
	case fromBuf:
		b = rdb.AppendString(b, key)
		s.write(append(b, value[1:]...))
	default: // a large value: no copy of it
		b = rdb.AppendString(b, key)
		s.write(b)
		s.write(value[1:])
	}
	if !fromBuf && cap(b) <= 1<<20 {
		s.scratch = b[:0]
	}
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
	s.write([]byte{rdb.OpEOF})
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
