package server

import (
	"sort"

	"github.com/shoal-dev/shoal/node/command"
)

// Sharded pub/sub (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB
// SHARDCHANNELS/SHARDNUMSUB): channels in their own namespace, routed by
// the slot of the channel name like keys. In cluster mode an SPUBLISH
// reaches the subscribers of every node of the shard over the bus, and a
// PUBLISH those of every node of the cluster: the cluster node carries
// them (Hooks.Published) and delivers what comes from the bus
// (DeliverShard), and drops the subscriptions of the slots it loses
// (DropShardChannels).

// shardPubsubHandlers are the commands of sharded pub/sub.
func shardPubsubHandlers() map[string]Handler {
	return map[string]Handler{
		"ssubscribe":           cmdSSubscribe,
		"sunsubscribe":         cmdSUnsubscribe,
		"spublish":             cmdSPublish,
		"pubsub|shardchannels": cmdPubsubShardChannels,
		"pubsub|shardnumsub":   cmdPubsubShardNumsub,
	}
}

func (c *Client) shardSubscriptions() int { return len(c.cl.shardChannels) }

func (c *Client) pushShardReply(kind string, name []byte, null bool) {
	c.W.PushLen(3)
	c.W.BulkString(kind)
	if null {
		c.W.Null()
	} else {
		c.W.Bulk(name)
	}
	c.W.Int(int64(c.shardSubscriptions()))
}

// SSUBSCRIBE shardchannel [shardchannel ...]
func cmdSSubscribe(c *Client) {
	if c.inExec && c.W.Proto() == 2 {
		c.Error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
		return
	}
	s := c.srv
	c.makeAsync()
	for _, ch := range c.Args[1:] {
		name := string(ch)
		if c.cl.shardChannels == nil {
			c.cl.shardChannels = map[string]struct{}{}
		}
		if _, ok := c.cl.shardChannels[name]; !ok {
			c.cl.shardChannels[name] = struct{}{}
			if s.cl.shardChannels == nil {
				s.cl.shardChannels = map[string][]*Client{}
			}
			s.cl.shardChannels[name] = append(s.cl.shardChannels[name], c)
		}
		c.pushShardReply("ssubscribe", ch, false)
	}
}

func (s *Server) sunsubscribeChannel(c *Client, name string, notify bool) {
	if _, ok := c.cl.shardChannels[name]; ok {
		delete(c.cl.shardChannels, name)
		if l := removeClient(s.cl.shardChannels[name], c); len(l) == 0 {
			delete(s.cl.shardChannels, name)
		} else {
			s.cl.shardChannels[name] = l
		}
	}
	if notify {
		c.pushShardReply("sunsubscribe", []byte(name), false)
	}
}

// SUNSUBSCRIBE [shardchannel ...]
func cmdSUnsubscribe(c *Client) {
	s := c.srv
	if len(c.Args) > 1 {
		for _, ch := range c.Args[1:] {
			s.sunsubscribeChannel(c, string(ch), true)
		}
		return
	}
	if len(c.cl.shardChannels) == 0 {
		c.pushShardReply("sunsubscribe", nil, true)
		return
	}
	for _, name := range sortedKeys(c.cl.shardChannels) {
		s.sunsubscribeChannel(c, name, true)
	}
}

// sunsubscribeAll drops the shard subscriptions of a closing client.
func (s *Server) sunsubscribeAll(c *Client) {
	for name := range c.cl.shardChannels {
		s.sunsubscribeChannel(c, name, false)
	}
}

// DeliverShard sends an SPUBLISH message to the local subscribers of a
// shard channel and returns their number.
func (s *Server) DeliverShard(channel, message []byte) int {
	clients := s.cl.shardChannels[string(channel)]
	for _, c := range clients {
		c.W.PushLen(3)
		c.W.BulkString("smessage")
		c.W.Bulk(channel)
		c.W.Bulk(message)
		c.deliver()
	}
	return len(clients)
}

// SPUBLISH shardchannel message
func cmdSPublish(c *Client) {
	n := c.srv.DeliverShard(c.Args[1], c.Args[2])
	c.srv.published(c.Args[1], c.Args[2], true)
	c.W.Int(int64(n))
}

// PUBSUB SHARDCHANNELS [pattern]
func cmdPubsubShardChannels(c *Client) {
	if len(c.Args) > 3 {
		c.Error(command.SubcommandSyntaxError(c.Args))
		return
	}
	var pat []byte
	if len(c.Args) > 2 {
		pat = c.Args[2]
	}
	var names []string
	for name := range c.srv.cl.shardChannels {
		if pat == nil || command.GlobMatch(pat, []byte(name), false) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	c.W.StringArray(names...)
}

// PUBSUB SHARDNUMSUB [shardchannel ...]
// cmdPubsubShardNumsub is PUBSUB SHARDNUMSUB: a flat array even in RESP3,
// as Redis 7.0 replies (NUMSUB's is a map).
func cmdPubsubShardNumsub(c *Client) {
	c.W.ArrayLen(2 * (len(c.Args) - 2))
	for _, ch := range c.Args[2:] {
		c.W.Bulk(ch)
		c.W.Int(int64(len(c.srv.cl.shardChannels[string(ch)])))
	}
}

// DropShardChannels unsubscribes the subscribers of the shard channels
// lost reports, telling them with a sunsubscribe message
// (removeChannelsInSlot): the cluster node's shard no longer serves their
// slot, so cluster clients subscribe again where it went.
func (s *Server) DropShardChannels(lost func(channel string) bool) {
	for name, clients := range s.cl.shardChannels {
		if !lost(name) {
			continue
		}
		for _, c := range append([]*Client(nil), clients...) {
			s.sunsubscribeChannel(c, name, true)
			c.deliver()
		}
	}
}

// serverCluster is the server's side of sharded pub/sub.
type serverCluster struct {
	// shardChannels are the SSUBSCRIBE subscribers (in standalone mode
	// too).
	shardChannels map[string][]*Client
}

// clientCluster is a client's cluster-related state.
type clientCluster struct {
	flags         ClusterFlags
	shardChannels map[string]struct{}
}
