package server

import (
	"time"

	"github.com/shoal-dev/shoal/node/acl"
	"github.com/shoal-dev/shoal/node/command"
)

// aclLogAdd records a denial of the client in ACL LOG (Redis's
// addACLLogEntry). args is the command denied.
func (s *Server) aclLogAdd(c *Client, args [][]byte, reason acl.Reason, object, username string) {
	now := time.Now()
	e := acl.LogEntry{
		Reason: reason, Context: "toplevel", Object: object, Username: username,
		Created: now, ClientInfo: c.infoLineFor(now, args),
	}
	if c.multi != nil || c.inExec {
		e.Context = "multi"
	}
	s.acl.log.Add(e, s.cfg.ACLLogMaxLen)
}

// aclLogAuthFailure records a failed AUTH or HELLO AUTH; the object is
// the command name as the client sent it.
func (s *Server) aclLogAuthFailure(c *Client, username string) {
	s.aclLogAdd(c, c.Args, acl.DeniedAuth, string(c.Args[0]), username)
}

// cmdACLLog is ACL LOG [count|RESET].
func cmdACLLog(c *Client) {
	l := &c.srv.acl.log
	n := len(l.Entries())
	if len(c.Args) > 3 {
		c.Error(command.SubcommandSyntaxError(c.Args))
		return
	}
	if len(c.Args) == 3 {
		if command.EqFold(c.Args[2], "reset") {
			l.Reset()
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
	for _, e := range l.Entries()[:n] {
		w.MapLen(7)
		w.BulkString("count")
		w.Int(e.Count)
		w.BulkString("reason")
		w.BulkString(e.Reason.String())
		w.BulkString("context")
		w.BulkString(e.Context)
		w.BulkString("object")
		w.BulkString(e.Object)
		w.BulkString("username")
		w.BulkString(e.Username)
		w.BulkString("age-seconds")
		w.Double(float64(now.Sub(e.Created).Milliseconds()) / 1000)
		w.BulkString("client-info")
		w.BulkString(e.ClientInfo)
	}
}
