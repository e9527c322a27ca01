package stream

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/stream"
)

// blockedDefaultCount is the COUNT of a blocked read without one
// (XREAD_BLOCKED_DEFAULT_COUNT).
const blockedDefaultCount = 1000

// readArgs are XREAD's and XREADGROUP's parsed arguments.
type readArgs struct {
	timeout    time.Duration
	block      bool
	count      int64
	streamsArg int
	nStreams   int
	noack      bool
	group      []byte
	consumer   []byte
}

func parseReadArgs(c *command.Ctx, xreadgroup bool) (a readArgs, ok bool) {
	args := c.Args
	for i := 1; i < len(args); i++ {
		more := len(args) - i - 1
		o := args[i]
		switch {
		case command.EqFold(o, "block") && more > 0:
			i++
			if a.timeout, ok = c.ParseTimeoutMillis(args[i]); !ok {
				return a, false
			}
			a.block = true
		case command.EqFold(o, "count") && more > 0:
			i++
			n, ok := c.ParseInt(args[i])
			if !ok {
				return a, false
			}
			a.count = max(n, 0)
		case command.EqFold(o, "streams") && more > 0:
			a.streamsArg = i + 1
			n := len(args) - a.streamsArg
			if n%2 != 0 {
				c.Error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
				return a, false
			}
			a.nStreams = n / 2
			i = len(args)
		case command.EqFold(o, "group") && more >= 2:
			if !xreadgroup {
				c.Error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
				return a, false
			}
			a.group, a.consumer = args[i+1], args[i+2]
			i += 2
		case command.EqFold(o, "noack"):
			if !xreadgroup {
				c.Error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
				return a, false
			}
			a.noack = true
		default:
			c.Error(command.ErrSyntax)
			return a, false
		}
	}
	if a.streamsArg == 0 {
		c.Error(command.ErrSyntax)
		return a, false
	}
	if xreadgroup && a.group == nil {
		c.Error("ERR Missing GROUP option for XREADGROUP")
		return a, false
	}
	return a, true
}

func cmdXread(c *command.Ctx)      { xreadGeneric(c, false) }
func cmdXreadgroup(c *command.Ctx) { xreadGeneric(c, true) }

// xreadGeneric is Redis's xreadCommand. A blocked client runs it again
// when a key is ready: "$" was replaced in its arguments by the ID it
// meant when it blocked, so the re-run serves what arrived since.
func xreadGeneric(c *command.Ctx, xreadgroup bool) {
	a, ok := parseReadArgs(c, xreadgroup)
	if !ok {
		return
	}
	reexec := c.Reexecuted()
	keys := c.Args[a.streamsArg : a.streamsArg+a.nStreams]
	idArgs := c.Args[a.streamsArg+a.nStreams:]
	ids := make([]stream.ID, a.nStreams)
	groups := make([]*stream.Group, a.nStreams)
	streams := make([]*stream.Stream, a.nStreams)
	dollar := make([]bool, a.nStreams)
	for i, key := range keys {
		var s *stream.Stream
		e := c.LookupRead(key)
		if xreadgroup {
			e = c.LookupWrite(key)
		}
		if e != nil {
			if e.Type() != keyspace.TypeStream {
				if !reexec {
					c.WrongType()
					return
				}
			} else {
				s = e.Object().(*stream.Stream)
			}
		}
		streams[i] = s
		if a.group != nil {
			var g *stream.Group
			if s != nil {
				g = s.Group(a.group)
			}
			if g == nil {
				if reexec {
					if s == nil {
						c.Error("UNBLOCKED the stream key no longer exists")
					} else {
						c.Error("NOGROUP the consumer group this client was blocked on no longer exists")
					}
					return
				}
				c.Error(fmt.Sprintf("NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option",
					errArg(key), errArg(a.group)))
				return
			}
			groups[i] = g
		}
		arg := idArgs[i]
		switch {
		case len(arg) == 1 && arg[0] == '$':
			if xreadgroup {
				c.Error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
				return
			}
			if s != nil {
				ids[i] = s.LastID()
			}
			dollar[i] = true
		case len(arg) == 1 && arg[0] == '>':
			if !xreadgroup {
				c.Error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
				return
			}
			ids[i] = stream.MaxID
		default:
			id, ok := parseStrictID(c, arg)
			if !ok {
				return
			}
			ids[i] = id
		}
	}
	count := a.count
	if reexec && count == 0 {
		count = blockedDefaultCount
	}
	gts := make([]stream.ID, len(streams))
	history := make([]bool, len(streams))
	served := 0
	for i, s := range streams {
		if s == nil {
			continue
		}
		gt := ids[i]
		sync := false
		if g := groups[i]; g != nil {
			if gt != stream.MaxID {
				sync, history[i] = true, true
			} else if s.Length() > 0 && g.LastID.Less(s.LastEntryID()) {
				sync = true
				gt = g.LastID
			}
		} else if s.Length() > 0 && gt.Less(s.LastEntryID()) {
			sync = true
		}
		if sync {
			gts[i] = gt
			served++
		} else {
			streams[i] = nil
		}
	}
	if xreadgroup {
		c.PreventPropagation()
	}
	if served > 0 {
		if c.W.Proto() == 3 {
			c.W.MapLen(served)
		} else {
			c.W.ArrayLen(served)
		}
		for i, s := range streams {
			if s != nil {
				serveStream(c, s, keys[i], groups[i], a, gts[i], history[i], count)
			}
		}
		return
	}
	if a.block {
		// Remember what "$" meant: the re-run reads after it.
		for i := range keys {
			if dollar[i] {
				c.Args[a.streamsArg+a.nStreams+i] = ids[i].Append(nil)
			}
		}
		c.BlockOnKeys(keys, a.timeout, nil)
		return
	}
	c.W.NullArray()
}

// serveStream replies one stream's part of a read: the key and the
// entries after gt (a group's history from gt when history).
func serveStream(c *command.Ctx, s *stream.Stream, key []byte, g *stream.Group, a readArgs, gt stream.ID, history bool, count int64) {
	if c.W.Proto() != 3 {
		c.W.ArrayLen(2)
	}
	c.W.Bulk(key)
	start, _ := gt.Incr()
	if g == nil {
		replyRange(c, s, start, stream.MaxID, count, false)
		return
	}
	cons := lookupConsumer(c, g, key, a.consumer)
	cons.SeenTime = c.Now()
	if history {
		replyConsumerPEL(c, s, cons, start, count)
	} else {
		replyGroupRange(c, s, key, g, cons, start, count, a.noack)
	}
	c.AddDirty(1)
}

// lookupConsumer finds or creates (propagating XGROUP CREATECONSUMER)
// the consumer name of g.
func lookupConsumer(c *command.Ctx, g *stream.Group, key, name []byte) *stream.Consumer {
	if cons := g.Consumer(name); cons != nil {
		return cons
	}
	cons := g.AddConsumer(name, c.Now())
	c.AlsoPropagate([]byte("XGROUP"), []byte("CREATECONSUMER"), key, []byte(g.Name), name)
	c.Notify(command.NotifyStream, "xgroup-createconsumer", key)
	return cons
}

// replyGroupRange is streamReplyWithRange for a group read of new
// entries: each becomes pending for cons (unless noack), propagated as
// XCLAIM, and the group's last ID as XGROUP SETID.
func replyGroupRange(c *command.Ctx, s *stream.Stream, key []byte, g *stream.Group, cons *stream.Consumer, start stream.ID, count int64, noack bool) {
	type item struct {
		id stream.ID
		fv [][]byte
	}
	var items []item
	s.Range(start, stream.MaxID, false, func(id stream.ID, fv [][]byte) bool {
		items = append(items, item{id, fv})
		items[len(items)-1].fv = append([][]byte(nil), fv...)
		return count == 0 || int64(len(items)) < count
	})
	c.W.ArrayLen(len(items))
	propagateLast := false
	now := c.Now()
	for _, it := range items {
		if s.Delivered(g, it.id) {
			propagateLast = true
		}
		replyEntry(c, it.id, it.fv)
		if noack {
			continue
		}
		p := g.Pending(it.id)
		if p == nil {
			p = g.AddPending(it.id, cons, now, 1)
		} else {
			g.Transfer(p, cons)
			p.DeliveryTime = now
			p.DeliveryCount = 1
		}
		propagateXclaim(c, key, g, it.id, p)
	}
	if propagateLast {
		propagateGroupID(c, key, g)
	}
}

// replyConsumerPEL is streamReplyWithRangeFromConsumerPEL: the history of
// cons from start; deleted entries reply a null field list.
func replyConsumerPEL(c *command.Ctx, s *stream.Stream, cons *stream.Consumer, start stream.ID, count int64) {
	var pend []*stream.Pending
	for _, p := range cons.PEL() {
		if p.ID.Less(start) {
			continue
		}
		pend = append(pend, p)
		if count != 0 && int64(len(pend)) == count {
			break
		}
	}
	c.W.ArrayLen(len(pend))
	now := c.Now()
	for _, p := range pend {
		found := false
		s.Range(p.ID, p.ID, false, func(id stream.ID, fv [][]byte) bool {
			replyEntry(c, id, fv)
			found = true
			return false
		})
		if !found {
			c.W.ArrayLen(2)
			replyID(c, p.ID)
			c.W.NullArray()
			continue
		}
		p.DeliveryTime = now
		p.DeliveryCount++
	}
}

// propagateXclaim is streamPropagateXCLAIM.
func propagateXclaim(c *command.Ctx, key []byte, g *stream.Group, id stream.ID, p *stream.Pending) {
	var a argBuilder
	a.add("XCLAIM").addBytes(key).add(g.Name).add(p.Consumer.Name).add("0").addID(id).add("TIME").
		addInt(p.DeliveryTime).add("RETRYCOUNT").addInt(p.DeliveryCount).add("FORCE").add("JUSTID").
		add("LASTID").addID(g.LastID)
	c.AlsoPropagate(a.args()...)
}

// propagateGroupID is streamPropagateGroupID.
func propagateGroupID(c *command.Ctx, key []byte, g *stream.Group) {
	var a argBuilder
	a.add("XGROUP").add("SETID").addBytes(key).add(g.Name).addID(g.LastID).add("ENTRIESREAD").addInt(g.EntriesRead)
	c.AlsoPropagate(a.args()...)
}

// argBuilder lays a command's arguments out in one buffer.
type argBuilder struct {
	buf  []byte
	ends [16]int
	n    int
}

func (a *argBuilder) end() *argBuilder {
	a.ends[a.n] = len(a.buf)
	a.n++
	return a
}

func (a *argBuilder) add(s string) *argBuilder       { a.buf = append(a.buf, s...); return a.end() }
func (a *argBuilder) addBytes(b []byte) *argBuilder  { a.buf = append(a.buf, b...); return a.end() }
func (a *argBuilder) addID(id stream.ID) *argBuilder { a.buf = id.Append(a.buf); return a.end() }
func (a *argBuilder) addInt(n int64) *argBuilder {
	a.buf = strconv.AppendInt(a.buf, n, 10)
	return a.end()
}
func (a *argBuilder) args() [][]byte {
	out := make([][]byte, a.n)
	start := 0
	for i := range out {
		out[i] = a.buf[start:a.ends[i]:a.ends[i]]
		start = a.ends[i]
	}
	return out
}
