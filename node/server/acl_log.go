package server

import (
	"time"

	"github.com/shoal-dev/shoal/node/command"
)

// ACL LOG: the latest denials (commands, keys, channels, failed AUTH), as
// Redis 7.0 keeps them: newest first, a denial like a recent one (same
// reason, context, object and user within 60 seconds) counts in that
// entry and moves it to the front.

// aclLogGroupingDelta is how recent a like denial must be to be counted
// in its entry. The log keeps acllog-max-len entries.
const aclLogGroupingDelta = 60 * time.Second

type aclLogEntry struct {
	count      int64
	reason     string // command, key, channel, auth
	context    string // toplevel, multi
	object     string
	username   string
	created    time.Time
	clientInfo string
}

type aclLog struct {
	entries []aclLogEntry // newest first
}

var aclReasonNames = map[int]string{
	aclDeniedCmd: "command", aclDeniedKey: "key", aclDeniedAuth: "auth", aclDeniedChannel: "channel",
}

// aclLogAdd records a denial of the client (Redis's addACLLogEntry).
// args is the command denied.
func (s *Server) aclLogAdd(c *Client, args [][]byte, reason int, object, username string) {
	now := time.Now()
	e := aclLogEntry{
		count: 1, reason: aclReasonNames[reason], context: "toplevel", object: object, username: username,
		created: now, clientInfo: c.infoLineFor(now, args),
	}
	if c.multi != nil || c.inExec {
		e.context = "multi"
	}
	l := &s.acl.log
	for i, old := range l.entries {
		if old.reason == e.reason && old.context == e.context && old.object == e.object &&
			old.username == e.username && now.Sub(old.created) <= aclLogGroupingDelta {
			e.count = old.count + 1
			l.entries = append(l.entries[:i], l.entries[i+1:]...)
			break
		}
	}
	l.entries = append([]aclLogEntry{e}, l.entries...)
	if len(l.entries) > s.cfg.ACLLogMaxLen {
		l.entries = l.entries[:s.cfg.ACLLogMaxLen]
	}
}

// aclLogAuthFailure records a failed AUTH or HELLO AUTH; the object is
// the command name as the client sent it.
func (s *Server) aclLogAuthFailure(c *Client, username string) {
	s.aclLogAdd(c, c.Args, aclDeniedAuth, string(c.Args[0]), username)
}

// cmdACLLog is ACL LOG [count|RESET].
func cmdACLLog(c *Client) {
	l := &c.srv.acl.log
	n := len(l.entries)
	if len(c.Args) > 3 {
		c.Error("ERR unknown subcommand or wrong number of arguments for '" + string(c.Args[1]) + "'. Try ACL HELP.")
		return
	}
	if len(c.Args) == 3 {
		if command.EqFold(c.Args[2], "reset") {
			l.entries = nil
			c.W.OK()
			return
		}
		count, ok := c.ParseInt(c.Args[2])
		if !ok {
			return
		}
		if count < 0 {
			count = 0
		}
		if count < int64(n) {
			n = int(count)
		}
	}
	now := time.Now()
	w := c.W
	w.ArrayLen(n)
	for _, e := range l.entries[:n] {
		w.MapLen(7)
		w.BulkString("count")
		w.Int(e.count)
		w.BulkString("reason")
		w.BulkString(e.reason)
		w.BulkString("context")
		w.BulkString(e.context)
		w.BulkString("object")
		w.BulkString(e.object)
		w.BulkString("username")
		w.BulkString(e.username)
		w.BulkString("age-seconds")
		w.Double(float64(now.Sub(e.created).Milliseconds()) / 1000)
		w.BulkString("client-info")
		w.BulkString(e.clientInfo)
	}
}
