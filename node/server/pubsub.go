package server

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/command"
)

// pubsubState is who listens to what, in subscription order.
type pubsubState struct {
	channels map[string][]*Client
	patterns map[string][]*Client
}

func (p *pubsubState) init() {
	p.channels = map[string][]*Client{}
	p.patterns = map[string][]*Client{}
}

func pubsubHandlers() map[string]Handler {
	return map[string]Handler{
		"subscribe":       cmdSubscribe,
		"unsubscribe":     cmdUnsubscribe,
		"psubscribe":      cmdPSubscribe,
		"punsubscribe":    cmdPUnsubscribe,
		"publish":         cmdPublish,
		"pubsub|channels": cmdPubsubChannels,
		"pubsub|numsub":   cmdPubsubNumsub,
		"pubsub|numpat":   cmdPubsubNumpat,
		"pubsub|help":     cmdPubsubHelp,
	}
}

func (c *Client) subscriptions() int { return len(c.channels) + len(c.patterns) }

func (c *Client) pushSubReply(kind string, name []byte, null bool) {
	c.W.PushLen(3)
	c.W.BulkString(kind)
	if null {
		c.W.Null()
	} else {
		c.W.Bulk(name)
	}
	c.W.Int(int64(c.subscriptions()))
}

func removeClient(list []*Client, c *Client) []*Client {
	for i, x := range list {
		if x == c {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

func cmdSubscribe(c *Client) {
	if c.inExec && c.W.Proto() == 2 {
		// Redis refuses SUBSCRIBE inside MULTI for RESP2 clients.
		c.Error("ERR SUBSCRIBE isn't allowed for a DENY BLOCKING client")
		return
	}
	s := c.srv
	c.makeAsync()
	for _, ch := range c.Args[1:] {
		name := string(ch)
		if c.channels == nil {
			c.channels = map[string]struct{}{}
		}
		if _, ok := c.channels[name]; !ok {
			c.channels[name] = struct{}{}
			s.pubsub.channels[name] = append(s.pubsub.channels[name], c)
		}
		c.pushSubReply("subscribe", ch, false)
	}
}

func (s *Server) unsubscribeChannel(c *Client, name string, notify bool) {
	if _, ok := c.channels[name]; ok {
		delete(c.channels, name)
		if l := removeClient(s.pubsub.channels[name], c); len(l) == 0 {
			delete(s.pubsub.channels, name)
		} else {
			s.pubsub.channels[name] = l
		}
	}
	if notify {
		c.pushSubReply("unsubscribe", []byte(name), false)
	}
}

func (s *Server) unsubscribePattern(c *Client, name string, notify bool) {
	if _, ok := c.patterns[name]; ok {
		delete(c.patterns, name)
		if l := removeClient(s.pubsub.patterns[name], c); len(l) == 0 {
			delete(s.pubsub.patterns, name)
		} else {
			s.pubsub.patterns[name] = l
		}
	}
	if notify {
		c.pushSubReply("punsubscribe", []byte(name), false)
	}
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func cmdUnsubscribe(c *Client) {
	s := c.srv
	if len(c.Args) == 1 {
		if len(c.channels) == 0 {
			c.pushSubReply("unsubscribe", nil, true)
			return
		}
		for _, name := range sortedKeys(c.channels) {
			s.unsubscribeChannel(c, name, true)
		}
		return
	}
	for _, ch := range c.Args[1:] {
		s.unsubscribeChannel(c, string(ch), true)
	}
}

func cmdPSubscribe(c *Client) {
	if c.inExec && c.W.Proto() == 2 {
		c.Error("ERR PSUBSCRIBE isn't allowed for a DENY BLOCKING client")
		return
	}
	s := c.srv
	c.makeAsync()
	for _, p := range c.Args[1:] {
		name := string(p)
		if c.patterns == nil {
			c.patterns = map[string]struct{}{}
		}
		if _, ok := c.patterns[name]; !ok {
			c.patterns[name] = struct{}{}
			s.pubsub.patterns[name] = append(s.pubsub.patterns[name], c)
		}
		c.pushSubReply("psubscribe", p, false)
	}
}

func cmdPUnsubscribe(c *Client) {
	s := c.srv
	if len(c.Args) == 1 {
		if len(c.patterns) == 0 {
			c.pushSubReply("punsubscribe", nil, true)
			return
		}
		for _, name := range sortedKeys(c.patterns) {
			s.unsubscribePattern(c, name, true)
		}
		return
	}
	for _, p := range c.Args[1:] {
		s.unsubscribePattern(c, string(p), true)
	}
}

// pubsubUnsubscribeAll drops every subscription of a closing client.
func (s *Server) pubsubUnsubscribeAll(c *Client) {
	for name := range c.channels {
		s.unsubscribeChannel(c, name, false)
	}
	for name := range c.patterns {
		s.unsubscribePattern(c, name, false)
	}
}

// Publish delivers a message and returns the number of receivers. The
// cluster bus calls it for messages published on other nodes.
func (s *Server) Publish(channel, message []byte) int {
	n := 0
	for _, c := range s.pubsub.channels[string(channel)] {
		c.W.PushLen(3)
		c.W.BulkString("message")
		c.W.Bulk(channel)
		c.W.Bulk(message)
		c.deliver()
		n++
	}
	for pat, clients := range s.pubsub.patterns {
		if !command.GlobMatch([]byte(pat), channel, false) {
			continue
		}
		for _, c := range clients {
			c.W.PushLen(4)
			c.W.BulkString("pmessage")
			c.W.BulkString(pat)
			c.W.Bulk(channel)
			c.W.Bulk(message)
			c.deliver()
			n++
		}
	}
	return n
}

// deliver wakes an async client's writer and applies output limits.
func (c *Client) deliver() {
	c.wakeAsync()
	c.checkOutputLimit()
}

func cmdPublish(c *Client) {
	n := c.srv.Publish(c.Args[1], c.Args[2])
	c.W.Int(int64(n))
	c.srv.published(c.Args[1], c.Args[2], false)
}

func cmdPubsubChannels(c *Client) {
	if len(c.Args) > 3 {
		c.Error(command.SubcommandSyntaxError(c.Args))
		return
	}
	var pat []byte
	if len(c.Args) > 2 {
		pat = c.Args[2]
	}
	var names []string
	for name := range c.srv.pubsub.channels {
		if pat == nil || command.GlobMatch(pat, []byte(name), false) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	c.W.StringArray(names...)
}

func cmdPubsubNumsub(c *Client) {
	c.W.ArrayLen(2 * (len(c.Args) - 2)) // a flat array in RESP3 too, as Redis
	for _, ch := range c.Args[2:] {
		c.W.Bulk(ch)
		c.W.Int(int64(len(c.srv.pubsub.channels[string(ch)])))
	}
}

func cmdPubsubNumpat(c *Client) {
	c.W.Int(int64(len(c.srv.pubsub.patterns)))
}

func cmdPubsubHelp(c *Client) {
	c.ReplyHelp("PUBSUB", []string{
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
	})
}

// ---- MONITOR ----

func (s *Server) removeMonitor(c *Client) {
	s.monitors = removeClient(s.monitors, c)
	if len(s.monitors) == 0 {
		s.monitors = nil
	}
	c.monitor = false
}

// feedMonitors sends a command to MONITOR clients in Redis's format:
// +1339518083.107412 [0 127.0.0.1:60866] "keys" "*"
func (s *Server) feedMonitors(c *Client, spec *command.Spec, args [][]byte) {
	args = spec.RedactedArgs(args)
	now := time.Now()
	var b strings.Builder
	b.WriteString(strconv.FormatInt(now.Unix(), 10))
	b.WriteByte('.')
	us := strconv.FormatInt(int64(now.Nanosecond()/1000), 10)
	b.WriteString(strings.Repeat("0", 6-len(us)) + us)
	b.WriteString(" [")
	b.WriteString(strconv.Itoa(c.DB.ID))
	b.WriteByte(' ')
	b.WriteString(c.addr)
	b.WriteString("]")
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(reprQuote(a))
	}
	line := b.String()
	for _, m := range s.monitors {
		m.W.SimpleString(line)
		m.deliver()
	}
}

// reprQuote quotes like Redis's sdscatrepr.
func reprQuote(a []byte) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, ch := range a {
		switch ch {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case '\n':
			b.WriteString("\\n")
		case '\r':
			b.WriteString("\\r")
		case '\t':
			b.WriteString("\\t")
		case '\a':
			b.WriteString("\\a")
		case '\b':
			b.WriteString("\\b")
		default:
			if ch >= 32 && ch < 127 {
				b.WriteByte(ch)
			} else {
				b.WriteString("\\x")
				b.WriteString(strconv.FormatInt(int64(ch)>>4, 16))
				b.WriteString(strconv.FormatInt(int64(ch)&15, 16))
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
