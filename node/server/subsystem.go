package server

import (
	"net"
	"time"
)

// What a plugged subsystem (hooks.go) may use of the engine beyond the
// Server's and Client's public API for handlers. Each export names the
// subsystem that needs it; all of them are for use with the lock held
// unless said otherwise.

// Addr is the client's remote address ("ip:port"), for logs and the
// replica list of INFO replication.
func (c *Client) Addr() string { return c.addr }

// Conn is the client's connection, for a subsystem that writes to it
// itself once the client's command made it a stream's destination (a
// replica after PSYNC: its writer sends the snapshot and the stream,
// while the engine goes on reading the replica's REPLCONF ACKs). PSYNC
// runs on a goroutine of its own (command.OwnGoroutine), so no event loop
// writes to it.
func (c *Client) Conn() net.Conn { return c.conn }

// Kill closes the client's connection; the engine forgets the client
// when its goroutine sees it (a replica dropped by replication).
func (c *Client) Kill() { c.kill() }

// Blocked reports whether the client is blocked on keys (replication
// forgets a WAIT whose client is not).
func (c *Client) Blocked() bool { return c.blk != nil }

// NewInternalClient makes an authenticated client without a connection
// that runs commands the node receives otherwise than from a client (the
// master's stream on a replica). It is not in CLIENT LIST; its replies go
// nowhere.
func (s *Server) NewInternalClient(name string) *Client {
	c := newClient(s, nullConn{})
	c.authenticated = true
	c.name = name
	return c
}

// Run executes one command as c without the dispatch checks (ACL,
// routing, OOM, the Guard hooks), then serves the clients it made ready
// and propagates its writes, as after any command (the master's stream
// on a replica). It reports false, running nothing, for a command the
// table does not have or with the wrong number of arguments. args must
// stay valid during the call.
func (s *Server) Run(c *Client, args [][]byte) bool {
	spec, _ := s.cmds.LookupArgs(args)
	if spec == nil || !spec.ArityOK(len(args)) {
		return false
	}
	s.env.Now = time.Now().UnixMilli()
	c.Args = args
	s.call(c, spec)
	c.Args = nil
	s.afterCommand()
	return true
}

// FlushPropagation hands the writes the current command queued so far to
// the Propagator and the Propagate hooks now (PSYNC: the writes before
// the sync point must reach the backlog before it is taken).
func (s *Server) FlushPropagation() { s.flushPropagation() }

// Go runs f on a goroutine that Close waits for (without the lock): a
// subsystem's long-lived goroutine (the link to the master), which must
// end once Closing is closed.
func (s *Server) Go(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Closing is closed when Close starts (no lock needed).
func (s *Server) Closing() <-chan struct{} { return s.closing }

// Connected reports whether the client with this ID is still connected
// (replication forgets what it kept about gone clients).
func (s *Server) Connected(id int64) bool {
	_, ok := s.clients[id]
	return ok
}

// WritesPaused reports whether a CLIENT PAUSE (or a manual failover's
// pause) holds writes at now (a master sends no PING meanwhile).
func (s *Server) WritesPaused(now time.Time) bool {
	return s.pause.done != nil && now.Before(s.pause.until)
}

// SignalReady tells the clients blocked on key in database db that it
// may serve them (Client.SignalReady for another database, or a key no
// command writes: WAIT's, signalled by REPLCONF ACK).
func (s *Server) SignalReady(db int, key []byte) { s.signalReady(db, key) }
