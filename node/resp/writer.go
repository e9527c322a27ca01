package resp

import (
	"io"
	"math"
	"strconv"
)

// Writer appends replies to a buffer in the protocol version of the client
// (2 or 3) and writes them out on Flush. Appending never allocates once the
// buffer has grown to the size of a typical batch.
type Writer struct {
	b     []byte
	w     io.Writer
	proto int
}

// NewWriter returns a RESP2 writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w, proto: 2} }

// Proto is the protocol version (2 or 3).
func (w *Writer) Proto() int { return w.proto }

// SetProto switches the protocol version (HELLO).
func (w *Writer) SetProto(v int) { w.proto = v }

// Len is the number of buffered bytes (the client's output buffer).
func (w *Writer) Len() int { return len(w.b) }

// Bytes returns the buffered bytes (tests, MULTI bookkeeping).
func (w *Writer) Bytes() []byte { return w.b }

// Truncate drops buffered bytes after n.
func (w *Writer) Truncate(n int) { w.b = w.b[:n] }

// Raw appends bytes that are already encoded.
func (w *Writer) Raw(p []byte) { w.b = append(w.b, p...) }

// Flush writes the buffered replies to the underlying writer.
func (w *Writer) Flush() error {
	if len(w.b) == 0 {
		return nil
	}
	_, err := w.w.Write(w.b)
	if cap(w.b) > shrinkAbove {
		w.b = nil
	} else {
		w.b = w.b[:0]
	}
	return err
}

// SetOutput makes Flush write to out from now on, keeping what is buffered.
func (w *Writer) SetOutput(out io.Writer) { w.w = out }

// Consume drops the first n buffered bytes, those the caller wrote out
// itself (an event loop's non-blocking write).
func (w *Writer) Consume(n int) {
	if n >= len(w.b) {
		if cap(w.b) > shrinkAbove {
			w.b = nil
		} else {
			w.b = w.b[:0]
		}
		return
	}
	w.b = w.b[:copy(w.b, w.b[n:])]
}

// Detach hands the buffered bytes to the caller (who writes them out) and
// continues with spare, which may be nil.
func (w *Writer) Detach(spare []byte) []byte {
	out := w.b
	w.b = spare[:0]
	return out
}

// SimpleString appends +s.
func (w *Writer) SimpleString(s string) {
	w.b = append(w.b, '+')
	w.b = append(w.b, s...)
	w.b = append(w.b, '\r', '\n')
}

// OK appends +OK.
func (w *Writer) OK() { w.b = append(w.b, "+OK\r\n"...) }

// Error appends -msg. msg starts with the error code ("ERR ...",
// "WRONGTYPE ..."); CR and LF are replaced by spaces as Redis does.
func (w *Writer) Error(msg string) {
	w.b = append(w.b, '-')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		w.b = append(w.b, c)
	}
	w.b = append(w.b, '\r', '\n')
}

// Int appends :n.
func (w *Writer) Int(n int64) {
	w.b = append(w.b, ':')
	w.b = strconv.AppendInt(w.b, n, 10)
	w.b = append(w.b, '\r', '\n')
}

func (w *Writer) header(prefix byte, n int) {
	w.b = appendHeader(w.b, prefix, n)
}

// appendHeader appends prefix, n and CRLF; small lengths (the common case
// of bulk strings and arrays) skip strconv.
func appendHeader(b []byte, prefix byte, n int) []byte {
	switch {
	case n >= 0 && n < 10:
		return append(b, prefix, byte('0'+n), '\r', '\n')
	case n >= 10 && n < 100:
		return append(b, prefix, byte('0'+n/10), byte('0'+n%10), '\r', '\n')
	case n >= 100 && n < 1000:
		return append(b, prefix, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10), '\r', '\n')
	}
	b = append(b, prefix)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// Bulk appends a bulk string.
func (w *Writer) Bulk(p []byte) {
	b := appendHeader(w.b, '$', len(p))
	b = append(b, p...)
	w.b = append(b, '\r', '\n')
}

// BulkString appends a bulk string.
func (w *Writer) BulkString(s string) {
	b := appendHeader(w.b, '$', len(s))
	b = append(b, s...)
	w.b = append(b, '\r', '\n')
}

// BulkInt appends n formatted as a bulk string.
func (w *Writer) BulkInt(n int64) {
	var tmp [20]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null appends the null bulk string ($-1 in RESP2, _ in RESP3).
func (w *Writer) Null() {
	if w.proto == 3 {
		w.b = append(w.b, "_\r\n"...)
		return
	}
	w.b = append(w.b, "$-1\r\n"...)
}

// NullArray appends the null array (*-1 in RESP2, _ in RESP3).
func (w *Writer) NullArray() {
	if w.proto == 3 {
		w.b = append(w.b, "_\r\n"...)
		return
	}
	w.b = append(w.b, "*-1\r\n"...)
}

// ArrayLen starts an array of n elements.
func (w *Writer) ArrayLen(n int) { w.header('*', n) }

// MapLen starts a map of n key/value pairs (a flat array of 2n in RESP2).
func (w *Writer) MapLen(n int) {
	if w.proto == 3 {
		w.header('%', n)
		return
	}
	w.header('*', 2*n)
}

// SetLen starts a set of n elements (an array in RESP2).
func (w *Writer) SetLen(n int) {
	if w.proto == 3 {
		w.header('~', n)
		return
	}
	w.header('*', n)
}

// PushLen starts a push message of n elements (an array in RESP2).
func (w *Writer) PushLen(n int) {
	if w.proto == 3 {
		w.header('>', n)
		return
	}
	w.header('*', n)
}

// AttributeLen starts an attribute of n pairs (RESP3 only; ignored in RESP2).
func (w *Writer) AttributeLen(n int) {
	if w.proto == 3 {
		w.header('|', n)
	}
}

// AppendDouble formats f as Redis 7.0 does for replies ("%.17g", inf,
// -inf, nan).
func AppendDouble(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		return append(b, "nan"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// Double appends a double (a bulk string in RESP2, ,f in RESP3).
func (w *Writer) Double(f float64) {
	if w.proto == 3 {
		w.b = append(w.b, ',')
		w.b = AppendDouble(w.b, f)
		w.b = append(w.b, '\r', '\n')
		return
	}
	var tmp [32]byte
	w.Bulk(AppendDouble(tmp[:0], f))
}

// Bool appends a boolean (:1/:0 in RESP2, #t/#f in RESP3).
func (w *Writer) Bool(v bool) {
	switch {
	case w.proto == 3 && v:
		w.b = append(w.b, "#t\r\n"...)
	case w.proto == 3:
		w.b = append(w.b, "#f\r\n"...)
	case v:
		w.b = append(w.b, ":1\r\n"...)
	default:
		w.b = append(w.b, ":0\r\n"...)
	}
}

// Verbatim appends a verbatim string with a three-letter format ("txt",
// "mkd"); a bulk string in RESP2.
func (w *Writer) Verbatim(format, s string) {
	if w.proto != 3 {
		w.BulkString(s)
		return
	}
	w.header('=', len(s)+4)
	w.b = append(w.b, format...)
	w.b = append(w.b, ':')
	w.b = append(w.b, s...)
	w.b = append(w.b, '\r', '\n')
}

// BigNumber appends a big number given as decimal digits (a bulk string in
// RESP2).
func (w *Writer) BigNumber(digits string) {
	if w.proto != 3 {
		w.BulkString(digits)
		return
	}
	w.b = append(w.b, '(')
	w.b = append(w.b, digits...)
	w.b = append(w.b, '\r', '\n')
}

// StringArray appends an array of bulk strings.
func (w *Writer) StringArray(items ...string) {
	w.ArrayLen(len(items))
	for _, s := range items {
		w.BulkString(s)
	}
}
