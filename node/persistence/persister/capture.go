package persister

import (
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/persistence"
)

// liveCapture adapts the keyspace to a persistence.Capture: it is the
// keyspace's SnapshotHook (changes to entries not yet captured, flushed
// tables, SWAPDB) and the capture's CaptureSource (chunks of the SCAN
// cursor). Database indexes in the file are those of the capture's start:
// after a SWAPDB, db i is still read from the table it had then.
type liveCapture struct {
	p   *persister
	c   *persistence.Capture
	gen uint32
	// table[i] is the index of the DB that now holds the table DB i had
	// at the start; orig is its inverse.
	table, orig []int
	scratch     []*keyspace.Entry
}

// beginCapture starts a point-in-time capture (lock held): a new
// generation on every database. O(number of databases).
func (p *persister) beginCapture() *liveCapture {
	p.gen++
	for _, db := range p.s.DBs() {
		if g := db.SnapshotGen(); g >= p.gen {
			p.gen = g + 1
		}
	}
	lc := &liveCapture{p: p, c: persistence.NewCapture(uint64(p.gen), p.codecs), gen: p.gen}
	lc.c.SetAccess(p.snapshotOptions().Access) // as head's, in the same lock hold
	for i, db := range p.s.DBs() {
		lc.table = append(lc.table, i)
		lc.orig = append(lc.orig, i)
		db.BeginSnapshot(p.gen, lc)
	}
	p.capture = lc
	return lc
}

// endCapture stops the keyspace hooks (lock held).
func (p *persister) endCapture(lc *liveCapture) {
	if p.capture != lc {
		return
	}
	for _, db := range p.s.DBs() {
		db.EndSnapshot()
	}
	p.capture = nil
}

// Preserve implements keyspace.SnapshotHook.
func (lc *liveCapture) Preserve(db *keyspace.DB, e *keyspace.Entry) {
	t, v, err := persistence.EntryValue(e)
	if err != nil {
		return // a type this build cannot persist; SAVE reports it
	}
	lc.c.Preserve(lc.orig[db.ID], []byte(e.Key()), persistence.ExpireOf(e), t, v, persistence.AccessOf(db, e, lc.c.Access()))
}

// Detached implements keyspace.SnapshotHook: the old table of a flushed
// database is written at the end, outside the lock.
func (lc *liveCapture) Detached(db *keyspace.DB, forEach func(fn func(e *keyspace.Entry) bool)) {
	orig, gen := lc.orig[db.ID], lc.gen
	lc.c.AddDetached(func(emit func(persistence.Record) error) error {
		var err error
		forEach(func(e *keyspace.Entry) bool {
			if e.Gen() >= gen {
				return true // captured already
			}
			t, v, terr := persistence.EntryValue(e)
			if terr != nil {
				return true
			}
			var r persistence.Record
			if r, err = lc.c.Record(orig, []byte(e.Key()), persistence.ExpireOf(e), t, v); err == nil {
				// No access hint: the clock is not for use outside the
				// lock.
				r.AccessKind = persistence.AccessNone
				err = emit(r)
			}
			return err == nil
		})
		return err
	})
}

// Swapped implements keyspace.SnapshotHook (SWAPDB a b).
func (lc *liveCapture) Swapped(a, b *keyspace.DB) {
	i, j := lc.orig[a.ID], lc.orig[b.ID]
	lc.table[i], lc.table[j] = b.ID, a.ID
	lc.orig[a.ID], lc.orig[b.ID] = j, i
}

// DBSize implements persistence.CaptureSizer (lock held): the size hint
// written before the keys of db i.
func (lc *liveCapture) DBSize(i int) (keys, expires int) {
	db := lc.p.s.DBs()[lc.table[i]]
	return db.Len(), db.VolatileLen()
}

// Databases implements persistence.CaptureSource.
func (lc *liveCapture) Databases() int { return len(lc.table) }

// NextChunk implements persistence.CaptureSource (lock held). It
// allocates nothing but the chunk's arena growth.
func (lc *liveCapture) NextChunk(ch *persistence.Chunk, i int, cursor uint64, max int) (uint64, error) {
	db := lc.p.s.DBs()[lc.table[i]]
	policy := lc.c.Access()
	var next uint64
	lc.scratch, next = db.Scan(cursor, max, lc.scratch[:0])
	for _, e := range lc.scratch {
		if ch.Full() {
			// Big values: leave the rest unclaimed for the next hold.
			ch.Again()
			clear(lc.scratch)
			return cursor, nil
		}
		if !db.Claim(e) || db.IsExpired(e) {
			continue
		}
		var access uint64
		if policy != persistence.AccessNone {
			access = persistence.AccessOf(db, e, policy)
		}
		if e.Type() == keyspace.TypeString {
			if err := ch.AddString(i, e.Key(), persistence.ExpireOf(e), e.Bytes(), access); err != nil {
				return 0, err
			}
			continue
		}
		t, v, err := persistence.EntryValue(e)
		if err != nil {
			return 0, err
		}
		if err := ch.Add(i, e.Key(), persistence.ExpireOf(e), t, v, access); err != nil {
			return 0, err
		}
	}
	clear(lc.scratch)
	return next, nil
}
