package eventloop

// ServeWhileBlocked serves the loop's other connections once while the
// command of s's connection runs long (a script past
// busy-reply-threshold), as Redis's processEventsWhileBlocked: the engine
// answers them (BUSY to most commands; SCRIPT KILL, SHUTDOWN NOSAVE and a
// few more run), so a command that never ends does not freeze every
// connection of its loop.
//
// It must be called from within s's Conn.Run (the loop's goroutine, the
// engine's lock held), and the replies of the loop's current iteration
// must be durable (as Engine.BeforeReplies makes them): they are written
// now. s itself is not read (its next commands wait for the one running,
// as Redis protects the client). The others are read, run and written at
// once; a connection that asks to leave the loop is handed over, one
// that fails is closed.
func (s *Socket) ServeWhileBlocked() {
	l := s.l
	if l == nil || s.done || l.blocked {
		return
	}
	l.blocked = true
	defer func() { l.blocked = false }()
	// The connections read in this iteration whose batch has not run
	// yet (their commands are in their buffers, not in the socket), then
	// those ready now.
	for _, o := range l.ready {
		if l.blockedCandidate(o, s) {
			l.serveBlocked(o, false)
		}
	}
	n := l.poll()
	var ready []*Socket
	l.mu.Lock()
	for i := 0; i < n; i++ {
		fd := int(l.events[i].Fd)
		if fd == l.wake[0] || fd >= len(l.sockets) {
			continue
		}
		if o := l.sockets[fd]; o != nil && l.blockedCandidate(o, s) {
			ready = append(ready, o)
		}
	}
	l.mu.Unlock()
	for _, o := range ready {
		l.serveBlocked(o, true)
	}
}

// blockedCandidate reports whether ServeWhileBlocked of s may serve o.
func (l *Loop) blockedCandidate(o, s *Socket) bool {
	return o != s && !o.done && !o.failed && !o.conn.CloseAfter()
}

// serveBlocked reads, runs and writes one connection for
// ServeWhileBlocked (lock held); mustRead: skip it when nothing is read.
func (l *Loop) serveBlocked(s *Socket, mustRead bool) {
	if err := s.conn.Fill(); err == ErrWouldBlock {
		if mustRead {
			return
		}
	} else if err != nil {
		l.drop(s)
		return
	}
	b := s.conn.Run()
	if b.HandOver {
		if l.handOver(s) {
			go s.conn.Serve()
		}
		return
	}
	if !l.write(s) || b.CloseAfter {
		if len(s.conn.Output()) > 0 && !b.CloseAfter && !s.failed {
			if l.handOver(s) {
				go s.conn.Serve()
			}
			return
		}
		l.drop(s)
	}
}
