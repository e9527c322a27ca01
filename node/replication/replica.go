package replication

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/persistence"
	"github.com/shoal-dev/shoal/node/resp"
	"github.com/shoal-dev/shoal/node/server"
)

// Replication, replica side: the link to the master. One goroutine per
// link connects, authenticates (masterauth/masteruser), announces itself
// (REPLCONF), asks for PSYNC with the replication ID and offset it has,
// loads the snapshot of a full resync and then applies the stream under
// the server lock, forwarding the raw bytes to its own backlog so it can
// serve partial resyncs after a promotion. It acknowledges its offset
// every second and reconnects after a disconnection.

// masterLink is the state of a replica's link (guarded by the server lock).
type masterLink struct {
	host string
	port int
	// state: "connect" (waiting to connect), "connecting" (handshake),
	// "sync" (receiving the snapshot), "connected" (streaming).
	state     string
	stop      chan struct{}
	stopped   bool
	running   bool // runLink started (startLink)
	conn      net.Conn
	lastIO    time.Time
	downSince time.Time
	syncTotal int64
	syncRead  int64
	client    *server.Client // executes the master's stream
	multi     [][][]byte
	inMulti   bool
	// multiOffset is the offset before the MULTI being queued.
	multiOffset int64
	wmu         sync.Mutex // serializes writes to conn (ACKs)
	// formatFailures counts the full syncs in a row that failed for a
	// reason that will not change by retrying (the master's snapshot holds
	// what this node cannot load): the retry waits syncBackoff.
	formatFailures int
}

// syncBackoff is the wait before the next attempt after n full syncs in a
// row failed on the snapshot's content (persistence.IsFormatError): 1s,
// doubling up to 5 minutes, so a master is not made to produce a snapshot
// every half second for nothing. Other failures (the network, a truncated
// or damaged transfer) retry after 500ms, as before.
func syncBackoff(n int) time.Duration {
	if n <= 0 {
		return 500 * time.Millisecond
	}
	return min(time.Second<<min(n-1, 20), 5*time.Minute)
}

// replicaOf makes this node a replica of host:port (lock held). A master
// keeps its replication ID and offset as the "cached master", so it can
// continue from the new master if that one was its replica. Before Serve
// started replication (startRepl: the data set is loaded) the link only
// waits: the cluster names the master from nodes.conf as the node is
// created, and a sync installed while the AOF still replays would get the
// rest of the file replayed on top of the master's data.
func (rs *replState) replicaOf(host string, port int) {
	s := rs.s
	if l := rs.link; l != nil {
		rs.stopLink(l)
	}
	// Our replicas must resync with the stream of the new master.
	for _, r := range append([]*replica(nil), rs.replicas...) {
		rs.dropReplica(r)
	}
	mc := s.NewInternalClient("master")
	l := &masterLink{host: host, port: port, state: "connect", stop: make(chan struct{}), client: mc, downSince: time.Now()}
	rs.link = l
	rs.lastDB = -1
	if rs.linksStarted {
		rs.startLink(l)
	}
}

// startLink runs a link's goroutine (lock held).
func (rs *replState) startLink(l *masterLink) {
	if l.running || l.stopped {
		return
	}
	l.running = true
	rs.s.Go(func() { rs.runLink(l) })
}

// stopLink ends a link (lock held).
func (rs *replState) stopLink(l *masterLink) {
	if l.stopped {
		return
	}
	l.stopped = true
	close(l.stop)
	if l.conn != nil {
		l.conn.Close()
	}
	if rs.link == l {
		rs.link = nil
	}
}

// promote makes this replica a master (REPLICAOF NO ONE, failover): the
// master's replication ID becomes the previous ID, valid up to the current
// offset, so the other replicas continue from here with a partial resync.
func (rs *replState) promote() {
	s := rs.s
	if l := rs.link; l != nil {
		rs.stopLink(l)
	}
	rs.ids.Shift()
	if rs.backlog == nil {
		rs.backlog = NewBacklog(int(s.Config().Repl.BacklogSize), rs.ids.Offset)
	}
	// repl-backlog-ttl counts from now, as Redis's replicationUnsetMaster
	// resets repl_no_slaves_since: a replica that ran longer than the TTL
	// must not free the backlog (and change its ID) at its first cron as a
	// master, which would cost every other replica a full resync.
	rs.noReplicasSince = time.Now()
	rs.lastDB = -1
	for _, r := range append([]*replica(nil), rs.replicas...) {
		rs.dropReplica(r)
	}
}

// runLink keeps the link up until it is stopped.
func (rs *replState) runLink(l *masterLink) {
	s := rs.s
	for {
		err := rs.syncWithMaster(l)
		s.Lock()
		if l.stopped {
			s.Unlock()
			return
		}
		if l.state == "connected" || l.state == "sync" {
			l.downSince = time.Now()
		}
		l.state = "connect"
		l.conn = nil
		s.Unlock()
		wait := syncBackoff(0)
		if persistence.IsFormatError(err) {
			l.formatFailures++
			wait = syncBackoff(l.formatFailures)
			s.Logf("Replication with MASTER %s:%d: %v (it will not load as it is: next attempt in %v)", l.host, l.port, err, wait)
		} else if err != nil {
			s.Logf("Replication with MASTER %s:%d: %v", l.host, l.port, err)
		}
		select {
		case <-l.stop:
			return
		case <-s.Closing():
			return
		case <-time.After(wait):
		}
	}
}

// linkConn is the buffered connection of one attempt.
type linkConn struct {
	l       *masterLink
	conn    net.Conn
	rd      *linkReader
	br      *bufio.Reader // over rd
	timeout time.Duration // repl-timeout: per line read
}

// linkReader reads the master's connection, giving each read repl-timeout
// and counting the bytes received.
type linkReader struct {
	conn    net.Conn
	timeout time.Duration
	n       atomic.Int64
}

func (r *linkReader) Read(p []byte) (int, error) {
	_ = r.conn.SetReadDeadline(time.Now().Add(r.timeout))
	n, err := r.conn.Read(p)
	r.n.Add(int64(n))
	return n, err
}

func (lc *linkConn) send(args ...string) error {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	lc.l.wmu.Lock()
	defer lc.l.wmu.Unlock()
	_, err := lc.conn.Write(resp.AppendCommand(nil, bs))
	return err
}

// line reads one reply line, skipping the newlines a master sends as
// keepalives while it prepares a snapshot (each one renews the timeout).
func (lc *linkConn) line() (string, error) {
	for {
		_ = lc.conn.SetReadDeadline(time.Now().Add(lc.timeout))
		s, err := lc.br.ReadString('\n')
		if err != nil {
			return "", err
		}
		s = strings.TrimRight(s, "\r\n")
		if s != "" {
			return s, nil
		}
	}
}

// command sends a command and returns its reply line.
func (lc *linkConn) command(args ...string) (string, error) {
	if err := lc.send(args...); err != nil {
		return "", err
	}
	return lc.line()
}

// syncWithMaster is one connection to the master: handshake, PSYNC, then
// the stream until an error or stop.
func (rs *replState) syncWithMaster(l *masterLink) error {
	s := rs.s
	// A failover whose target fails before it answered PSYNC is aborted.
	answered := false
	defer func() {
		if !answered {
			s.Lock()
			rs.failoverLinkFailed(l)
			s.Unlock()
		}
	}()
	s.Lock()
	timeout := time.Duration(s.Config().Repl.Timeout) * time.Second
	auth, user := s.Config().Repl.MasterAuth, s.Config().Repl.MasterUser
	port := listeningPort(s.Config())
	announceIP := s.Config().Repl.AnnounceIP
	useTLS := s.Config().TLS.Replication
	s.Unlock()
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(l.host, strconv.Itoa(l.port)), timeout)
	if err != nil {
		return fmt.Errorf("Error condition on socket for SYNC: %v", err)
	}
	if useTLS {
		if conn, err = dialTLS(s, conn, timeout); err != nil {
			return fmt.Errorf("Error condition on socket for SYNC: %v", err)
		}
	}
	s.Lock()
	if l.stopped {
		s.Unlock()
		conn.Close()
		return nil
	}
	l.conn, l.state, l.lastIO = conn, "connecting", time.Now()
	s.Unlock()
	defer conn.Close()
	s.Logf("Connecting to MASTER %s:%d", l.host, l.port)
	rd := &linkReader{conn: conn, timeout: timeout}
	lc := &linkConn{l: l, conn: conn, rd: rd, br: bufio.NewReaderSize(rd, 256<<10), timeout: timeout}
	_ = conn.SetWriteDeadline(time.Now().Add(timeout))
	if r, err := lc.command("PING"); err != nil {
		return err
	} else if strings.HasPrefix(r, "-") && !strings.HasPrefix(r, "-NOAUTH") && !strings.HasPrefix(r, "-NOPERM") && !strings.HasPrefix(r, "-ERR operation not permitted") {
		return fmt.Errorf("Error reply to PING from master: '%s'", r)
	}
	if auth != "" {
		args := []string{"AUTH", auth}
		if user != "" {
			args = []string{"AUTH", user, auth}
		}
		if r, err := lc.command(args...); err != nil {
			return err
		} else if strings.HasPrefix(r, "-") {
			return fmt.Errorf("Unable to AUTH to MASTER: %s", r)
		}
	}
	if r, err := lc.command("REPLCONF", "listening-port", strconv.Itoa(port)); err != nil {
		return err
	} else if strings.HasPrefix(r, "-") {
		s.Logf("(Non critical) Master does not understand REPLCONF listening-port: %s", r)
	}
	if announceIP != "" {
		if _, err := lc.command("REPLCONF", "ip-address", announceIP); err != nil {
			return err
		}
	}
	if _, err := lc.command("REPLCONF", "capa", "eof", "capa", "psync2", "capa", replCapaStream); err != nil {
		return err
	}
	s.Lock()
	replid, next := "?", int64(-1)
	cached := rs.cached
	if rs.backlog != nil {
		replid, next = rs.ids.ID, rs.ids.Offset+1
	} else if cached != nil {
		replid, next = cached.ID, cached.Offset+1
	}
	psync := rs.failoverPSYNCArgs(replid, strconv.FormatInt(next, 10))
	s.Unlock()
	r, err := lc.command(psync...)
	if err != nil {
		return err
	}
	var reply Reply
	perr := fmt.Errorf("Unexpected reply to PSYNC from master: %s", r)
	if strings.HasPrefix(r, "+") {
		reply, perr = ParseReply(r[1:])
	}
	s.Lock()
	answered = true
	goOn := rs.failoverPSYNCAnswered(perr == nil)
	s.Unlock()
	if perr != nil || !goOn {
		return perr
	}
	if reply.Full {
		if err := rs.fullSync(l, lc, reply, timeout); err != nil {
			return err
		}
	} else {
		s.Lock()
		if l.stopped {
			s.Unlock()
			return nil
		}
		if rs.backlog == nil && cached != nil && rs.cached == cached {
			rs.continueFromSaved(l, *cached)
		}
		if reply.ID != "" && reply.ID != rs.ids.ID {
			// The master changed ID (it was promoted): the old one stays
			// valid up to here for our own replicas.
			rs.ids.ID2, rs.ids.SecondOffset = rs.ids.ID, rs.ids.Offset+1
			rs.ids.ID = reply.ID
		}
		l.state, l.lastIO = "connected", time.Now()
		s.Unlock()
		s.Logf("Successful partial resynchronization with master.")
	}
	_ = conn.SetDeadline(time.Time{})
	done := make(chan struct{})
	defer close(done)
	go rs.ackLoop(lc, done)
	return rs.applyStream(l, lc, timeout)
}

// fullSync reads the snapshot of a full resync and loads it in place of
// the data set. The snapshot is loaded as it arrives (the master streams
// it as it encodes it), into new databases and outside the lock: the old
// data set keeps serving reads meanwhile (Redis's replica-serve-stale-data),
// a transfer that breaks or a corrupt payload leaves it as it was, and the
// new one replaces it in one short lock hold at the end.
func (rs *replState) fullSync(l *masterLink, lc *linkConn, reply Reply, timeout time.Duration) error {
	s := rs.s
	s.Lock()
	l.state, l.syncTotal, l.syncRead = "sync", -1, 0
	s.Unlock()
	s.Logf("Full resync from master: %s:%d", reply.ID, reply.Offset)
	var hdr string
	for {
		h, err := lc.line()
		if err != nil {
			return err
		}
		if strings.HasPrefix(h, "$") {
			hdr = h
			break
		}
		if strings.HasPrefix(h, "-") {
			return fmt.Errorf("master aborted the sync: %s", h)
		}
	}
	total, mark, err := persistence.ParseSyncHeader(hdr)
	if err != nil {
		return err
	}
	start := time.Now()
	s.Lock()
	l.syncTotal = total
	ld := rs.newReplLoader(l, lc.rd)
	s.Unlock()
	n, err := persistence.ReadSnapshotStream(lc.br, "master", persistence.SnapshotHandler{Key: ld.add, ResizeDB: ld.resizeDB, Reuse: true, Aux: ld.data.Aux, Function: ld.data.Function})
	if err == nil && total >= 0 && n != total {
		err = fmt.Errorf("the snapshot is %d bytes, the master announced %d", n, total)
	}
	if err == nil && mark != "" {
		end := make([]byte, len(mark))
		if _, rerr := io.ReadFull(lc.br, end); rerr != nil {
			err = rerr
		} else if string(end) != mark {
			err = errors.New("the snapshot is not followed by the end mark the master announced")
		}
	}
	if err != nil {
		if errors.Is(err, errLinkStopped) {
			return nil
		}
		return fmt.Errorf("Failed trying to load the MASTER synchronization DB from socket: %w", err)
	}
	s.Lock()
	defer s.Unlock()
	if l.stopped {
		return nil
	}
	for _, db := range ld.data.DBs {
		db.ShrinkToFit() // the size hint counted keys the snapshot skipped
	}
	s.ReplaceDataset(ld.data) // stops background saves, rewrites the AOF
	rs.cached = nil
	rs.ids.ID, rs.ids.Offset = reply.ID, reply.Offset
	rs.ids.ClearSecond()
	rs.backlog = NewBacklog(int(s.Config().Repl.BacklogSize), reply.Offset)
	l.client.DB = s.DB(0)
	l.inMulti, l.multi = false, nil
	l.syncRead = n
	l.state, l.lastIO = "connected", time.Now()
	l.formatFailures = 0
	s.Logf("MASTER <-> REPLICA sync: Finished with success (%d keys, %d bytes received and loaded in %v)", ld.keys, n, time.Since(start).Round(time.Millisecond))
	return nil
}

// continueFromSaved takes up the replication state of the snapshot loaded
// at start, which the master just accepted to continue (lock held).
func (rs *replState) continueFromSaved(l *masterLink, info SaveInfo) {
	s := rs.s
	rs.cached = nil
	rs.ids.ID, rs.ids.Offset = info.ID, info.Offset
	rs.ids.ClearSecond()
	rs.backlog = NewBacklog(int(s.Config().Repl.BacklogSize), info.Offset)
	if info.StreamDB < s.NumDBs() {
		l.client.DB = s.DB(info.StreamDB)
	}
	s.Logf("Continuing the replication stream %s from offset %d, as saved in the snapshot loaded at start", info.ID, info.Offset+1)
}

// errLinkStopped ends a load whose link was stopped (REPLICAOF, shutdown).
var errLinkStopped = errors.New("replication link stopped")

// replLoader loads a full resync's snapshot into a data set of its own
// (server.Dataset), which no one else sees until it replaces the live
// one, so it needs no lock.
type replLoader struct {
	s    *server.Server
	l    *masterLink
	rd   *linkReader
	data *server.Dataset
	keys int64
}

// replLoadReport is how many keys the loader loads between updates of the
// link's progress (INFO master_sync_read_bytes) and checks for a stop.
const replLoadReport = 16384

// newReplLoader makes a loader into an empty data set (lock held).
func (rs *replState) newReplLoader(l *masterLink, rd *linkReader) *replLoader {
	return &replLoader{s: rs.s, l: l, rd: rd, data: rs.s.NewDataset()}
}

// add loads one key (a persistence.SnapshotHandler Key).
func (ld *replLoader) add(r persistence.Record) error {
	if r.DB >= len(ld.data.DBs) {
		return fmt.Errorf("%w: the master sent a key in database %d, but this server has %d databases", persistence.ErrDatabaseIndex, r.DB, len(ld.data.DBs))
	}
	if err := ld.data.Load(r); err != nil {
		return err
	}
	ld.keys++
	if ld.keys%replLoadReport == 0 {
		ld.s.Lock()
		stopped := ld.l.stopped
		ld.l.syncRead, ld.l.lastIO = ld.rd.n.Load(), time.Now()
		ld.s.Unlock()
		if stopped {
			return errLinkStopped
		}
	}
	return nil
}

// resizeDB sizes a database for the keys the master announces for it (a
// persistence.SnapshotHandler ResizeDB), so loading them resizes nothing.
func (ld *replLoader) resizeDB(db, keys, expires int) error {
	if db < len(ld.data.DBs) {
		ld.data.DBs[db].Reserve(keys, expires)
	}
	return nil
}

// ackLoop sends REPLCONF ACK <offset> every second until done.
func (rs *replState) ackLoop(lc *linkConn, done chan struct{}) {
	s := rs.s
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		s.Lock()
		off := rs.ids.Offset
		s.Unlock()
		if lc.send("REPLCONF", "ACK", strconv.FormatInt(off, 10)) != nil {
			return
		}
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

// applyStream executes the master's stream: each batch of complete
// commands under one lock hold.
func (rs *replState) applyStream(l *masterLink, lc *linkConn, timeout time.Duration) error {
	s := rs.s
	rd := resp.NewReader(lc.br)
	rd.MaxBulkLen = 1 << 40
	var raw []byte
	for {
		_ = lc.conn.SetReadDeadline(time.Now().Add(timeout))
		if err := rd.Fill(); err != nil {
			return fmt.Errorf("Connection with master lost: %v", err)
		}
		s.Lock()
		if l.stopped || rs.link != l {
			s.Unlock()
			return nil
		}
		l.lastIO = time.Now()
		for {
			args, err := rd.Next()
			if err != nil {
				s.Unlock()
				return fmt.Errorf("protocol error from master: %v", err)
			}
			if args == nil {
				break
			}
			raw = resp.AppendCommand(raw[:0], args)
			if len(args) >= 2 && command.EqFold(args[0], "replconf") && command.EqFold(args[1], "getack") {
				off := rs.ids.Offset
				go func() { _ = lc.send("REPLCONF", "ACK", strconv.FormatInt(off, 10)) }()
			} else {
				rs.applyCommand(l, args)
			}
			rs.feedReplicas(raw)
			if rs.backlog == nil {
				rs.ids.Offset += int64(len(raw))
			}
		}
		_ = l.client.W.Flush()
		s.Unlock()
	}
}

// applyCommand runs one command of the master's stream (lock held). The
// commands of a MULTI ... EXEC run together, in one lock hold.
func (rs *replState) applyCommand(l *masterLink, args [][]byte) {
	switch {
	case command.EqFold(args[0], "ping"):
		return
	case command.EqFold(args[0], "multi"):
		l.inMulti, l.multi = true, nil
		l.multiOffset = rs.ids.Offset
		return
	case command.EqFold(args[0], "exec"):
		cmds := l.multi
		l.inMulti, l.multi = false, nil
		for _, a := range cmds {
			rs.execFromMaster(l.client, a)
		}
		return
	}
	if l.inMulti {
		l.multi = append(l.multi, command.CopyArgs(args))
		return
	}
	rs.execFromMaster(l.client, args)
}

// execFromMaster executes one write of the master (lock held); what it
// propagates reaches the AOF, not the backlog.
func (rs *replState) execFromMaster(c *server.Client, args [][]byte) {
	rs.applying = true
	ok := rs.s.Run(c, args)
	rs.applying = false
	if !ok {
		rs.s.Logf("Ignoring a command from the master that cannot run here: '%s'", args[0])
	}
}
