package server

import (
	"github.com/shoal-dev/shoal/node/command"
)

// keyHold is a set of keys a command works on without the lock
// (Client.Unlocked): MIGRATE sending them to another node. Until it ends,
// another client's command that may write one of them waits, and is
// dispatched again once done is closed, so it sees the keys either before
// the command or after it, never in the middle, as with Redis's single
// thread. Reads go on: the keys do not change while held.
type keyHold struct {
	done chan struct{}
	// deferred are the keys of blocked clients whose command was ready to
	// be served but writes a held key: made ready again when the hold ends.
	deferred []dbKey
}

// holdState is the server's held keys (key name -> its hold; the name
// alone, whatever the database, is the safe side of COPY/MOVE ... DB).
type holdState struct {
	keys map[string]*keyHold
}

// Unlocked runs fn without the server lock while holding keys: the
// other clients run meanwhile, and wait for fn's end only to write one of
// keys (see keyHold). fn touches the keyspace and the client only inside
// steps it passes to locked, which runs each with the lock held (short
// ones: the other clients run between them); the keys stay held from
// before the first step to after the last, so what the steps read and
// change of them no other command sees in between. It reports false,
// running nothing, when the command must keep the lock: inside MULTI/EXEC
// or a script, for a blocked command served again, or on a connection
// served by an event loop (give the command command.OwnGoroutine); the
// caller then runs fn itself with a locked that just runs the step.
// Called with the lock held.
func (c *Client) Unlocked(keys [][]byte, fn func(locked func(step func()))) bool {
	s := c.srv
	if c.loop != nil || c.inExec || c.reexec || c.multi != nil || s.script.running != nil || c.conn == (nullConn{}) {
		return false
	}
	h := &keyHold{done: make(chan struct{})}
	if s.holds.keys == nil {
		s.holds.keys = map[string]*keyHold{}
	}
	var mine []string
	for _, k := range keys {
		if _, taken := s.holds.keys[string(k)]; !taken {
			s.holds.keys[string(k)] = h
			mine = append(mine, string(k))
		}
	}
	tracking := s.trk.current == c
	locked := func(step func()) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if tracking {
			s.trk.current = c
		}
		step()
	}
	s.mu.Unlock()
	func() {
		defer s.mu.Lock()
		fn(locked)
	}()
	if tracking {
		s.trk.current = c
	}
	for _, k := range mine {
		delete(s.holds.keys, k)
	}
	for _, dk := range h.deferred {
		s.signalReady(dk.db, []byte(dk.key))
	}
	close(h.done)
	return true
}

// heldBy is the hold a command must wait for (nil: none): a command that
// may write, or an EXEC queuing one, naming a held key.
func (s *Server) heldBy(c *Client, spec *command.Spec, args [][]byte) *keyHold {
	if spec == s.execSpec {
		if c.multi == nil {
			return nil
		}
		for _, q := range c.multi.cmds {
			if h := s.holdOf(c, q.spec, q.args); h != nil {
				return h
			}
		}
		return nil
	}
	return s.holdOf(c, spec, args)
}

// holdOf is the hold of the first held key a command may write; any
// hold for a command that writes without naming keys.
func (s *Server) holdOf(c *Client, spec *command.Spec, args [][]byte) *keyHold {
	if spec.Flags&(command.Write|command.MayReplicate) == 0 {
		return nil
	}
	keys, ok := spec.GetKeys(args, c.keysBuf[:0])
	c.keysBuf = keys
	if !ok {
		return nil
	}
	for _, pos := range keys {
		if h := s.holds.keys[string(args[pos])]; h != nil {
			return h
		}
	}
	if len(keys) == 0 && spec.Flags&command.Write != 0 {
		// FLUSHALL, SWAPDB: a MIGRATE deletes its keys in steps and
		// propagates the DEL at its end, which must not come after
		// a SWAPDB that moved what it deleted.
		for _, h := range s.holds.keys {
			return h
		}
	}
	return nil
}

// blockedHeldBy is the hold a blocked client's command must wait for
// before it is served (BLMOVE's destination may be held).
func (s *Server) blockedHeldBy(c *Client) *keyHold {
	if len(s.holds.keys) == 0 {
		return nil
	}
	spec, _ := s.cmds.LookupArgs(c.blk.args)
	if spec == nil {
		return nil
	}
	return s.holdOf(c, spec, c.blk.args)
}
