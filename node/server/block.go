package server

import (
	"time"

	"github.com/shoal-dev/shoal/node/command"
)

// blockState tracks clients blocked on keys (BLPOP, BZPOPMIN, ...).
type blockState struct {
	byKey   map[dbKey][]*Client // FIFO per key
	ready   []dbKey             // keys signalled ready since the last serve
	isReady map[dbKey]struct{}
	serving bool
	count   int
}

// blockedClient is the state of one blocked client.
type blockedClient struct {
	keys      []dbKey
	deadline  time.Time // zero: forever
	args      [][]byte  // the command to run again, copied
	onTimeout func(c *command.Ctx)
	ran       time.Duration // the run that blocked (its call's duration if it times out)
}

func (b *blockState) init() {
	b.byKey = map[dbKey][]*Client{}
	b.isReady = map[dbKey]struct{}{}
}

// BlockOnKeys parks the client until one of keys (in its DB) is signalled
// ready by a write, or the timeout (0: forever) passes. The handler must
// return right after calling it without replying. When a key is ready the
// framework runs the handler again with the same arguments (c.Reexecuted()
// is true): it either serves the client or calls BlockOnKeys again to keep
// waiting (keeping its place and deadline). On timeout the client gets the
// null array, or what onTimeout replies when it is not nil.
//
// Inside MULTI/EXEC a blocking command does not block: it times out at
// once, as in Redis.
func (c *Client) blockOnKeys(keys [][]byte, timeout time.Duration, onTimeout func(c *command.Ctx)) {
	if c.reexec {
		c.reblock = true
		return
	}
	if c.inExec {
		if onTimeout != nil {
			onTimeout(&c.Ctx)
		} else {
			c.W.NullArray()
		}
		return
	}
	s := c.srv
	b := &blockedClient{args: command.CopyArgs(c.Args), onTimeout: onTimeout}
	if timeout > 0 {
		b.deadline = time.Now().Add(timeout)
	}
	for _, k := range keys {
		dk := dbKey{c.DB.ID, string(k)}
		dup := false
		for _, x := range b.keys {
			if x == dk {
				dup = true
			}
		}
		if dup {
			continue
		}
		b.keys = append(b.keys, dk)
		s.blocking.byKey[dk] = append(s.blocking.byKey[dk], c)
	}
	select { // drop a stale wake-up
	case <-c.wake:
	default:
	}
	c.blk = b
	s.blocking.count++
}

// signalReady queues key for serving if some client is blocked on it.
func (s *Server) signalReady(db int, key []byte) {
	if s.blocking.count == 0 {
		return
	}
	dk := dbKey{db, string(key)}
	if _, ok := s.blocking.byKey[dk]; !ok {
		return
	}
	if _, ok := s.blocking.isReady[dk]; ok {
		return
	}
	s.blocking.isReady[dk] = struct{}{}
	s.blocking.ready = append(s.blocking.ready, dk)
}

// serveReadyKeys runs the commands of clients blocked on ready keys, in the
// order they blocked, until no key is ready (a served BLMOVE may make
// another key ready). Called with the lock held.
func (s *Server) serveReadyKeys() {
	if s.blocking.serving {
		return
	}
	s.blocking.serving = true
	defer func() { s.blocking.serving = false }()
	for len(s.blocking.ready) > 0 {
		ready := s.blocking.ready
		s.blocking.ready = nil
		for _, dk := range ready {
			delete(s.blocking.isReady, dk)
		}
		for _, dk := range ready {
			waiting := append([]*Client(nil), s.blocking.byKey[dk]...)
			for _, c := range waiting {
				if c.blk == nil {
					continue
				}
				if h := s.blockedHeldBy(c); h != nil {
					h.deferred = append(h.deferred, dk)
					continue
				}
				s.reexecute(c)
			}
		}
	}
}

// reexecute runs a blocked client's command again.
func (s *Server) reexecute(c *Client) {
	spec, _ := s.cmds.LookupArgs(c.blk.args)
	if spec == nil {
		return
	}
	savedDB := c.DB
	c.DB = s.dbs[c.blk.keys[0].db]
	c.Args = c.blk.args
	c.reexec, c.reblock = true, false
	mark := c.W.Len()
	s.call(c, spec)
	c.reexec = false
	c.Args = nil
	c.DB = savedDB
	if c.reblock {
		return
	}
	c.endReply(mark)
	s.unblock(c)
	s.stats.commands++
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if c.async {
		c.wakeAsync()
	}
}

// unblock removes a client from the wait lists.
func (s *Server) unblock(c *Client) {
	b := c.blk
	if b == nil {
		return
	}
	for _, dk := range b.keys {
		list := s.blocking.byKey[dk]
		for i, x := range list {
			if x == c {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(s.blocking.byKey, dk)
		} else {
			s.blocking.byKey[dk] = list
		}
	}
	c.blk = nil
	s.blocking.count--
}

// blockTimedOut replies the timeout reply and unblocks.
func (s *Server) blockTimedOut(c *Client) {
	b := c.blk
	s.unblock(c)
	mark := c.W.Len()
	if b.onTimeout != nil {
		b.onTimeout(&c.Ctx)
	} else {
		c.W.NullArray()
		s.countTimedOutCall(b) // as Redis's updateStatsOnUnblock for a list, zset or stream
	}
	c.endReply(mark)
}

// waitUnblocked parks the client's goroutine until it is served, times
// out, or its connection closes (false). Runs without the lock.
func (c *Client) waitUnblocked(deadline time.Time) bool {
	s := c.srv
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	// Watch the connection so a client that goes away stops waiting (and
	// is not served an element it would never read).
	var readDone chan error
	if c.pendRead == nil && c.rd.Buffered() == 0 {
		// A blocked client is not idle: no timeout while it waits.
		_ = c.conn.SetReadDeadline(time.Time{})
		readDone = make(chan error, 1)
		c.pendRead = readDone
		go func() { readDone <- c.rd.Fill() }()
	}
	for {
		select {
		case <-c.wake:
			return true
		case <-timeout:
			s.mu.Lock()
			if c.blk != nil {
				s.blockTimedOut(c)
			}
			s.mu.Unlock()
			return true
		case err := <-readDone:
			readDone = nil
			c.pendRead = nil
			if err != nil {
				s.mu.Lock()
				s.unblock(c)
				s.mu.Unlock()
				return false
			}
			// More commands arrived: they wait until the client is served.
		case <-s.closing:
			return false
		}
	}
}
