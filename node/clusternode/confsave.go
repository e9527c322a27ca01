package clusternode

import (
	"sync"
	"time"

	"github.com/shoal-dev/shoal/node/cluster"
)

// Saving nodes.conf, as Redis 7.0 does (clusterSaveConfigOrDie from
// clusterBeforeSleep with CLUSTER_TODO_SAVE_CONFIG and
// CLUSTER_TODO_FSYNC_CONFIG):
//
//   - a Ready with Fsync (votes, epochs: what must be durable before anyone
//     hears of it) is written, fsynced and renamed synchronously under the
//     server lock, before any message of that Ready is queued and before
//     the reply, as before;
//   - a Ready without Fsync only records the latest serialized state (the
//     machine serialized it under the lock); one saver goroutine writes it
//     outside the lock (temporary file + rename, no fsync, like Redis's
//     clusterSaveConfig(0)). Changes in quick succession (the five SETSLOTs
//     of every slot a reshard moves) cost one write, not one each: the
//     saver writes at most once per confSaveInterval, since each rename
//     over nodes.conf costs about a millisecond of journal work on ext4
//     and ~200 µs of the node's CPU (a reshard's SETSLOTs come every few
//     hundred µs: at 20 ms the writes took 4-10% of a node's CPU during
//     make bench-reshard). What such a save holds is only routing a
//     restarted node learns again from its peers' pings (the greater
//     configEpoch wins), so a tenth of a second more cannot lose data;
//   - Close flushes what is pending synchronously, and once closed every
//     save is synchronous again.
//
// Generations order the writes: a snapshot is only renamed over nodes.conf
// when it is newer than the one there, so an fsynced save made while the
// saver writes an older snapshot is never overwritten by it. Lock order:
// the server lock, then confSaver.fileMu; the saver goroutine never holds
// fileMu while taking the server lock.

// confSaveInterval is the least time between two background writes.
const confSaveInterval = 100 * time.Millisecond

// confSaver is the nodes.conf writer of a clusterNode.
type confSaver struct {
	path string
	// Guarded by the server lock.
	gen     uint64 // generation of the latest state handed over
	pending []byte // latest state not yet handed to a write, nil when none
	// deferred: a save is pending whose state serialize gives when it is
	// written (the machine's DeferNodesConf).
	deferred  bool
	serialize func() []byte
	closed    bool          // before start and after Close: every save is synchronous
	wake      chan struct{} // capacity 1: the saver has something to do
	// fileMu serializes the writes of nodes.conf and guards written.
	fileMu  sync.Mutex
	written uint64 // generation on disk
	writes  int64  // nodes.conf writes done (tests)
	// fatal is called when nodes.conf cannot be written: a node that
	// cannot save its configuration must not go on.
	fatal func(error)
}

func newConfSaver(path string, fatal func(error)) *confSaver {
	return &confSaver{path: path, closed: true, wake: make(chan struct{}, 1), fatal: fatal}
}

// save takes the state to write (lock held). With fsync, or once closed,
// it is on disk when save returns; otherwise the saver writes it soon.
// A nil data is the state serialize gives, taken when it is written.
func (cs *confSaver) save(data []byte, fsync bool) {
	cs.gen++
	if fsync || cs.closed {
		cs.pending, cs.deferred = nil, false
		if data == nil {
			data = cs.serialize()
		}
		cs.write(cs.gen, data, fsync)
		return
	}
	cs.pending, cs.deferred = data, data == nil
	select {
	case cs.wake <- struct{}{}:
	default:
	}
}

// take hands the pending state to a write (lock held).
func (cs *confSaver) take() (uint64, []byte) {
	data := cs.pending
	if cs.deferred {
		data = cs.serialize()
	}
	cs.pending, cs.deferred = nil, false
	return cs.gen, data
}

// flush writes the pending state now and makes later saves synchronous
// (lock held; Close).
func (cs *confSaver) flush() {
	cs.closed = true
	if gen, data := cs.take(); data != nil {
		cs.write(gen, data, false)
	}
}

// write puts generation gen on disk unless a newer one is there already.
func (cs *confSaver) write(gen uint64, data []byte, fsync bool) {
	cs.fileMu.Lock()
	defer cs.fileMu.Unlock()
	if gen <= cs.written {
		return
	}
	var err error
	if fsync {
		err = cluster.WriteNodesConf(cs.path, data)
	} else {
		err = writeFileRename(cs.path, data)
	}
	if err != nil {
		cs.fatal(err)
		return
	}
	cs.written = gen
	cs.writes++
}

// loop is the saver goroutine: it writes the latest pending state each
// time there is one, until the server closes (Close flushes the rest).
func (cs *confSaver) loop(locked func(func()), closing <-chan struct{}, done func()) {
	defer done()
	var last time.Time
	for {
		select {
		case <-closing:
			return
		case <-cs.wake:
		}
		// What comes meanwhile is written with it (Close writes what is
		// still pending).
		if wait := confSaveInterval - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-closing:
				t.Stop()
				return
			case <-t.C:
			}
		}
		last = time.Now()
		var gen uint64
		var data []byte
		locked(func() { gen, data = cs.take() })
		if data != nil {
			cs.write(gen, data, false)
		}
	}
}

// startConfSaver starts the saver goroutine (from start): saves without
// fsync are written in the background from now on.
func (cn *clusterNode) startConfSaver() {
	s := cn.s
	s.Lock()
	defer s.Unlock()
	select {
	case <-s.Closing():
		return // closed already
	default:
	}
	cn.conf.closed = false
	locked := func(fn func()) { s.RunLocked(fn, 20*time.Millisecond) }
	s.Go(func() { cn.conf.loop(locked, s.Closing(), func() {}) })
}
