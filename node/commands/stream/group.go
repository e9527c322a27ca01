package stream

import (
	"fmt"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/stream"
)

var xgroupHelp = []string{
	"CREATE <key> <groupname> <id|$> [option]",
	"    Create a new consumer group. Options are:",
	"    * MKSTREAM",
	"      Create the empty stream if it does not exist.",
	"    * ENTRIESREAD entries_read",
	"      Set the group's entries_read counter (internal use).",
	"CREATECONSUMER <key> <groupname> <consumer>",
	"    Create a new consumer in the specified group.",
	"DELCONSUMER <key> <groupname> <consumer>",
	"    Remove the specified consumer.",
	"DESTROY <key> <groupname>",
	"    Remove the specified group.",
	"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
	"    Set the current group ID and entries_read counter.",
}

func cmdXgroupHelp(c *command.Ctx) { c.ReplyHelp("XGROUP", xgroupHelp) }

func subcommandSyntaxError(c *command.Ctx) {
	c.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'. Try XGROUP HELP.",
		errArg(c.Args[1])))
}

// parseEntriesRead parses ENTRIESREAD's value.
func parseEntriesRead(c *command.Ctx, arg []byte) (int64, bool) {
	n, ok := c.ParseInt(arg)
	if !ok {
		return 0, false
	}
	if n < 0 && n != stream.InvalidEntriesRead {
		c.Error("ERR value for ENTRIESREAD must be positive or -1")
		return 0, false
	}
	return n, true
}

// xgroupLookup is the common start of XGROUP's subcommands: the stream
// (nil for CREATE ... MKSTREAM of a missing key) and the group (required
// unless needGroup is false). ok is false when it replied.
func xgroupLookup(c *command.Ctx, mkstream, needGroup bool) (*stream.Stream, *stream.Group, bool) {
	key := c.Args[2]
	e, s, ok := streamForWrite(c, key)
	if !ok {
		return nil, nil, false
	}
	if e == nil && !mkstream {
		c.Error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
		return nil, nil, false
	}
	var g *stream.Group
	if s != nil {
		g = s.Group(c.Args[3])
	}
	if g == nil && needGroup {
		c.Error(fmt.Sprintf("NOGROUP No such consumer group '%s' for key name '%s'",
			errArg(c.Args[3]), errArg(key)))
		return nil, nil, false
	}
	return s, g, true
}

// xgroupOptions parses the options after the ID as Redis does, before it
// looks the key up: MKSTREAM (CREATE) and ENTRIESREAD n (CREATE, SETID),
// in any number; the subcommand's own arity is checked after the lookup.
func xgroupOptions(c *command.Ctx) (mkstream bool, entriesRead int64, ok bool) {
	entriesRead = stream.InvalidEntriesRead
	create, setid := command.EqFold(c.Args[1], "create"), command.EqFold(c.Args[1], "setid")
	for i := 5; i < len(c.Args); {
		switch {
		case create && command.EqFold(c.Args[i], "mkstream"):
			mkstream = true
			i++
		case (create || setid) && command.EqFold(c.Args[i], "entriesread") && i+1 < len(c.Args):
			if entriesRead, ok = parseEntriesRead(c, c.Args[i+1]); !ok {
				return false, 0, false
			}
			i += 2
		default:
			subcommandSyntaxError(c)
			return false, 0, false
		}
	}
	return mkstream, entriesRead, true
}

func cmdXgroupCreate(c *command.Ctx) {
	mkstream, entriesRead, ok := xgroupOptions(c)
	if !ok {
		return
	}
	s, _, ok := xgroupLookup(c, mkstream, false)
	if !ok {
		return
	}
	if len(c.Args) > 8 {
		subcommandSyntaxError(c)
		return
	}
	key := c.Args[2]
	var id stream.ID
	if arg := c.Args[4]; len(arg) == 1 && arg[0] == '$' {
		if s != nil {
			id = s.LastID()
		}
	} else if id, ok = parseStrictID(c, arg); !ok {
		return
	}
	if s == nil {
		s = stream.New()
		c.DB.AddObject(key, keyspace.TypeStream, s)
		c.Modified(key)
	}
	if s.AddGroup(c.Args[3], id, entriesRead) == nil {
		c.Error("BUSYGROUP Consumer Group name already exists")
		return
	}
	c.W.OK()
	c.Modified(key)
	c.Notify(command.NotifyStream, "xgroup-create", key)
}

func cmdXgroupSetid(c *command.Ctx) {
	_, entriesRead, ok := xgroupOptions(c)
	if !ok {
		return
	}
	s, g, ok := xgroupLookup(c, false, true)
	if !ok {
		return
	}
	if len(c.Args) != 5 && len(c.Args) != 7 {
		subcommandSyntaxError(c)
		return
	}
	var id stream.ID
	if arg := c.Args[4]; len(arg) == 1 && arg[0] == '$' {
		id = s.LastID()
	} else if id, ok = parseID(c, arg, 0); !ok {
		return
	}
	g.LastID = id
	g.EntriesRead = entriesRead
	c.W.OK()
	c.Modified(c.Args[2])
	c.Notify(command.NotifyStream, "xgroup-setid", c.Args[2])
}

func cmdXgroupDestroy(c *command.Ctx) {
	s, g, ok := xgroupLookup(c, false, false)
	if !ok {
		return
	}
	if g == nil {
		c.W.Int(0)
		return
	}
	s.DeleteGroup(c.Args[3])
	c.W.Int(1)
	c.Modified(c.Args[2])
	c.Notify(command.NotifyStream, "xgroup-destroy", c.Args[2])
	c.SignalReady(c.Args[2])
}

func cmdXgroupCreateconsumer(c *command.Ctx) {
	_, g, ok := xgroupLookup(c, false, true)
	if !ok {
		return
	}
	if g.AddConsumer(c.Args[4], c.Now()) == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(1)
	c.Modified(c.Args[2])
	c.Notify(command.NotifyStream, "xgroup-createconsumer", c.Args[2])
}

func cmdXgroupDelconsumer(c *command.Ctx) {
	_, g, ok := xgroupLookup(c, false, true)
	if !ok {
		return
	}
	n := g.DeleteConsumer(c.Args[4])
	if n < 0 {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(n))
	c.Modified(c.Args[2])
	c.Notify(command.NotifyStream, "xgroup-delconsumer", c.Args[2])
}

func cmdXack(c *command.Ctx) {
	key := c.Args[1]
	e, s, ok := streamForWrite(c, key)
	if !ok {
		return
	}
	var g *stream.Group
	if e != nil {
		g = s.Group(c.Args[2])
	}
	if g == nil { // Redis 7.0 answers 0 before it parses the IDs
		c.W.Int(0)
		return
	}
	ids := make([]stream.ID, 0, len(c.Args)-3)
	for _, arg := range c.Args[3:] {
		id, ok := parseStrictID(c, arg)
		if !ok {
			return
		}
		ids = append(ids, id)
	}
	n := 0
	for _, id := range ids {
		if g.Ack(id) {
			n++
		}
	}
	if n > 0 {
		c.Modified(key)
		c.AddDirty(int64(n - 1))
	}
	c.W.Int(int64(n))
}

func cmdXpending(c *command.Ctx) {
	args := c.Args
	justInfo := len(args) == 3
	if len(args) != 3 && (len(args) < 6 || len(args) > 9) {
		c.Error(command.ErrSyntax)
		return
	}
	var start, end stream.ID
	var count, minIdle int64
	var consumerName []byte
	if len(args) >= 6 {
		si := 3
		if command.EqFold(args[3], "idle") {
			n, ok := c.ParseInt(args[4])
			if !ok {
				return
			}
			minIdle = n
			if len(args) < 8 {
				c.Error(command.ErrSyntax)
				return
			}
			si += 2
		}
		n, ok := c.ParseInt(args[si+2])
		if !ok {
			return
		}
		count = max(n, 0)
		if start, ok = parseStart(c, args[si]); !ok {
			return
		}
		if end, ok = parseEnd(c, args[si+1]); !ok {
			return
		}
		if si+3 < len(args) {
			consumerName = args[si+3]
		}
	}
	s, ok := streamForRead(c, args[1])
	if !ok {
		return
	}
	var g *stream.Group
	if s != nil {
		g = s.Group(args[2])
	}
	if g == nil {
		c.Error(fmt.Sprintf(errNoKeyGroup, errArg(args[1]), errArg(args[2])))
		return
	}
	if justInfo {
		pel := g.PEL()
		c.W.ArrayLen(4)
		c.W.Int(int64(len(pel)))
		if len(pel) == 0 {
			c.W.Null()
			c.W.Null()
			c.W.NullArray()
			return
		}
		replyID(c, pel[0].ID)
		replyID(c, pel[len(pel)-1].ID)
		n := 0
		for _, cons := range g.Consumers() {
			if len(cons.PEL()) > 0 {
				n++
			}
		}
		c.W.ArrayLen(n)
		for _, cons := range g.Consumers() {
			if len(cons.PEL()) > 0 {
				c.W.ArrayLen(2)
				c.W.BulkString(cons.Name)
				c.W.BulkInt(int64(len(cons.PEL())))
			}
		}
		return
	}
	var cons *stream.Consumer
	if consumerName != nil {
		if cons = g.Consumer(consumerName); cons == nil {
			c.W.ArrayLen(0)
			return
		}
	}
	now := c.Now()
	var out []*stream.Pending
	g.PendingRange(cons, start, end, func(p *stream.Pending) bool {
		if count == 0 {
			return false
		}
		if minIdle != 0 && now-p.DeliveryTime < minIdle {
			return true
		}
		out = append(out, p)
		count--
		return true
	})
	c.W.ArrayLen(len(out))
	for _, p := range out {
		c.W.ArrayLen(4)
		replyID(c, p.ID)
		c.W.BulkString(p.Consumer.Name)
		c.W.Int(max(now-p.DeliveryTime, 0))
		c.W.Int(p.DeliveryCount)
	}
}

// claimTo makes p pending for the consumer name (created when missing).
func claimTo(c *command.Ctx, key []byte, g *stream.Group, cons **stream.Consumer, name []byte) *stream.Consumer {
	if *cons == nil {
		*cons = lookupConsumer(c, g, key, name)
		(*cons).SeenTime = c.Now()
	}
	return *cons
}

func cmdXclaim(c *command.Ctx) {
	key := c.Args[1]
	s, g, ok := groupForWrite(c, key, c.Args[2])
	if !ok {
		return
	}
	minIdle, ok := parseIntMsg(c, c.Args[4], "ERR Invalid min-idle-time argument for XCLAIM")
	if !ok {
		return
	}
	minIdle = max(minIdle, 0)
	j := 5
	var ids []stream.ID
	for ; j < len(c.Args); j++ {
		id, ok := parseStrictID(nil, c.Args[j])
		if !ok {
			break
		}
		ids = append(ids, id)
	}
	now := c.Now()
	retryCount, deliveryTime := int64(-1), int64(-1)
	force, justID := false, false
	var lastID stream.ID
	propagateLast := false
	for ; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		opt := c.Args[j]
		switch {
		case command.EqFold(opt, "force"):
			force = true
		case command.EqFold(opt, "justid"):
			justID = true
		case command.EqFold(opt, "idle") && more > 0:
			j++
			n, ok := parseIntMsg(c, c.Args[j], "ERR Invalid IDLE option argument for XCLAIM")
			if !ok {
				return
			}
			deliveryTime = now - n
		case command.EqFold(opt, "time") && more > 0:
			j++
			n, ok := parseIntMsg(c, c.Args[j], "ERR Invalid TIME option argument for XCLAIM")
			if !ok {
				return
			}
			deliveryTime = n
		case command.EqFold(opt, "retrycount") && more > 0:
			j++
			n, ok := parseIntMsg(c, c.Args[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")
			if !ok {
				return
			}
			retryCount = n
		case command.EqFold(opt, "lastid") && more > 0:
			j++
			id, ok := parseStrictID(c, c.Args[j])
			if !ok {
				return
			}
			lastID = id
		default:
			c.Error(fmt.Sprintf("ERR Unrecognized XCLAIM option '%s'", errArg(opt)))
			return
		}
	}
	if g.LastID.Less(lastID) {
		g.LastID = lastID
		propagateLast = true
	}
	if deliveryTime == -1 || deliveryTime < 0 || deliveryTime > now {
		deliveryTime = now
	}
	c.PreventPropagation()
	var cons *stream.Consumer
	var out []stream.ID
	for _, id := range ids {
		p := g.Pending(id)
		if !s.Lookup(id) {
			if p != nil {
				propagateXclaim(c, key, g, id, p)
				propagateLast = false
				g.Ack(id)
				c.AddDirty(1)
			}
			continue
		}
		created := false
		if force && p == nil {
			claimTo(c, key, g, &cons, c.Args[3])
			p = g.AddPending(id, cons, now, 1)
			created = true
		}
		if p == nil {
			continue
		}
		if !created && minIdle != 0 && now-p.DeliveryTime < minIdle {
			continue
		}
		claimTo(c, key, g, &cons, c.Args[3])
		g.Transfer(p, cons)
		p.DeliveryTime = deliveryTime
		if retryCount >= 0 {
			p.DeliveryCount = retryCount
		} else if !justID {
			p.DeliveryCount++
		}
		out = append(out, id)
		propagateXclaim(c, key, g, id, p)
		propagateLast = false
		c.AddDirty(1)
	}
	if propagateLast {
		propagateGroupID(c, key, g)
		c.AddDirty(1)
	}
	c.W.ArrayLen(len(out))
	for _, id := range out {
		if justID {
			replyID(c, id)
			continue
		}
		s.Range(id, id, false, func(id stream.ID, fv [][]byte) bool {
			replyEntry(c, id, fv)
			return false
		})
	}
}

// parseIntMsg is getLongLongFromObjectOrReply with a custom message.
func parseIntMsg(c *command.Ctx, arg []byte, msg string) (int64, bool) {
	n, ok := keyspace.ParseInt(arg)
	if !ok {
		c.Error(msg)
	}
	return n, ok
}

func cmdXautoclaim(c *command.Ctx) {
	key := c.Args[1]
	minIdle, ok := parseIntMsg(c, c.Args[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM")
	if !ok {
		return
	}
	minIdle = max(minIdle, 0)
	start, ok := parseStart(c, c.Args[5])
	if !ok {
		return
	}
	count := int64(100)
	justID := false
	for j := 6; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		switch opt := c.Args[j]; {
		case command.EqFold(opt, "count") && more > 0:
			n, ok := keyspace.ParseInt(c.Args[j+1])
			if !ok || n < 1 || n > (1<<63-1)/16 {
				c.Error("ERR COUNT must be > 0")
				return
			}
			count = n
			j++
		case command.EqFold(opt, "justid"):
			justID = true
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	s, g, ok := groupForWrite(c, key, c.Args[2])
	if !ok {
		return
	}
	c.PreventPropagation()
	attempts := count * 10
	now := c.Now()
	var cons *stream.Consumer
	var claimed, deleted []stream.ID
	pel := g.PEL()
	i, _ := searchPEL(pel, start)
	for attempts > 0 && count > 0 {
		attempts--
		pel = g.PEL()
		if i >= len(pel) {
			break
		}
		p := pel[i]
		id := p.ID
		if !s.Lookup(id) {
			propagateXclaim(c, key, g, id, p)
			c.AddDirty(1)
			g.Ack(id)
			deleted = append(deleted, id)
			count--
			continue // i now indexes the next entry
		}
		i++
		if minIdle != 0 && now-p.DeliveryTime < minIdle {
			continue
		}
		claimTo(c, key, g, &cons, c.Args[3])
		g.Transfer(p, cons)
		p.DeliveryTime = now
		if !justID {
			p.DeliveryCount++
		}
		claimed = append(claimed, id)
		count--
		propagateXclaim(c, key, g, id, p)
		c.AddDirty(1)
	}
	pel = g.PEL()
	var next stream.ID
	if i < len(pel) {
		next = pel[i].ID
	}
	c.W.ArrayLen(3)
	replyID(c, next)
	c.W.ArrayLen(len(claimed))
	for _, id := range claimed {
		if justID {
			replyID(c, id)
			continue
		}
		s.Range(id, id, false, func(id stream.ID, fv [][]byte) bool {
			replyEntry(c, id, fv)
			return false
		})
	}
	c.W.ArrayLen(len(deleted))
	for _, id := range deleted {
		replyID(c, id)
	}
}

// searchPEL is the index of the first pending entry >= id.
func searchPEL(pel []*stream.Pending, id stream.ID) (int, bool) {
	lo, hi := 0, len(pel)
	for lo < hi {
		m := (lo + hi) / 2
		if pel[m].ID.Less(id) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(pel) && pel[lo].ID == id
}

// groupForWrite looks up the stream at key and its group: NOGROUP when
// either is missing (ok false once replied).
func groupForWrite(c *command.Ctx, key, group []byte) (*stream.Stream, *stream.Group, bool) {
	e, s, ok := streamForWrite(c, key)
	if !ok {
		return nil, nil, false
	}
	var g *stream.Group
	if e != nil {
		g = s.Group(group)
	}
	if g == nil {
		c.Error(fmt.Sprintf(errNoKeyGroup, errArg(key), errArg(group)))
		return nil, nil, false
	}
	return s, g, true
}
