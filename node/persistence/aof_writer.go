package persistence

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/shoal-dev/shoal/node/resp"
)

// FsyncPolicy is the appendfsync setting.
type FsyncPolicy int

// The appendfsync values.
const (
	// FsyncAlways: a write is acknowledged only after it is fsynced.
	// Concurrent clients share one fsync (group commit).
	FsyncAlways FsyncPolicy = iota
	// FsyncEverySec: written to the file at once, fsynced in the background
	// once a second; a crash of the machine loses about a second.
	FsyncEverySec
	// FsyncNo: written at once, fsynced when the kernel decides.
	FsyncNo
)

// ParseFsyncPolicy parses an appendfsync value.
func ParseFsyncPolicy(s string) (FsyncPolicy, error) {
	switch s {
	case "always":
		return FsyncAlways, nil
	case "everysec":
		return FsyncEverySec, nil
	case "no":
		return FsyncNo, nil
	}
	return 0, fmt.Errorf("argument must be one of the following: always, everysec, no")
}

func (p FsyncPolicy) String() string {
	switch p {
	case FsyncAlways:
		return "always"
	case FsyncEverySec:
		return "everysec"
	case FsyncNo:
		return "no"
	}
	return "unknown"
}

// appendSelect appends SELECT db.
func appendSelect(dst []byte, db int) []byte {
	return resp.AppendCommand(dst, [][]byte{[]byte("SELECT"), strconv.AppendInt(nil, int64(db), 10)})
}

// AOFWriter appends the write commands the server propagates to the current
// incremental AOF file.
//
// Append only copies into a memory buffer, so it is cheap under the server's
// lock. The server acknowledges a client only after WaitSynced(offset)
// returns, once per pipelined batch. With FsyncAlways the first waiter
// writes and fsyncs everything buffered; every command that arrives while
// that fsync runs is written and fsynced together in the next round, by one
// of its waiters: that is the group commit. With FsyncEverySec a flusher
// goroutine writes the buffer as soon as there is data and a second one
// fdatasyncs once a second; with FsyncNo the kernel decides when to sync.
// Nothing ever blocks Append, and with everysec and no a stalled disk holds
// a reply for at most MaxWriteWait. The flusher also writes what no client
// waits for (expiry DELs from the server's cron).
//
// A failed write keeps its bytes and is retried (at least once a second);
// Err reports the failure meanwhile so the server can refuse writes as
// Redis does (MISCONF). Offsets are logical: bytes appended since Open,
// across file rotations.
type AOFWriter struct {
	policy FsyncPolicy

	mu        sync.Mutex
	cond      *sync.Cond // broadcast when written/synced advance or err changes
	buf       []byte     // appended, not yet taken by the flusher
	spare     []byte     // the flusher's last buffer, for reuse
	appended  int64
	written   int64 // bytes the flusher has written
	synced    int64 // bytes known fsynced
	selDB     int   // db of the last SELECT in the current file, -1 forces one
	file      syncFile
	rotations []rotation
	err       error // the last write or fsync error, nil once a retry works
	flushing  bool  // a goroutine is in flushOnce (the flusher or a waiter)
	closed    bool
	stats     AOFStats
	latency   func(event string, d time.Duration) // SetLatencyHook

	// syncMu serialises fsyncs with closing a rotated-out file.
	syncMu sync.Mutex

	kick chan struct{}
	stop chan struct{}
	done sync.WaitGroup
}

type rotation struct {
	at   int64
	file syncFile
}

// syncFile is the part of *os.File the writer uses; tests substitute files
// that fail.
type syncFile interface {
	Write(p []byte) (int, error)
	Datasync() error
	Close() error
}

type osFile struct{ *os.File }

func (f osFile) Datasync() error { return fdatasync(f.File) }

// AOFStats are the counters INFO persistence shows.
type AOFStats struct {
	LastWriteErr   error // aof_last_write_status:err when not nil
	DelayedFsyncs  int64 // aof_delayed_fsync: everysec fsyncs that took over 2s
	DelayedWrites  int64 // replies that did not wait longer for a slow write
	Fsyncs         int64
	BytesWritten   int64
	LastFsyncAtUTC time.Time
}

// NewAOFWriter starts appending to f, which must be open for writing at its
// end (O_APPEND). The writer owns f from now on.
func NewAOFWriter(f *os.File, policy FsyncPolicy) *AOFWriter {
	return newAOFWriter(osFile{f}, policy)
}

func newAOFWriter(f syncFile, policy FsyncPolicy) *AOFWriter {
	w := &AOFWriter{
		policy: policy,
		file:   f,
		selDB:  -1,
		kick:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
	}
	w.cond = sync.NewCond(&w.mu)
	w.done.Add(2)
	go w.flusher()
	go w.everysec()
	return w
}

// SetPolicy changes the fsync policy (CONFIG SET appendfsync). Switching
// to FsyncAlways fsyncs what was written before, so no acknowledged write
// is left unsynced.
func (w *AOFWriter) SetPolicy(p FsyncPolicy) error {
	w.mu.Lock()
	old := w.policy
	w.policy = p
	w.mu.Unlock()
	if p == FsyncAlways && old != FsyncAlways {
		return w.Flush()
	}
	return nil
}

// SetLatencyHook has the writer report how long its writes and
// appendfsync-always fsyncs take, under Redis's latency event names
// ("aof-write", "aof-write-alone", "aof-fsync-always").
func (w *AOFWriter) SetLatencyHook(f func(event string, d time.Duration)) {
	w.mu.Lock()
	w.latency = f
	w.mu.Unlock()
}

// Policy returns the fsync policy.
func (w *AOFWriter) Policy() FsyncPolicy {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.policy
}

// Append queues argv, executed in db, and returns the logical offset just
// past it, to pass to WaitSynced. A SELECT is queued first when db differs
// from the previous command's. Calls must come in execution order (the
// server calls it under its lock).
func (w *AOFWriter) Append(db int, argv [][]byte) int64 {
	return w.append(db, func(b []byte) []byte { return resp.AppendCommand(b, argv) })
}

// AppendRaw queues already encoded commands (e.g. a whole MULTI/EXEC block)
// that run in db.
func (w *AOFWriter) AppendRaw(db int, resp []byte) int64 {
	return w.append(db, func(b []byte) []byte { return append(b, resp...) })
}

func (w *AOFWriter) append(db int, encode func([]byte) []byte) int64 {
	w.mu.Lock()
	before := len(w.buf)
	if db != w.selDB {
		w.buf = appendSelect(w.buf, db)
		w.selDB = db
	}
	w.buf = encode(w.buf)
	w.appended += int64(len(w.buf) - before)
	off := w.appended
	w.mu.Unlock()
	w.wake()
	return off
}

// Offset returns the logical offset of everything appended so far.
func (w *AOFWriter) Offset() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.appended
}

func (w *AOFWriter) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// WaitSynced blocks until everything up to off is durable as the policy
// promises: fsynced for FsyncAlways. For the other policies it waits until
// the bytes are handed to the kernel (so a crash of the process alone
// loses nothing, as with Redis, which writes before it replies), but at
// most MaxWriteWait: when the disk is so slow that write itself blocks,
// clients get their replies anyway (Redis postpones its write for up to
// two seconds while an fsync is in progress). It returns an error when the
// write or fsync failed; with FsyncAlways the server cannot honour its
// promise then and should exit, as Redis does.
func (w *AOFWriter) WaitSynced(off int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var timedOut bool
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if w.policy == FsyncAlways && w.synced >= off || w.policy != FsyncAlways && (w.written >= off || timedOut) {
			return nil
		}
		if w.err != nil {
			return w.err
		}
		if w.closed {
			return errAOFClosed
		}
		if !w.flushing && w.policy == FsyncAlways {
			// Write and fsync the pending group ourselves instead of
			// handing it to the flusher goroutine: one wake-up less per
			// batch. Whoever arrives meanwhile waits for the next group,
			// which one of them writes: that is the group commit. (With
			// everysec and no the flusher writes, so that a stalled disk
			// never holds a client for long.)
			written := w.written
			w.mu.Unlock()
			if written >= off {
				w.syncNow(off) // written under another policy: fsync it
			} else {
				w.flushOnce()
			}
			w.mu.Lock()
			continue
		}
		if w.policy != FsyncAlways && timer == nil {
			timer = time.AfterFunc(MaxWriteWait, func() {
				w.mu.Lock()
				timedOut = true
				w.stats.DelayedWrites++
				w.cond.Broadcast()
				w.mu.Unlock()
			})
		}
		w.cond.Wait()
	}
}

// MaxWriteWait bounds how long WaitSynced waits for a write with the
// everysec and no policies.
const MaxWriteWait = 2 * time.Second

var errAOFClosed = errors.New("append only file closed")

// Closed reports whether Close was called.
func (w *AOFWriter) Closed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// Err returns the last write or fsync error, nil when the last attempt worked.
func (w *AOFWriter) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Stats returns the counters for INFO.
func (w *AOFWriter) Stats() AOFStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stats
	s.LastWriteErr = w.err
	return s
}

// Rotate makes every command appended from now on go to f (a new
// incremental file), starting with a SELECT. Commands appended before go to
// the old file, which the flusher fsyncs and closes. Call it under the same
// lock as Append, at the exact point a rewrite's point-in-time view starts.
func (w *AOFWriter) Rotate(f *os.File) { w.rotate(osFile{f}) }

func (w *AOFWriter) rotate(f syncFile) {
	w.mu.Lock()
	w.rotations = append(w.rotations, rotation{at: w.appended, file: f})
	w.selDB = -1
	w.mu.Unlock()
	w.wake()
}

// Flush writes and fsyncs everything appended so far, whatever the policy
// (SHUTDOWN, BGREWRITEAOF start, tests).
func (w *AOFWriter) Flush() error {
	off := w.Offset()
	if err := w.waitWritten(off); err != nil {
		return err
	}
	return w.syncNow(off)
}

func (w *AOFWriter) waitWritten(off int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.written < off {
		if w.err != nil {
			return w.err
		}
		if w.closed {
			return errAOFClosed
		}
		w.cond.Wait()
	}
	return nil
}

// Close flushes, fsyncs and closes the current file and stops the
// goroutines. Appends after Close are dropped.
func (w *AOFWriter) Close() error {
	err := w.Flush()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return err
	}
	w.closed = true
	w.cond.Broadcast()
	w.mu.Unlock()
	close(w.stop)
	w.done.Wait()
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if cerr := w.file.Close(); err == nil {
		err = cerr
	}
	return err
}

func (w *AOFWriter) flusher() {
	defer w.done.Done()
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	for {
		select {
		case <-w.kick:
		case <-retry.C:
		case <-w.stop:
			return
		}
		w.flushOnce()
	}
}

// flushOnce writes what is buffered, switching files at rotation points,
// and fsyncs it for FsyncAlways.
func (w *AOFWriter) flushOnce() {
	w.mu.Lock()
	if w.flushing {
		w.mu.Unlock()
		return
	}
	data := w.buf
	w.buf, w.spare = w.spare[:0], nil
	start := w.written
	rots := w.rotations
	w.rotations = nil
	f := w.file
	policy := w.policy
	latency := w.latency
	if len(data) == 0 && len(rots) == 0 {
		w.mu.Unlock()
		return
	}
	w.flushing = true
	w.mu.Unlock()
	orig := data

	pos := start
	var err error
	write := func(p []byte) {
		var n int
		n, err = writeAll(f, p)
		data, pos = data[n:], pos+int64(n)
	}
	for len(rots) > 0 && err == nil {
		if write(data[:rots[0].at-pos]); err != nil {
			break
		}
		// The old file must be complete on disk before anything depends on
		// the new one, whatever the policy.
		w.syncMu.Lock()
		if err = f.Datasync(); err == nil {
			f.Close()
			f = rots[0].file
			rots = rots[1:]
			w.mu.Lock()
			w.file = f
			w.written, w.synced = pos, pos
			w.mu.Unlock()
		}
		w.syncMu.Unlock()
	}
	if err == nil {
		t0 := time.Now()
		write(data)
		if t1 := time.Now(); latency != nil {
			latency("aof-write-alone", t1.Sub(t0))
			latency("aof-write", t1.Sub(t0))
		}
		if err == nil && policy == FsyncAlways {
			t1 := time.Now()
			err = f.Datasync()
			if latency != nil {
				latency("aof-fsync-always", time.Since(t1))
			}
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushing = false
	if len(w.buf) > 0 || len(w.rotations) > 0 {
		w.wake() // more arrived meanwhile
	}
	w.stats.BytesWritten += pos - start
	w.written = pos
	w.cond.Broadcast()
	if err != nil {
		// Keep what was not written, in order, ahead of newer appends.
		w.buf = append(data[:len(data):len(data)], w.buf...)
		w.rotations = append(rots, w.rotations...)
		w.err = err
		return
	}
	if policy == FsyncAlways {
		w.synced = pos
		w.stats.Fsyncs++
		w.stats.LastFsyncAtUTC = time.Now().UTC()
	}
	w.err = nil
	if cap(orig) <= maxSpareBuffer {
		w.spare = orig[:0]
	}
}

// maxSpareBuffer bounds the buffer kept for reuse after a burst.
const maxSpareBuffer = 4 << 20

// writeAll writes all of p unless an error stops it, and says how much
// went out, so a retry continues exactly where it stopped.
func writeAll(f syncFile, p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := f.Write(p[done:])
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

func (w *AOFWriter) everysec() {
	defer w.done.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-w.stop:
			return
		}
		w.mu.Lock()
		target, policy := w.written, w.policy
		w.mu.Unlock()
		if policy != FsyncEverySec {
			continue
		}
		start := time.Now()
		if err := w.syncNow(target); err == nil && time.Since(start) > 2*time.Second {
			w.mu.Lock()
			w.stats.DelayedFsyncs++
			w.mu.Unlock()
		}
	}
}

// syncNow fdatasyncs the current file if bytes up to target may not be
// synced yet.
func (w *AOFWriter) syncNow(target int64) error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	if w.synced >= target {
		w.mu.Unlock()
		return nil
	}
	f := w.file
	written := w.written
	w.mu.Unlock()
	err := f.Datasync()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.err = err
		w.cond.Broadcast()
		return err
	}
	if written > w.synced {
		w.synced = written
	}
	w.stats.Fsyncs++
	w.stats.LastFsyncAtUTC = time.Now().UTC()
	w.cond.Broadcast()
	return nil
}

// fdatasync flushes f's data (and the size, which reading it back needs),
// like Redis's redis_fsync on Linux.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}
