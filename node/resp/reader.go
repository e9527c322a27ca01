package resp

import (
	"errors"
	"io"
)

// Limits of the request parser, named as in Redis.
const (
	// InlineMaxSize is PROTO_INLINE_MAX_SIZE: the longest inline request and
	// the longest multibulk/bulk count line.
	InlineMaxSize = 64 * 1024
	// DefaultMaxBulkLen is the default proto-max-bulk-len (512mb).
	DefaultMaxBulkLen = 512 * 1024 * 1024
	// unauthMaxArgs and unauthMaxBulk bound requests of clients that still
	// have to authenticate, as Redis does.
	unauthMaxArgs = 10
	unauthMaxBulk = 16384
	// maxMultibulk is the largest accepted multibulk length (INT_MAX).
	maxMultibulk = 1<<31 - 1

	minBufSize = 16 * 1024
	// shrinkAbove is the buffer capacity above which an idle reader drops
	// its buffer so a burst of big requests does not pin memory.
	shrinkAbove = 256 * 1024
)

// ProtocolError is a malformed request. Its text is the error reply Redis
// sends before it closes the connection.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return e.Msg }

var (
	errInvalidMultibulk = &ProtocolError{"Protocol error: invalid multibulk length"}
	errUnauthMultibulk  = &ProtocolError{"Protocol error: unauthenticated multibulk length"}
	errInvalidBulk      = &ProtocolError{"Protocol error: invalid bulk length"}
	errUnauthBulk       = &ProtocolError{"Protocol error: unauthenticated bulk length"}
	errTooBigInline     = &ProtocolError{"Protocol error: too big inline request"}
	errTooBigMbulkCount = &ProtocolError{"Protocol error: too big mbulk count string"}
	errTooBigBulkCount  = &ProtocolError{"Protocol error: too big bulk count string"}
	errUnbalancedQuotes = &ProtocolError{"Protocol error: unbalanced quotes in request"}
)

// IsProtocolError reports whether err is a malformed request (as opposed to
// an I/O error of the underlying reader).
func IsProtocolError(err error) bool {
	var pe *ProtocolError
	return errors.As(err, &pe)
}

type span struct{ start, end int } // offsets relative to Reader.r

// Reader parses requests from an io.Reader. It keeps its buffer and argument
// vector between calls, so the steady state allocates nothing.
//
// Use Fill to read more bytes (blocking) and Next to take one complete
// command from what is buffered; ReadCommand combines both.
type Reader struct {
	rd   io.Reader
	buf  []byte
	r, w int // buf[r:w] is unread

	// Incremental multibulk state, so a huge request arriving in many reads
	// is parsed once. Offsets are relative to r.
	inMultibulk bool
	mbLeft      int // bulks still to parse
	pos         int // where parsing resumes
	spans       []span
	need        int // bytes needed from r to make progress (a hint for Fill)

	args [][]byte

	// MaxBulkLen is proto-max-bulk-len; bulks longer than this are refused.
	MaxBulkLen int64
	// Unauthenticated applies Redis's limits for clients that must still
	// authenticate (at most 10 arguments of at most 16384 bytes).
	Unauthenticated bool
}

// NewReader returns a Reader over rd.
func NewReader(rd io.Reader) *Reader {
	return &Reader{rd: rd, MaxBulkLen: DefaultMaxBulkLen}
}

// Reset makes the reader read from rd, dropping buffered data.
func (r *Reader) Reset(rd io.Reader) {
	r.rd = rd
	r.r, r.w = 0, 0
	r.resetCommand()
}

func (r *Reader) resetCommand() {
	r.inMultibulk = false
	r.mbLeft = 0
	r.pos = 0
	r.spans = r.spans[:0]
	r.need = 0
}

// SetSource makes the reader read from rd from now on, keeping what is
// buffered (a connection handed from one I/O model to another).
func (r *Reader) SetSource(rd io.Reader) { r.rd = rd }

// Buffered is the number of unread bytes in the buffer.
func (r *Reader) Buffered() int { return r.w - r.r }

// Pending describes what is buffered as Redis's CLIENT LIST counts it:
// unparsed is the bytes not parsed yet (qbuf; the header of a bulk whose
// body is still arriving counts as parsed), argBytes the bytes of the
// arguments of a command still arriving that are already parsed (argv-mem).
func (r *Reader) Pending() (unparsed, argBytes int) {
	unparsed = r.w - r.r
	if !r.inMultibulk {
		return unparsed, 0
	}
	for _, s := range r.spans {
		argBytes += s.end - s.start
	}
	unparsed -= r.pos
	if r.r+r.pos < r.w && r.buf[r.r+r.pos] == '$' {
		if _, next, ok, _ := r.countLine(r.pos, nil); ok {
			unparsed = r.w - r.r - next
		}
	}
	return unparsed, argBytes
}

// Cap is the size of the read buffer.
func (r *Reader) Cap() int { return len(r.buf) }

// Fill reads more data from the underlying reader, growing the buffer when a
// request in progress needs it. It blocks until at least one byte arrives.
func (r *Reader) Fill() error {
	if r.r == r.w {
		r.r, r.w = 0, 0
		if cap(r.buf) > shrinkAbove {
			r.buf = nil
		}
	}
	if r.buf == nil {
		r.buf = make([]byte, minBufSize)
	}
	if r.w == len(r.buf) || r.need > len(r.buf)-r.r {
		r.makeRoom()
	}
	n, err := r.rd.Read(r.buf[r.w:])
	r.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// makeRoom compacts the buffer, or grows it (doubling, so a client has to
// send the bytes it announces before the buffer reaches that size).
func (r *Reader) makeRoom() {
	pending := r.w - r.r
	required := pending + 1
	if r.need > required {
		required = r.need
	}
	if required <= len(r.buf) && r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
		return
	}
	size := 2 * len(r.buf)
	if r.need > 0 && size > r.need && r.need >= required {
		size = r.need
	}
	if size < required {
		size = required
	}
	nb := make([]byte, size)
	r.w = copy(nb, r.buf[r.r:r.w])
	r.r = 0
	r.buf = nb
}

// ReadCommand returns the next command, reading as needed. Empty requests
// (an empty inline line, *0, *-1) are skipped.
func (r *Reader) ReadCommand() ([][]byte, error) {
	for {
		args, err := r.Next()
		if err != nil || args != nil {
			return args, err
		}
		if err := r.Fill(); err != nil {
			return nil, err
		}
	}
}

// Next parses one command from the buffered data. It returns nil, nil when
// the buffer holds no complete command. The returned slices alias the
// buffer and are valid until the next call of Next, Fill or ReadCommand.
func (r *Reader) Next() ([][]byte, error) {
	for r.r < r.w {
		var done bool
		var err error
		if r.inMultibulk || r.buf[r.r] == '*' {
			done, err = r.parseMultibulk()
		} else {
			done, err = r.parseInline()
		}
		if err != nil || !done {
			return nil, err
		}
		if len(r.args) > 0 {
			return r.args, nil
		}
		// An empty request: keep going.
	}
	return nil, nil
}

// indexCR finds the first '\r' in b, or -1.
func indexCR(b []byte) int {
	for i, c := range b {
		if c == '\r' {
			return i
		}
	}
	return -1
}

// parseInt parses a signed decimal as Redis's string2ll does (no leading
// '+', no leading zeros except "0", no spaces).
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	i := 0
	if b[0] == '-' {
		neg = true
		i = 1
		if len(b) == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (1<<64-1)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
		if v < uint64(c-'0') {
			return 0, false
		}
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// countLine finds the "\r\n"-terminated count line starting at p (relative
// to r). It returns the digits and the offset after the line, or ok=false
// when incomplete.
func (r *Reader) countLine(p int, tooBig *ProtocolError) (digits []byte, next int, ok bool, err error) {
	data := r.buf[r.r+p : r.w]
	cr := indexCR(data)
	if cr < 0 {
		if len(data) > InlineMaxSize {
			return nil, 0, false, tooBig
		}
		return nil, 0, false, nil
	}
	if cr > len(data)-2 { // the '\n' has not arrived yet
		return nil, 0, false, nil
	}
	return data[1:cr], p + cr + 2, true, nil
}

func (r *Reader) parseMultibulk() (bool, error) {
	if !r.inMultibulk {
		digits, next, ok, err := r.countLine(0, errTooBigMbulkCount)
		if err != nil || !ok {
			return false, err
		}
		n, valid := parseInt(digits)
		if !valid || n > maxMultibulk {
			return false, errInvalidMultibulk
		}
		if n > unauthMaxArgs && r.Unauthenticated {
			return false, errUnauthMultibulk
		}
		if n <= 0 {
			r.consume(next)
			r.args = r.args[:0]
			return true, nil
		}
		r.inMultibulk = true
		r.mbLeft = int(n)
		r.pos = next
		r.spans = r.spans[:0]
	}
	for r.mbLeft > 0 {
		if r.r+r.pos >= r.w {
			r.need = r.pos + 1
			return false, nil
		}
		if c := r.buf[r.r+r.pos]; c != '$' {
			return false, &ProtocolError{"Protocol error: expected '$', got '" + string([]byte{c}) + "'"}
		}
		digits, next, ok, err := r.countLine(r.pos, errTooBigBulkCount)
		if err != nil {
			return false, err
		}
		if !ok {
			r.need = 0
			return false, nil
		}
		n, valid := parseInt(digits)
		if !valid || n < 0 || n > r.MaxBulkLen {
			return false, errInvalidBulk
		}
		if n > unauthMaxBulk && r.Unauthenticated {
			return false, errUnauthBulk
		}
		end := next + int(n)
		if r.r+end+2 > r.w {
			r.need = end + 2
			return false, nil
		}
		r.spans = append(r.spans, span{next, end})
		r.pos = end + 2
		r.mbLeft--
	}
	r.args = r.args[:0]
	base := r.r
	for _, s := range r.spans {
		r.args = append(r.args, r.buf[base+s.start:base+s.end:base+s.end])
	}
	r.consume(r.pos)
	return true, nil
}

// consume drops n bytes (relative to r) and resets the command state.
func (r *Reader) consume(n int) {
	r.r += n
	r.resetCommand()
}

func (r *Reader) parseInline() (bool, error) {
	data := r.buf[r.r:r.w]
	nl := -1
	for i, c := range data {
		if c == '\n' {
			nl = i
			break
		}
	}
	if nl < 0 {
		if len(data) > InlineMaxSize {
			return false, errTooBigInline
		}
		return false, nil
	}
	line := data[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, ok := SplitArgs(line, r.args[:0])
	if !ok {
		return false, errUnbalancedQuotes
	}
	r.args = args
	r.consume(nl + 1)
	return true, nil
}
