package persistence

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// SnapshotHandler receives what a snapshot holds, in file order.
type SnapshotHandler struct {
	// Aux receives metadata fields; nil ignores them. The size hints
	// (AuxResizeDB) go to ResizeDB instead.
	Aux func(name, value []byte) error
	// ResizeDB receives the size hint of a database, before its keys
	// (Redis's RESIZEDB): keys keys, expires of them with a TTL. nil
	// ignores it; snapshots of older builds have none.
	ResizeDB func(db, keys, expires int) error
	// Key receives each key. The record's slices are not reused by the
	// loader, so the handler may keep them, unless Reuse is set.
	Key func(Record) error
	// Reuse lets the loader read each key and value into buffers it
	// reuses: the record's slices are valid only during the Key call (a
	// handler that copies them anyway saves two allocations per key).
	Reuse bool
	// Function receives the code of each function library (Redis 7's
	// FUNCTION2 records). nil refuses a file that has functions rather
	// than drop them (ErrFunctions).
	Function func(code []byte) error
	// Progress, when set, is called with the number of bytes each read
	// took from the file (LoadSnapshotFile, AOFDir.Load), between records
	// or within one: the loader's progress for INFO while loading.
	Progress func(n int)
}

// LoadError says why a snapshot or append-only file cannot be loaded and
// where: the file name and the byte offset of the record at fault. Err wraps
// one of the Err* values of this package (errors.Is works), an I/O error, or
// the error a handler returned.
type LoadError struct {
	File   string
	Offset int64
	// Tail is, for a truncated append-only file, how many bytes follow the
	// last complete command (Offset).
	Tail int64
	Err  error
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("bad file %s at offset %d: %v", e.File, e.Offset, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }

// LoadSnapshotFile reads the snapshot at path and streams its content to h.
// A missing file is returned as the os error (errors.Is(err, fs.ErrNotExist)).
// Records reach h as they are read and the checksum is checked at the end, so
// when an error is returned the caller must discard what it loaded.
func LoadSnapshotFile(path string, h SnapshotHandler) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return ReadSnapshot(progressReader(f, h.Progress), path, h)
}

// progressReader reports every read from r to progress (none when nil).
func progressReader(r io.Reader, progress func(n int)) io.Reader {
	if progress == nil {
		return r
	}
	return &countingReader{r: r, progress: progress}
}

type countingReader struct {
	r        io.Reader
	progress func(n int)
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.progress(n)
	}
	return n, err
}

// ReadSnapshot is LoadSnapshotFile over any reader; name is used in errors.
// The snapshot must be all that r holds.
func ReadSnapshot(r io.Reader, name string, h SnapshotHandler) error {
	return readSnapshot(&snapReader{r: bufio.NewReaderSize(r, 64<<10)}, name, h)
}

// ReadSnapshotStream reads one snapshot from a stream that goes on after it
// (a replication link): it consumes exactly the snapshot's bytes from br,
// up to and including the checksum, and returns the number read. The
// records reach h as they arrive, so a snapshot can be loaded while it is
// sent; when an error is returned (a bad checksum is only known at the
// end) the caller must discard what it loaded.
func ReadSnapshotStream(br *bufio.Reader, name string, h SnapshotHandler) (int64, error) {
	sr := &snapReader{r: br, stream: true}
	err := readSnapshot(sr, name, h)
	return sr.off, err
}

func readSnapshot(sr *snapReader, name string, h SnapshotHandler) error {
	rdbVersion, err := sr.header()
	if err != nil {
		return &LoadError{File: name, Offset: sr.recStart, Err: err}
	}
	if rdbVersion > 0 {
		err = sr.rdbRecords(h, rdbVersion)
	} else {
		err = sr.records(h)
	}
	if err != nil {
		return &LoadError{File: name, Offset: sr.recStart, Err: err}
	}
	return nil
}

// snapReader reads a snapshot, keeping the offset and the running checksum
// of everything consumed.
type snapReader struct {
	r        *bufio.Reader
	off      int64
	recStart int64
	crc      uint64
	stream   bool // more data may follow the snapshot: do not look for it
	// keyBuf and valBuf are reused for keys and values (SnapshotHandler.Reuse).
	keyBuf, valBuf []byte
}

// bytesInto reads a length-prefixed field into buf, reusing its storage
// when the field fits a reasonable size (a huge value gets its own slice,
// so a buffer does not stay huge).
func (sr *snapReader) bytesInto(buf *[]byte) ([]byte, error) {
	n, err := sr.uvarint()
	if err != nil {
		return nil, err
	}
	if n > 1<<20 {
		return sr.full(n)
	}
	if uint64(cap(*buf)) < n {
		*buf = make([]byte, n, max(n, 64))
	}
	b := (*buf)[:n]
	got, err := io.ReadFull(sr.r, b)
	sr.crc = crc64Update(sr.crc, b[:got])
	sr.off += int64(got)
	if err != nil {
		return nil, truncatedIfEOF(err)
	}
	return b, nil
}

func (sr *snapReader) ReadByte() (byte, error) {
	b, err := sr.r.ReadByte()
	if err != nil {
		return 0, truncatedIfEOF(err)
	}
	sr.crc = crcTables()[0][byte(sr.crc)^b] ^ sr.crc>>8
	sr.off++
	return b, nil
}

// full reads exactly n bytes into a fresh slice. It grows the slice as data
// arrives, so a corrupt huge length costs no more memory than the file has.
func (sr *snapReader) full(n uint64) ([]byte, error) {
	if n > math.MaxInt32*16 {
		return nil, fmt.Errorf("%w: length %d too large", ErrCorrupt, n)
	}
	const chunk = 1 << 20
	buf := make([]byte, 0, min(n, chunk))
	for uint64(len(buf)) < n {
		want := min(n-uint64(len(buf)), chunk)
		start := len(buf)
		buf = append(buf, make([]byte, want)...)
		got, err := io.ReadFull(sr.r, buf[start:])
		sr.crc = crc64Update(sr.crc, buf[start:start+got])
		sr.off += int64(got)
		if err != nil {
			return nil, truncatedIfEOF(err)
		}
	}
	return buf, nil
}

func (sr *snapReader) uvarint() (uint64, error) {
	v, err := binary.ReadUvarint(sr)
	if err != nil && !errors.Is(err, ErrTruncated) {
		return 0, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return v, err
}

func (sr *snapReader) bytes() ([]byte, error) {
	n, err := sr.uvarint()
	if err != nil {
		return nil, err
	}
	return sr.full(n)
}

func truncatedIfEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return err
}

// header reads the file's magic and version: an RDB file's version, or 0
// for a snapshot of an earlier shoal build.
func (sr *snapReader) header() (int, error) {
	magic, err := sr.AppendN(make([]byte, 0, 9), 5)
	if err != nil {
		if len(magic) > 0 && string(magic) != RDBMagic[:len(magic)] && string(magic) != SnapshotMagic[:len(magic)] {
			return 0, ErrBadMagic
		}
		return 0, err
	}
	switch string(magic) {
	case RDBMagic:
		v, err := sr.AppendN(nil, 4)
		if err != nil {
			return 0, err
		}
		ver, perr := strconv.Atoi(string(v))
		if perr != nil || ver < 1 || v[0] < '0' || v[0] > '9' {
			return 0, fmt.Errorf("%w: %q", ErrBadVersion, v)
		}
		if ver > rdb.Version {
			return 0, fmt.Errorf("%w: RDB version %d (this build reads up to %d, Redis 7.0's)", ErrBadVersion, ver, rdb.Version)
		}
		return ver, nil
	case SnapshotMagic[:5]:
		rest, err := sr.AppendN(nil, uint64(len(SnapshotMagic)-5))
		if err != nil {
			return 0, err
		}
		if string(rest) != SnapshotMagic[5:] {
			return 0, ErrBadMagic
		}
	default:
		return 0, ErrBadMagic
	}
	sr.recStart = sr.off
	v, err := sr.full(2)
	if err != nil {
		return 0, err
	}
	if ver := binary.LittleEndian.Uint16(v); ver == 0 || ver > SnapshotVersion {
		return 0, fmt.Errorf("%w %d (this build reads up to %d)", ErrBadVersion, ver, SnapshotVersion)
	}
	return 0, nil
}

func (sr *snapReader) records(h SnapshotHandler) error {
	db := 0
	expireAt := NoExpire
	haveExpire := false
	for {
		if !haveExpire {
			sr.recStart = sr.off
		}
		op, err := sr.ReadByte()
		if err != nil {
			return err
		}
		if haveExpire && (op == opAux || op == opSelectDB || op == opExpireMs || op == opEOF) {
			return ErrBadExpireOrder
		}
		switch op {
		case opAux:
			name, err := sr.bytes()
			if err != nil {
				return err
			}
			value, err := sr.bytes()
			if err != nil {
				return err
			}
			if err := h.aux(name, value); err != nil {
				return err
			}
		case opSelectDB:
			n, err := sr.uvarint()
			if err != nil {
				return err
			}
			if n > math.MaxInt32 {
				return fmt.Errorf("%w: db index %d", ErrCorrupt, n)
			}
			db = int(n)
		case opExpireMs:
			b, err := sr.full(8)
			if err != nil {
				return err
			}
			expireAt = int64(binary.LittleEndian.Uint64(b))
			if expireAt < 0 {
				return fmt.Errorf("%w: negative expire time %d", ErrCorrupt, expireAt)
			}
			haveExpire = true
		case opEOF:
			return sr.trailer()
		default:
			t := ValueType(op)
			if !t.Valid() {
				return fmt.Errorf("%w 0x%02x", ErrUnknownType, op)
			}
			var key, value []byte
			if h.Reuse {
				key, err = sr.bytesInto(&sr.keyBuf)
			} else {
				key, err = sr.bytes()
			}
			if err != nil {
				return err
			}
			if h.Reuse {
				value, err = sr.bytesInto(&sr.valBuf)
			} else {
				value, err = sr.bytes()
			}
			if err != nil {
				return err
			}
			rec := Record{DB: db, Key: key, ExpireAt: NoExpire, Type: t, Value: value, Legacy: true}
			if haveExpire {
				rec.ExpireAt = expireAt
			}
			haveExpire = false
			if h.Key != nil {
				if err := h.Key(rec); err != nil {
					return err
				}
			}
		}
	}
}

// aux hands an AUX field to the handler: a size hint, parsed, to
// ResizeDB, any other field to Aux.
func (h SnapshotHandler) aux(name, value []byte) error {
	if string(name) != AuxResizeDB {
		if h.Aux != nil {
			return h.Aux(name, value)
		}
		return nil
	}
	db, keys, expires, ok := parseResizeDB(string(value))
	if !ok {
		return fmt.Errorf("%w: bad %s value %q", ErrCorrupt, AuxResizeDB, value)
	}
	if h.ResizeDB != nil {
		return h.ResizeDB(db, keys, expires)
	}
	return nil
}

func (sr *snapReader) trailer() error {
	return sr.checksum(false)
}

// checksum reads the CRC-64 trailer and checks it (a zero one means "not
// computed" when zeroOK, as RDB's rdbchecksum no), then that nothing
// follows unless the file is a stream.
func (sr *snapReader) checksum(zeroOK bool) error {
	computed := sr.crc
	sr.recStart = sr.off
	b, err := sr.full(8)
	if err != nil {
		return err
	}
	if stored := binary.LittleEndian.Uint64(b); stored != computed && !(zeroOK && stored == 0) {
		return fmt.Errorf("%w: stored %016x, computed %016x", ErrBadChecksum, stored, computed)
	}
	sr.recStart = sr.off
	if sr.stream {
		return nil
	}
	if _, err := sr.r.ReadByte(); err == nil {
		return ErrTrailingData
	} else if !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
