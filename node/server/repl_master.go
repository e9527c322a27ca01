package server

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/replication"
	"github.com/shoal-dev/shoal/node/resp"
)

// Replication, master side: the replication ID and offset, the backlog fed
// by the propagated write stream, PSYNC (full and partial
// resynchronisation), REPLCONF, WAIT and min-replicas-to-write. The replica
// side is repl_replica.go; the commands and INFO are repl_cmd.go.
//
// Call sites in files owned by the framework (each one line, in place):
//
//   - server.go: the Server field `repl replState`; New: s.initRepl();
//     Serve: s.startRepl(); Close: s.closeRepl(); cron: s.replCron(now);
//     handlerGroups: replHandlers(); keyExpired checks s.propagates().
//   - exec.go: callAt checks s.propagates(); flushPropagation calls
//     s.propagate for each write; dispatch: after cluster routing,
//     `if msg := s.replRefuses(c, spec); msg != "" { c.reject(msg); return }`.
//   - client.go AlsoPropagate, evict.go, multi.go, cluster_api.go check
//     s.propagates() where they checked s.prop != nil.
//   - info.go: INFO stats sync_full, sync_partial_ok, sync_partial_err.
//   - cmd_connection.go typeName: "replica" for a replica's connection.

// replState is the replication state of a server (lock held for all of it
// unless noted).
type replState struct {
	ids      replication.IDs
	backlog  *replication.Backlog // nil until the first replica syncs
	replicas []*replica
	lastDB   int // database of the last SELECT in the stream, -1: none
	scratch  []byte

	syncFull, syncPartialOK, syncPartialErr int64

	link *masterLink // non-nil while this node is a replica (repl_replica.go)
	// applying is set while the master's stream is executed: those
	// writes reach the AOF but not the backlog (the raw stream does).
	applying bool
	lastPing time.Time
	// announced are the listening port and address given by REPLCONF,
	// by client ID;
	// waits are the clients blocked in WAIT.
	announced map[int64]replAnnounce
	waits     map[*Client]waitTarget
	// cached is the replication state the snapshot loaded at start was
	// taken at (Redis's cached master made from an RDB's repl-id and
	// repl-offset): it lets this node, restarted as a replica, continue
	// its master's stream with a partial resync. Any write of its own
	// (and any sync) ends it.
	cached *replication.SaveInfo
	// noReplicasSince is when the last replica went (or the start):
	// repl-backlog-ttl counts from it.
	noReplicasSince time.Time
}

// waitTarget is what a client blocked in WAIT waits for.
type waitTarget struct {
	offset int64
	db     int
}

// replica is one replica connected to this master.
type replica struct {
	c          *Client
	ip         string
	port       int // REPLCONF listening-port
	state      string
	ackOffset  int64
	ackTime    time.Time
	buf        []byte // stream bytes not yet written
	notify     chan struct{}
	closed     bool
	syncOffset int64 // where its stream started
}

// waitKey is the key WAIT blocks on; REPLCONF ACK signals it.
const waitKey = "\x00shoal-repl-wait"

// initRepl sets up the replication state (New).
func (s *Server) initRepl() {
	s.repl.ids = replication.IDs{ID: replication.NewReplID(), ID2: replication.NoReplID, SecondOffset: -1}
	s.repl.lastDB = -1
	s.repl.announced = map[int64]replAnnounce{}
	s.repl.waits = map[*Client]waitTarget{}
	s.repl.noReplicasSince = time.Now()
	s.SetInfoSection("replication", s.infoReplication)
}

// startRepl starts the link to the master when the configuration says
// replicaof (Serve). The periodic work runs in the server's cron.
func (s *Server) startRepl() {
	s.mu.Lock()
	if f := strings.Fields(s.cfg.Repl.ReplicaOf); len(f) == 2 && !s.cfg.ClusterEnabled {
		port, _ := strconv.Atoi(f[1])
		s.replicaOf(f[0], port)
	}
	s.mu.Unlock()
}

// closeRepl ends the link to the master (Close, lock held).
func (s *Server) closeRepl() {
	if l := s.repl.link; l != nil {
		s.stopLink(l)
	}
}

// isReplica reports whether this node replicates from a master.
func (s *Server) isReplica() bool { return s.repl.link != nil }

// propagates reports whether effective writes must be collected: for the
// AOF, or for the backlog of a master that has one.
func (s *Server) propagates() bool {
	return s.prop != nil || (s.repl.backlog != nil && !s.repl.applying) || (s.repl.cached != nil && !s.repl.applying)
}

// propagate hands one effective write to the AOF and to the replicas.
func (s *Server) propagate(db int, args [][]byte) {
	if s.prop != nil {
		s.prop.Propagate(db, args)
	}
	if !s.repl.applying {
		s.repl.cached = nil // the data set left the saved stream
	}
	if s.repl.backlog != nil && !s.repl.applying && s.repl.link == nil {
		b := s.repl.scratch[:0]
		if db != s.repl.lastDB {
			b = resp.AppendCommand(b, [][]byte{[]byte("SELECT"), strconv.AppendInt(nil, int64(db), 10)})
			s.repl.lastDB = db
		}
		b = resp.AppendCommand(b, args)
		s.feedReplicas(b)
		s.repl.scratch = b[:0]
	}
}

// feedReplicas appends raw stream bytes to the backlog and to every
// replica's pending output, advancing the replication offset.
func (s *Server) feedReplicas(b []byte) {
	if s.repl.backlog == nil {
		return
	}
	s.repl.backlog.Write(b)
	s.repl.ids.Offset = s.repl.backlog.Offset()
	limit := s.cfg.ClientOutputLimit[ClassReplica].Hard
	for _, r := range s.repl.replicas {
		if r.closed {
			continue
		}
		r.buf = append(r.buf, b...)
		if limit > 0 && int64(len(r.buf)) > limit {
			s.log.Printf("Client id=%d (replica %s) scheduled to be closed ASAP for overcoming of output buffer limits.", r.c.ID, r.c.addr)
			s.dropReplica(r)
			continue
		}
		if r.state == "online" {
			select {
			case r.notify <- struct{}{}:
			default:
			}
		}
	}
}

// createBacklog makes the backlog when the first replica syncs; as Redis,
// a fresh backlog gets a new replication ID (no gap can be continued).
func (s *Server) createBacklog() {
	if s.repl.backlog != nil {
		return
	}
	s.repl.ids.ID = replication.NewReplID()
	s.repl.ids.ClearSecond()
	s.repl.backlog = replication.NewBacklog(int(s.cfg.Repl.BacklogSize), s.repl.ids.Offset)
	s.repl.lastDB = -1
}

// replicaOfClient returns the replica record of a connection, or nil.
func (s *Server) replicaOfClient(c *Client) *replica {
	for _, r := range s.repl.replicas {
		if r.c == c {
			return r
		}
	}
	return nil
}

// dropReplica closes a replica's connection and forgets it.
func (s *Server) dropReplica(r *replica) {
	if !r.closed {
		r.closed = true
		close(r.notify)
		r.c.kill()
	}
	for i, x := range s.repl.replicas {
		if x == r {
			s.repl.replicas = append(s.repl.replicas[:i], s.repl.replicas[i+1:]...)
			break
		}
	}
	if len(s.repl.replicas) == 0 {
		s.repl.noReplicasSince = time.Now()
	}
}

// freeIdleBacklog is repl-backlog-ttl: a master that has had no replica
// for longer frees its backlog and, as Redis, takes a new replication ID
// (a replica coming back after that needs a full resync). Replicas keep
// theirs, for PSYNCs after a failover. 0 keeps the backlog for good.
func (s *Server) freeIdleBacklog(now time.Time) {
	ttl := int64(s.cfg.Repl.BacklogTTL) // seconds, up to LONG_MAX: no Duration
	if ttl <= 0 || s.repl.backlog == nil || s.repl.link != nil || len(s.repl.replicas) > 0 ||
		int64(now.Sub(s.repl.noReplicasSince)/time.Second) <= ttl {
		return
	}
	s.repl.ids.ID = replication.NewReplID()
	s.repl.ids.ClearSecond()
	s.repl.backlog = nil
	s.log.Printf("Replication backlog freed after %d seconds without connected replicas.", s.cfg.Repl.BacklogTTL)
}

// ---- PSYNC / SYNC ----

// cmdPsync is PSYNC replid offset (and SYNC: a full resync).
func cmdPsync(c *Client) {
	s := c.srv
	if s.replicaOfClient(c) != nil {
		return // already a replica connection: ignore
	}
	if s.isReplica() && (s.repl.link.state != "connected") {
		c.Error("NOMASTERLINK Can't SYNC while not connected with my master")
		return
	}
	if s.cfg.Repl.DisableTCPNoDelay { // repl-disable-tcp-nodelay: fewer, bigger packets to the replica
		if tc, ok := c.conn.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(false)
		}
	}
	replid, next := "?", int64(-1)
	if len(c.Args) >= 3 && command.EqFold(c.Args[0], "psync") {
		replid = string(c.Args[1])
		n, ok := keyspace.ParseInt(c.Args[2])
		if !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		next = n
	}
	s.flushPropagation()
	if !s.isReplica() {
		s.createBacklog()
	}
	ann := s.repl.announced[c.ID]
	r := &replica{c: c, notify: make(chan struct{}, 1), ackTime: time.Now(), port: ann.port, ip: ann.ip}
	if host, _, err := net.SplitHostPort(c.addr); err == nil && r.ip == "" {
		r.ip = host
	}
	if ok, why := replication.CanContinue(s.repl.ids, s.repl.backlog, replid, next); ok {
		out := []byte("+CONTINUE " + s.repl.ids.ID + "\r\n")
		out, _ = s.repl.backlog.AppendFrom(out, next)
		r.state, r.syncOffset, r.ackOffset = "online", next-1, next-1
		s.repl.replicas = append(s.repl.replicas, r)
		s.repl.syncPartialOK++
		s.log.Printf("Partial resynchronization request from %s accepted. Sending %d bytes of backlog starting from offset %d.", c.addr, len(out), next)
		go s.replicaWriter(r, out, nil, false)
		return
	} else if replid != "?" {
		s.repl.syncPartialErr++
		s.log.Printf("Partial resynchronization not accepted: %s", why)
	}
	s.repl.syncFull++
	s.log.Printf("Replica %s asks for synchronization; starting a full resync at offset %d", c.addr, s.repl.ids.Offset)
	r.state = "wait_bgsave"
	r.syncOffset = s.repl.ids.Offset
	s.repl.replicas = append(s.repl.replicas, r)
	// The replica loads the snapshot into database 0 selected: the stream
	// after it starts with a SELECT.
	s.repl.lastDB = -1
	header := "+FULLRESYNC " + s.repl.ids.ID + " " + strconv.FormatInt(s.repl.ids.Offset, 10) + "\r\n"
	if command.EqFold(c.Args[0], "sync") {
		header = "" // SYNC: the snapshot alone, as before PSYNC existed
	}
	snap := s.beginReplSnapshot()
	go s.replicaWriter(r, []byte(header), snap, ann.capaEOF && ann.capaStream && header != "")
}

// replSnapshot writes the snapshot of a full resync to w, outside the
// lock, and returns the bytes written.
type replSnapshot func(w io.Writer) (int64, error)

// beginReplSnapshot starts the snapshot of a full resync (lock held;
// SnapshotForReplica) and returns the function that writes it outside
// the lock.
func (s *Server) beginReplSnapshot() replSnapshot { return s.SnapshotForReplica(replFlushEvery) }

// replFlushEvery is how often a snapshot streamed to a replica is flushed
// while it is encoded (the keepalive newlines of the $<length> framing
// cannot be interleaved with it): a replica with a short repl-timeout sees
// it progress.
const replFlushEvery = 100 * time.Millisecond

// replEOFMarkLen is the length of the random mark that ends a snapshot
// sent without its length ($EOF:<mark>, Redis's diskless format).
const replEOFMarkLen = 40

// sendSnapshot sends the snapshot of a full resync. A replica that
// announced capa eof gets it streamed as it is encoded, framed as Redis's
// diskless sync frames it: $EOF:<40-byte mark>, the snapshot, the mark.
// Others get $<length> and the bytes, so the snapshot is made in memory
// first while newlines keep the link alive.
func (s *Server) sendSnapshot(r *replica, conn net.Conn, snap replSnapshot, eof bool) (int64, error) {
	timeout := s.replTimeout()
	if !eof {
		var buf bytes.Buffer
		if err := snapWithKeepalive(conn, func() error { _, err := snap(&buf); return err }); err != nil {
			return 0, err
		}
		s.setReplicaState(r, "send_bulk")
		hdr := strconv.AppendInt([]byte{'$'}, int64(buf.Len()), 10)
		dw := deadlineWriter{conn: conn, timeout: timeout}
		if _, err := dw.Write(append(hdr, '\r', '\n')); err != nil {
			return 0, err
		}
		n, err := dw.Write(buf.Bytes())
		return int64(n), err
	}
	mark := replication.NewReplID()[:replEOFMarkLen]
	s.setReplicaState(r, "send_bulk")
	dw := deadlineWriter{conn: conn, timeout: timeout}
	if _, err := dw.Write([]byte("$EOF:" + mark + "\r\n")); err != nil {
		return 0, err
	}
	n, err := snap(dw)
	if err != nil {
		return n, err
	}
	_, err = dw.Write([]byte(mark))
	return n, err
}

// setReplicaState changes a replica's state (takes the lock).
func (s *Server) setReplicaState(r *replica, state string) {
	s.mu.Lock()
	r.state = state
	s.mu.Unlock()
}

// replTimeout is repl-timeout (takes the lock).
func (s *Server) replTimeout() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Duration(s.cfg.Repl.Timeout) * time.Second
}

// deadlineWriter gives every write to a replica repl-timeout to complete,
// so a replica that stops reading ends its sync instead of holding a
// capture open for ever.
type deadlineWriter struct {
	conn    net.Conn
	timeout time.Duration
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	if d.timeout > 0 {
		_ = d.conn.SetWriteDeadline(time.Now().Add(d.timeout))
	}
	return d.conn.Write(p)
}

// replicaWriter is a replica connection's writer goroutine: first the
// PSYNC reply (and, for a full resync, the snapshot), then the stream as
// it is fed. The writes made during a full resync wait in r.buf and
// follow the snapshot.
func (s *Server) replicaWriter(r *replica, first []byte, snap replSnapshot, eof bool) {
	conn := r.c.conn
	fail := func(err error) {
		s.mu.Lock()
		if err != nil && !r.closed {
			s.log.Printf("Connection with replica %s lost: %v", r.c.addr, err)
		}
		s.dropReplica(r)
		s.mu.Unlock()
	}
	if snap != nil {
		if _, err := conn.Write(first); err != nil {
			fail(err)
			return
		}
		n, err := s.sendSnapshot(r, conn, snap, eof)
		if err != nil {
			fail(err)
			return
		}
		_ = conn.SetWriteDeadline(time.Time{})
		s.mu.Lock()
		if !r.closed {
			r.state = "online"
			r.ackTime = time.Now()
			s.log.Printf("Synchronization with replica %s succeeded (%d bytes of snapshot)", r.c.addr, n)
		}
		s.mu.Unlock()
	}
	var out []byte
	if snap != nil {
		s.mu.Lock()
		out, r.buf = r.buf, nil
		s.mu.Unlock()
	} else {
		out = first
	}
	for {
		if len(out) > 0 {
			if _, err := conn.Write(out); err != nil {
				fail(err)
				return
			}
		}
		spare := out[:0]
		<-r.notify
		s.mu.Lock()
		out, r.buf = r.buf, spare
		closed := r.closed
		s.mu.Unlock()
		if closed {
			fail(nil)
			return
		}
	}
}

// snapWithKeepalive produces the snapshot while sending a newline four
// times a second, as Redis does (once a second) while it prepares one, so that the replica's
// read timeout (repl-timeout) does not expire on a large data set.
func snapWithKeepalive(conn net.Conn, snap func() error) error {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if _, err := conn.Write([]byte("\n")); err != nil {
					return
				}
			}
		}
	}()
	err := snap()
	close(done)
	<-stopped
	return err
}

// replAnnounce is what REPLCONF listening-port / ip-address announced.
type replAnnounce struct {
	port       int
	ip         string
	capaEOF    bool // REPLCONF capa eof: takes a snapshot without its length
	capaStream bool // REPLCONF capa shoal-stream: see replCapaStream
}

// replCapaStream is the capability a replica announces (with eof) when it
// loads a snapshot streamed as $EOF:<mark>. Builds before it announced eof
// but read only $<length>, so eof alone does not make the master stream.
const replCapaStream = "shoal-stream"

// replSaveInfo is the replication state a snapshot taken now corresponds
// to (lock held), as Redis's rdbPopulateSaveInfo: a replica's position in
// its master's stream, a master's own ID and offset, or the state loaded
// at start while nothing has changed since. A replica in the middle of its
// master's MULTI saves the offset before it: the queued commands are not
// in the data yet.
func (s *Server) replSaveInfo() (replication.SaveInfo, bool) {
	if s.repl.backlog == nil {
		if c := s.repl.cached; c != nil {
			return *c, true
		}
		return replication.SaveInfo{}, false
	}
	info := replication.SaveInfo{ID: s.repl.ids.ID, Offset: s.repl.ids.Offset}
	if l := s.repl.link; l != nil {
		if l.client.DB != nil {
			info.StreamDB = l.client.DB.ID
		}
		if l.inMulti {
			info.Offset = l.multiOffset
		}
	} else if s.repl.lastDB > 0 {
		info.StreamDB = s.repl.lastDB
	}
	return info, true
}
