package importlink

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// Bounds of a command of the source's stream: Redis's own limits
// (proto-max-bulk-len defaults to 512 MB; a multibulk has at most 1024*1024
// arguments from a client, more from a master only for huge commands).
const (
	maxArgs    = 1 << 24
	maxBulkLen = 1 << 32
	readChunk  = 64 << 10
)

// CommandReader reads the commands of a replication stream (RESP arrays
// of bulk strings) and counts the bytes each takes.
type CommandReader struct {
	br   *bufio.Reader
	args [][]byte
	buf  []byte
}

func NewCommandReader(br *bufio.Reader) *CommandReader { return &CommandReader{br: br} }

// Next reads one command; its arguments are valid until the next call.
func (r *CommandReader) Next() (args [][]byte, n int64, err error) {
	r.args, r.buf = r.args[:0], r.buf[:0]
	line, err := r.line(&n)
	if err != nil {
		return nil, n, err
	}
	if len(line) == 0 || line[0] != '*' {
		return nil, n, fmt.Errorf("protocol error in the source's stream: %q", truncate(line))
	}
	count, err := strconv.ParseInt(string(line[1:]), 10, 64)
	if err != nil || count < 0 || count > maxArgs {
		return nil, n, fmt.Errorf("protocol error in the source's stream: bad multibulk length %q", truncate(line))
	}
	ends := make([]int, 0, count)
	for range count {
		line, err := r.line(&n)
		if err != nil {
			return nil, n, err
		}
		if len(line) == 0 || line[0] != '$' {
			return nil, n, fmt.Errorf("protocol error in the source's stream: expected '$', got %q", truncate(line))
		}
		size, err := strconv.ParseInt(string(line[1:]), 10, 64)
		if err != nil || size < 0 || size > maxBulkLen {
			return nil, n, fmt.Errorf("protocol error in the source's stream: bad bulk length %q", truncate(line))
		}
		// Read as the data arrives: a wrong length costs no more memory
		// than the stream holds.
		for left := size + 2; left > 0; {
			chunk := min(left, readChunk)
			start := len(r.buf)
			r.buf = append(r.buf, make([]byte, chunk)...)
			if _, err := io.ReadFull(r.br, r.buf[start:]); err != nil {
				return nil, n, err
			}
			left -= chunk
		}
		n += size + 2
		if r.buf[len(r.buf)-2] != '\r' || r.buf[len(r.buf)-1] != '\n' {
			return nil, n, fmt.Errorf("protocol error in the source's stream: a bulk string not ended by CRLF")
		}
		r.buf = r.buf[:len(r.buf)-2]
		ends = append(ends, len(r.buf))
	}
	start := 0
	for _, e := range ends {
		r.args = append(r.args, r.buf[start:e:e])
		start = e
	}
	return r.args, n, nil
}

// line reads one CRLF-terminated line (without it), at most 64 KB.
func (r *CommandReader) line(n *int64) ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	*n += int64(len(b))
	if err == bufio.ErrBufferFull {
		return nil, fmt.Errorf("protocol error in the source's stream: a line longer than %d bytes", r.br.Size())
	}
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[len(b)-2] != '\r' {
		return nil, fmt.Errorf("protocol error in the source's stream: a line not ended by CRLF")
	}
	return b[:len(b)-2], nil
}

func truncate(b []byte) string {
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}
