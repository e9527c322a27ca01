package persister

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-dev/shoal/node/persistence"
	"github.com/shoal-dev/shoal/node/server"
)

// snapshotAux is the shoal-ver aux field of the files this build writes.
const snapshotAux = "shoal-ver"

// persister is the persistence subsystem of a server. Its fields are
// guarded by the server lock unless noted.
type persister struct {
	s      *server.Server
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
	propagating        bool        // the AOF is the server's Propagator
	barrierWired       atomic.Bool // the engine calls ReplyMark
	shutdownInProgress bool
	loaded             bool // the load at start-up succeeded
}

// bgJob is a BGSAVE or BGREWRITEAOF running in the background.
type bgJob struct {
	start        time.Time
	dirtyAtStart int64
	cancel       context.CancelFunc
	keysTotal    int64
}

// Plugin is the persistence subsystem of s, for server.New.
func Plugin(s *server.Server) (server.Hooks, error) {
	p := &persister{s: s, codecs: s.Codecs(), lastBgsaveOK: true, lastRewriteOK: true}
	return server.Hooks{
		Name:            "persistence",
		Info:            map[string]server.InfoSection{"persistence": p.infoPersistence},
		Load:            p.start,
		Persistence:     p,
		Shutdown:        p.shutdown,
		ReplyMark:       p.replyMark,
		ReplyWait:       p.replyWait,
		ReplSnapshot:    p.replSnapshot,
		DatasetReplaced: p.datasetReplaced,
	}, nil
}

// start loads the data set with the AOF (or, when there is none yet, the
// snapshot, and then writes the first AOF base from it) when appendonly
// is yes, otherwise the snapshot, then starts the AOF and the periodic
// checks (the Load hook: lock held, released by l from time to time). A
// corrupt or unreadable file is an error: the caller prints it and exits,
// as Redis does.
func (p *persister) start(l *server.Loader) error {
	s := p.s
	p.lastSave = time.Now().Unix()
	start := time.Now()
	if err := p.load(l); err != nil {
		return err
	}
	s.Logf("DB loaded from disk: %.3f seconds (%d keys from a snapshot, %d expired keys skipped, %d commands replayed)",
		time.Since(start).Seconds(), p.lastLoadKeys, p.lastLoadExpired, p.lastLoadCommands)
	if s.Config().AppendOnly {
		if err := p.openAOF(); err != nil {
			return err
		}
	}
	p.loaded = true
	select {
	case <-s.Closing():
	default:
		s.Go(p.cron)
	}
	return nil
}

// setAOF changes the writer (lock held); persistWait reads it without
// the lock.
func (p *persister) setAOF(w *persistence.AOFWriter) {
	if w != nil {
		w.SetLatencyHook(p.s.LatencySample)
	}
	p.aof = w
	p.aofShared.Store(w)
}

// ---- the Persistence interface (SAVE, BGSAVE, LASTSAVE) ----

// Save is SAVE: a synchronous snapshot under the lock.
func (p *persister) Save() error {
	if p.bgsave != nil {
		return errors.New("Background save already in progress")
	}
	if err := p.saveSync(); err != nil {
		p.s.Logf("Error saving DB on disk: %v", err)
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

// snapshotHead is what a snapshot taken now holds before its keys: aux
// fields, the function libraries, and the options its keys are written
// with.
type snapshotHead struct {
	aux       [][2]string
	functions [][]byte // each library's code (RDB_OPCODE_FUNCTION2)
	opt       persistence.SnapshotOptions
}

// head is the snapshotHead of a snapshot taken now (lock held): an AOF
// base's (no replication state: the commands after it move on), or with
// withRepl, a snapshot file's, with the replication state the data
// corresponds to, so that a replica restarted from the file continues
// with a partial resync.
func (p *persister) head(withRepl bool) snapshotHead {
	h := snapshotHead{
		aux: [][2]string{
			{snapshotAux, server.RedisVersion},
			{"ctime", strconv.FormatInt(time.Now().Unix(), 10)},
		},
		opt: p.snapshotOptions(),
	}
	// The function libraries (FUNCTION LOAD), as Redis writes them, so
	// that Redis loading the file gets them. Files of earlier builds
	// carry them in an aux field, which the loader still reads.
	for _, a := range p.s.FunctionsAux() {
		codes, err := persistence.FunctionCodes([]byte(a[1]))
		if err != nil {
			p.s.Logf("Function libraries kept in the %s aux field: %v", a[0], err)
			h.aux = append(h.aux, a)
			continue
		}
		h.functions = append(h.functions, codes...)
	}
	if withRepl {
		h.aux = append(h.aux, p.s.ReplSaveAux()...)
	}
	return h
}

// write sets w's options and writes the head.
func (h snapshotHead) write(w *persistence.SnapshotWriter) error {
	w.SetOptions(h.opt)
	for _, a := range h.aux {
		if err := w.Aux(a[0], a[1]); err != nil {
			return err
		}
	}
	for _, code := range h.functions {
		if err := w.Function(code); err != nil {
			return err
		}
	}
	return nil
}

// capture sets w's options and returns the capture options that write
// the head.
func (h snapshotHead) capture(w *persistence.SnapshotWriter) persistence.CaptureOptions {
	w.SetOptions(h.opt)
	return persistence.CaptureOptions{Aux: h.aux, Functions: h.functions}
}

// snapshotOptions are the rdbcompression and maxmemory-policy settings
// of a snapshot written now (lock held).
func (p *persister) snapshotOptions() persistence.SnapshotOptions {
	c := p.s.Config()
	return persistence.SnapshotOptions{Compress: c.RDBCompression, Access: persistence.AccessPolicyOf(c.MaxMemoryPolicy)}
}

// saveSync writes the snapshot with the lock held (SAVE, SHUTDOWN).
func (p *persister) saveSync() error {
	s := p.s
	p.fileMu.Lock()
	defer p.fileMu.Unlock()
	err := persistence.SaveSnapshotFile(s.Config().DBFilename, func(w *persistence.SnapshotWriter) error {
		if err := p.head(true).write(w); err != nil {
			return err
		}
		return p.writeLive(w)
	})
	if err != nil {
		return err
	}
	p.lastSave = time.Now().Unix()
	p.lastBgsaveOK = true
	p.rdbSaves++
	s.Logf("DB saved on disk")
	return nil
}

// writeLive writes every live key of every database (lock held).
func (p *persister) writeLive(w *persistence.SnapshotWriter) error {
	return persistence.WriteDatabases(w, p.codecs, p.s.DBs())
}

func (p *persister) startBGSave() {
	s := p.s
	ctx, cancel := context.WithCancel(context.Background())
	job := &bgJob{start: time.Now(), dirtyAtStart: s.Dirty(), cancel: cancel, keysTotal: p.totalKeys()}
	p.bgsave = job
	p.lastBgsaveTry = job.start
	lc := p.beginCapture()
	head := p.head(true)
	path := s.Config().DBFilename
	s.Logf("Background saving started")
	// Close waits for the job, so a save that SHUTDOWN cancelled has
	// removed its temp file before the process exits (Redis's
	// rdbRemoveTempFile after killing the child).
	s.Go(func() {
		var st persistence.CaptureStats
		f, err := persistence.CreateAtomic(path)
		if err == nil {
			w := persistence.NewSnapshotWriter(f)
			opt := head.capture(w)
			opt.DutyCycle = 0.5
			st, err = lc.c.Write(ctx, w, s, lc, opt)
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
		s.Lock()
		defer s.Unlock()
		p.endCapture(lc)
		p.bgsave = nil
		cancel()
		p.lastBgsaveSecs = int64(time.Since(job.start).Seconds())
		p.lastCaptureStats = st
		if err != nil {
			p.lastBgsaveOK = false
			s.Logf("Background saving error: %v", err)
			return
		}
		p.lastBgsaveOK = true
		p.lastSave = time.Now().Unix()
		p.rdbSaves++
		s.MarkSaved(job.dirtyAtStart)
		s.Logf("Background saving terminated with success: %d keys, %d bytes in %v, longest lock hold %v",
			st.Keys, st.Bytes, st.Duration.Round(time.Millisecond), st.MaxLockHold)
	})
}

func (p *persister) totalKeys() int64 {
	var n int64
	for _, db := range p.s.DBs() {
		n += int64(db.Len())
	}
	return n
}

// ---- a replica's full resync ----

// replSnapshot is the ReplSnapshot hook (lock held): a point-in-time
// capture written as it is encoded, or nil while another capture runs.
func (p *persister) replSnapshot(flushEvery time.Duration) func(io.Writer) (int64, error) {
	s := p.s
	if p.bgsave != nil || p.rewrite != nil || p.capture != nil || p.shutdownInProgress {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	job := &bgJob{start: time.Now(), dirtyAtStart: s.Dirty(), cancel: cancel, keysTotal: p.totalKeys()}
	p.bgsave = job
	lc := p.beginCapture()
	head := p.head(false)
	return func(dst io.Writer) (int64, error) {
		w := persistence.NewSnapshotWriter(dst)
		opt := head.capture(w)
		opt.DutyCycle, opt.FlushEvery = 0.5, flushEvery
		st, err := lc.c.Write(ctx, w, s, lc, opt)
		s.Lock()
		p.endCapture(lc)
		if p.bgsave == job {
			p.bgsave = nil
		}
		cancel()
		s.Unlock()
		if err == nil {
			s.Logf("Snapshot for a replica: %d keys, %d bytes in %v; server lock held %d times, %v in all, longest %v",
				st.Keys, st.Bytes, st.Duration.Round(time.Millisecond), st.Chunks, st.TotalLockHold.Round(time.Millisecond), st.MaxLockHold)
		}
		return w.Size(), err
	}
}

// datasetReplaced is the DatasetReplaced hook (lock held): a full resync
// replaces the data set, so the background jobs stop and the AOF starts
// again from the new data set.
func (p *persister) datasetReplaced() {
	for _, j := range []*bgJob{p.bgsave, p.rewrite} {
		if j != nil {
			j.cancel()
		}
	}
	if p.capture != nil {
		p.endCapture(p.capture)
	}
	if p.aof != nil {
		p.rewriteScheduled = true
	}
}

// ---- loading ----

// load reads the data set from disk (lock held, released between
// buffers of the file for clients, who get -LOADING).
func (p *persister) load(l *server.Loader) error {
	err := p.loadFiles(l)
	for _, db := range p.s.DBs() {
		db.ShrinkToFit() // a size hint may have overstated what was loaded
	}
	return err
}

// loadFiles reads the AOF or, without one, the snapshot.
func (p *persister) loadFiles(l *server.Loader) error {
	s := p.s
	if s.Config().AppendOnly {
		dir, found, err := persistence.OpenAOFDir(p.appendDirName(), s.Config().AppendFilename)
		if err != nil {
			return fatalLoad(err)
		}
		p.aofDir = dir
		if found {
			l.SetTotalBytes(p.loadTotalBytes(dir))
			return p.loadAOF(l)
		}
	}
	l.SetTotalBytes(p.loadTotalBytes(nil))
	repl := s.NewReplAuxLoader()
	err := persistence.LoadSnapshotFile(s.Config().DBFilename, persistence.SnapshotHandler{
		Key:      p.loadRecord,
		ResizeDB: p.loadResizeDB,
		Reuse:    true, // loadRecord copies what it keeps
		Aux:      repl.Aux,
		Function: repl.Function,
		Progress: l.Read,
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fatalLoad(err)
	}
	repl.Loaded()
	return nil
}

// loadTotalBytes is the size of what the load will read: the files of the
// AOF's manifest, or the snapshot.
func (p *persister) loadTotalBytes(aof *persistence.AOFDir) int64 {
	var paths []string
	if aof != nil {
		m := aof.Manifest()
		for _, f := range m.Files() {
			paths = append(paths, aof.Dir()+"/"+f.Name)
		}
	} else {
		paths = []string{p.s.Config().DBFilename}
	}
	var total int64
	for _, path := range paths {
		if fi, err := os.Stat(path); err == nil {
			total += fi.Size()
		}
	}
	return total
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

func (p *persister) appendDirName() string { return p.s.Config().AppendDirName }

func (p *persister) aofLoadTruncated() bool { return p.s.Config().AOFLoadTruncated }

// loadRecord adds one key of a snapshot (or AOF base) to the keyspace.
// Keys whose TTL has passed are skipped, as Redis's master does.
// The reader reuses r's buffers (SnapshotHandler.Reuse): LoadKey copies.
func (p *persister) loadRecord(r persistence.Record) error {
	s := p.s
	if r.DB >= len(s.DBs()) {
		return fmt.Errorf("the file has a key in database %d, but this server has %d databases (raise 'databases')", r.DB, len(s.DBs()))
	}
	if r.ExpireAt != persistence.NoExpire && r.ExpireAt < time.Now().UnixMilli() {
		p.lastLoadExpired++
		return nil
	}
	if err := persistence.LoadKey(s.DBs()[r.DB], p.codecs, r, true); err != nil {
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
	if db < len(p.s.DBs()) {
		p.s.DBs()[db].Reserve(keys, expires)
	}
	return nil
}

// ---- SHUTDOWN and SIGTERM ----

// shutdown runs under the lock before the server exits: stop a running
// background save, flush and fsync the AOF, save when asked.
func (p *persister) shutdown(save bool) error {
	s := p.s
	if !p.loaded {
		return nil // nothing to save before the data set is in memory
	}
	p.shutdownInProgress = true
	if p.bgsave != nil {
		s.Logf("There is a child saving an .rdb. Killing it!")
		p.bgsave.cancel()
	}
	if p.rewrite != nil {
		s.Logf("There is a child rewriting the AOF. Killing it!")
		p.rewrite.cancel()
	}
	if p.aof != nil {
		s.Logf("Calling fsync() on the AOF file.")
		if err := p.aof.Flush(); err != nil {
			s.Logf("Error flushing the AOF on shutdown: %v", err)
			p.shutdownInProgress = false
			return err
		}
	}
	if save {
		s.Logf("Saving the final RDB snapshot before exiting.")
		if err := p.saveSync(); err != nil {
			s.Logf("Error trying to save the DB, can't exit.")
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
	tick := func() { p.tick(time.Now()) }
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.Closing():
			return
		case <-t.C:
		}
		s.RunLocked(tick, 50*time.Millisecond)
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
		if rule, ok := dueSaveRule(s.Config().Save, s.Dirty(), now.Unix()-p.lastSave); ok &&
			(p.lastBgsaveOK || now.Sub(p.lastBgsaveTry) > 5*time.Second) {
			s.Logf("%d changes in %d seconds. Saving...", rule[1], rule[0])
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
