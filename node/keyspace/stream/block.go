package stream

import (
	"encoding/binary"
)

// A block is a run of consecutive entries packed in one byte slice, as
// Redis's listpack under one radix tree key. Its layout:
//
//	header  uvarint master field count, then the master fields (uvarint
//	        length, bytes): the fields of the block's first entry
//	entries flags byte (flagDeleted, flagSameFields), uvarint ms delta
//	        from first.Ms, uvarint seq (seq - first.Seq when the ms delta
//	        is 0, the seq itself otherwise), then either the values of the
//	        master fields (flagSameFields) or a uvarint pair count and the
//	        pairs, each string a uvarint length and its bytes.
type block struct {
	first   ID // the master ID (the first entry's, deleted or not)
	last    ID // the greatest ID in the block, deleted or not
	live    int32
	deleted int32
	// lastDeleted: the entry at last is deleted (LastEntryID must look
	// further back).
	lastDeleted bool
	data        []byte
}

const (
	flagDeleted    = 1
	flagSameFields = 2
)

// newBlock starts a block whose master entry is id with fv's fields.
func newBlock(id ID, fv [][]byte, capHint int) *block {
	b := &block{first: id, last: id}
	b.data = make([]byte, 0, capHint)
	b.data = binary.AppendUvarint(b.data, uint64(len(fv)/2))
	for i := 0; i < len(fv); i += 2 {
		b.data = appendString(b.data, fv[i])
	}
	return b
}

func appendString(dst, s []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// masterFields returns the master fields (appended to dst) and the offset
// of the first entry.
func (b *block) masterFields(dst [][]byte) ([][]byte, int) {
	n, off := binary.Uvarint(b.data)
	for i := uint64(0); i < n; i++ {
		var s []byte
		s, off = readString(b.data, off)
		dst = append(dst, s)
	}
	return dst, off
}

func readString(data []byte, off int) ([]byte, int) {
	l, k := binary.Uvarint(data[off:])
	off += k
	return data[off : off+int(l) : off+int(l)], off + int(l)
}

// sameFields reports whether fv's fields are the master fields.
func (b *block) sameFields(fv [][]byte) bool {
	n, off := binary.Uvarint(b.data)
	if int(n) != len(fv)/2 {
		return false
	}
	for i := 0; i < len(fv); i += 2 {
		var s []byte
		s, off = readString(b.data, off)
		if string(s) != string(fv[i]) {
			return false
		}
	}
	return true
}

// append adds an entry (id above b.last).
func (b *block) append(id ID, fv [][]byte) {
	same := b.sameFields(fv)
	flags := byte(0)
	if same {
		flags = flagSameFields
	}
	b.data = append(b.data, flags)
	b.data = binary.AppendUvarint(b.data, id.Ms-b.first.Ms)
	if id.Ms == b.first.Ms {
		b.data = binary.AppendUvarint(b.data, id.Seq-b.first.Seq)
	} else {
		b.data = binary.AppendUvarint(b.data, id.Seq)
	}
	if same {
		for i := 1; i < len(fv); i += 2 {
			b.data = appendString(b.data, fv[i])
		}
	} else {
		b.data = binary.AppendUvarint(b.data, uint64(len(fv)/2))
		for _, s := range fv {
			b.data = appendString(b.data, s)
		}
	}
	b.last = id
	b.lastDeleted = false
	b.live++
}

// cursor walks a block's entries forward.
type cursor struct {
	b      *block
	master [][]byte
	off    int
	// current entry
	at      int // offset of the current entry's flags
	flags   byte
	id      ID
	deleted bool
	fv      [][]byte
}

func (b *block) cursor(scratch *cursor) *cursor {
	c := scratch
	c.b = b
	c.master, c.off = b.masterFields(c.master[:0])
	return c
}

// next decodes the entry at c.off (ID, flags and fields); false at the
// end.
func (c *cursor) next() bool {
	if !c.nextHeader() {
		return false
	}
	c.readFields()
	return true
}

// nextHeader decodes the ID and flags of the entry at c.off; the fields
// are read by readFields or skipped by skipFields.
func (c *cursor) nextHeader() bool {
	data := c.b.data
	if c.off >= len(data) {
		return false
	}
	c.at = c.off
	c.flags = data[c.off]
	off := c.off + 1
	msd, k := binary.Uvarint(data[off:])
	off += k
	seq, k := binary.Uvarint(data[off:])
	off += k
	if msd == 0 {
		c.id = ID{c.b.first.Ms, c.b.first.Seq + seq}
	} else {
		c.id = ID{c.b.first.Ms + msd, seq}
	}
	c.deleted = c.flags&flagDeleted != 0
	c.off = off
	return true
}

// readFields decodes the current entry's fields into c.fv.
func (c *cursor) readFields() {
	data, off := c.b.data, c.off
	c.fv = c.fv[:0]
	if c.flags&flagSameFields != 0 {
		for _, f := range c.master {
			var v []byte
			v, off = readString(data, off)
			c.fv = append(c.fv, f, v)
		}
	} else {
		n, k := binary.Uvarint(data[off:])
		off += k
		for i := uint64(0); i < 2*n; i++ {
			var s []byte
			s, off = readString(data, off)
			c.fv = append(c.fv, s)
		}
	}
	c.off = off
}

// skipFields moves past the current entry's fields.
func (c *cursor) skipFields() {
	data, off := c.b.data, c.off
	n := uint64(len(c.master))
	if c.flags&flagSameFields == 0 {
		m, k := binary.Uvarint(data[off:])
		off += k
		n = 2 * m
	}
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(data[off:])
		off += k + int(l)
	}
	c.off = off
}

// markDeleted flags the current entry deleted.
func (c *cursor) markDeleted() {
	c.b.data[c.at] |= flagDeleted
	if c.id == c.b.last {
		c.b.lastDeleted = true
	}
	c.b.live--
	c.b.deleted++
	c.deleted = true
}

// offsets returns the offsets of every entry (for reverse walks).
func (b *block) offsets(dst []int) []int {
	var c cursor
	b.cursor(&c)
	for c.nextHeader() {
		dst = append(dst, c.at)
		c.skipFields()
	}
	return dst
}

// seek positions c to decode the entry at off with next.
func (c *cursor) seek(off int) { c.off = off }

func (b *block) clone() *block {
	n := *b
	n.data = append([]byte(nil), b.data...)
	return &n
}
