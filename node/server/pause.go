package server

import (
	"time"

	"github.com/shoal-dev/shoal/node/command"
)

// pauseState is CLIENT PAUSE.
type pauseState struct {
	until time.Time
	all   bool // ALL, else WRITE
	done  chan struct{}
}

// blocks reports whether the command must wait for the pause to end.
func (p *pauseState) blocks(spec *command.Spec) bool { return p.blocksFlags(spec.Flags) }

// blocksFlags is blocks for a call with flags (Server.callFlags).
func (p *pauseState) blocksFlags(flags command.Flags) bool {
	if p.done == nil {
		return false
	}
	if time.Now().After(p.until) {
		return false
	}
	if p.all {
		return true
	}
	return flags&(command.Write|command.MayReplicate) != 0
}

// pauseClients starts or extends a pause.
func (s *Server) pauseClients(d time.Duration, all bool) {
	until := time.Now().Add(d)
	if s.pause.done == nil {
		s.pause.done = make(chan struct{})
		s.pause.until = until
		s.pause.all = all
		return
	}
	// Redis keeps the stricter mode and the later end.
	if until.After(s.pause.until) {
		s.pause.until = until
	}
	s.pause.all = s.pause.all || all
}

// applyWritePause applies a cluster Ready's pause fields (lock held):
// first the end of a pause, then a new one, as Redis's MFSTART handler
// unpauses (resetManualFailover) and pauses again in that order. A second
// MFSTART (a replica that resent it, or asked again) yields both; applied
// the other way round it left writes running while the replica was told
// they were paused at an offset, and writes acknowledged after that
// offset were lost when it took over. It reports whether writes were
// paused.
func (s *Server) applyWritePause(until time.Time, unpause bool) bool {
	if unpause {
		s.unpauseClients()
	}
	if until.IsZero() {
		return false
	}
	s.pauseClients(time.Until(until), false)
	return true
}

// unpauseClients ends the pause.
func (s *Server) unpauseClients() {
	if s.pause.done != nil {
		close(s.pause.done)
		s.pause.done = nil
	}
}

// expirePause ends a pause whose time is over (cron).
func (s *Server) expirePause() {
	if s.pause.done != nil && time.Now().After(s.pause.until) {
		s.unpauseClients()
	}
}

// waitUnpaused parks a client whose command is held by a pause.
func (s *Server) waitUnpaused(c *Client) bool {
	for {
		s.mu.Lock()
		held := c.heldOn
		c.heldOn = nil
		done, until := s.pause.done, s.pause.until
		s.mu.Unlock()
		if held != nil {
			// Dispatched again once the hold ends: it checks the pause
			// then.
			select {
			case <-held.done:
				return true
			case <-s.closing:
				return false
			}
		}
		if done == nil {
			return true
		}
		t := time.NewTimer(time.Until(until) + time.Millisecond)
		select {
		case <-done:
		case <-t.C:
			s.mu.Lock()
			s.expirePause()
			s.mu.Unlock()
		case <-s.closing:
			t.Stop()
			return false
		}
		t.Stop()
	}
}
