package stream

import (
	"bytes"
	"strconv"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/stream"
)

const (
	errInvalidID  = "ERR Invalid stream ID specified as stream command argument"
	errStartID    = "ERR invalid start ID for the interval"
	errEndID      = "ERR invalid end ID for the interval"
	errNoKeyGroup = "NOGROUP No such key '%s' or consumer group '%s'"
)

// limits are the block limits of new entries (stream-node-max-bytes,
// stream-node-max-entries).
func limits(c *command.Ctx) stream.Limits { return c.Limits().Encoding.Stream }

// parseID is streamParseIDOrReply ("-" and "+" allowed).
func parseID(c *command.Ctx, arg []byte, missingSeq uint64) (stream.ID, bool) {
	id, _, ok := stream.ParseID(arg, missingSeq, true)
	if !ok {
		c.Error(errInvalidID)
	}
	return id, ok
}

// parseStrictID is streamParseStrictIDOrReply ("-" and "+" refused).
func parseStrictID(c *command.Ctx, arg []byte) (stream.ID, bool) {
	id, _, ok := stream.ParseID(arg, 0, false)
	if !ok && c != nil {
		c.Error(errInvalidID)
	}
	return id, ok
}

// parseInterval is streamParseIntervalIDOrReply: "(" makes the bound
// exclusive (and the ID strict).
func parseInterval(c *command.Ctx, arg []byte, missingSeq uint64) (id stream.ID, exclusive, ok bool) {
	if len(arg) > 1 && arg[0] == '(' {
		id, _, ok = stream.ParseID(arg[1:], missingSeq, false)
		if !ok {
			c.Error(errInvalidID)
		}
		return id, true, ok
	}
	id, ok = parseID(c, arg, missingSeq)
	return id, false, ok
}

// parseStart parses an interval's start (exclusive: the next ID).
func parseStart(c *command.Ctx, arg []byte) (stream.ID, bool) {
	id, ex, ok := parseInterval(c, arg, 0)
	if !ok {
		return id, false
	}
	if ex {
		if id, ok = id.Incr(); !ok {
			c.Error(errStartID)
		}
	}
	return id, ok
}

// parseEnd parses an interval's end (exclusive: the previous ID).
func parseEnd(c *command.Ctx, arg []byte) (stream.ID, bool) {
	id, ex, ok := parseInterval(c, arg, ^uint64(0))
	if !ok {
		return id, false
	}
	if ex {
		if id, ok = id.Decr(); !ok {
			c.Error(errEndID)
		}
	}
	return id, ok
}

// addTrimArgs are the parsed options of XADD and XTRIM.
type addTrimArgs struct {
	trim       stream.TrimArgs
	trimArgIdx int   // index of the MAXLEN/MINID threshold
	limitIdx   []int // indexes of LIMIT and its argument
	noMkStream bool
	idGiven    bool
	seqGiven   bool
	id         stream.ID
	idPos      int // XADD: index of the ID
}

// parseAddTrimArgs is streamParseAddOrTrimArgsOrReply.
func parseAddTrimArgs(c *command.Ctx, xadd bool) (a addTrimArgs, ok bool) {
	args := c.Args
	limitGiven := false
	i := 2
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		opt := args[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			a.idPos = i
			return a, finishAddTrim(c, &a, xadd, limitGiven)
		case command.EqFold(opt, "maxlen") && more > 0, command.EqFold(opt, "minid") && more > 0:
			if a.trim.Strategy != stream.TrimNone {
				c.Error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
				return a, false
			}
			maxlen := command.EqFold(opt, "maxlen")
			a.trim.Approx = false
			next := args[i+1]
			if more >= 2 && len(next) == 1 && (next[0] == '~' || next[0] == '=') {
				a.trim.Approx = next[0] == '~'
				i++
			}
			if maxlen {
				n, ok := c.ParseInt(args[i+1])
				if !ok {
					return a, false
				}
				if n < 0 {
					c.Error("ERR The MAXLEN argument must be >= 0.")
					return a, false
				}
				a.trim.MaxLen = n
				a.trim.Strategy = stream.TrimMaxLen
			} else {
				id, ok := parseStrictID(c, args[i+1])
				if !ok {
					return a, false
				}
				a.trim.MinID = id
				a.trim.Strategy = stream.TrimMinID
			}
			i++
			a.trimArgIdx = i
		case command.EqFold(opt, "limit") && more > 0:
			n, ok := c.ParseInt(args[i+1])
			if !ok {
				return a, false
			}
			if n < 0 {
				c.Error("ERR The LIMIT argument must be >= 0.")
				return a, false
			}
			a.trim.Limit = n
			limitGiven = true
			a.limitIdx = append(a.limitIdx, i, i+1)
			i++
		case xadd && command.EqFold(opt, "nomkstream"):
			a.noMkStream = true
		case xadd:
			id, seqGiven, ok := parseXaddID(opt)
			if !ok {
				c.Error(errInvalidID)
				return a, false
			}
			a.id, a.seqGiven, a.idGiven, a.idPos = id, seqGiven, true, i
			return a, finishAddTrim(c, &a, xadd, limitGiven)
		default:
			c.Error(command.ErrSyntax)
			return a, false
		}
	}
	a.idPos = i
	return a, finishAddTrim(c, &a, xadd, limitGiven)
}

// parseXaddID parses XADD's explicit ID: "ms-seq", "ms" or "ms-*".
func parseXaddID(b []byte) (id stream.ID, seqGiven, ok bool) {
	if n := len(b); n >= 2 && b[n-2] == '-' && b[n-1] == '*' && len(b) <= 127 {
		id, _, ok = stream.ParseID(b[:n-2], 0, false)
		if ok {
			for _, ch := range b[:n-2] {
				if ch == '-' { // "a-b-*": the seq part is "b-*"
					return id, false, false
				}
			}
		}
		return stream.ID{Ms: id.Ms}, false, ok
	}
	id, _, ok = stream.ParseID(b, 0, false)
	return id, true, ok
}

func finishAddTrim(c *command.Ctx, a *addTrimArgs, xadd, limitGiven bool) bool {
	if a.trim.Limit != 0 && a.trim.Strategy == stream.TrimNone {
		c.Error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
		return false
	}
	if limitGiven {
		if !a.trim.Approx {
			c.Error("ERR syntax error, LIMIT cannot be used without the special ~ option")
			return false
		}
	} else if a.trim.Approx {
		a.trim.Limit = 100 * limits(c).NodeMaxEntries
		if a.trim.Limit <= 0 || a.trim.Limit > 1000000 {
			a.trim.Limit = 1000000
		}
	} else {
		a.trim.Limit = 0
	}
	if !xadd && a.trim.Strategy == stream.TrimNone {
		c.Error("ERR syntax error, XTRIM must be called with a trimming strategy")
		return false
	}
	return true
}

// trimRewrite is the command as propagated after an approximate trim:
// "~" becomes "=", the threshold the exact effect, LIMIT goes (Redis's
// streamRewriteApproxSpecifier and streamRewriteTrimArgument; replicas
// ignore LIMIT), and XADD's ID is idArg when not nil.
func trimRewrite(c *command.Ctx, s *stream.Stream, a *addTrimArgs, idArg []byte) [][]byte {
	out := make([][]byte, 0, len(c.Args))
	for i, arg := range c.Args {
		switch {
		case a.trim.Approx && i == a.trimArgIdx-1:
			arg = []byte("=")
		case a.trim.Approx && i == a.trimArgIdx:
			if a.trim.Strategy == stream.TrimMaxLen {
				arg = keyspaceItoa(s.Length())
			} else {
				arg = s.FirstID().Append(nil)
			}
		case a.trim.Approx && contains(a.limitIdx, i):
			continue
		case idArg != nil && i == a.idPos:
			arg = idArg
		}
		out = append(out, arg)
	}
	return out
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func keyspaceItoa(n int64) []byte { return strconv.AppendInt(nil, n, 10) }

// streamForRead looks key up: s nil when missing; ok false after WRONGTYPE.
func streamForRead(c *command.Ctx, key []byte) (*stream.Stream, bool) {
	return command.ObjectForRead[*stream.Stream](c, key, keyspace.TypeStream)
}

// streamForWrite is streamForRead for a write.
func streamForWrite(c *command.Ctx, key []byte) (*keyspace.Entry, *stream.Stream, bool) {
	return command.ObjectForWrite[*stream.Stream](c, key, keyspace.TypeStream)
}

// replyID writes an ID as a bulk string.
func replyID(c *command.Ctx, id stream.ID) {
	var b [48]byte
	c.W.Bulk(id.Append(b[:0]))
}

// replyEntry writes [id, [f, v, ...]].
func replyEntry(c *command.Ctx, id stream.ID, fv [][]byte) {
	c.W.ArrayLen(2)
	replyID(c, id)
	c.W.ArrayLen(len(fv))
	for _, x := range fv {
		c.W.Bulk(x)
	}
}

// errArg is an argument quoted inside an error message, as Redis's
// addReplyErrorFormat prints it: "%s" stops at a zero byte; CR and LF
// become spaces when the reply is written.
func errArg(arg []byte) string {
	if i := bytes.IndexByte(arg, 0); i >= 0 {
		arg = arg[:i]
	}
	return string(arg)
}
