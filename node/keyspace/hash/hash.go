package hash

import (
	"iter"
	"unsafe"

	"github.com/shoal-dev/shoal/node/keyspace/internal/dict"
)

// Limits are the hash-max-listpack-entries and hash-max-listpack-value
// settings in force when a hash is changed.
type Limits struct {
	MaxListpackEntries int
	MaxListpackValue   int
}

// DefaultLimits are Redis 7.0's defaults (512 entries, 64 bytes).
func DefaultLimits() Limits {
	return Limits{MaxListpackEntries: 512, MaxListpackValue: 64}
}

// Hash is a Redis hash. The zero value is an empty listpack-encoded hash.
type Hash struct {
	lp    []byte // listpack encoding: field, value, field, value, ...
	n     int    // fields in lp
	table *dict.Table[uint32]
	mem   int // bytes held by the table's entries
}

// A hashtable entry keeps its field and value in one allocation: Key is the
// field, a prefix of that allocation, and Val the length of the value that
// follows it. Two allocations per field (the entry and the bytes) keep a
// hashtable field near Redis's size.

// newEntry returns an entry for field and value.
func newEntry(field, value []byte) *dict.Entry[uint32] {
	kv := string(field) + string(value)
	return &dict.Entry[uint32]{Key: kv[:len(field)], Val: uint32(len(value))}
}

// entryValue is the value bytes of e. An empty value has no bytes after
// the field: its slice must not point one past the field's allocation (a
// pointer to the next object or to a free span, which the garbage collector
// may find and fail on: "found bad pointer in Go heap").
func entryValue(e *dict.Entry[uint32]) []byte {
	if e.Val == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(e.Key)), len(e.Key))), e.Val)
}

// setEntryValue replaces e's value. The new field bytes equal the old, so
// the table's hash of e.Key is unchanged.
func setEntryValue(e *dict.Entry[uint32], value []byte) {
	kv := e.Key + string(value)
	e.Key, e.Val = kv[:len(e.Key)], uint32(len(value))
}

// Sizes on a 64-bit platform, rounded to the allocator's size class.
const (
	hashStructSize  = 48
	entryStructSize = 32 // dict.Entry[uint32]
)

// New returns an empty hash.
func New() *Hash { return &Hash{} }

// Len is HLEN.
func (h *Hash) Len() int {
	if h.table != nil {
		return h.table.Len()
	}
	return h.n
}

// Encoding is what OBJECT ENCODING reports.
func (h *Hash) Encoding() string {
	if h.table != nil {
		return "hashtable"
	}
	return "listpack"
}

// MemoryUsage approximates the bytes the hash holds, for MEMORY USAGE and
// maxmemory accounting.
func (h *Hash) MemoryUsage() int {
	if h.table != nil {
		return hashStructSize + h.table.MemoryUsage() + h.mem
	}
	return hashStructSize + dict.AllocSize(cap(h.lp))
}

// stringBytes views a string the table holds as bytes, without copying.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// entrySize is what one table entry costs.
func entrySize(e *dict.Entry[uint32]) int {
	return entryStructSize + dict.AllocSize(len(e.Key)+int(e.Val))
}

// Get is HGET: the value of field.
func (h *Hash) Get(field []byte) ([]byte, bool) {
	if h.table != nil {
		e := h.table.Find(field)
		if e == nil {
			return nil, false
		}
		return entryValue(e), true
	}
	_, voff := lpFind(h.lp, field)
	if voff < 0 {
		return nil, false
	}
	v, _ := lpRead(h.lp, voff)
	return v, true
}

// Exists is HEXISTS.
func (h *Hash) Exists(field []byte) bool {
	_, ok := h.Get(field)
	return ok
}

// StrLen is HSTRLEN: the length of field's value, 0 when there is none.
func (h *Hash) StrLen(field []byte) int {
	v, _ := h.Get(field)
	return len(v)
}

// Set is one field of HSET: it sets field to value and reports whether the
// field is new. A field or value longer than lim.MaxListpackValue, or more
// than lim.MaxListpackEntries fields, turns a listpack into a hashtable.
// field and value are copied.
func (h *Hash) Set(field, value []byte, lim Limits) (created bool) {
	if h.table == nil {
		if len(field) <= lim.MaxListpackValue && len(value) <= lim.MaxListpackValue {
			return h.setListpack(field, value, lim)
		}
		h.convert()
	}
	if e := h.table.Find(field); e != nil {
		h.mem -= entrySize(e)
		setEntryValue(e, value)
		h.mem += entrySize(e)
		return false
	}
	e := newEntry(field, value)
	h.table.Insert(e)
	h.mem += entrySize(e)
	return true
}

func (h *Hash) setListpack(field, value []byte, lim Limits) bool {
	if _, voff := lpFind(h.lp, field); voff >= 0 {
		h.lp = lpReplace(h.lp, voff, value)
		return false
	}
	h.lp = lpAppend(lpAppend(h.lp, field), value)
	h.n++
	if h.n > lim.MaxListpackEntries {
		h.convert()
	}
	return true
}

// TryConversion is Redis's hashTypeTryConversion, which HSET and HMSET run
// on all their arguments before setting any: a listpack hash becomes a
// hashtable when one of them is longer than lim.MaxListpackValue.
func (h *Hash) TryConversion(lim Limits, args ...[]byte) {
	if h.table != nil {
		return
	}
	for _, a := range args {
		if len(a) > lim.MaxListpackValue {
			h.convert()
			return
		}
	}
}

// convert turns the listpack into a hashtable.
func (h *Hash) convert() {
	t := dict.New[uint32](h.n)
	mem := 0
	for off := 0; off < len(h.lp); {
		f, voff := lpRead(h.lp, off)
		v, next := lpRead(h.lp, voff)
		e := newEntry(f, v)
		t.Insert(e)
		mem += entrySize(e)
		off = next
	}
	h.lp, h.n, h.table, h.mem = nil, 0, t, mem
}

// Delete is one field of HDEL: it removes field and reports whether it was
// there.
func (h *Hash) Delete(field []byte) bool {
	if h.table != nil {
		e := h.table.Delete(field)
		if e == nil {
			return false
		}
		h.mem -= entrySize(e)
		return true
	}
	foff, _ := lpFind(h.lp, field)
	if foff < 0 {
		return false
	}
	h.lp = lpDeletePair(h.lp, foff)
	h.n--
	return true
}

// All yields every field and value: in insertion order for a listpack, in
// table order for a hashtable (as HGETALL, HKEYS and HVALS reply, and for
// snapshot and AOF writers). The hash must not change during the iteration.
func (h *Hash) All() iter.Seq2[[]byte, []byte] {
	return func(yield func(field, value []byte) bool) {
		if h.table != nil {
			for e := range h.table.All() {
				if !yield(stringBytes(e.Key), entryValue(e)) {
					return
				}
			}
			return
		}
		for off := 0; off < len(h.lp); {
			f, voff := lpRead(h.lp, off)
			v, next := lpRead(h.lp, voff)
			if !yield(f, v) {
				return
			}
			off = next
		}
	}
}

// Copy returns an independent copy of the hash (COPY), in the same
// encoding.
func (h *Hash) Copy() any { return h.Clone() }

// Clone is Copy with its type.
func (h *Hash) Clone() *Hash {
	if h.table == nil {
		return &Hash{lp: append([]byte(nil), h.lp...), n: h.n}
	}
	c := &Hash{table: dict.New[uint32](h.table.Len()), mem: h.mem}
	for e := range h.table.All() {
		c.table.Insert(newEntry(stringBytes(e.Key), entryValue(e)))
	}
	return c
}
