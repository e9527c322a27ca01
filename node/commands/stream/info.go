package stream

import (
	"fmt"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace/stream"
)

var xinfoHelp = []string{
	"CONSUMERS <key> <groupname>",
	"    Show consumers of <groupname>.",
	"GROUPS <key>",
	"    Show the stream consumer groups.",
	"STREAM <key> [FULL [COUNT <count>]",
	"    Show information about the stream.",
}

func cmdXinfoHelp(c *command.Ctx) { c.ReplyHelp("XINFO", xinfoHelp) }

// xinfoStream looks the key up for XINFO ("no such key" when missing).
func xinfoStream(c *command.Ctx) (*stream.Stream, bool) {
	s, ok := streamForRead(c, c.Args[2])
	if !ok {
		return nil, false
	}
	if s == nil {
		c.Error(command.ErrNoSuchKey)
		return nil, false
	}
	return s, true
}

func cmdXinfoConsumers(c *command.Ctx) {
	s, ok := xinfoStream(c)
	if !ok {
		return
	}
	g := s.Group(c.Args[3])
	if g == nil {
		c.Error(fmt.Sprintf("NOGROUP No such consumer group '%s' for key name '%s'",
			errArg(c.Args[3]), errArg(c.Args[2])))
		return
	}
	now := c.Now()
	c.W.ArrayLen(len(g.Consumers()))
	for _, cons := range g.Consumers() {
		c.W.MapLen(3)
		c.W.BulkString("name")
		c.W.BulkString(cons.Name)
		c.W.BulkString("pending")
		c.W.Int(int64(len(cons.PEL())))
		c.W.BulkString("idle")
		c.W.Int(max(now-cons.SeenTime, 0))
	}
}

func cmdXinfoGroups(c *command.Ctx) {
	s, ok := xinfoStream(c)
	if !ok {
		return
	}
	c.W.ArrayLen(len(s.Groups()))
	for _, g := range s.Groups() {
		c.W.MapLen(6)
		c.W.BulkString("name")
		c.W.BulkString(g.Name)
		c.W.BulkString("consumers")
		c.W.Int(int64(len(g.Consumers())))
		c.W.BulkString("pending")
		c.W.Int(int64(len(g.PEL())))
		c.W.BulkString("last-delivered-id")
		replyID(c, g.LastID)
		c.W.BulkString("entries-read")
		replyEntriesRead(c, g)
		c.W.BulkString("lag")
		replyLag(c, s, g)
	}
}

func replyEntriesRead(c *command.Ctx, g *stream.Group) {
	if g.EntriesRead != stream.InvalidEntriesRead {
		c.W.Int(g.EntriesRead)
	} else {
		c.W.Null()
	}
}

func replyLag(c *command.Ctx, s *stream.Stream, g *stream.Group) {
	if lag, ok := s.Lag(g); ok {
		c.W.Int(lag)
	} else {
		c.W.Null()
	}
}

// cmdXinfoStream is XINFO STREAM <key> [FULL [COUNT <count>]]: the key is
// looked up first, then the options, whose only shapes are FULL and FULL
// COUNT n (Redis's xinfoReplyWithStreamInfo).
func cmdXinfoStream(c *command.Ctx) {
	s, ok := xinfoStream(c)
	if !ok {
		return
	}
	opts := c.Args[3:]
	full := len(opts) > 0
	count := int64(10)
	if full {
		if len(opts) != 1 && len(opts) != 3 || !command.EqFold(opts[0], "full") ||
			len(opts) == 3 && !command.EqFold(opts[1], "count") {
			c.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'. Try XINFO HELP.",
				errArg(c.Args[1])))
			return
		}
		if len(opts) == 3 {
			n, ok := c.ParseInt(opts[2])
			if !ok {
				return
			}
			if n < 0 {
				n = 10
			}
			count = n
		}
	}
	if full {
		xinfoStreamFull(c, s, count)
		return
	}
	c.W.MapLen(10)
	replyStreamHeader(c, s)
	c.W.BulkString("recorded-first-entry-id")
	replyID(c, s.FirstID())
	c.W.BulkString("groups")
	c.W.Int(int64(len(s.Groups())))
	for _, rev := range []bool{false, true} {
		if rev {
			c.W.BulkString("last-entry")
		} else {
			c.W.BulkString("first-entry")
		}
		found := false
		s.Range(stream.ID{}, stream.MaxID, rev, func(id stream.ID, fv [][]byte) bool {
			replyEntry(c, id, fv)
			found = true
			return false
		})
		if !found {
			c.W.Null()
		}
	}
}

// replyStreamHeader writes the fields XINFO STREAM starts with.
func replyStreamHeader(c *command.Ctx, s *stream.Stream) {
	c.W.BulkString("length")
	c.W.Int(s.Length())
	c.W.BulkString("radix-tree-keys")
	c.W.Int(int64(s.Blocks()))
	c.W.BulkString("radix-tree-nodes")
	c.W.Int(radixNodes(s.Blocks()))
	c.W.BulkString("last-generated-id")
	replyID(c, s.LastID())
	c.W.BulkString("max-deleted-entry-id")
	replyID(c, s.MaxDeletedID())
	c.W.BulkString("entries-added")
	c.W.Int(s.EntriesAdded())
}

// radixNodes estimates the nodes of Redis's radix tree over n keys (an
// empty tree has one node).
func radixNodes(n int) int64 {
	if n == 0 {
		return 1
	}
	return int64(n) + int64(n+1)/2
}

func xinfoStreamFull(c *command.Ctx, s *stream.Stream, count int64) {
	c.W.MapLen(9)
	replyStreamHeader(c, s)
	c.W.BulkString("recorded-first-entry-id")
	replyID(c, s.FirstID())
	c.W.BulkString("entries")
	replyRange(c, s, stream.ID{}, stream.MaxID, count, false)
	c.W.BulkString("groups")
	c.W.ArrayLen(len(s.Groups()))
	for _, g := range s.Groups() {
		c.W.MapLen(7)
		c.W.BulkString("name")
		c.W.BulkString(g.Name)
		c.W.BulkString("last-delivered-id")
		replyID(c, g.LastID)
		c.W.BulkString("entries-read")
		replyEntriesRead(c, g)
		c.W.BulkString("lag")
		replyLag(c, s, g)
		c.W.BulkString("pel-count")
		c.W.Int(int64(len(g.PEL())))
		c.W.BulkString("pending")
		pel := firstPending(g.PEL(), count)
		c.W.ArrayLen(len(pel))
		for _, p := range pel {
			c.W.ArrayLen(4)
			replyID(c, p.ID)
			c.W.BulkString(p.Consumer.Name)
			c.W.Int(p.DeliveryTime)
			c.W.Int(p.DeliveryCount)
		}
		c.W.BulkString("consumers")
		c.W.ArrayLen(len(g.Consumers()))
		for _, cons := range g.Consumers() {
			c.W.MapLen(4)
			c.W.BulkString("name")
			c.W.BulkString(cons.Name)
			c.W.BulkString("seen-time")
			c.W.Int(cons.SeenTime)
			c.W.BulkString("pel-count")
			c.W.Int(int64(len(cons.PEL())))
			c.W.BulkString("pending")
			cp := firstPending(cons.PEL(), count)
			c.W.ArrayLen(len(cp))
			for _, p := range cp {
				c.W.ArrayLen(3)
				replyID(c, p.ID)
				c.W.Int(p.DeliveryTime)
				c.W.Int(p.DeliveryCount)
			}
		}
	}
}

// firstPending is the first count entries of pel (count 0: all).
func firstPending(pel []*stream.Pending, count int64) []*stream.Pending {
	if count > 0 && int64(len(pel)) > count {
		return pel[:count]
	}
	return pel
}
