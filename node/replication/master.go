package replication

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/persistence"
	"github.com/shoal-dev/shoal/node/resp"
	"github.com/shoal-dev/shoal/node/server"
)

// Replication, master side: the replication ID and offset, the backlog fed
// by the propagated write stream, PSYNC (full and partial
// resynchronisation), REPLCONF, WAIT and min-replicas-to-write. The replica
// side is replica.go; the commands and INFO are commands.go.
//
// It plugs into the engine through its hooks only (Plugin):
// the commands, INFO replication and the sync_* counters of INFO stats,
// Start (the link to a configured master), Cron, Close, the dispatch
// Guard (read-only replica, stale data, min-replicas-to-write), the
// propagation of effective writes (Propagates, Propagate), the replica
// connections' client type and pending stream, the replication state
// saved in and loaded from a snapshot file, and the cluster machine's
// replication target.

// replState is the replication state of a server (lock held for all of it
// unless noted).
type replState struct {
	s        *server.Server
	ids      IDs
	backlog  *Backlog // nil until the first replica syncs
	replicas []*replica
	lastDB   int // database of the last SELECT in the stream, -1: none
	scratch  []byte

	syncFull, syncPartialOK, syncPartialErr int64

	link *masterLink // non-nil while this node is a replica (replica.go)
	// applying is set while the master's stream is executed: those
	// writes reach the AOF but not the backlog (the raw stream does).
	applying bool
	lastPing time.Time
	// announced are the listening port and address given by REPLCONF,
	// by client ID;
	// waits are the clients blocked in WAIT.
	announced map[int64]replAnnounce
	waits     map[*server.Client]waitTarget
	// cached is the replication state the snapshot loaded at start was
	// taken at (Redis's cached master made from an RDB's repl-id and
	// repl-offset): it lets this node, restarted as a replica, continue
	// its master's stream with a partial resync. Any write of its own
	// (and any sync) ends it.
	cached *SaveInfo
	// noReplicasSince is when the last replica went (or the start):
	// repl-backlog-ttl counts from it.
	noReplicasSince time.Time
	// linksStarted is set by startRepl once the data set is loaded: a
	// link made before (replicaOf) waits until then to connect.
	linksStarted bool
	// loaded reads the replication state of the snapshot loaded at
	// start (LoadAux), which becomes cached (SnapshotLoaded).
	loaded SaveInfoReader
	// fo is the FAILOVER in progress, if any (failover.go).
	fo failover
}

// waitTarget is what a client blocked in WAIT waits for.
type waitTarget struct {
	offset int64
	db     int
}

// replica is one replica connected to this master.
type replica struct {
	c         *server.Client
	ip        string
	port      int // REPLCONF listening-port
	state     string
	ackOffset int64
	ackTime   time.Time
	buf       []byte // stream bytes not yet taken by the writer
	// writing is set (lock held) when the writer takes bytes and cleared
	// once its write of them returned: until then an acknowledged write
	// may be only in this process, not yet in the replica's socket.
	writing    atomic.Bool
	notify     chan struct{}
	closed     bool
	syncOffset int64 // where its stream started
}

// waitKey is the key WAIT blocks on; REPLCONF ACK signals it.
const waitKey = "\x00shoal-repl-wait"

// Plugin sets up the replication state of s and plugs it in: pass it to
// server.New (node/cmd/shoal-node does).
func Plugin(s *server.Server) (server.Hooks, error) {
	rs := &replState{
		s:               s,
		ids:             IDs{ID: NewReplID(), ID2: NoReplID, SecondOffset: -1},
		lastDB:          -1,
		announced:       map[int64]replAnnounce{},
		waits:           map[*server.Client]waitTarget{},
		noReplicasSince: time.Now(),
		// The first PING one period after the start, as Redis's cron
		// (every repl-ping-replica-period cron loops from the start), not
		// as soon as a replica is online: one sent then could reach one
		// replica and not yet another that is about to be promoted.
		lastPing: time.Now(),
	}
	return server.Hooks{
		Name:                    "replication",
		Handlers:                rs.handlers(),
		Commands:                []command.Spec{rs.failoverSpec()},
		Info:                    map[string]server.InfoSection{"replication": rs.infoReplication},
		Start:                   rs.startRepl,
		Cron:                    rs.replCron,
		Guard:                   rs.replRefuses,
		Close:                   rs.closeRepl,
		Propagates:              rs.propagates,
		Propagate:               rs.propagate,
		Replica:                 rs.isReplica,
		ClientType:              rs.clientType,
		WritersPending:          rs.replicasFed,
		SyncStats:               rs.syncStats,
		SaveAux:                 rs.saveAux,
		LoadAux:                 rs.loaded.Aux,
		SnapshotLoaded:          rs.snapshotLoaded,
		ClusterReplicate:        rs.applyClusterReplication,
		ClusterReplicationState: rs.clusterReplicationState,
	}, nil
}

// startRepl starts the link to the master (the Start hook: Serve, once
// the data set is loaded): the one the cluster asked for meanwhile, or the
// configuration's replicaof. The periodic work runs in the server's cron.
func (rs *replState) startRepl() {
	s := rs.s
	s.Lock()
	rs.linksStarted = true
	if l := rs.link; l != nil {
		rs.startLink(l)
	} else if f := strings.Fields(s.Config().Repl.ReplicaOf); len(f) == 2 && !s.Config().ClusterEnabled {
		port, _ := strconv.Atoi(f[1])
		rs.replicaOf(f[0], port)
	}
	s.Unlock()
}

// closeRepl ends the link to the master (Close, lock held).
func (rs *replState) closeRepl() {
	if l := rs.link; l != nil {
		rs.stopLink(l)
	}
}

// isReplica reports whether this node replicates from a master.
func (rs *replState) isReplica() bool { return rs.link != nil }

// propagates reports whether effective writes must be collected for the
// backlog of a master that has one (or a saved stream to end).
func (rs *replState) propagates() bool {
	return (rs.backlog != nil && !rs.applying) || (rs.cached != nil && !rs.applying)
}

// propagate hands one effective write to the replicas (after the AOF).
func (rs *replState) propagate(db int, args [][]byte) {
	if !rs.applying {
		rs.cached = nil // the data set left the saved stream
	}
	if rs.backlog != nil && !rs.applying && rs.link == nil {
		b := rs.scratch[:0]
		if db != rs.lastDB {
			b = resp.AppendCommand(b, [][]byte{[]byte("SELECT"), strconv.AppendInt(nil, int64(db), 10)})
			rs.lastDB = db
		}
		b = resp.AppendCommand(b, args)
		rs.feedReplicas(b)
		rs.scratch = b[:0]
	}
}

// feedReplicas appends raw stream bytes to the backlog and to every
// replica's pending output, advancing the replication offset.
func (rs *replState) feedReplicas(b []byte) {
	s := rs.s
	if rs.backlog == nil {
		return
	}
	rs.backlog.Write(b)
	rs.ids.Offset = rs.backlog.Offset()
	limit := s.Config().ClientOutputLimit[server.ClassReplica].Hard
	for _, r := range rs.replicas {
		if r.closed {
			continue
		}
		r.buf = append(r.buf, b...)
		if limit > 0 && int64(len(r.buf)) > limit {
			s.Logf("Client id=%d (replica %s) scheduled to be closed ASAP for overcoming of output buffer limits.", r.c.ID, r.c.Addr())
			rs.dropReplica(r)
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
func (rs *replState) createBacklog() {
	s := rs.s
	if rs.backlog != nil {
		return
	}
	rs.ids.ID = NewReplID()
	rs.ids.ClearSecond()
	rs.backlog = NewBacklog(int(s.Config().Repl.BacklogSize), rs.ids.Offset)
	rs.lastDB = -1
}

// clientType is "replica" for a replica's connection (CLIENT LIST).
func (rs *replState) clientType(c *server.Client) string {
	if rs.replicaOfClient(c) != nil {
		return "replica"
	}
	return ""
}

// replicasFed reports whether an online replica has stream bytes its
// writer has not taken yet (lock held).
func (rs *replState) replicasFed() bool {
	for _, r := range rs.replicas {
		if !r.closed && r.state == "online" && (len(r.buf) > 0 || r.writing.Load()) {
			return true
		}
	}
	return false
}

// syncStats are INFO stats' sync_full, sync_partial_ok, sync_partial_err.
func (rs *replState) syncStats() (full, partialOK, partialErr int64) {
	return rs.syncFull, rs.syncPartialOK, rs.syncPartialErr
}

// saveAux is the replication state's aux fields for a snapshot file
// taken now (lock held).
func (rs *replState) saveAux() [][2]string {
	if info, ok := rs.replSaveInfo(); ok {
		return info.Aux()
	}
	return nil
}

// snapshotLoaded takes the replication state of the snapshot loaded at
// start as the cached master (lock held).
func (rs *replState) snapshotLoaded() {
	if info, ok := rs.loaded.Info(); ok {
		rs.cached = &info
		rs.s.Logf("The snapshot was taken at offset %d of replication stream %s", info.Offset, info.ID)
	}
}

// replicaOfClient returns the replica record of a connection, or nil.
func (rs *replState) replicaOfClient(c *server.Client) *replica {
	for _, r := range rs.replicas {
		if r.c == c {
			return r
		}
	}
	return nil
}

// dropReplica closes a replica's connection and forgets it.
func (rs *replState) dropReplica(r *replica) {
	if !r.closed {
		r.closed = true
		close(r.notify)
		r.c.Kill()
	}
	for i, x := range rs.replicas {
		if x == r {
			rs.replicas = append(rs.replicas[:i], rs.replicas[i+1:]...)
			break
		}
	}
	if len(rs.replicas) == 0 {
		rs.noReplicasSince = time.Now()
	}
}

// freeIdleBacklog is repl-backlog-ttl: a master that has had no replica
// for longer frees its backlog and, as Redis, takes a new replication ID
// (a replica coming back after that needs a full resync). Replicas keep
// theirs, for PSYNCs after a failover. 0 keeps the backlog for good.
func (rs *replState) freeIdleBacklog(now time.Time) {
	s := rs.s
	ttl := int64(s.Config().Repl.BacklogTTL) // seconds, up to LONG_MAX: no Duration
	if ttl <= 0 || rs.backlog == nil || rs.link != nil || len(rs.replicas) > 0 ||
		int64(now.Sub(rs.noReplicasSince)/time.Second) <= ttl {
		return
	}
	rs.ids.ID = NewReplID()
	rs.ids.ClearSecond()
	rs.backlog = nil
	s.Logf("Replication backlog freed after %d seconds without connected replicas.", s.Config().Repl.BacklogTTL)
}

// ---- PSYNC / SYNC ----

// rs.cmdPsync is PSYNC replid offset (and SYNC: a full resync).
func (rs *replState) cmdPsync(c *server.Client) {
	s := rs.s
	if rs.replicaOfClient(c) != nil {
		return // already a replica connection: ignore
	}
	if len(c.Args) > 3 && command.EqFold(c.Args[0], "psync") && command.EqFold(c.Args[3], "failover") {
		if !rs.psyncFailover(c, string(c.Args[1])) {
			return
		}
	}
	if rs.fo.phase != noFailover {
		c.Error("NOMASTERLINK Can't SYNC while failing over")
		return
	}
	if rs.isReplica() && (rs.link.state != "connected") {
		c.Error("NOMASTERLINK Can't SYNC while not connected with my master")
		return
	}
	if s.Config().Repl.DisableTCPNoDelay { // repl-disable-tcp-nodelay: fewer, bigger packets to the replica
		if tc, ok := c.Conn().(*net.TCPConn); ok {
			_ = tc.SetNoDelay(false)
		}
	}
	replid, next := "?", int64(-1)
	if len(c.Args) >= 3 && command.EqFold(c.Args[0], "psync") {
		replid = string(c.Args[1])
		n, ok := c.ParseInt(c.Args[2])
		if !ok {
			return
		}
		next = n
	}
	s.FlushPropagation()
	if !rs.isReplica() {
		rs.createBacklog()
	}
	ann := rs.announced[c.ID]
	r := &replica{c: c, notify: make(chan struct{}, 1), ackTime: time.Now(), port: ann.port, ip: ann.ip}
	if host, _, err := net.SplitHostPort(c.Addr()); err == nil && r.ip == "" {
		r.ip = host
	}
	if ok, why := CanContinue(rs.ids, rs.backlog, replid, next); ok {
		out := []byte("+CONTINUE " + rs.ids.ID + "\r\n")
		out, _ = rs.backlog.AppendFrom(out, next)
		r.state, r.syncOffset, r.ackOffset = "online", next-1, next-1
		rs.replicas = append(rs.replicas, r)
		rs.syncPartialOK++
		s.Logf("Partial resynchronization request from %s accepted. Sending %d bytes of backlog starting from offset %d.", c.Addr(), len(out), next)
		go rs.replicaWriter(r, out, nil, false)
		return
	} else if replid != "?" {
		rs.syncPartialErr++
		s.Logf("Partial resynchronization not accepted: %s", why)
	}
	rs.syncFull++
	s.Logf("Replica %s asks for synchronization; starting a full resync at offset %d", c.Addr(), rs.ids.Offset)
	r.state = "wait_bgsave"
	r.syncOffset = rs.ids.Offset
	rs.replicas = append(rs.replicas, r)
	// The replica loads the snapshot into database 0 selected: the stream
	// after it starts with a SELECT.
	rs.lastDB = -1
	header := "+FULLRESYNC " + rs.ids.ID + " " + strconv.FormatInt(rs.ids.Offset, 10) + "\r\n"
	if command.EqFold(c.Args[0], "sync") {
		header = "" // SYNC: the snapshot alone, as before PSYNC existed
	}
	snap := s.SnapshotForReplica(replFlushEvery)
	go rs.replicaWriter(r, []byte(header), snap, ann.capaEOF && ann.capaStream && header != "")
}

// replFlushEvery is how often a snapshot streamed to a replica is flushed
// while it is encoded (the keepalive newlines of the $<length> framing
// cannot be interleaved with it): a replica with a short repl-timeout sees
// it progress.
const replFlushEvery = 100 * time.Millisecond

// sendSnapshot sends the snapshot of a full resync. A replica that
// announced capa eof gets it streamed as it is encoded, framed as Redis's
// diskless sync frames it: $EOF:<40-byte mark>, the snapshot, the mark.
// Others get $<length> and the bytes, so the snapshot is made in memory
// first while newlines keep the link alive.
func (rs *replState) sendSnapshot(r *replica, conn net.Conn, snap func(io.Writer) (int64, error), eof bool) (int64, error) {
	timeout := rs.replTimeout()
	if !eof {
		var buf bytes.Buffer
		if err := snapWithKeepalive(conn, func() error { _, err := snap(&buf); return err }); err != nil {
			return 0, err
		}
		rs.setReplicaState(r, "send_bulk")
		hdr := strconv.AppendInt([]byte{'$'}, int64(buf.Len()), 10)
		dw := deadlineWriter{conn: conn, timeout: timeout}
		if _, err := dw.Write(append(hdr, '\r', '\n')); err != nil {
			return 0, err
		}
		n, err := dw.Write(buf.Bytes())
		return int64(n), err
	}
	mark := NewReplID()[:persistence.SyncEOFMarkLen]
	rs.setReplicaState(r, "send_bulk")
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
func (rs *replState) setReplicaState(r *replica, state string) {
	s := rs.s
	s.Lock()
	r.state = state
	s.Unlock()
}

// replTimeout is repl-timeout (takes the lock).
func (rs *replState) replTimeout() time.Duration {
	s := rs.s
	s.Lock()
	defer s.Unlock()
	return time.Duration(s.Config().Repl.Timeout) * time.Second
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
func (rs *replState) replicaWriter(r *replica, first []byte, snap func(io.Writer) (int64, error), eof bool) {
	s := rs.s
	conn := r.c.Conn()
	fail := func(err error) {
		s.Lock()
		if err != nil && !r.closed {
			s.Logf("Connection with replica %s lost: %v", r.c.Addr(), err)
		}
		rs.dropReplica(r)
		s.Unlock()
	}
	if snap != nil {
		if _, err := conn.Write(first); err != nil {
			fail(err)
			return
		}
		n, err := rs.sendSnapshot(r, conn, snap, eof)
		if err != nil {
			fail(err)
			return
		}
		_ = conn.SetWriteDeadline(time.Time{})
		s.Lock()
		if !r.closed {
			r.state = "online"
			r.ackTime = time.Now()
			s.Logf("Synchronization with replica %s succeeded (%d bytes of snapshot)", r.c.Addr(), n)
		}
		s.Unlock()
	}
	var out []byte
	if snap != nil {
		s.Lock()
		out, r.buf = r.buf, nil
		r.writing.Store(len(out) > 0)
		s.Unlock()
	} else {
		out = first
	}
	for {
		var err error
		if len(out) > 0 {
			_, err = conn.Write(out)
		}
		r.writing.Store(false)
		if err != nil {
			fail(err)
			return
		}
		spare := out[:0]
		<-r.notify
		s.Lock()
		out, r.buf = r.buf, spare
		r.writing.Store(len(out) > 0)
		closed := r.closed
		s.Unlock()
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
func (rs *replState) replSaveInfo() (SaveInfo, bool) {
	if rs.backlog == nil {
		if c := rs.cached; c != nil {
			return *c, true
		}
		return SaveInfo{}, false
	}
	info := SaveInfo{ID: rs.ids.ID, Offset: rs.ids.Offset}
	if l := rs.link; l != nil {
		if l.client.DB != nil {
			info.StreamDB = l.client.DB.ID
		}
		if l.inMulti {
			info.Offset = l.multiOffset
		}
	} else if rs.lastDB > 0 {
		info.StreamDB = rs.lastDB
	}
	return info, true
}
