// Package resp reads RESP2 and RESP3 replies into a Value tree, for the
// differential fuzzer. It is a client-side codec: the node's own node/resp
// parses requests and encodes the commands the fuzzer sends
// (resp.AppendCommand), this one parses replies.
//
// It does no I/O of its own beyond the bufio.Reader it is given, keeps no
// state between calls, and never interprets a reply (that is package
// compare's job).
package resp

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Value is one reply. Kind is the RESP type byte: '+' simple string, '-'
// error, ':' integer, '$' bulk string, '*' array, and the RESP3 types
// '_' null, '#' boolean, ',' double, '(' big number, '!' blob error,
// '=' verbatim string, '%' map, '~' set, '>' push, '|' attribute.
// Str holds the text of every scalar (integers and doubles as sent);
// Elems the elements of aggregates (a map's keys and values alternate).
// Null marks the RESP2 null bulk ("$-1") and null array ("*-1").
type Value struct {
	Kind  byte
	Str   string
	Elems []Value
	Null  bool
}

// IsError reports whether v is an error reply (simple or blob).
func (v Value) IsError() bool { return v.Kind == '-' || v.Kind == '!' }

// IsAggregate reports whether v holds elements.
func (v Value) IsAggregate() bool {
	switch v.Kind {
	case '*', '%', '~', '>', '|':
		return true
	}
	return false
}

// MaxBulk bounds one bulk string or aggregate length the reader accepts, so
// a corrupt length line cannot make it allocate without bound.
const MaxBulk = 1 << 30

// ErrProtocol is a reply that is not valid RESP.
var ErrProtocol = errors.New("resp: protocol error")

// Read reads one complete reply. Attributes ('|') are returned as values of
// their own, as the server sent them.
func Read(rd *bufio.Reader) (Value, error) {
	line, err := readLine(rd)
	if err != nil {
		return Value{}, err
	}
	if len(line) == 0 {
		return Value{}, fmt.Errorf("%w: empty line", ErrProtocol)
	}
	kind, rest := line[0], line[1:]
	switch kind {
	case '+', '-', ':', ',', '(', '#':
		return Value{Kind: kind, Str: rest}, nil
	case '_':
		return Value{Kind: kind, Null: true}, nil
	case '$', '!', '=':
		n, err := length(rest)
		if err != nil {
			return Value{}, err
		}
		if n < 0 {
			return Value{Kind: kind, Null: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := readFull(rd, buf); err != nil {
			return Value{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return Value{}, fmt.Errorf("%w: bulk not terminated by CRLF", ErrProtocol)
		}
		return Value{Kind: kind, Str: string(buf[:n])}, nil
	case '*', '%', '~', '>', '|':
		n, err := length(rest)
		if err != nil {
			return Value{}, err
		}
		if n < 0 {
			return Value{Kind: kind, Null: true}, nil
		}
		if kind == '%' || kind == '|' {
			n *= 2
		}
		v := Value{Kind: kind, Elems: make([]Value, 0, min(n, 1024))}
		for range n {
			e, err := Read(rd)
			if err != nil {
				return Value{}, err
			}
			v.Elems = append(v.Elems, e)
		}
		return v, nil
	}
	return Value{}, fmt.Errorf("%w: unknown type byte %q", ErrProtocol, kind)
}

func length(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxBulk {
		return 0, fmt.Errorf("%w: bad length %q", ErrProtocol, s)
	}
	return n, nil
}

func readLine(rd *bufio.Reader) (string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(line, "\r\n") {
		return "", fmt.Errorf("%w: line not terminated by CRLF", ErrProtocol)
	}
	return line[:len(line)-2], nil
}

func readFull(rd *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := rd.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Encode writes v back as RESP, the canonical form replies are compared in.
func Encode(v Value) string {
	var b strings.Builder
	encode(&b, v)
	return b.String()
}

func encode(b *strings.Builder, v Value) {
	b.WriteByte(v.Kind)
	switch {
	case v.Kind == '_':
		b.WriteString("\r\n")
		return
	case v.Null:
		b.WriteString("-1\r\n")
		return
	}
	switch v.Kind {
	case '$', '!', '=':
		b.WriteString(strconv.Itoa(len(v.Str)))
		b.WriteString("\r\n")
		b.WriteString(v.Str)
	case '*', '~', '>', '%', '|':
		n := len(v.Elems)
		if v.Kind == '%' || v.Kind == '|' {
			n /= 2
		}
		b.WriteString(strconv.Itoa(n))
		b.WriteString("\r\n")
		for _, e := range v.Elems {
			encode(b, e)
		}
		return
	default:
		b.WriteString(v.Str)
	}
	b.WriteString("\r\n")
}
