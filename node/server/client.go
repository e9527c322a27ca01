package server

import (
	"net"
	"time"

	"github.com/shoal-dev/shoal/node/acl"
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/eventloop"
	"github.com/shoal-dev/shoal/node/resp"
)

// Client is one connection. Its goroutine reads a batch of pipelined
// commands, runs them under the server lock and flushes the replies once.
// Handlers get the client and use the fields and methods documented in
// doc.go; everything else is the framework's.
type Client struct {
	// Ctx is what a handler sees (node/command): Args, Cmd, DB, W, Env
	// and the engine calls; Client implements command.Engine for it
	// (client_engine.go).
	command.Ctx

	ID   int64
	srv  *Server
	conn net.Conn
	rd   *resp.Reader

	name          string
	addr, laddr   string
	created       time.Time
	lastActive    time.Time
	authenticated bool
	user          string
	aclUser       *acl.User
	closeAfter    bool // close once the replies are flushed (QUIT, protocol error, KILL)
	killed        bool
	lastCmd       string
	// cmdStart is when the current command started (callAt): a script
	// it runs starts then, without a clock read of its own.
	cmdStart time.Time

	multi   *multiState
	watched []watchedKey
	// propagation of the current call
	rewrite    [][]byte
	noProp     bool
	inExec     bool
	execFailed bool // a command failed while queueing (EXECABORT)
	dirtyCAS   bool
	noEvict    bool // CLIENT NO-EVICT on (flag e)

	blk      *blockedClient // non-nil while blocked on keys
	reexec   bool           // the handler runs again because a key is ready
	reblock  bool           // a re-run handler asked to stay blocked
	pendRead chan error     // a read started while blocked
	wake     chan struct{}

	pausedArgs [][]byte // a command held by CLIENT PAUSE or by heldOn
	heldOn     *keyHold // the hold of a key the held command writes (keyhold.go)

	// CLIENT REPLY: OFF drops every reply; SKIP drops the next command's
	// (replySkipNext turns into replySkip once the SKIP itself is done).
	replyOff, replySkip, replySkipNext bool

	// Set while an event loop serves the connection (eventloop.go).
	loop    *eventloop.Socket
	handoff [][]byte // a command to run once on a goroutine of its own

	// pub/sub
	channels   map[string]struct{}
	patterns   map[string]struct{}
	async      bool // output may come from other clients (pub/sub, MONITOR)
	notify     chan struct{}
	writerDone chan struct{}
	monitor    bool

	outSoftSince time.Time
	keysBuf      []int

	trk clientTracking // CLIENT TRACKING (tracking.go)

	// Taken under the lock at the end of each batch, for other clients'
	// INFO and CLIENT LIST (the buffers themselves are the goroutine's):
	// the unparsed bytes, the parsed arguments of a command still
	// arriving, the read buffer's size and the replies not yet written.
	qbufLen, argvPending, qbufCap, obufLen int
	// batchLen is what the read buffer held when the batch began: Redis's
	// qbuf while one of its commands runs (the buffer is trimmed after).
	batchLen    int
	idleTimeout time.Duration
	cl          clientCluster // ASKING, READONLY, shard channels (pubsub_shard.go)
}

func newClient(s *Server, conn net.Conn) *Client {
	c := &Client{
		ID:      s.nextID.Add(1),
		srv:     s,
		conn:    conn,
		rd:      resp.NewReader(conn),
		created: time.Now(),
		user:    "default",
		wake:    make(chan struct{}, 1),
	}
	c.W = resp.NewWriter(conn)
	c.DB = s.dbs[0]
	c.Env = s.env
	c.Bind(c)
	c.lastActive = c.created
	c.idleTimeout = time.Duration(s.cfg.Timeout) * time.Second
	c.rd.MaxBulkLen = s.cfg.ProtoMaxBulkLen
	c.resetAuth()
	if a := conn.RemoteAddr(); a != nil {
		c.addr = a.String()
	}
	if a := conn.LocalAddr(); a != nil {
		c.laddr = a.String()
	}
	return c
}

// serve is the connection's goroutine.
func (c *Client) serve() {
	defer c.srv.wg.Done()
	defer c.freeUnlessPanicking()
	c.serveLoop(true)
}

// serveLoop reads and runs batches until the connection ends.
func (c *Client) serveLoop(needRead bool) {
	s := c.srv
	for {
		if needRead {
			if err := c.read(); err != nil {
				return
			}
		}
		s.mu.Lock()
		c.runBatch()
		e := c.endBatch()
		s.mu.Unlock()
		var ok bool
		if needRead, ok = c.finishBatch(e); !ok {
			return
		}
	}
}

// batchEnd is what endBatch took under the lock for finishBatch.
type batchEnd struct {
	blocked, paused, closeAfter, detached bool
	deadline                              time.Time
	out                                   []byte
	mark                                  int64
}

// endBatch does the bookkeeping after a batch. Called with the lock held.
func (c *Client) endBatch() batchEnd {
	s := c.srv
	c.qbufLen, c.argvPending = c.rd.Pending()
	c.qbufCap, c.obufLen = c.rd.Cap(), c.W.Len()
	if l := s.cfg.ClientOutputLimit[ClassNormal]; l.Hard > 0 || l.Soft > 0 {
		c.checkOutputLimit()
	}
	c.idleTimeout = time.Duration(s.cfg.Timeout) * time.Second
	e := batchEnd{blocked: c.blk != nil, paused: c.pausedArgs != nil, closeAfter: c.closeAfter}
	if e.blocked {
		e.deadline = c.blk.deadline
	}
	// Once blocked, the client that serves us appends our reply to c.W
	// under the lock: take the batch's replies out of it first.
	e.detached = e.blocked && !c.async
	if e.detached {
		e.out = c.W.Detach(nil)
	}
	e.mark = s.persistMark()
	return e
}

// finishBatch writes the batch's replies and waits while the client is
// blocked or paused. Called without the lock. It reports whether the next
// batch needs a read first, and false when the connection ends.
func (c *Client) finishBatch(e batchEnd) (needRead, ok bool) {
	s := c.srv
	s.persistWait(e.mark)
	if e.detached {
		if len(e.out) > 0 {
			if _, err := c.conn.Write(e.out); err != nil {
				return false, false
			}
		}
	} else if err := c.flush(); err != nil || e.closeAfter {
		return false, false
	}
	needRead = true
	if e.blocked {
		if !c.waitUnblocked(e.deadline) {
			return false, false
		}
		// The reply was written by the client that served us (or the
		// timeout): send it, then take up the read that watched the
		// connection meanwhile, or the commands already buffered.
		if err := c.flush(); err != nil {
			return false, false
		}
		// The handler that served us may have condemned the connection
		// (it panicked: panic.go).
		s.mu.Lock()
		closing := c.closeAfter
		s.mu.Unlock()
		if closing {
			return false, false
		}
		needRead = c.pendRead != nil
	}
	if e.paused {
		if !s.waitUnpaused(c) {
			return false, false
		}
		needRead = false
	}
	return needRead, true
}

// read fills the read buffer, applying the idle timeout.
func (c *Client) read() error {
	if c.pendRead != nil {
		err := <-c.pendRead
		c.pendRead = nil
		return err
	}
	if t := c.idleTimeout; t > 0 && !c.async {
		_ = c.conn.SetReadDeadline(time.Now().Add(t))
	}
	return c.rd.Fill()
}

// runBatch executes every complete command in the read buffer. Called
// with the lock held.
func (c *Client) runBatch() {
	defer c.recoverBatch()
	s := c.srv
	now := time.Now()
	s.clock = now
	c.lastActive = now
	c.batchLen = c.rd.Buffered()
	for c.handoff != nil || c.pausedArgs != nil {
		held := &c.handoff
		if *held == nil {
			held = &c.pausedArgs
		}
		args := *held
		*held = nil
		c.run(args)
		if c.blk != nil || c.pausedArgs != nil || c.closeAfter {
			return
		}
	}
	for !c.closeAfter {
		args, err := c.rd.Next()
		if err != nil {
			if resp.IsProtocolError(err) {
				c.W.Error("ERR " + err.Error())
				c.closeAfter = true
			}
			return
		}
		if args == nil {
			return
		}
		if c.loop != nil && s.runsOnGoroutine(args[0]) {
			c.handoff = command.CopyArgs(args)
			return
		}
		c.run(args)
		if c.blk != nil || c.pausedArgs != nil {
			return
		}
	}
}

// run dispatches one command and applies CLIENT REPLY OFF|SKIP to what
// it replied. A command held by a pause or blocked has not finished: the
// SKIP waits for the next one that does. Called with the lock held.
func (c *Client) run(args [][]byte) {
	mark := c.W.Len()
	c.srv.dispatch(c, args)
	if c.pausedArgs != nil || c.blk != nil {
		return
	}
	c.endReply(mark)
}

// endReply applies CLIENT REPLY OFF|SKIP to the reply the command wrote
// after mark (also for a blocked command once served or timed out) and
// moves a SKIP on to the next command.
func (c *Client) endReply(mark int) {
	if c.replyOff || c.replySkip {
		c.W.Truncate(mark)
	}
	c.replySkip, c.replySkipNext = c.replySkipNext, false
}

// runsOnGoroutine reports whether a command needs a connection with a
// goroutine of its own from the start (command.OwnGoroutine).
func (s *Server) runsOnGoroutine(name []byte) bool {
	if !s.cmds.MayHave(name, command.OwnGoroutine) {
		return false
	}
	spec := s.cmds.Lookup(name)
	return spec != nil && spec.Is(command.OwnGoroutine)
}

// flush writes buffered replies. Output of async clients (pub/sub,
// MONITOR), which others append to as well, is written by their writer
// goroutine only, so the order of messages is kept.
func (c *Client) flush() error {
	if !c.async {
		return c.W.Flush()
	}
	c.srv.mu.Lock()
	c.wakeAsync()
	c.srv.mu.Unlock()
	return nil
}

// freeUnlessPanicking frees the client when its goroutine ends, except
// when it ends by a panic that escaped the recovery of handlers and
// batches (panic.go): the lock may be held then, and free would wait for
// it for ever, freezing the node. The panic goes on and ends the process,
// as Go's would.
func (c *Client) freeUnlessPanicking() {
	if r := recover(); r != nil {
		panic(r)
	}
	c.free()
}

// free unregisters the client. It runs on the client's goroutine.
func (c *Client) free() {
	s := c.srv
	s.mu.Lock()
	notify := c.unregister()
	s.mu.Unlock()
	if notify != nil {
		close(notify)
		<-c.writerDone
	}
	c.conn.Close()
	if c.pendRead != nil {
		<-c.pendRead
	}
}

// unregister removes the client from the server's state and returns the
// notify channel of its writer goroutine (nil if none) for the caller to
// close. Called with the lock held.
func (c *Client) unregister() (notify chan struct{}) {
	s := c.srv
	if c.blk != nil {
		s.unblock(c)
	}
	c.unwatchAll()
	s.pubsubUnsubscribeAll(c)
	s.sunsubscribeAll(c)
	s.disableTracking(c)
	if c.monitor {
		s.removeMonitor(c)
	}
	delete(s.clients, c.ID)
	notify = c.notify
	c.notify = nil
	return notify
}

// kill closes the client from another goroutine (CLIENT KILL, output
// buffer limits, timeout). Called with the lock held.
func (c *Client) kill() {
	c.killed = true
	c.closeAfter = true
	c.conn.Close()
}

// wakeAsync tells an async client's writer that output is pending.
func (c *Client) wakeAsync() {
	if c.notify == nil {
		return
	}
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// makeAsync lets other clients write to c (pub/sub, MONITOR): a writer
// goroutine flushes what they append. Called with the lock held.
func (c *Client) makeAsync() {
	if c.async {
		return
	}
	c.async = true
	c.notify = make(chan struct{}, 1)
	c.writerDone = make(chan struct{})
	s := c.srv
	notify := c.notify
	go func() {
		defer close(c.writerDone)
		for range notify {
			s.mu.Lock()
			out := c.W.Detach(nil)
			s.mu.Unlock()
			if len(out) == 0 {
				continue
			}
			if _, err := c.conn.Write(out); err != nil {
				c.conn.Close()
			}
		}
	}()
}

// checkOutputLimit applies client-output-buffer-limit to a client that
// received output from someone else. Called with the lock held.
func (c *Client) checkOutputLimit() {
	class := ClassNormal
	if len(c.channels)+len(c.patterns) > 0 {
		class = ClassPubSub
	}
	l := c.srv.cfg.ClientOutputLimit[class]
	n := int64(c.W.Len())
	if l.Hard > 0 && n >= l.Hard {
		c.srv.log.Printf("Client id=%d scheduled to be closed ASAP for overcoming of output buffer limits.", c.ID)
		c.kill()
		return
	}
	if l.Soft > 0 && n >= l.Soft {
		if c.outSoftSince.IsZero() {
			c.outSoftSince = time.Now()
		} else if time.Since(c.outSoftSince) >= time.Duration(l.SoftSeconds)*time.Second {
			c.kill()
		}
	} else {
		c.outSoftSince = time.Time{}
	}
}
