package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/persistence"
)

// The data set as a whole, for a replica's full sync (node/replication):
// a point-in-time snapshot of it for a replica, and a new data set
// loaded beside the live one that then replaces it. These are the places
// where replication meets persistence (the persister's background jobs,
// its capture, its AOF and its codecs); replication reaches them only
// through these four calls.

// SyncSnapshot writes the snapshot of a full sync to w, outside the lock,
// and returns the bytes written.
type SyncSnapshot func(w io.Writer) (int64, error)

// syncFlushEvery is how often a snapshot streamed to a replica is flushed
// while it is encoded (the keepalive newlines of the $<length> framing
// cannot be interleaved with it): a replica with a short repl-timeout sees
// it progress.
const syncFlushEvery = 100 * time.Millisecond

// BeginSyncSnapshot starts a point-in-time capture of the data set (lock
// held) and returns the function that writes it outside the lock, as it
// is encoded: nothing is built in memory first. When a BGSAVE already runs,
// the snapshot is encoded now, under the lock, into memory.
func (s *Server) BeginSyncSnapshot() SyncSnapshot {
	p := s.persisterOf()
	if p != nil && p.bgsave == nil && p.rewrite == nil && p.capture == nil && !p.shutdownInProgress {
		ctx, cancel := context.WithCancel(context.Background())
		job := &bgJob{start: time.Now(), dirtyAtStart: s.dirty, cancel: cancel, keysTotal: p.totalKeys()}
		p.bgsave = job
		lc := p.beginCapture()
		return func(dst io.Writer) (int64, error) {
			w := persistence.NewSnapshotWriter(dst)
			st, err := lc.c.Write(ctx, w, &s.mu, lc, persistence.CaptureOptions{Aux: p.auxFields(), DutyCycle: 0.5, FlushEvery: syncFlushEvery})
			s.mu.Lock()
			p.endCapture(lc)
			if p.bgsave == job {
				p.bgsave = nil
			}
			cancel()
			s.mu.Unlock()
			if err == nil {
				s.log.Printf("Snapshot for a replica: %d keys, %d bytes in %v; server lock held %d times, %v in all, longest %v",
					st.Keys, st.Bytes, st.Duration.Round(time.Millisecond), st.Chunks, st.TotalLockHold.Round(time.Millisecond), st.MaxLockHold)
			}
			return w.Size(), err
		}
	}
	if p == nil {
		p = &persister{s: s, codecs: persistence.KeyspaceCodecs(nil, nil, nil, nil)}
	}
	var buf bytes.Buffer
	w := persistence.NewSnapshotWriter(&buf)
	err := p.writeLive(w)
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

// Dataset is a data set loaded beside the live one (a replica's full
// sync), which no one else sees until ReplaceDataset: loading it needs no
// lock.
type Dataset struct {
	// DBs are its databases, one per database of the server.
	DBs    []*keyspace.DB
	codecs *persistence.Codecs
}

// NewDataset makes an empty data set (lock held). Its databases have an
// Env of their own: the server's is not for use outside the lock.
func (s *Server) NewDataset() *Dataset {
	env := keyspace.NewEnv()
	env.Now = time.Now().UnixMilli()
	env.LFU, env.LFULogFactor, env.LFUDecayTime = s.env.LFU, s.env.LFULogFactor, s.env.LFUDecayTime
	env.NoExpire = true
	d := &Dataset{codecs: s.persisterOf().codecsOrDefault()}
	for i := range s.dbs {
		d.DBs = append(d.DBs, keyspace.New(i, env))
	}
	return d
}

// Load adds one key of a snapshot read with SnapshotHandler.Reuse (no
// lock needed).
func (d *Dataset) Load(r persistence.Record) error {
	if r.DB >= len(d.DBs) {
		return fmt.Errorf("database %d out of range (%d databases)", r.DB, len(d.DBs))
	}
	return loadKey(d.DBs[r.DB], d.codecs, r, true)
}

// ReplaceDataset replaces the data set with d (lock held), as a change of
// every key: a background save or AOF rewrite in progress is stopped
// first, as Redis kills its child before loading the master's data (its
// point in time is gone), and the AOF is rewritten from the new data set.
func (s *Server) ReplaceDataset(d *Dataset) {
	p := s.persisterOf()
	if p != nil {
		for _, j := range []*bgJob{p.bgsave, p.rewrite} {
			if j != nil {
				j.cancel()
			}
		}
		if p.capture != nil {
			p.endCapture(p.capture)
		}
	}
	for i, db := range s.dbs {
		s.flushDB(db)
		db.SwapWith(d.DBs[i])
	}
	if s.cl.node != nil {
		s.dbs[0].SetIndex(s.cl.node.index)
	}
	s.dirty++
	if p != nil && p.aof != nil {
		p.rewriteScheduled = true // the AOF must start from the new data set
	}
}
