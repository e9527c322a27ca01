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
	"github.com/shoal-dev/shoal/node/replication"
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
// cluster bus's links, accept loops and cron, the nodes.conf saver.
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

// ReplSaveAux is the aux fields of the replication state a snapshot taken
// now corresponds to (lock held), so that a replica restarted from the
// file continues with a partial resync; none without replication state.
func (s *Server) ReplSaveAux() [][2]string {
	if info, ok := s.replSaveInfo(); ok {
		return info.Aux()
	}
	return nil
}

// ReplAuxLoader reads the replication state from the aux fields of the
// snapshot loaded at start-up (the persister's load).
type ReplAuxLoader struct {
	s *Server
	r replication.SaveInfoReader
}

// NewReplAuxLoader starts reading a snapshot's replication state.
func (s *Server) NewReplAuxLoader() *ReplAuxLoader { return &ReplAuxLoader{s: s} }

// Aux takes one aux field (a persistence.SnapshotHandler Aux).
func (l *ReplAuxLoader) Aux(name, value []byte) error { return l.r.Aux(string(name), string(value)) }

// Loaded makes the state read the one this node continues from once the
// snapshot loaded (lock held): a restarted replica then asks its master
// for a partial resync from it.
func (l *ReplAuxLoader) Loaded() {
	if info, ok := l.r.Info(); ok {
		l.s.repl.cached = &info
		l.s.log.Printf("The snapshot was taken at offset %d of replication stream %s", info.Offset, info.ID)
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

// DatasetReplaced runs the DatasetReplaced hooks (lock held): replication
// calls it just before a full resync replaces the data set.
func (s *Server) DatasetReplaced() {
	for _, f := range s.hooks.datasetReplaced {
		f()
	}
}
