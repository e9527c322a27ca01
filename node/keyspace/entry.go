package keyspace

import (
	"github.com/shoal-dev/shoal/node/keyspace/internal/number"
)

// Type is a value type, as TYPE reports it.
type Type uint8

// Value types.
const (
	TypeString Type = iota
	TypeList
	TypeSet
	TypeZSet
	TypeHash
	TypeStream
)

var typeNames = [...]string{"string", "list", "set", "zset", "hash", "stream"}

// String is the name TYPE replies with.
func (t Type) String() string { return typeNames[t] }

// TypeByName parses a TYPE name (SCAN ... TYPE).
func TypeByName(name string) (Type, bool) {
	for i, n := range typeNames {
		if n == name {
			return Type(i), true
		}
	}
	return 0, false
}

// Entry is one key with its value and metadata. Entries are pointer-stable
// for as long as the key exists; a handler may keep a *Entry for the
// duration of one command.
type Entry struct {
	key  string
	next *Entry // hash bucket chain
	// meta packs the key's hash tag (high 5 bits, see hashTag), the type (3
	// bits) and the 24-bit LRU clock (seconds) or LFU value (16-bit
	// minutes << 8 | counter), as Redis's robj. It sits next to key and
	// next, which a walk of a bucket chain reads with it.
	meta uint32
	// gen is the snapshot generation that last claimed the entry (see
	// BeginSnapshot). The Entry stays in the 80-byte size class.
	gen    uint32
	str    []byte // TypeString value, owned by the entry
	obj    any    // the value of the other types
	expire int64  // absolute unix time in ms; 0 means no expiry
}

const (
	clockMask = 1<<24 - 1
	typeShift = 24
	typeMask  = 7 << typeShift
	tagShift  = 27
	tagMask   = 31 << tagShift
)

func (e *Entry) typ() Type         { return Type(e.meta & typeMask >> typeShift) }
func (e *Entry) setType(t Type)    { e.meta = e.meta&^typeMask | uint32(t)<<typeShift&typeMask }
func (e *Entry) clock() uint32     { return e.meta & clockMask }
func (e *Entry) setClock(c uint32) { e.meta = e.meta&^clockMask | c&clockMask }

// hashTag is the part of a key's hash an entry keeps (its top 5 bits; the
// bucket index uses the low bits). A walk of a bucket chain compares it
// before the key, so most entries of other keys cost no read of their key's
// bytes (another cache miss in a big table).
func hashTag(h uint64) uint32 { return uint32(h>>59) << tagShift }

func (e *Entry) tag() uint32       { return e.meta & tagMask }
func (e *Entry) setTag(tag uint32) { e.meta = e.meta&^tagMask | tag }

// Key is the key's name.
func (e *Entry) Key() string { return e.key }

// Type is the value's type.
func (e *Entry) Type() Type { return e.typ() }

// Bytes is a string value. The slice belongs to the entry: callers may
// modify it in place only after LookupWrite, and must copy it to keep it.
func (e *Entry) Bytes() []byte { return e.str }

// SetBytes replaces a string value; b becomes owned by the entry.
func (e *Entry) SetBytes(b []byte) { e.str = b }

// Object is the value of a non-string type (*list.List, *hash.Hash, ...).
func (e *Entry) Object() any { return e.obj }

// SetObject replaces the value of a non-string entry (same type).
func (e *Entry) SetObject(o any) { e.obj = o }

// ExpireAt is the absolute expiry in unix milliseconds, or 0.
func (e *Entry) ExpireAt() int64 { return e.expire }

// SetClock sets the raw LRU/LFU field (RESTORE ... IDLETIME/FREQ).
func (e *Entry) SetClock(c uint32) { e.setClock(c) }

// Gen is the snapshot generation that last claimed the entry.
func (e *Entry) Gen() uint32 { return e.gen }

// Clock is the raw LRU/LFU field (for eviction and OBJECT IDLETIME/FREQ).
func (e *Entry) Clock() uint32 { return e.clock() }

// Int parses a string value as Redis's string2ll does; ok is false for
// non-strings and strings that are not a canonical 64-bit integer.
func (e *Entry) Int() (int64, bool) {
	if e.typ() != TypeString {
		return 0, false
	}
	return ParseInt(e.str)
}

// ParseInt parses a canonical signed 64-bit decimal (no '+', no leading
// zeros, no spaces), as Redis's string2ll.
func ParseInt(b []byte) (int64, bool) { return number.ParseLongLong(b) }

// Encoding is what OBJECT ENCODING reports, derived as Redis would encode
// the value. Objects may implement Encoding() string themselves.
func (e *Entry) Encoding() string {
	if e.typ() == TypeString {
		if _, ok := ParseInt(e.str); ok {
			return "int"
		}
		if len(e.str) <= 44 {
			return "embstr"
		}
		return "raw"
	}
	if enc, ok := e.obj.(interface{ Encoding() string }); ok {
		return enc.Encoding()
	}
	return "unknown"
}

// entryOverhead is the fixed cost of a key: the Entry (an 80-byte size
// class) and its bucket slot.
const entryOverhead = 80 + 16

// MemoryUsage estimates the bytes a key and its value use (MEMORY USAGE,
// eviction accounting). Objects report their own size by implementing
// MemoryUsage() int.
func MemoryUsage(e *Entry) int64 {
	n := int64(entryOverhead + sizeClass(len(e.key)))
	switch {
	case e.typ() == TypeString:
		n += int64(sizeClass(cap(e.str)))
	case e.obj != nil:
		if m, ok := e.obj.(interface{ MemoryUsage() int }); ok {
			n += int64(m.MemoryUsage())
		}
	}
	return n
}

// sizeClass rounds an allocation up roughly as Go's allocator does.
func sizeClass(n int) int {
	switch {
	case n == 0:
		return 0
	case n <= 16:
		return 16
	case n <= 128:
		return (n + 15) &^ 15
	case n <= 1024:
		return (n + 127) &^ 127
	default:
		return (n + 1023) &^ 1023
	}
}
