package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/persistence"
)

// Persistence wiring: snapshot (SAVE, BGSAVE, save rules, LASTSAVE), the
// append-only file (propagation, appendfsync, BGREWRITEAOF), loading at
// start, SHUTDOWN and SIGTERM, DUMP/RESTORE. The formats and mechanisms
// live in node/persistence; these persist_*.go files adapt them to the
// server. All state is in a *persister installed as s.persistence.
//
// Call sites in files owned by the framework (each one line, in place):
//
//   - node/cmd/shoal-node/main.go, after Listen and before Serve:
//     loaded := srv.StartLoading(), then an error from loaded is printed
//     and exits 1. It loads the data while clients get -LOADING (a
//     corrupt file stops start-up) and installs everything else.
//   - server.go handlerGroups(): persistHandlers() (DUMP, RESTORE,
//     RESTORE-ASKING, BGREWRITEAOF).
//   - client.go serve(): mark := s.persistMark() before s.mu.Unlock() and
//     s.persistWait(mark) after it, before c.flush(): the group commit of
//     appendfsync always (replies leave only once their writes are
//     fsynced; one fsync serves every client that wrote meanwhile). Without
//     it, Propagate would fsync under the lock: just as safe, much slower.

// snapshotAux is the shoal-ver aux field of the files this build writes.
const snapshotAux = "shoal-ver"

// persister is the persistence subsystem of a server. Its fields are
// guarded by the server lock unless noted.
type persister struct {
	s      *Server
	codecs *persistence.Codecs

	lastSave         int64 // unix seconds of the last successful save
	lastBgsaveOK     bool
	lastBgsaveTry    time.Time
	lastBgsaveSecs   int64
	rdbSaves         int64
	bgsave           *bgJob
	lastLoadKeys     int64
	lastLoadExpired  int64
	lastLoadCommands int64 // replayed from the AOF
	lastCaptureStats persistence.CaptureStats

	// fileMu serialises replacing dbfilename (SAVE, the end of a BGSAVE).
	// It is never held while waiting for the server lock, and SAVE takes it
	// with the server lock held.
	fileMu sync.Mutex

	capture *liveCapture // the one point-in-time capture in progress
	gen     uint32

	aofDir             *persistence.AOFDir
	aof                *persistence.AOFWriter // set through setAOF
	aofShared          atomic.Pointer[persistence.AOFWriter]
	aofPolicy          string
	rewrite            *bgJob
	rewriteScheduled   bool
	lastRewriteOK      bool
	lastRewriteSecs    int64
	aofRewrites        int64
	rewriteFailures    int64
	aofBaseSize        int64
	barrierWired       atomic.Bool // client.go calls persistMark
	shutdownInProgress bool
}

// bgJob is a BGSAVE or BGREWRITEAOF running in the background.
type bgJob struct {
	start        time.Time
	dirtyAtStart int64
	cancel       context.CancelFunc
	keysTotal    int64
}

// StartPersistence loads the data set from disk and installs the
// persistence subsystem, and returns when it is done. With appendonly yes
// it loads the AOF (or, when there is none yet, the snapshot, and then
// writes the first AOF base from it); otherwise the snapshot. A corrupt
// or unreadable file is an error: the caller prints it and exits, as
// Redis does. Call it once, after New.
func (s *Server) StartPersistence() error { return <-s.StartLoading() }

// StartLoading is StartPersistence on a goroutine of its own, for a server
// that listens while it loads (persist_loading.go): it marks the server
// loading and takes the lock before it returns, so call it before Serve.
// The channel receives the result when the load ends.
func (s *Server) StartLoading() <-chan error {
	p := &persister{s: s, codecs: persistence.KeyspaceCodecs(nil, nil, nil, nil), lastBgsaveOK: true, lastRewriteOK: true}
	s.SetInfoSection("persistence", p.infoPersistence)
	errc := make(chan error, 1)
	s.mu.Lock()
	now := time.Now()
	s.loading = loadingState{active: true, start: now, yieldedTime: now, done: make(chan struct{})}
	go func() {
		err := p.startLocked()
		if err == nil {
			s.endLoading()
			if !s.closed {
				s.wg.Add(1)
				go p.cron()
			}
		}
		s.mu.Unlock()
		errc <- err
	}()
	return errc
}

// startLocked loads and installs the subsystem (lock held; the load
// releases it from time to time, see loadRead).
func (p *persister) startLocked() error {
	s := p.s
	p.lastSave = time.Now().Unix()
	start := time.Now()
	if err := p.load(); err != nil {
		return err
	}
	s.dirty = 0
	s.log.Printf("DB loaded from disk: %.3f seconds (%d keys from a snapshot, %d expired keys skipped, %d commands replayed)",
		time.Since(start).Seconds(), p.lastLoadKeys, p.lastLoadExpired, p.lastLoadCommands)
	if s.cfg.AppendOnly {
		if err := p.openAOF(); err != nil {
			return err
		}
	}
	s.persistence = p
	s.ShutdownHook = p.shutdown
	return nil
}

// setAOF changes the writer (lock held); persistWait reads it without
// the lock.
func (p *persister) setAOF(w *persistence.AOFWriter) {
	p.aof = w
	p.aofShared.Store(w)
}

// persisterOf returns the installed persister, or nil.
func (s *Server) persisterOf() *persister {
	p, _ := s.persistence.(*persister)
	return p
}

// ---- the Persistence interface (SAVE, BGSAVE, LASTSAVE) ----

// Save is SAVE: a synchronous snapshot under the lock.
func (p *persister) Save() error {
	if p.bgsave != nil {
		return errors.New("Background save already in progress")
	}
	if err := p.saveSync(); err != nil {
		p.s.log.Printf("Error saving DB on disk: %v", err)
		return err
	}
	return nil
}

// BGSave is BGSAVE: a point-in-time capture written in the background.
func (p *persister) BGSave() error {
	switch {
	case p.bgsave != nil:
		return errors.New("Background save already in progress")
	case p.rewrite != nil:
		return errors.New("Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
	}
	p.startBGSave()
	return nil
}

// LastSave is LASTSAVE.
func (p *persister) LastSave() int64 { return p.lastSave }

// LastBGSaveFailed is rdb_last_bgsave_status:err.
func (p *persister) LastBGSaveFailed() bool { return !p.lastBgsaveOK }

func (p *persister) auxFields() [][2]string {
	return [][2]string{
		{snapshotAux, RedisVersion},
		{"ctime", strconv.FormatInt(time.Now().Unix(), 10)},
	}
}

// snapshotAuxFields are the aux fields of a snapshot file taken now (lock
// held): auxFields and the replication state the data corresponds to, so
// that a replica restarted from the file continues with a partial resync.
// (An AOF base has no replication state: the commands after it move on.)
func (p *persister) snapshotAuxFields() [][2]string {
	aux := p.auxFields()
	return append(aux, p.s.SaveAux()...)
}

// saveSync writes the snapshot with the lock held (SAVE, SHUTDOWN).
func (p *persister) saveSync() error {
	s := p.s
	p.fileMu.Lock()
	defer p.fileMu.Unlock()
	err := persistence.SaveSnapshotFile(s.cfg.DBFilename, func(w *persistence.SnapshotWriter) error {
		for _, a := range p.snapshotAuxFields() {
			if err := w.Aux(a[0], a[1]); err != nil {
				return err
			}
		}
		return p.writeLive(w)
	})
	if err != nil {
		return err
	}
	p.lastSave = time.Now().Unix()
	p.lastBgsaveOK = true
	p.rdbSaves++
	s.log.Printf("DB saved on disk")
	return nil
}

// writeLive writes every live key of every database (lock held).
func (p *persister) writeLive(w *persistence.SnapshotWriter) error {
	var buf []byte
	var err error
	for i, db := range p.s.dbs {
		if db.Len() > 0 {
			if err := w.ResizeDB(i, db.Len(), db.VolatileLen()); err != nil {
				return err
			}
		}
		db.ForEach(func(e *keyspace.Entry) bool {
			t, v, terr := entryValue(e)
			if terr != nil {
				err = terr
				return false
			}
			buf, err = p.codecs.AppendValue(buf[:0], t, v)
			if err == nil {
				err = w.Key(i, []byte(e.Key()), expireOf(e), t, buf)
			}
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *persister) startBGSave() {
	s := p.s
	ctx, cancel := context.WithCancel(context.Background())
	job := &bgJob{start: time.Now(), dirtyAtStart: s.dirty, cancel: cancel, keysTotal: p.totalKeys()}
	p.bgsave = job
	p.lastBgsaveTry = job.start
	lc := p.beginCapture()
	aux := p.snapshotAuxFields()
	path := s.cfg.DBFilename
	s.log.Printf("Background saving started")
	// Close waits for the job, so a save that SHUTDOWN cancelled has
	// removed its temp file before the process exits (Redis's
	// rdbRemoveTempFile after killing the child).
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var st persistence.CaptureStats
		f, err := persistence.CreateAtomic(path)
		if err == nil {
			st, err = lc.c.Write(ctx, persistence.NewSnapshotWriter(f), &s.mu, lc, persistence.CaptureOptions{Aux: aux, DutyCycle: 0.5})
			// The rename happens under fileMu and not at all once
			// SHUTDOWN cancelled the job: its own save must be the last.
			p.fileMu.Lock()
			if err == nil {
				err = ctx.Err()
			}
			if err == nil {
				err = f.Commit()
			} else {
				f.Abort()
			}
			p.fileMu.Unlock()
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		p.endCapture(lc)
		p.bgsave = nil
		cancel()
		p.lastBgsaveSecs = int64(time.Since(job.start).Seconds())
		p.lastCaptureStats = st
		if err != nil {
			p.lastBgsaveOK = false
			s.log.Printf("Background saving error: %v", err)
			return
		}
		p.lastBgsaveOK = true
		p.lastSave = time.Now().Unix()
		p.rdbSaves++
		s.dirty -= job.dirtyAtStart
		if s.dirty < 0 {
			s.dirty = 0
		}
		s.log.Printf("Background saving terminated with success: %d keys, %d bytes in %v, longest lock hold %v",
			st.Keys, st.Bytes, st.Duration.Round(time.Millisecond), st.MaxLockHold)
	}()
}

func (p *persister) totalKeys() int64 {
	var n int64
	for _, db := range p.s.dbs {
		n += int64(db.Len())
	}
	return n
}

// ---- loading ----

// load reads the data set from disk (lock held, released between
// buffers of the file for clients, who get -LOADING).
func (p *persister) load() error {
	err := p.loadFiles()
	for _, db := range p.s.dbs {
		db.ShrinkToFit() // a size hint may have overstated what was loaded
	}
	return err
}

// loadFiles reads the AOF or, without one, the snapshot.
func (p *persister) loadFiles() error {
	s := p.s
	if s.cfg.AppendOnly {
		dir, found, err := persistence.OpenAOFDir(p.appendDirName(), s.cfg.AppendFilename)
		if err != nil {
			return fatalLoad(err)
		}
		p.aofDir = dir
		if found {
			s.loading.totalBytes = p.loadTotalBytes(dir)
			return p.loadAOF()
		}
	}
	s.loading.totalBytes = p.loadTotalBytes(nil)
	err := persistence.LoadSnapshotFile(s.cfg.DBFilename, persistence.SnapshotHandler{
		Key:      p.loadRecord,
		ResizeDB: p.loadResizeDB,
		Reuse:    true, // loadRecord copies what it keeps
		Aux:      func(name, value []byte) error { return s.LoadAux(string(name), string(value)) },
		Progress: s.loadRead,
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fatalLoad(err)
	}
	s.SnapshotLoaded()
	return nil
}

// fatalLoad words a load failure for the log and the exit.
func fatalLoad(err error) error {
	var le *persistence.LoadError
	switch {
	case errors.As(err, &le) && errors.Is(err, persistence.ErrTruncated):
		return fmt.Errorf("Fatal error loading the DB: %w. Unexpected end of file: the file is truncated; "+
			"for an append only file, set aof-load-truncated yes to load it anyway (its incomplete tail is trimmed). Exiting.", err)
	case errors.As(err, &le):
		return fmt.Errorf("Fatal error loading the DB: %w. The file is corrupt; make a backup of it and repair or remove it. Exiting.", err)
	}
	return fmt.Errorf("Fatal error loading the DB: %w. Exiting.", err)
}

func (p *persister) appendDirName() string { return p.s.cfg.AppendDirName }

func (p *persister) aofLoadTruncated() bool { return p.s.cfg.AOFLoadTruncated }

// loadRecord adds one key of a snapshot (or AOF base) to the keyspace.
// Keys whose TTL has passed are skipped, as Redis's master does.
// The reader reuses r's buffers (SnapshotHandler.Reuse): loadKey copies.
func (p *persister) loadRecord(r persistence.Record) error {
	s := p.s
	if r.DB >= len(s.dbs) {
		return fmt.Errorf("the file has a key in database %d, but this server has %d databases (raise 'databases')", r.DB, len(s.dbs))
	}
	if r.ExpireAt != persistence.NoExpire && r.ExpireAt < time.Now().UnixMilli() {
		p.lastLoadExpired++
		return nil
	}
	if err := loadKey(s.dbs[r.DB], p.codecs, r, true); err != nil {
		return err
	}
	p.lastLoadKeys++
	return nil
}

// loadResizeDB sizes a database for the keys a snapshot (or AOF base)
// announces for it (a SnapshotHandler ResizeDB). Keys that have expired
// are skipped by the load, so a table may end up sparser than the hint:
// finishLoad trims it.
func (p *persister) loadResizeDB(db, keys, expires int) error {
	if db < len(p.s.dbs) {
		p.s.dbs[db].Reserve(keys, expires)
	}
	return nil
}

// ---- SHUTDOWN and SIGTERM ----

// shutdown runs under the lock before the server exits: stop a running
// background save, flush and fsync the AOF, save when asked.
func (p *persister) shutdown(save bool) error {
	s := p.s
	p.shutdownInProgress = true
	if p.bgsave != nil {
		s.log.Printf("There is a child saving an .rdb. Killing it!")
		p.bgsave.cancel()
	}
	if p.rewrite != nil {
		s.log.Printf("There is a child rewriting the AOF. Killing it!")
		p.rewrite.cancel()
	}
	if p.aof != nil {
		s.log.Printf("Calling fsync() on the AOF file.")
		if err := p.aof.Flush(); err != nil {
			s.log.Printf("Error flushing the AOF on shutdown: %v", err)
			p.shutdownInProgress = false
			return err
		}
	}
	if save {
		s.log.Printf("Saving the final RDB snapshot before exiting.")
		if err := p.saveSync(); err != nil {
			s.log.Printf("Error trying to save the DB, can't exit.")
			p.shutdownInProgress = false
			return err
		}
	}
	return nil
}

// ---- save rules and the periodic checks ----

// cron checks the save rules and configuration changes ten times a second.
func (p *persister) cron() {
	s := p.s
	defer s.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
		}
		s.mu.Lock()
		p.tick(time.Now())
		s.mu.Unlock()
	}
}

// tick is one round of cron (lock held).
func (p *persister) tick(now time.Time) {
	s := p.s
	if p.shutdownInProgress {
		return
	}
	p.applyAOFConfig()
	if p.bgsave == nil && p.rewrite == nil {
		if p.rewriteScheduled {
			p.rewriteScheduled = false
			p.startRewrite()
			return
		}
		if rule, ok := dueSaveRule(s.cfg.Save, s.dirty, now.Unix()-p.lastSave); ok &&
			(p.lastBgsaveOK || now.Sub(p.lastBgsaveTry) > 5*time.Second) {
			s.log.Printf("%d changes in %d seconds. Saving...", rule[1], rule[0])
			p.startBGSave()
		}
	}
}

// dueSaveRule returns the first "seconds changes" rule of save that dirty
// changes in elapsed seconds satisfy.
func dueSaveRule(save string, dirty, elapsed int64) ([2]int64, bool) {
	f := strings.Fields(save)
	for i := 0; i+1 < len(f); i += 2 {
		secs, err1 := strconv.ParseInt(f[i], 10, 64)
		changes, err2 := strconv.ParseInt(f[i+1], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		if dirty >= changes && elapsed >= secs && dirty > 0 {
			return [2]int64{secs, changes}, true
		}
	}
	return [2]int64{}, false
}

// nullConn is the connection of the client that replays the AOF: replies
// are discarded.
type nullConn struct{}

func (nullConn) Read([]byte) (int, error)           { return 0, os.ErrClosed }
func (nullConn) Write(b []byte) (int, error)        { return len(b), nil }
func (nullConn) Close() error                       { return nil }
func (nullConn) LocalAddr() net.Addr                { return nil }
func (nullConn) RemoteAddr() net.Addr               { return nil }
func (nullConn) SetDeadline(time.Time) error        { return nil }
func (nullConn) SetReadDeadline(time.Time) error    { return nil }
func (nullConn) SetWriteDeadline(t time.Time) error { return nil }

// codecsOrDefault returns the codecs of p, or the defaults when no
// persister is installed (DUMP/RESTORE work without persistence).
func (p *persister) codecsOrDefault() *persistence.Codecs {
	if p == nil {
		return persistence.KeyspaceCodecs(nil, nil, nil, nil)
	}
	return p.codecs
}
