package persistence

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// Point-in-time capture without fork and without holding the server lock
// for the whole save. See doc.go for the design and the keyspace's part.
//
// The persistence side is this file: a Capture collects the records of the
// view as of its start, from three places:
//
//   - chunks: Write repeatedly takes the server lock, asks the CaptureSource
//     for the next few keys the capture has not seen (the source claims them
//     by stamping the capture's generation on their entries and encodes
//     them), releases the lock and writes them out;
//   - preserved records: before a write command changes or deletes a key
//     that is not claimed yet, the keyspace calls Preserve (under the lock)
//     with the key's current value, which is encoded at once; Write drains
//     them between chunks;
//   - detached sources: a FLUSHDB/FLUSHALL during the capture hands the old
//     table over (AddDetached) instead of preserving every key; Write streams
//     it at the end without the lock, since nothing live can reach it.
//
// Keys created after the start carry the new generation and are never
// captured. Every key of the start state is thus written exactly once: by
// the chunk that claimed it, or preserved by the change that claimed it.

// CaptureSource is the live dataset as a capture sees it. NextChunk is
// called with the server's lock held.
type CaptureSource interface {
	// Databases is the number of databases to capture (0..n-1).
	Databases() int
	// NextChunk adds to ch (Chunk.Add) up to about max keys of db (as of
	// the capture's start) that are not claimed yet, claims them, and
	// returns the next cursor; 0 means the database is done. cursor 0
	// starts it. Keys met that are already claimed are skipped.
	NextChunk(ch *Chunk, db int, cursor uint64, max int) (uint64, error)
}

// CaptureSizer is implemented by a CaptureSource that knows the size of a
// database: the capture then writes it before the database's keys
// (AuxResizeDB), so a loader sizes its table once. Called with the lock
// held, when the capture starts the database.
type CaptureSizer interface {
	DBSize(db int) (keys, expires int)
}

// Chunk collects the encoded keys of one lock hold in a reused arena, so
// a capture allocates next to nothing under the server lock (allocation
// there would make the lock holder pay for garbage collection).
type Chunk struct {
	codecs *Codecs
	access AccessPolicy
	arena  []byte
	recs   []chunkRecord
	// again: the source stopped early (Full) and wants the same cursor
	// once more (Again).
	again bool
}

// chunkBytes is how much a chunk encodes under one hold of the lock
// before the source stops (Full): a few big values (a 512 MB string)
// would otherwise be copied, and the arena regrown, all in one hold.
const chunkBytes = 1 << 20

// Full reports whether the chunk holds chunkBytes of encoded keys: the
// source should stop adding, call Again, and return the cursor it was
// given (the keys it did not claim are met again next time).
func (ch *Chunk) Full() bool { return len(ch.arena) >= chunkBytes }

// Again asks for the next NextChunk call to get the same cursor.
func (ch *Chunk) Again() { ch.again = true }

type chunkRecord struct {
	db             int
	key, val, vend int // offsets in arena: key [key:val), value [val:vend)
	expireAt       int64
	access         uint64
	t              ValueType
}

// Add encodes one key into the chunk. access is its access information
// of the capture's kind (Capture.Access; AccessOf).
func (ch *Chunk) Add(db int, key string, expireAt int64, t ValueType, v any, access uint64) error {
	r := chunkRecord{db: db, key: len(ch.arena), expireAt: expireAt, t: t, access: access}
	ch.arena = append(ch.arena, key...)
	r.val = len(ch.arena)
	var err error
	if ch.arena, err = ch.codecs.AppendValue(ch.arena, t, v); err != nil {
		ch.arena = ch.arena[:r.key]
		return err
	}
	r.vend = len(ch.arena)
	ch.recs = append(ch.recs, r)
	return nil
}

// AddString is Add for a string held as bytes: with raw strings
// (Codecs.RawStrings) it copies val without boxing it in an interface,
// which would allocate under the server lock for every key.
func (ch *Chunk) AddString(db int, key string, expireAt int64, val []byte, access uint64) error {
	if !ch.codecs.RawStrings() {
		return ch.Add(db, key, expireAt, TypeString, val, access)
	}
	r := chunkRecord{db: db, key: len(ch.arena), expireAt: expireAt, t: TypeString, access: access}
	ch.arena = append(ch.arena, key...)
	r.val = len(ch.arena)
	ch.arena = rdb.AppendStringObject(ch.arena, val)
	r.vend = len(ch.arena)
	ch.recs = append(ch.recs, r)
	return nil
}

// Len is the number of keys in the chunk.
func (ch *Chunk) Len() int { return len(ch.recs) }

func (ch *Chunk) reset() {
	ch.recs = ch.recs[:0]
	ch.again = false
	if cap(ch.arena) > 4<<20 {
		ch.arena = nil // do not keep a huge value's buffer
	}
	ch.arena = ch.arena[:0]
}

func (ch *Chunk) writeTo(w *SnapshotWriter) error {
	for _, r := range ch.recs {
		rec := Record{DB: r.db, Key: ch.arena[r.key:r.val], ExpireAt: r.expireAt, Type: r.t,
			Value: ch.arena[r.val:r.vend], AccessKind: ch.access, Access: r.access}
		if err := w.WriteRecord(rec); err != nil {
			return err
		}
	}
	return nil
}

// CaptureStats describe a finished capture (for INFO, logs and the
// BGSAVE-stall measurements).
type CaptureStats struct {
	Keys          int64         // records written
	Preserved     int64         // of which preserved before a change
	Detached      int64         // of which from flushed tables
	Chunks        int64         // lock acquisitions
	MaxLockHold   time.Duration // longest single hold of the server lock
	TotalLockHold time.Duration
	Bytes         int64 // snapshot bytes written
	Duration      time.Duration
}

// Capture is one point-in-time view in progress.
type Capture struct {
	gen    uint64
	codecs *Codecs
	access AccessPolicy

	progress atomic.Int64 // keys written so far

	mu        sync.Mutex
	preserved []Record
	detached  []func(emit func(Record) error) error
	err       error // first encoding failure in Preserve
}

// NewCapture starts a capture with generation gen (the keyspace's counter
// after incrementing it, under the lock).
func NewCapture(gen uint64, codecs *Codecs) *Capture {
	return &Capture{gen: gen, codecs: codecs}
}

// SetAccess sets the kind of access information the capture's records
// carry (the snapshot's SnapshotOptions.Access); call it before the
// capture is used.
func (c *Capture) SetAccess(p AccessPolicy) { c.access = p }

// Access is the kind of access information the records carry.
func (c *Capture) Access() AccessPolicy { return c.access }

// Progress is how many keys Write has written so far (INFO's
// current_save_keys_processed).
func (c *Capture) Progress() int64 { return c.progress.Load() }

// Gen is the capture's generation: entries stamped with it (or newer) are
// claimed.
func (c *Capture) Gen() uint64 { return c.gen }

// Codecs returns the codecs values are encoded with.
func (c *Capture) Codecs() *Codecs { return c.codecs }

// Record encodes one key into a Record (for CaptureSource implementations
// and Preserve).
func (c *Capture) Record(db int, key []byte, expireAt int64, t ValueType, v any) (Record, error) {
	enc, err := c.codecs.AppendValue(nil, t, v)
	if err != nil {
		return Record{}, err
	}
	return Record{DB: db, Key: key, ExpireAt: expireAt, Type: t, Value: enc, AccessKind: c.access}, nil
}

// Preserve records the current state of a key the keyspace is about to
// change or delete and that the capture has not claimed yet (the keyspace
// claims it in the same step). Called under the server lock. key is copied.
// access is the key's access information (Capture.Access; AccessOf).
func (c *Capture) Preserve(db int, key []byte, expireAt int64, t ValueType, v any, access uint64) {
	r, err := c.Record(db, append([]byte(nil), key...), expireAt, t, v)
	r.Access = access
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if c.err == nil {
			c.err = fmt.Errorf("preserving key %q: %w", key, err)
		}
		return
	}
	c.preserved = append(c.preserved, r)
}

// AddDetached hands over keys that left the live dataset in bulk (the old
// table of a FLUSHDB or FLUSHALL). emit must be called once per key of the
// start state in it that is not claimed; it runs later without the lock.
func (c *Capture) AddDetached(src func(emit func(Record) error) error) {
	c.mu.Lock()
	c.detached = append(c.detached, src)
	c.mu.Unlock()
}

func (c *Capture) takePreserved() ([]Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.preserved
	c.preserved = nil
	return p, c.err
}

// CaptureOptions tune Write.
type CaptureOptions struct {
	// ChunkKeys is how many keys one lock hold claims (default 128).
	ChunkKeys int
	// Aux fields written first (shoal-ver, ctime, ...).
	Aux [][2]string
	// Functions are the function libraries' codes, written after the aux
	// fields as RDB_OPCODE_FUNCTION2 records (Redis's rdbSaveFunctions).
	Functions [][]byte
	// DutyCycle, when in (0,1), paces the capture so that it holds the
	// server lock at most about this fraction of the time (the rest is
	// the clients') while clients want it: a chunk whose lock was free
	// when the capture came for it owes them nothing. 0 only yields
	// between chunks.
	DutyCycle float64
	// FlushEvery, when set, flushes the writer after a chunk once this
	// long has passed since the last flush: a replica reading the
	// snapshot from a connection sees it progress (its repl-timeout).
	FlushEvery time.Duration
}

// Write streams the capture into w, taking lock (the server's) only around
// each NextChunk call and the final hand-over. After it returns (with or
// without an error) call the keyspace's end-of-capture so Preserve stops
// being called; Write drains what was preserved up to its last lock hold.
func (c *Capture) Write(ctx context.Context, w *SnapshotWriter, lock sync.Locker, src CaptureSource, opt CaptureOptions) (CaptureStats, error) {
	var st CaptureStats
	start := time.Now()
	if opt.ChunkKeys <= 0 {
		opt.ChunkKeys = 128
	}
	for _, a := range opt.Aux {
		if err := w.Aux(a[0], a[1]); err != nil {
			return st, err
		}
	}
	for _, code := range opt.Functions {
		if err := w.Function(code); err != nil {
			return st, err
		}
	}
	writeAll := func(recs []Record) error {
		for _, r := range recs {
			if err := w.WriteRecord(r); err != nil {
				return err
			}
			st.Keys++
			c.progress.Add(1)
		}
		return nil
	}
	ch := &Chunk{codecs: c.codecs, access: c.access}
	pace := pacer{duty: opt.DutyCycle}
	lastFlush := start
	dbs := -1
	for db := 0; dbs < 0 || db < dbs; db++ {
		cursor := uint64(0)
		for first := true; ; first = false {
			if err := ctx.Err(); err != nil {
				return st, err
			}
			contended := lockNoting(lock)
			held := time.Now()
			if dbs < 0 {
				dbs = src.Databases()
			}
			var err error
			ch.reset()
			keys, expires := 0, 0
			if sz, ok := src.(CaptureSizer); ok && db < dbs && first {
				keys, expires = sz.DBSize(db)
			}
			if db < dbs {
				var next uint64
				if next, err = src.NextChunk(ch, db, cursor, opt.ChunkKeys); !ch.again {
					cursor = next
				}
			}
			preserved, perr := c.takePreserved()
			hold := time.Since(held)
			lock.Unlock()
			// Let the clients that queued for the lock meanwhile have it
			// before the next chunk; with a duty cycle, leave them the lock
			// for (1/duty - 1) times the hold, on average.
			pace.after(hold, contended)
			st.Chunks++
			st.TotalLockHold += hold
			st.MaxLockHold = max(st.MaxLockHold, hold)
			if err == nil {
				err = perr
			}
			if err != nil {
				return st, err
			}
			if keys > 0 {
				if err := w.ResizeDB(db, keys, expires); err != nil {
					return st, err
				}
			}
			if err := ch.writeTo(w); err != nil {
				return st, err
			}
			st.Keys += int64(ch.Len())
			c.progress.Add(int64(ch.Len()))
			if err := writeAll(preserved); err != nil {
				return st, err
			}
			st.Preserved += int64(len(preserved))
			if opt.FlushEvery > 0 && time.Since(lastFlush) >= opt.FlushEvery {
				if err := w.Flush(); err != nil {
					return st, err
				}
				lastFlush = time.Now()
			}
			if db >= dbs || cursor == 0 && !ch.again {
				break
			}
		}
	}
	// Everything live is claimed now. The final drain happens under the
	// lock so no Preserve can slip in between it and the caller ending the
	// capture (callers end it right after, still racing nothing: a change
	// to a claimed key does not call Preserve).
	lock.Lock()
	preserved, err := c.takePreserved()
	c.mu.Lock()
	detached := c.detached
	c.detached = nil
	c.mu.Unlock()
	lock.Unlock()
	if err != nil {
		return st, err
	}
	if err := writeAll(preserved); err != nil {
		return st, err
	}
	st.Preserved += int64(len(preserved))
	for _, d := range detached {
		if err := d(func(r Record) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			st.Detached++
			return writeAll([]Record{r})
		}); err != nil {
			return st, err
		}
	}
	if err := w.Close(); err != nil {
		return st, err
	}
	st.Bytes = w.Size()
	st.Duration = time.Since(start)
	return st, nil
}

// pacer keeps a capture's share of the server lock near its duty cycle.
// A chunk holds the lock for tens of microseconds, far below what a sleep
// can measure on a loaded machine (one sleep often lasts a millisecond or
// more), so sleeping after every chunk made a capture of a million keys
// take tens of seconds while the lock sat idle. The pacer owes the clients
// (1/duty - 1) times each hold and pays the debt in one sleep once it
// reaches minPaceSleep; an oversleep is credited to the next chunks (up to
// maxPaceCredit): on an overloaded machine a 1ms sleep can last 30ms, and
// without the credit the capture would spend nearly all its time asleep.
// Between chunks it always yields, so clients queued on the lock get it.
type pacer struct {
	duty float64
	owed time.Duration
}

// minPaceSleep is the smallest sleep the pacer takes; maxPaceCredit is the
// most oversleeping it credits.
const (
	minPaceSleep  = time.Millisecond
	maxPaceCredit = 50 * time.Millisecond
)

// after is called after each lock hold; contended says whether someone
// else held the lock when the capture asked for it.
func (p *pacer) after(hold time.Duration, contended bool) {
	runtime.Gosched()
	if p.duty <= 0 || p.duty >= 1 || !contended {
		return
	}
	p.owed += time.Duration(float64(hold) * (1/p.duty - 1))
	if p.owed < minPaceSleep {
		return
	}
	start := time.Now()
	time.Sleep(p.owed)
	p.owed = max(p.owed-time.Since(start), -maxPaceCredit)
}

// lockNoting takes lock and reports whether it was contended: held by
// someone else at the moment it was asked for. A lock without TryLock
// counts as always contended.
func lockNoting(lock sync.Locker) bool {
	if t, ok := lock.(interface{ TryLock() bool }); ok && t.TryLock() {
		return false
	}
	lock.Lock()
	return true
}
