package server

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/shoal-dev/shoal/node/command"
)

// A panic in a command handler is a bug, but one client's bad luck must not
// take the node down (every client of the shard would be cut off) nor, worse,
// leave the server lock held (every client would hang: a connection on a
// goroutine of its own frees itself in a deferred call that waits for the
// lock the panicking command still holds). So the handler's panic is
// recovered under the lock: the stack goes to the log with the command's
// name (never its arguments, which may be secrets), the client gets an error
// and its connection is closed (its replies and state may be half-written),
// INFO counts it (total_handler_panics), and the node serves the others.

// runHandler runs spec's handler for c, recovering a panic.
func (s *Server) runHandler(c *Client, spec *command.Spec) {
	mark := c.W.Len()
	defer func() {
		if r := recover(); r != nil {
			s.handlerPanicked(c, spec.FullName(), mark, r)
		}
	}()
	s.handlers[spec.ID()](c)
}

// ErrInternalPrefix starts the reply to a command whose handler panicked.
const ErrInternalPrefix = "ERR internal error in command '"

// handlerPanicked reports a recovered panic and condemns the client. mark
// is the length of c's reply buffer before the command (-1 if unknown):
// whatever the command half-wrote after it is dropped. Called with the
// lock held.
func (s *Server) handlerPanicked(c *Client, name string, mark int, r any) {
	s.stats.handlerPanics++
	s.log.Printf("=== PANIC in command '%s' (client id=%d), closing the client: %s\n%s",
		name, c.ID, panicText(r), debug.Stack())
	if mark >= 0 && mark <= c.W.Len() {
		c.W.Truncate(mark)
	}
	c.W.Error(ErrInternalPrefix + name + "', closing the connection")
	c.srv.stats.countError("ERR")
	c.noProp = true
	c.closeAfter = true
	if c.blk != nil {
		s.unblock(c)
	}
}

// panicText is the panic's value on one line.
func panicText(r any) string {
	var msg string
	if err, ok := r.(error); ok {
		msg = err.Error()
	} else {
		msg = fmt.Sprint(r)
	}
	return strings.ReplaceAll(msg, "\n", " ")
}

// recoverBatch is the last line for a panic outside a handler (dispatch's
// checks, serving blocked clients, propagation): deferred by runBatch, it
// lets the caller release the lock as usual and closes the client.
func (c *Client) recoverBatch() {
	if r := recover(); r != nil {
		name := c.lastCmd
		if name == "" {
			name = "unknown"
		}
		c.srv.handlerPanicked(c, name, -1, r)
	}
}
