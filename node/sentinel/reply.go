package sentinel

import (
	"bufio"
	"errors"
	"io"
	"strconv"
)

// Reply is one RESP2 reply read from an instance.
type Reply struct {
	Type  byte // '+', '-', ':', '$', '*'
	Str   string
	Int   int64
	Array []Reply
	Nil   bool
}

// Err is the reply as an error when it is an error reply.
func (r Reply) Err() error {
	if r.Type == '-' {
		return errors.New(r.Str)
	}
	return nil
}

// Limits of what an instance may send: a sentinel never needs more, and a
// bigger length is a broken peer, not a reason to allocate.
const (
	maxReplyBulk  = 64 << 20
	maxReplyArray = 1 << 20
	maxReplyDepth = 8
)

var errBadReply = errors.New("protocol error in reply")

// readReply parses one RESP2 reply.
func readReply(r *bufio.Reader) (Reply, error) { return readReplyDepth(r, 0) }

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return "", errBadReply
	}
	if err != nil {
		return "", err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", errBadReply
	}
	return string(line[:len(line)-2]), nil
}

func readReplyDepth(r *bufio.Reader, depth int) (Reply, error) {
	if depth > maxReplyDepth {
		return Reply{}, errBadReply
	}
	line, err := readLine(r)
	if err != nil {
		return Reply{}, err
	}
	if line == "" {
		return Reply{}, errBadReply
	}
	rep := Reply{Type: line[0]}
	body := line[1:]
	switch rep.Type {
	case '+', '-':
		rep.Str = body
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return Reply{}, errBadReply
		}
		rep.Int = n
	case '$':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil || n < -1 || n > maxReplyBulk {
			return Reply{}, errBadReply
		}
		if n == -1 {
			rep.Nil = true
			return rep, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Reply{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return Reply{}, errBadReply
		}
		rep.Str = string(buf[:n])
	case '*':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil || n < -1 || n > maxReplyArray {
			return Reply{}, errBadReply
		}
		if n == -1 {
			rep.Nil = true
			return rep, nil
		}
		rep.Array = make([]Reply, 0, min(n, 1024))
		for i := int64(0); i < n; i++ {
			el, err := readReplyDepth(r, depth+1)
			if err != nil {
				return Reply{}, err
			}
			rep.Array = append(rep.Array, el)
		}
	default:
		return Reply{}, errBadReply
	}
	return rep, nil
}
