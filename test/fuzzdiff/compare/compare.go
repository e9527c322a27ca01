// Package compare decides whether the node's reply to a command matches
// Redis's, after normalising what Redis leaves unspecified: the order of
// unordered replies, the content of random ones, the exact value of
// time-dependent ones. It is pure: it compares two resp.Values and names
// the kind of divergence.
package compare

import (
	"slices"
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/test/fuzzdiff/resp"
	"github.com/shoal-dev/shoal/test/fuzzdiff/shape"
)

// Mode is how two replies to one command are compared.
type Mode int

const (
	// Exact compares the replies byte for byte.
	Exact Mode = iota
	// Unordered sorts the elements of an aggregate reply first.
	Unordered
	// UnorderedPairs sorts the (field, value) pairs of a flat pair reply.
	UnorderedPairs
	// Shape compares only the type, nullness and length (random replies).
	Shape
	// NearSecond lets integers differ by 1 (TTL, EXPIRETIME).
	NearSecond
	// NearMilli lets integers differ by 1500 (PTTL, PEXPIRETIME).
	NearMilli
	// Scan compares cursor replies: the elements when both cursors are 0,
	// else only the types (the node may walk its tables in other steps).
	Scan
	// Kind compares only the type (SLOWLOG GET: what is slow differs).
	Kind
	// Background compares only the type ("started" and "scheduled" are
	// both right), and an error saying a background save or rewrite is
	// still running matches anything: Redis forks for them and its child
	// may still run when the next one comes.
	Background
)

// modes overrides what the command tips say, by command name.
var modes = map[string]Mode{
	"ttl": NearSecond, "expiretime": NearSecond, "pttl": NearMilli, "pexpiretime": NearMilli,
	"scan": Scan, "sscan": Scan, "hscan": Scan, "zscan": Scan,
	"hgetall": UnorderedPairs, "config|get": UnorderedPairs,
	"hello": Shape, "info": Shape, "time": Shape, "lolwut": Shape, "role": Shape,
	"command": Shape, "command|count": Exact, "command|docs": Shape, "command|info": Shape,
	"acl|genpass": Shape, "acl|log": Shape,
	"memory|usage": Shape, "client|id": Shape, "slowlog|get": Kind, "slowlog|len": Kind,
	"object|help": Shape, "client|getname": Exact,
	"save": Background, "bgsave": Background, "bgrewriteaof": Background,
}

// ModeFor is the comparison mode of the command: the overrides above,
// else Redis's tips (nondeterministic_output: Shape;
// nondeterministic_output_order: Unordered), else Exact.
func ModeFor(c *shape.Command) Mode {
	if c == nil {
		return Exact
	}
	if m, ok := modes[c.Name]; ok {
		return m
	}
	switch {
	case c.HasTip("nondeterministic_output"):
		return Shape
	case c.HasTip("nondeterministic_output_order"):
		return Unordered
	}
	return Exact
}

// ModeForLine is ModeFor, except that a SCAN-family line whose cursor is
// not 0 is compared by type only: where an arbitrary cursor lands depends
// on the layout of Redis's hash tables, which its random hash seed sets.
func ModeForLine(c *shape.Command, args []string) Mode {
	m := ModeFor(c)
	if m != Scan {
		return m
	}
	cursor := 2 // SSCAN, HSCAN, ZSCAN key cursor
	if c.Name == "scan" {
		cursor = 1
	}
	if len(args) > cursor && args[cursor] != "0" {
		return Kind
	}
	return m
}

// Kinds of divergence.
const (
	Unknown      = "unknown command"
	UnknownSub   = "unknown subcommand"
	ErrorVsReply = "error, Redis replied"
	ReplyVsError = "reply, Redis erred"
	ErrorCode    = "other error code"
	ErrorText    = "error text"
	Reply        = "different reply"
	// Closed is not found by Compare: the node closed the connection (and
	// lives on) where Redis replied.
	Closed = "node closed the connection"
)

// Compare reports the divergence of ours from ref under the mode, "" when
// they match.
func Compare(mode Mode, ours, ref resp.Value) string {
	if mode == Background && (stillRunning(ours) || stillRunning(ref)) {
		return ""
	}
	switch oe, re := ours.IsError(), ref.IsError(); {
	case oe && !re:
		return unknownOr(ours, ErrorVsReply)
	case !oe && re:
		return ReplyVsError
	case oe && re:
		switch {
		case ours.Str == ref.Str:
			return ""
		case firstWord(ours.Str) != firstWord(ref.Str):
			return unknownOr(ours, ErrorCode)
		}
		return unknownOr(ours, ErrorText)
	}
	if !ours.IsAggregate() && !ref.IsAggregate() && (mode == Exact || mode == NearSecond || mode == NearMilli) &&
		ours.Kind == ref.Kind && ours.Null == ref.Null && ours.Str == ref.Str {
		return "" // the common case, without copying a long string
	}
	if mode == Scan && !(cursorZero(ours) && cursorZero(ref)) {
		mode = Kind
	}
	if Normalize(mode, ours) == Normalize(mode, ref) {
		return ""
	}
	if mode == NearSecond || mode == NearMilli {
		d := int64(1)
		if mode == NearMilli {
			d = 1500
		}
		if near(ours, ref, d) {
			return ""
		}
	}
	return Reply
}

// CompareExec compares EXEC replies element by element, each in the mode of
// the command queued in its place.
func CompareExec(queued []Mode, ours, ref resp.Value) string {
	if ours.IsError() || ref.IsError() || ours.Kind != '*' || ref.Kind != '*' ||
		len(ours.Elems) != len(ref.Elems) || len(ours.Elems) != len(queued) {
		return Compare(Exact, ours, ref)
	}
	for i, m := range queued {
		if k := Compare(m, ours.Elems[i], ref.Elems[i]); k != "" {
			return k
		}
	}
	return ""
}

// stillRunning reports whether v is Redis's error for a background save
// or rewrite that has not finished.
func stillRunning(v resp.Value) bool {
	return v.IsError() && (strings.Contains(v.Str, "in progress") || strings.Contains(v.Str, "child process is active"))
}

func unknownOr(ours resp.Value, kind string) string {
	switch {
	case strings.HasPrefix(ours.Str, "ERR unknown command"):
		return Unknown
	case strings.HasPrefix(ours.Str, "ERR unknown subcommand"):
		return UnknownSub
	}
	return kind
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}

func near(a, b resp.Value, d int64) bool {
	if a.Kind != ':' || b.Kind != ':' {
		return false
	}
	x, err1 := strconv.ParseInt(a.Str, 10, 64)
	y, err2 := strconv.ParseInt(b.Str, 10, 64)
	return err1 == nil && err2 == nil && x-y <= d && y-x <= d
}

// Normalize is the canonical text a reply is compared by under the mode.
func Normalize(mode Mode, v resp.Value) string {
	switch mode {
	case Unordered:
		if v.Kind == '%' {
			return sortedPairs(v)
		}
		return sortedElems(v)
	case UnorderedPairs:
		return sortedPairs(v)
	case Shape:
		return shapeOf(v)
	case Scan:
		if cursorZero(v) {
			return "0:" + sortedElems(v.Elems[1])
		}
	case Kind, Background:
		if v.Null {
			return string(v.Kind) + "null"
		}
		return string(v.Kind)
	}
	return resp.Encode(v)
}

// cursorZero reports whether v is a SCAN reply whose cursor is 0.
func cursorZero(v resp.Value) bool {
	return v.Kind == '*' && len(v.Elems) == 2 && v.Elems[0].Str == "0"
}

func sortedElems(v resp.Value) string {
	if !v.IsAggregate() {
		return resp.Encode(v)
	}
	parts := make([]string, len(v.Elems))
	for i, e := range v.Elems {
		parts[i] = resp.Encode(e)
	}
	slices.Sort(parts)
	return string(v.Kind) + strconv.Itoa(len(parts)) + "\n" + strings.Join(parts, "")
}

func sortedPairs(v resp.Value) string {
	if !v.IsAggregate() || len(v.Elems)%2 != 0 {
		return sortedElems(v)
	}
	parts := make([]string, 0, len(v.Elems)/2)
	for i := 0; i+1 < len(v.Elems); i += 2 {
		parts = append(parts, resp.Encode(v.Elems[i])+resp.Encode(v.Elems[i+1]))
	}
	slices.Sort(parts)
	return string(v.Kind) + strconv.Itoa(len(parts)) + "\n" + strings.Join(parts, "")
}

// shapeOf is the type, nullness and length of a reply.
func shapeOf(v resp.Value) string {
	switch {
	case v.Null:
		return string(v.Kind) + "null"
	case v.IsAggregate():
		return string(v.Kind) + strconv.Itoa(len(v.Elems))
	}
	return string(v.Kind)
}
