package keyspace

import (
	"hash/maphash"
	"math/rand/v2"
)

// Env is what all databases of a server share: the clock, the clock mode
// of the eviction policy and the callback for keys that expire by
// themselves. The server owns it and updates Now before each command.
type Env struct {
	// Now is the current unix time in milliseconds.
	Now int64
	// LFU makes the per-key clock an LFU counter (maxmemory-policy *-lfu).
	LFU          bool
	LFULogFactor int // lfu-log-factor (default 10)
	LFUDecayTime int // lfu-decay-time in minutes (default 1)
	// NoExpire keeps expired keys in place (a replica waits for the
	// master's DEL); they still read as missing.
	NoExpire bool
	// Expired is called after a key was deleted because its TTL passed,
	// lazily on access or by the active cycle (propagate DEL, signal WATCH).
	Expired func(db *DB, key string)
	// Added, when not nil, is called after a command added a key (Add*,
	// Rename; not the loaders' Add*IfAbsent): the "new" keyspace event of
	// Redis's dbAdd.
	Added func(db *DB, key string)
	// Rand returns a pseudo-random int in [0,n); nil uses math/rand/v2.
	Rand func(n int) int
}

// NewEnv returns an Env with Redis's defaults.
func NewEnv() *Env { return &Env{LFULogFactor: 10, LFUDecayTime: 1} }

func (env *Env) rand(n int) int {
	if env.Rand != nil {
		return env.Rand(n)
	}
	return rand.IntN(n)
}

// KeyIndex is told about every key added or removed (the cluster's
// per-slot index). A DB without one pays a nil check.
type KeyIndex interface {
	KeyAdded(key string)
	KeyRemoved(key string)
	Flushed()
}

// DB is one database.
type DB struct {
	ID       int
	env      *Env
	dict     dict
	volatile map[*Entry]struct{}
	index    KeyIndex
	snap     SnapshotHook // non-nil while a point-in-time capture runs
	snapGen  uint32       // the generation new and claimed entries get
	// ExpiredKeys counts keys removed because they expired.
	ExpiredKeys int64
	// avgTTL is the running average TTL estimate of the active cycle.
	avgTTL int64
}

// New returns an empty database. DBs of one server share env.
func New(id int, env *Env) *DB {
	return &DB{ID: id, env: env, dict: newDict(maphash.MakeSeed()), volatile: map[*Entry]struct{}{}}
}

// SetIndex installs (or removes, with nil) the key index and replays the
// existing keys into it.
func (db *DB) SetIndex(ix KeyIndex) {
	db.index = ix
	if ix != nil {
		db.dict.forEach(func(e *Entry) bool { ix.KeyAdded(e.key); return true })
	}
}

// Len is the number of keys, including expired ones not yet removed
// (DBSIZE counts those too, like Redis).
func (db *DB) Len() int { return db.dict.n }

// VolatileLen is the number of keys with a TTL.
func (db *DB) VolatileLen() int { return len(db.volatile) }

// AvgTTL is the estimate INFO keyspace reports (ms).
func (db *DB) AvgTTL() int64 { return db.avgTTL }

// IsExpired reports whether e's TTL has passed.
func (db *DB) IsExpired(e *Entry) bool { return e.expire != 0 && db.env.Now > e.expire }

// expireIfNeeded deletes e when it has expired and reports whether it is
// logically gone.
func (db *DB) expireIfNeeded(e *Entry) bool {
	if !db.IsExpired(e) {
		return false
	}
	if db.env.NoExpire {
		return true
	}
	db.removeEntry(e)
	db.ExpiredKeys++
	if db.env.Expired != nil {
		db.env.Expired(db, e.key)
	}
	return true
}

// PeekNoExpire finds a key even if it has expired, without deleting or
// touching it (WATCH bookkeeping, DEBUG OBJECT).
func (db *DB) PeekNoExpire(key []byte) *Entry { return db.dict.find(key) }

// Peek finds a live key without touching its LRU/LFU clock (TYPE, OBJECT,
// EXISTS). Expired keys are deleted and read as missing.
func (db *DB) Peek(key []byte) *Entry {
	e := db.dict.find(key)
	if e == nil || db.expireIfNeeded(e) {
		return nil
	}
	return e
}

// Lookup finds a live key for reading and touches its clock.
func (db *DB) Lookup(key []byte) *Entry {
	e := db.Peek(key)
	if e != nil {
		db.touch(e)
	}
	return e
}

// LookupWrite finds a live key that the caller is about to modify. Every
// in-place modification of a value must start here (snapshots hook it).
func (db *DB) LookupWrite(key []byte) *Entry {
	e := db.Lookup(key)
	if e != nil {
		db.claim(e)
	}
	return e
}

func (db *DB) add(e *Entry) *Entry {
	db.dict.insert(e)
	db.added(e)
	if db.env.Added != nil {
		db.env.Added(db, e.key)
	}
	return e
}

// added completes an entry just linked into the table: its clock, its
// snapshot generation and the key index.
func (db *DB) added(e *Entry) {
	e.setClock(db.initialClock())
	e.gen = db.snapGen
	if db.index != nil {
		db.index.KeyAdded(e.key)
	}
}

// AddString adds a string key that does not exist. key and val are copied.
func (db *DB) AddString(key, val []byte) *Entry {
	e := &Entry{key: string(key), str: copyBytes(val)}
	e.setType(TypeString)
	return db.add(e)
}

// AddObject adds a key of a non-string type that does not exist; obj is
// the value (*list.List, *hash.Hash, ...). key is copied.
func (db *DB) AddObject(key []byte, typ Type, obj any) *Entry {
	e := &Entry{key: string(key), obj: obj}
	e.setType(typ)
	return db.add(e)
}

// AddStringIfAbsent adds a string key unless the key exists (expired or
// not), in one hash and one probe of the table: it returns the new entry
// and true, or the existing entry and false (nothing is added). key and
// val are copied. Loading a snapshot uses it, as Redis's loader uses
// dictAdd, to add each key and detect a duplicate at once.
func (db *DB) AddStringIfAbsent(key, val []byte) (*Entry, bool) {
	e := &Entry{key: string(key)}
	if old := db.dict.addIfAbsent(e); old != nil {
		return old, false
	}
	e.str = copyBytes(val)
	e.setType(TypeString)
	db.added(e)
	return e, true
}

// AddObjectIfAbsent is AddStringIfAbsent for a value of another type (see
// AddObject).
func (db *DB) AddObjectIfAbsent(key []byte, typ Type, obj any) (*Entry, bool) {
	e := &Entry{key: string(key), obj: obj}
	e.setType(typ)
	if old := db.dict.addIfAbsent(e); old != nil {
		return old, false
	}
	db.added(e)
	return e, true
}

// Reserve prepares the database for keys keys, volatile of them with a
// TTL, so that adding them resizes nothing (Redis's RESIZEDB: a loader
// told the size of a database before its keys expands its table once
// instead of rehashing it about log2(keys) times). It only ever grows, and
// bounds a huge hint.
func (db *DB) Reserve(keys, volatile int) {
	db.dict.reserve(keys)
	if volatile > 0 && len(db.volatile) == 0 {
		db.volatile = make(map[*Entry]struct{}, min(volatile, maxReserve))
	}
}

// ShrinkToFit starts shrinking the table when it is mostly empty, as a
// delete would (Redis's tryResizeHashTables): a loader calls it after
// loading, in case a size hint announced more keys than were loaded (the
// load skipped expired ones). A sparse table makes RANDOMKEY and eviction
// sampling slow.
func (db *DB) ShrinkToFit() { db.dict.maybeShrink() }

// SetString sets key to a string value whatever existed (SET): an existing
// key keeps its entry, loses its TTL unless keepTTL, and reuses its buffer
// when it fits. val is copied.
func (db *DB) SetString(key, val []byte, keepTTL bool) *Entry {
	e := db.LookupWrite(key)
	if e == nil {
		return db.AddString(key, val)
	}
	if e.typ() == TypeString && cap(e.str) >= len(val) && cap(e.str) <= 2*len(val)+16 {
		e.str = append(e.str[:0], val...)
	} else {
		e.str = copyBytes(val)
	}
	e.obj = nil
	e.setType(TypeString)
	if !keepTTL {
		db.Persist(e)
	}
	return e
}

// ReplaceObject makes an existing entry hold a value of another type (SORT
// STORE, *STORE commands), dropping its TTL.
func (db *DB) ReplaceObject(e *Entry, typ Type, obj any) {
	db.claim(e)
	e.str = nil
	e.obj = obj
	e.setType(typ)
	db.Persist(e)
}

func copyBytes(b []byte) []byte {
	if len(b) == 0 {
		return []byte{}
	}
	return append(make([]byte, 0, len(b)), b...)
}

// Delete removes a live key and reports whether it existed.
func (db *DB) Delete(key []byte) bool {
	e := db.Peek(key)
	if e == nil {
		return false
	}
	db.removeEntry(e)
	return true
}

// DeleteEntry removes an entry found by a lookup in this command.
func (db *DB) DeleteEntry(e *Entry) { db.removeEntry(e) }

func (db *DB) removeEntry(e *Entry) {
	db.claim(e)
	db.dict.unlink(e)
	if e.expire != 0 {
		delete(db.volatile, e)
	}
	if db.index != nil {
		db.index.KeyRemoved(e.key)
	}
}

// SetExpire sets the absolute expiry (unix ms) of a live entry.
func (db *DB) SetExpire(e *Entry, at int64) {
	if at == 0 {
		db.Persist(e)
		return
	}
	db.claim(e)
	if e.expire == 0 {
		db.volatile[e] = struct{}{}
	}
	e.expire = at
}

// Persist removes the TTL and reports whether there was one.
func (db *DB) Persist(e *Entry) bool {
	if e.expire == 0 {
		return false
	}
	db.claim(e)
	delete(db.volatile, e)
	e.expire = 0
	return true
}

// Rename moves the live entry e to newKey (which must be absent), keeping
// its value, TTL and clock, and returns the new entry.
func (db *DB) Rename(e *Entry, newKey []byte) *Entry {
	expire, meta := e.expire, e.meta
	db.removeEntry(e)
	ne := &Entry{key: string(newKey), str: e.str, obj: e.obj}
	db.add(ne)
	ne.meta = meta&^tagMask | ne.tag() // the tag is the new key's
	if expire != 0 {
		db.SetExpire(ne, expire)
	}
	return ne
}

// Flush removes every key and returns how many there were.
func (db *DB) Flush() int {
	n := db.dict.n
	if db.snap != nil && n > 0 {
		old := db.dict
		db.snap.Detached(db, func(fn func(e *Entry) bool) { old.forEach(fn) })
		db.dict = newDict(old.seed)
	}
	db.dict.clear()
	db.volatile = map[*Entry]struct{}{}
	db.avgTTL = 0
	if db.index != nil {
		db.index.Flushed()
	}
	return n
}

// SwapWith exchanges the contents of two databases (SWAPDB).
func (db *DB) SwapWith(o *DB) {
	if db.snap != nil {
		db.snap.Swapped(db, o)
	} else if o.snap != nil {
		o.snap.Swapped(db, o)
	}
	db.dict, o.dict = o.dict, db.dict
	db.volatile, o.volatile = o.volatile, db.volatile
	db.avgTTL, o.avgTTL = o.avgTTL, db.avgTTL
}

// Random returns a random live key, or nil (RANDOMKEY). Expired keys met on
// the way are deleted, as Redis does.
func (db *DB) Random() *Entry {
	allVolatile := db.dict.n == len(db.volatile)
	for tries := 0; db.dict.n > 0; tries++ {
		e := db.dict.random(db.env.rand)
		if !db.IsExpired(e) {
			return e
		}
		if allVolatile && tries > 100 {
			// Like Redis: do not loop for long when everything is
			// expiring; a replica might never delete them.
			return e
		}
		db.expireIfNeeded(e)
	}
	return nil
}

// Scan appends the entries of the buckets at cursor to dst and returns the
// next cursor (0 at the end). It visits about count entries, at most
// 10*count buckets, as Redis's SCAN. Entries may be expired: callers check
// IsExpired (ScanLive does that).
func (db *DB) Scan(cursor uint64, count int, dst []*Entry) ([]*Entry, uint64) {
	if count < 1 {
		count = 1
	}
	maxIter := count * 10
	start := len(dst)
	for {
		cursor = db.dict.scan(cursor, func(e *Entry) { dst = append(dst, e) })
		maxIter--
		if cursor == 0 || maxIter <= 0 || len(dst)-start >= count {
			return dst, cursor
		}
	}
}

// ForEach calls fn for every live key until fn returns false. fn must not
// add or remove keys (KEYS, snapshots, DEBUG DIGEST).
func (db *DB) ForEach(fn func(e *Entry) bool) {
	db.dict.forEach(func(e *Entry) bool {
		if db.IsExpired(e) {
			return true
		}
		return fn(e)
	})
}

// Rehash spends up to steps bucket moves on an ongoing rehash and reports
// whether one is still in progress (the server's cron calls it).
func (db *DB) Rehash(steps int) bool { return db.dict.rehashStep(steps) }

// Expire-cycle tuning, as Redis's ACTIVE_EXPIRE_CYCLE_* defaults.
const (
	expireCycleKeysPerLoop = 20
	expireCycleAcceptStale = 10 // percent
)

// ActiveExpireCycle samples keys with a TTL and deletes the expired ones,
// repeating while more than 10% of a sample was expired and budget (number
// of sampling loops) remains. It returns the number of keys deleted.
func (db *DB) ActiveExpireCycle(budget int) int {
	deleted := 0
	for ; budget > 0 && len(db.volatile) > 0; budget-- {
		sampled, expired := 0, 0
		var ttlSum, ttlN int64
		for e := range db.volatile {
			if sampled >= expireCycleKeysPerLoop {
				break
			}
			sampled++
			if db.expireIfNeeded(e) {
				expired++
			} else if ttl := e.expire - db.env.Now; ttl > 0 {
				ttlSum += ttl
				ttlN++
			}
		}
		deleted += expired
		if ttlN > 0 {
			avg := ttlSum / ttlN
			if db.avgTTL == 0 {
				db.avgTTL = avg
			} else {
				db.avgTTL = (db.avgTTL/50)*49 + avg/50
			}
		}
		if sampled == 0 || expired*100/sampled <= expireCycleAcceptStale {
			break
		}
	}
	if len(db.volatile) == 0 {
		db.avgTTL = 0
	}
	return deleted
}

// Sample appends up to n random live entries (eviction candidates); with
// volatileOnly only keys with a TTL.
func (db *DB) Sample(n int, volatileOnly bool, dst []*Entry) []*Entry {
	if volatileOnly {
		for e := range db.volatile {
			if n == 0 {
				break
			}
			dst = append(dst, e)
			n--
		}
		return dst
	}
	for ; n > 0 && db.dict.n > 0; n-- {
		dst = append(dst, db.dict.random(db.env.rand))
	}
	return dst
}

// SnapshotHook is the point-in-time capture of persistence (BGSAVE, AOF
// rewrite, full resync) seen from the keyspace. See node/persistence.
type SnapshotHook interface {
	// Preserve receives an entry not yet captured just before it changes
	// or disappears; the hook encodes its current state.
	Preserve(db *DB, e *Entry)
	// Detached receives the contents of a database flushed during the
	// capture; forEach walks them (entries not yet captured have Gen below
	// the capture's generation). Nothing else references them any more.
	Detached(db *DB, forEach func(fn func(e *Entry) bool))
	// Swapped reports SWAPDB between two databases.
	Swapped(a, b *DB)
}

// BeginSnapshot starts a capture at generation gen: every entry whose Gen
// is below gen is preserved before its first change. New entries get gen.
func (db *DB) BeginSnapshot(gen uint32, hook SnapshotHook) {
	db.snapGen = gen
	db.snap = hook
}

// EndSnapshot stops calling the hook (the generation stays).
func (db *DB) EndSnapshot() { db.snap = nil }

// SnapshotGen is the current generation.
func (db *DB) SnapshotGen() uint32 { return db.snapGen }

// Claim marks e as captured by the running snapshot and reports whether
// it was not captured yet (the capture then encodes it itself).
func (db *DB) Claim(e *Entry) bool {
	if e.gen >= db.snapGen {
		return false
	}
	e.gen = db.snapGen
	return true
}

// claim preserves e for a running capture before it changes. One
// predictable branch when no capture runs.
func (db *DB) claim(e *Entry) {
	if db.snap != nil && e.gen < db.snapGen {
		db.snap.Preserve(db, e)
		e.gen = db.snapGen
	}
}
