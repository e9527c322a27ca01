package server

import (
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/command"
)

// propOp is one effective write waiting to be handed to the Propagator.
type propOp struct {
	db   int
	args [][]byte
}

// dispatch checks one command (Redis's processCommand) and runs or queues
// it. Called with the lock held.
func (s *Server) dispatch(c *Client, args [][]byte) {
	now := s.clock
	s.env.Now = now.UnixMilli()
	spec, unknownSub := s.cmds.LookupArgs(args)
	if spec == nil {
		c.rejectCommand(nil, command.UnknownCommandError(args))
		return
	}
	if unknownSub {
		c.rejectCommand(spec, command.UnknownSubcommandError(args))
		return
	}
	if !spec.ArityOK(len(args)) {
		c.rejectCommand(spec, command.ArityError(spec))
		return
	}
	if !c.authenticated && !spec.Is(command.NoAuth) {
		c.rejectCommand(spec, command.ErrNoAuth)
		return
	}
	if c.multi != nil && spec.Is(command.NoMulti) {
		c.rejectCommand(spec, "ERR Command not allowed inside a transaction")
		return
	}
	if c.aclUser != nil && !c.aclUser.Unrestricted() {
		if msg := c.checkPermission(spec, args); msg != "" {
			c.rejectCommand(spec, msg)
			return
		}
	}
	if len(s.hooks.route) > 0 {
		if msg := s.routeRefuses(c, spec, args); msg != "" {
			if spec == s.execSpec {
				c.discardTransaction()
			}
			c.reject(msg)
			return
		}
	}
	if len(s.hooks.guard) > 0 {
		if msg := s.guardRefuses(c, spec); msg != "" {
			c.rejectCommand(spec, msg)
			return
		}
	}
	if len(s.holds.keys) > 0 && !(c.multi != nil && queuedInMulti(spec)) {
		if h := s.heldBy(c, spec, args); h != nil {
			c.pausedArgs = command.CopyArgs(args)
			c.heldOn = h
			return
		}
	}
	if c.multi == nil && s.pause.done != nil && s.pause.blocksFlags(s.callFlags(c, spec, args)) {
		c.pausedArgs = command.CopyArgs(args)
		return
	}
	if c.W.Proto() == 2 && len(c.channels)+len(c.patterns)+len(c.cl.shardChannels) > 0 && !spec.Is(command.SubscribedContext) {
		c.rejectCommand(spec, "ERR Can't execute '"+spec.FullName()+"': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
		return
	}
	if s.cfg.MaxMemory > 0 && !(c.multi != nil && queuedInMulti(spec)) {
		if spec.Is(command.DenyOOM) && !s.performEvictions() {
			c.rejectCommand(spec, command.ErrOOM)
			return
		}
		if spec.Is(command.Write) {
			s.mem.noteWrite(args)
		}
	}
	if s.diskErrorRefuses(c, spec) {
		c.rejectCommand(spec, ErrMisconf)
		return
	}
	if s.loading.active && !spec.Is(command.Loading) {
		c.rejectCommand(spec, ErrLoading)
		return
	}
	if s.script.busy {
		if msg := s.busyRefuses(c, spec); msg != "" {
			c.rejectCommand(spec, msg)
			return
		}
	}
	// MONITOR sees what passed the checks, passwords redacted (AUTH, HELLO).
	if s.monitors != nil && spec.Flags&(command.SkipMonitor|command.Admin) == 0 {
		s.feedMonitors(c, spec, args)
	}
	if c.multi != nil && queuedInMulti(spec) {
		c.queue(spec, args)
		return
	}
	c.Args = args
	if s.trk.active() {
		s.trk.current = c
	}
	s.callAt(c, spec, now)
	c.Args = nil
	if s.trk.active() {
		s.trackingAfterCommand(c, spec)
		s.afterCommand()
		s.trackingEndCommand()
		return
	}
	s.afterCommand()
}

// queuedInMulti reports whether the command is queued inside MULTI.
func queuedInMulti(spec *command.Spec) bool { return !spec.Is(command.NoQueue) }

// reject replies with a dispatch error; inside MULTI it also makes EXEC
// fail (EXECABORT).
func (c *Client) reject(msg string) { c.rejectCommand(nil, msg) }

// rejectCommand is reject for a known command (Redis's rejectCommand): a
// refused EXEC (wrong arity, ACL, ...) discards the transaction, with or
// without one open, and says why in an EXECABORT.
func (c *Client) rejectCommand(spec *command.Spec, msg string) {
	if spec != nil && spec == c.srv.execSpec {
		c.discardTransaction()
		msg = "EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR ")
	} else if c.multi != nil {
		c.execFailed = true
	}
	c.W.Error(msg)
	c.srv.stats.countError(msg)
	c.srv.stats.rejectedCalls++
}

// call runs a handler and does the bookkeeping around it: statistics,
// slowlog and propagation of what it changed (Redis's call()).
func (s *Server) call(c *Client, spec *command.Spec) { s.callAt(c, spec, time.Now()) }

// callNested is call for a command run inside another (a script's
// redis.call, a command queued in MULTI): s.clock was set by the
// enclosing command moments ago, so the start is read as the time since
// then, one read of the monotonic clock where time.Now reads it and the
// wall clock (a ten-call script paid 11% of its CPU in clock reads).
func (s *Server) callNested(c *Client, spec *command.Spec) {
	s.callAt(c, spec, s.clock.Add(time.Since(s.clock)))
}

// callAt is call with the start time already taken.
func (s *Server) callAt(c *Client, spec *command.Spec, start time.Time) {
	c.Cmd = spec
	c.cmdStart = start
	c.lastCmd = spec.FullName()
	c.rewrite = nil
	c.noProp = false
	dirty := s.dirty
	s.runHandler(c, spec)
	if c.trk.flags&trkOn != 0 {
		s.trackingRememberKeys(c, spec, c.Args)
	}
	dur := time.Since(start)
	s.clock = start.Add(dur)
	if c.blk != nil && !c.reexec {
		c.blk.ran = dur
	}
	if c.reexec || c.blk == nil {
		st := &s.cmdStats[spec.ID()]
		st.calls++
		st.usec += dur.Microseconds()
		if s.cfg.LatencyTracking {
			st.recordLatency(dur)
		}
		s.stats.commands++
		if s.latency.threshold.Load() > 0 && !c.reexec { // a served blocked command is no "command" event
			s.latency.addIfNeeded(latencyEventOf(spec), dur)
		}
	}
	if t := s.cfg.SlowlogSlowerThan; t >= 0 && dur.Microseconds() >= t && !spec.Is(command.SkipSlowlog) {
		s.slowlog.add(c, dur, s.cfg.SlowlogMaxLen)
	}
	if s.propagates() && s.dirty != dirty && !c.noProp {
		args := c.rewrite
		if args == nil {
			args = command.CopyArgs(c.Args)
		}
		s.propBuf = append(s.propBuf, propOp{db: c.DB.ID, args: args})
	}
}

// afterCommand runs after each top-level command: serve clients blocked
// on keys that became ready, then hand the writes to the propagator.
func (s *Server) afterCommand() {
	if len(s.blocking.ready) > 0 {
		s.serveReadyKeys()
	}
	if len(s.propBuf) > 0 {
		s.flushPropagation()
	}
}

// flushPropagation hands queued writes to the Propagator, wrapping the
// writes of one command in MULTI/EXEC when there are several.
func (s *Server) flushPropagation() {
	if len(s.propBuf) == 0 {
		return
	}
	ops := s.propBuf
	s.propBuf = s.propBuf[:0]
	if !s.propagates() {
		return
	}
	wrap := len(ops) > 1 && string(ops[0].args[0]) != "MULTI"
	if wrap {
		s.propagate(ops[0].db, [][]byte{[]byte("MULTI")})
	}
	for _, op := range ops {
		s.propagate(op.db, op.args)
	}
	if wrap {
		s.propagate(ops[len(ops)-1].db, [][]byte{[]byte("EXEC")})
	}
}

// Name is the command name in lower case (for subcommands the container's).
func specName(spec *command.Spec) string {
	if p := spec.Parent(); p != nil {
		return p.Name
	}
	return spec.Name
}
