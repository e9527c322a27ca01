package persister

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/persistence"
	"github.com/shoal-dev/shoal/node/server"
)

// The append-only file seen from the server: Propagate appends every
// effective write, the ReplyMark/ReplyWait hooks hold replies until their
// writes are durable as appendfsync promises, BGREWRITEAOF replaces the
// base while writes go on (node/persistence/aof_dir.go has the protocol).

// loadAOF replays the multi-part AOF (lock held, see load).
func (p *persister) loadAOF(l *server.Loader) error {
	s := p.s
	trim := p.aofLoadTruncated()
	replay := newReplayClient(s)
	rep, err := p.aofDir.Load(trim, persistence.AOFHandler{
		Snapshot: persistence.SnapshotHandler{Key: p.loadRecord, ResizeDB: p.loadResizeDB, Reuse: true, Aux: s.LoadFunctionsAux, Function: s.LoadFunctionCode},
		Command:  replay.run,
		Progress: l.Read,
	})
	if err != nil {
		return fatalLoad(err)
	}
	for _, f := range rep.Files {
		if f.Truncated {
			s.Logf("!!! Warning: short read while loading the AOF file %s!!!", f.Name)
			s.Logf("!!! Truncating the AOF %s at offset %d (%d bytes of an incomplete command dropped) !!!", f.Name, f.TruncatedAt, f.TailBytes)
			s.Logf("AOF loaded anyway because aof-load-truncated is enabled")
		}
		if f.Type == persistence.AOFBase {
			if fi, err := os.Stat(p.aofDir.Dir() + "/" + f.Name); err == nil {
				p.aofBaseSize = fi.Size()
			}
		}
	}
	p.lastLoadCommands = replay.commands
	return nil
}

// replayClient runs the commands of an AOF as a client with no
// connection. Each file starts in database 0.
type replayClient struct {
	s        *server.Server
	c        *server.Client
	file     string
	commands int64
}

func newReplayClient(s *server.Server) *replayClient {
	return &replayClient{s: s, c: s.NewReplayClient()}
}

// run executes one command of file (the AOFHandler callback).
func (r *replayClient) run(file string, args [][]byte) error {
	if file != r.file {
		r.file, r.c.DB = file, r.s.DB(0)
	}
	name := strings.ToLower(string(args[0]))
	if name == "multi" || name == "exec" {
		return nil // the loader delivers whole transactions only
	}
	if err := r.c.Replay(args); err != nil {
		return err
	}
	r.commands++
	return nil
}

// openAOF starts appending (lock held, at start-up): to the last
// incremental file of an existing AOF, or to a new AOF whose base is the
// data set just loaded (from the snapshot, or empty).
func (p *persister) openAOF() error {
	s := p.s
	if p.aofDir == nil {
		dir, _, err := persistence.OpenAOFDir(p.appendDirName(), s.Config().AppendFilename)
		if err != nil {
			return err
		}
		p.aofDir = dir
	}
	var f *os.File
	var err error
	if m := p.aofDir.Manifest(); m.Base == nil && len(m.Incr) == 0 {
		s.Logf("Creating AOF base file %s on server start", persistence.BaseFileName(s.Config().AppendFilename, 1))
		f, err = p.aofDir.Create(func(w *persistence.SnapshotWriter) error {
			if err := p.head(false).write(w); err != nil {
				return err
			}
			return p.writeLive(w)
		})
	} else {
		f, err = p.aofDir.OpenForAppend()
	}
	if err != nil {
		return fmt.Errorf("Can't open the append-only file: %w", err)
	}
	policy, err := persistence.ParseFsyncPolicy(s.Config().AppendFsync)
	if err != nil {
		policy = persistence.FsyncEverySec
	}
	p.setAOF(persistence.NewAOFWriter(f, policy))
	p.aofPolicy = s.Config().AppendFsync
	p.propagate(true)
	return nil
}

// closeAOF stops appending (CONFIG SET appendonly no), lock held.
func (p *persister) closeAOF() {
	if p.aof == nil {
		return
	}
	if err := p.aof.Close(); err != nil {
		p.s.Logf("Error closing the AOF: %v", err)
	}
	p.setAOF(nil)
	p.propagate(false)
}

// propagate makes the AOF the server's sink of effective writes, or stops
// it being one (lock held).
func (p *persister) propagate(on bool) {
	switch {
	case on:
		p.s.PropagateTo(p)
	case p.propagating:
		p.s.PropagateTo(nil)
	}
	p.propagating = on
}

// Propagate implements server.Propagator: append the write to the AOF. Without
// the ReplyMark/ReplyWait hooks, appendfsync always waits here, under
// the lock (safe, but one fsync per command).
func (p *persister) Propagate(db int, args [][]byte) {
	if p.aof == nil {
		return
	}
	off := p.aof.Append(db, args)
	if !p.barrierWired.Load() && p.aof.Policy() == persistence.FsyncAlways {
		p.mustSync(p.aof, p.aof.WaitSynced(off))
	}
}

// replyMark is the ReplyMark hook, called with the lock held at the end
// of a client's batch: the AOF offset its replies depend on.
func (p *persister) replyMark() int64 {
	if p.aof == nil {
		return 0
	}
	p.barrierWired.Store(true)
	return p.aof.Offset()
}

// replyWait is the ReplyWait hook, called after the lock is released and
// before the replies are written: it returns once the writes up to mark
// are durable as appendfsync promises (fsynced for always; written for
// the others). Concurrent clients share the fsync: that is the group
// commit.
func (p *persister) replyWait(mark int64) {
	if w := p.aofShared.Load(); w != nil {
		p.mustSync(w, w.WaitSynced(mark))
	}
}

// mustSync handles a failed AOF write: with appendfsync always the
// promise cannot be kept, so the server exits before acknowledging, as
// Redis does. Otherwise the writer retries and INFO shows the error.
func (p *persister) mustSync(w *persistence.AOFWriter, err error) {
	if err == nil {
		return
	}
	if w.Policy() == persistence.FsyncAlways && !w.Closed() {
		p.s.Logf("Can't recover from AOF write error when the AOF fsync policy is 'always': %v. Exiting...", err)
		os.Exit(1)
	}
}

// applyAOFConfig follows CONFIG SET appendonly and appendfsync (lock held).
func (p *persister) applyAOFConfig() {
	s := p.s
	switch {
	case s.Config().AppendOnly && p.aof == nil && p.rewrite == nil:
		s.Logf("Background append only file rewriting started by CONFIG SET appendonly yes")
		p.startRewrite()
	case !s.Config().AppendOnly && p.aof != nil && p.rewrite == nil:
		p.closeAOF()
	}
	if p.aof != nil && s.Config().AppendFsync != p.aofPolicy {
		if policy, err := persistence.ParseFsyncPolicy(s.Config().AppendFsync); err == nil {
			p.aofPolicy = s.Config().AppendFsync
			if err := p.aof.SetPolicy(policy); err != nil {
				s.Logf("appendfsync %s: %v", s.Config().AppendFsync, err)
			}
		}
	}
}

// startRewrite starts BGREWRITEAOF (lock held). It also turns the AOF on
// when appendonly was just set: the new incremental file becomes the
// file writes go to, and the manifest lists it with the new base.
func (p *persister) startRewrite() {
	s := p.s
	ctx, cancel := context.WithCancel(context.Background())
	job := &bgJob{start: time.Now(), cancel: cancel}
	p.rewrite = job
	if p.aofDir == nil {
		dir, _, err := persistence.OpenAOFDir(p.appendDirName(), s.Config().AppendFilename)
		if err != nil {
			p.rewriteDone(job, err)
			return
		}
		p.aofDir = dir
	}
	turnOn := s.Config().AppendOnly && p.aof == nil
	s.Go(func() { // Close waits, so a cancelled rewrite cleans up its files
		defer cancel()
		// Step 1 (no lock): the new incremental file, listed in the
		// manifest unless the AOF is only being turned on.
		rw, err := p.aofDir.BeginRewrite(!turnOn)
		if err != nil {
			s.Lock()
			p.rewriteDone(job, err)
			s.Unlock()
			return
		}
		// Step 2 (lock, O(1)): writes switch to it, the capture starts.
		s.Lock()
		if turnOn {
			policy, perr := persistence.ParseFsyncPolicy(s.Config().AppendFsync)
			if perr != nil {
				policy = persistence.FsyncEverySec
			}
			p.setAOF(persistence.NewAOFWriter(rw.IncrFile(), policy))
			p.aofPolicy = s.Config().AppendFsync
			p.propagate(true)
		} else if p.aof != nil {
			p.aof.Rotate(rw.IncrFile())
		} else {
			rw.IncrFile().Close()
		}
		lc := p.beginCapture()
		head := p.head(false)
		head.aux = append(head.aux, [2]string{"aof-base", "1"})
		s.Unlock()
		// Step 3 (background): the new base from the point-in-time view.
		var st persistence.CaptureStats
		err = rw.WriteBase(func(w *persistence.SnapshotWriter) error {
			var err error
			st, err = lc.c.Write(ctx, w, s, lc, head.capture(w))
			return err
		})
		s.Lock()
		p.endCapture(lc)
		s.Unlock()
		// Step 4: the manifest switches atomically.
		if err == nil {
			err = rw.Commit()
		} else {
			rw.Abort()
		}
		s.Lock()
		defer s.Unlock()
		if err == nil {
			p.aofBaseSize = st.Bytes
			p.lastCaptureStats = st
		}
		p.rewriteDone(job, err)
	})
}

// rewriteDone records the end of a rewrite (lock held).
func (p *persister) rewriteDone(job *bgJob, err error) {
	s := p.s
	p.rewrite = nil
	p.lastRewriteSecs = int64(time.Since(job.start).Seconds())
	if err != nil {
		p.lastRewriteOK = false
		p.rewriteFailures++
		s.Logf("Background AOF rewrite failed: %v", err)
		return
	}
	p.lastRewriteOK = true
	p.rewriteFailures = 0
	p.aofRewrites++
	s.Logf("Background AOF rewrite finished successfully")
}

// BGRewriteAOF is BGREWRITEAOF (Persistence): the status reply, or the
// error after "ERR ".
func (p *persister) BGRewriteAOF() (string, error) {
	switch {
	case p.rewrite != nil:
		return "", errors.New("Background append only file rewriting already in progress")
	case p.bgsave != nil:
		p.rewriteScheduled = true
		return "Background append only file rewriting scheduled", nil
	}
	p.startRewrite()
	return "Background append only file rewriting started", nil
}
