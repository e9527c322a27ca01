package server

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/persistence"
)

// What a plugged subsystem (hooks.go) may use of the engine besides its
// hooks, Lock/Unlock, DB, NumDBs, Config, Logf and SetPropagator. Each
// export names the subsystem that needs it; "lock held" means the caller
// holds the server lock (a hook called with it, or after Lock).

// DBs is the databases, by index (lock held; do not change the slice).
// The persister writes and loads them whole.
func (s *Server) DBs() []*keyspace.DB { return s.dbs }

// Codecs is the values' encodings of this node (the keyspace's types),
// shared by DUMP/RESTORE, MIGRATE, snapshots, the AOF and full resyncs.
func (s *Server) Codecs() *persistence.Codecs { return s.codecs }

// Dirty is the number of changes since the last save (lock held):
// rdb_changes_since_last_save and the save rules.
func (s *Server) Dirty() int64 { return s.dirty }

// MarkSaved records a successful save that started when Dirty was n (lock
// held): the changes made since stay counted.
func (s *Server) MarkSaved(n int64) {
	s.dirty -= n
	if s.dirty < 0 {
		s.dirty = 0
	}
}

// Go runs f on a goroutine that Close waits for: a background save or
// AOF rewrite removes its temporary files before the process exits; the
// cluster bus's links, accept loops and cron, the nodes.conf saver; the
// link to a master ends before Close returns.
func (s *Server) Go(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Closing is closed when Close starts: a subsystem's periodic loop ends
// then (with the lock held, a closed Closing means the server closed).
func (s *Server) Closing() <-chan struct{} { return s.closing }

// PropagateTo installs p as the sink of effective writes (nil: none), as
// SetPropagator does, with the lock held: the AOF turned on and off by
// CONFIG SET appendonly.
func (s *Server) PropagateTo(p Propagator) { s.prop = p }

// LoadingProgress is the load at start-up as INFO persistence shows it
// (loading_* fields, computed as Redis 7.0's genRedisInfoString does).
type LoadingProgress struct {
	Start                   time.Time
	TotalBytes, LoadedBytes int64
	Perc                    float64
	ETASeconds              int64
}

// Loading reports whether the server is loading its data set and how far
// the load is (lock held).
func (s *Server) Loading(now time.Time) (LoadingProgress, bool) {
	st := s.loading
	if !st.active {
		return LoadingProgress{}, false
	}
	perc, eta := loadingInfo(st, now)
	return LoadingProgress{Start: st.start, TotalBytes: st.totalBytes, LoadedBytes: st.loadedBytes, Perc: perc, ETASeconds: eta}, true
}

// NewReplayClient is a client without a connection, authenticated, whose
// replies are discarded (Replay): the AOF's commands run through it at
// start-up.
func (s *Server) NewReplayClient() *Client {
	c := newClient(s, nullConn{})
	c.authenticated = true
	return c
}

// Replay runs one command of a file as c's (lock held): an unknown
// command or a wrong number of arguments is an error that wraps
// persistence.ErrCorrupt, as the file is then corrupt; the effects are
// not propagated (they are in the file already).
func (c *Client) Replay(args [][]byte) error {
	s := c.srv
	spec, _ := s.cmds.LookupArgs(args)
	if spec == nil {
		return fmt.Errorf("%w: unknown command '%s' reading the append only file", persistence.ErrCorrupt, args[0])
	}
	if !spec.ArityOK(len(args)) {
		return fmt.Errorf("%w: wrong number of arguments for '%s' reading the append only file", persistence.ErrCorrupt, args[0])
	}
	s.env.Now = time.Now().UnixMilli()
	c.Args = args
	s.call(c, spec)
	c.Args = nil
	s.propBuf = s.propBuf[:0]
	return c.W.Flush()
}

// ReplSaveAux is the aux fields the SaveAux hooks (replication's) add to
// a snapshot file taken now (lock held), so that a replica restarted from
// the file continues with a partial resync; none without replication
// state. The persister calls it.
func (s *Server) ReplSaveAux() [][2]string {
	var aux [][2]string
	for _, f := range s.hooks.saveAux {
		aux = append(aux, f()...)
	}
	return aux
}

// ReplAuxLoader hands the aux fields of the snapshot loaded at start-up
// to the LoadAux and SnapshotLoaded hooks (replication's), for the
// persister's load.
type ReplAuxLoader struct{ s *Server }

// NewReplAuxLoader starts reading a snapshot's replication state.
func (s *Server) NewReplAuxLoader() *ReplAuxLoader { return &ReplAuxLoader{s: s} }

// Function takes a function library's code (a persistence.SnapshotHandler
// Function).
func (l *ReplAuxLoader) Function(code []byte) error { return l.s.LoadFunctionCode(code) }

// Aux takes one aux field (a persistence.SnapshotHandler Aux); an error
// makes the snapshot corrupt.
func (l *ReplAuxLoader) Aux(name, value []byte) error {
	if err := l.s.LoadFunctionsAux(name, value); err != nil {
		return err
	}
	for _, f := range l.s.hooks.loadAux {
		if err := f(string(name), string(value)); err != nil {
			return err
		}
	}
	return nil
}

// Loaded runs the SnapshotLoaded hooks once the snapshot loaded (lock
// held): a restarted replica then asks its master for a partial resync
// from the state read.
func (l *ReplAuxLoader) Loaded() {
	for _, f := range l.s.hooks.snapshotLoaded {
		f()
	}
}

// nullConn is the connection of a client without one (the AOF's replay
// client, the master link's client, a client handed off by an event
// loop): reads end, writes are discarded.
type nullConn struct{}

func (nullConn) Read([]byte) (int, error)           { return 0, os.ErrClosed }
func (nullConn) Write(b []byte) (int, error)        { return len(b), nil }
func (nullConn) Close() error                       { return nil }
func (nullConn) LocalAddr() net.Addr                { return nil }
func (nullConn) RemoteAddr() net.Addr               { return nil }
func (nullConn) SetDeadline(time.Time) error        { return nil }
func (nullConn) SetReadDeadline(time.Time) error    { return nil }
func (nullConn) SetWriteDeadline(t time.Time) error { return nil }

// SnapshotForReplica starts the snapshot a replica's full resync sends
// (lock held) and returns the function that writes it outside the lock:
// the ReplSnapshot hook's point-in-time capture, written as it is encoded
// and flushed every flushEvery; when none can start (a BGSAVE already
// runs, or no persistence is plugged), the data set encoded now, under
// the lock, into memory. Replication calls it.
func (s *Server) SnapshotForReplica(flushEvery time.Duration) func(w io.Writer) (int64, error) {
	for _, start := range s.hooks.replSnapshot {
		if snap := start(flushEvery); snap != nil {
			return snap
		}
	}
	var buf bytes.Buffer
	w := persistence.NewSnapshotWriter(&buf)
	err := persistence.WriteDatabases(w, s.codecs, s.dbs)
	if err == nil {
		err = w.Close()
	}
	return func(dst io.Writer) (int64, error) {
		if err != nil {
			return 0, err
		}
		n, werr := dst.Write(buf.Bytes())
		return int64(n), werr
	}
}

// Replication's (node/replication).

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
