package server

import (
	"sort"
	"time"

	"github.com/shoal-dev/shoal/node/command"
)

// Sharded pub/sub (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB
// SHARDCHANNELS/SHARDNUMSUB): channels in their own namespace, routed by
// the slot of the channel name like keys. In cluster mode an SPUBLISH
// reaches the subscribers of every node of the shard over the bus, and a
// PUBLISH those of every node of the cluster.

// wrapPublishForCluster makes PUBLISH also go to every other node over the
// bus (clusterPropagatePublish); the reply still counts local receivers,
// as Redis's.
func (s *Server) wrapPublishForCluster() {
	spec := s.cmds.Lookup([]byte("publish"))
	if spec == nil || s.handlers[spec.ID()] == nil {
		return
	}
	local := s.handlers[spec.ID()]
	s.handlers[spec.ID()] = func(c *Client) {
		local(c)
		if cn := c.srv.cl.node; cn != nil {
			cn.apply(cn.m.Publish(time.Now(), c.Args[1], c.Args[2]))
		}
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

// deliverShard sends an SPUBLISH message to the local subscribers of a
// shard channel and returns their number.
func (s *Server) deliverShard(channel, message []byte) int {
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
	n := c.srv.deliverShard(c.Args[1], c.Args[2])
	if cn := c.srv.cl.node; cn != nil {
		cn.apply(cn.m.PublishShard(time.Now(), c.Args[1], c.Args[2]))
	}
	c.W.Int(int64(n))
}

// PUBSUB SHARDCHANNELS [pattern]
func cmdPubsubShardChannels(c *Client) {
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
