package persistence

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// A tiny keyspace with the keyspace-side contract of a capture (doc.go):
// entries carry the generation that claimed them, changes to an unclaimed
// entry preserve it first, new entries are born claimed, a flush hands its
// table over.
type modelEntry struct {
	key    string
	val    string
	expire int64
	gen    uint64
	dead   bool
}

type modelDB struct {
	entries []*modelEntry // insertion order; the cursor is an index
	index   map[string]*modelEntry
}

type model struct {
	mu      sync.Mutex
	dbs     []*modelDB
	gen     uint64
	capture *Capture
}

func newModel(dbs int) *model {
	m := &model{}
	for range dbs {
		m.dbs = append(m.dbs, &modelDB{index: map[string]*modelEntry{}})
	}
	return m
}

// beforeChange is the hook every modification goes through.
func (m *model) beforeChange(db int, e *modelEntry) {
	if m.capture != nil && e.gen < m.capture.Gen() {
		m.capture.Preserve(db, []byte(e.key), e.expire, TypeString, []byte(e.val), 0)
		e.gen = m.capture.Gen()
	}
}

func (m *model) set(db int, key, val string, expire int64) {
	d := m.dbs[db]
	if e := d.index[key]; e != nil {
		m.beforeChange(db, e)
		e.val, e.expire = val, expire
		return
	}
	e := &modelEntry{key: key, val: val, expire: expire, gen: m.gen}
	d.entries = append(d.entries, e)
	d.index[key] = e
}

func (m *model) del(db int, key string) {
	d := m.dbs[db]
	if e := d.index[key]; e != nil {
		m.beforeChange(db, e)
		e.dead = true
		delete(d.index, key)
	}
}

func (m *model) flush(db int) {
	old := m.dbs[db]
	m.dbs[db] = &modelDB{index: map[string]*modelEntry{}}
	if c := m.capture; c != nil {
		c.AddDetached(func(emit func(Record) error) error {
			for _, e := range old.entries {
				if e.dead || e.gen >= c.Gen() {
					continue
				}
				e.gen = c.Gen()
				if err := emit(Record{DB: db, Key: []byte(e.key), ExpireAt: e.expire, Type: TypeString, Value: rdb.AppendStringObject(nil, []byte(e.val))}); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

func (m *model) state() map[string]string {
	out := map[string]string{}
	for i, d := range m.dbs {
		for k, e := range d.index {
			out[fmt.Sprintf("%d/%s", i, k)] = fmt.Sprintf("%s@%d", e.val, e.expire)
		}
	}
	return out
}

func (m *model) begin(codecs *Codecs) *Capture {
	m.gen++
	m.capture = NewCapture(m.gen, codecs)
	return m.capture
}

// CaptureSource
func (m *model) Databases() int { return len(m.dbs) }

func (m *model) NextChunk(ch *Chunk, db int, cursor uint64, max int) (uint64, error) {
	d := m.dbs[db]
	i := int(cursor)
	for n := 0; i < len(d.entries) && n < max; i++ {
		e := d.entries[i]
		if e.dead || e.gen >= m.capture.Gen() {
			continue
		}
		e.gen = m.capture.Gen()
		if err := ch.Add(db, e.key, e.expire, TypeString, []byte(e.val), 0); err != nil {
			return 0, err
		}
		n++
	}
	if i >= len(d.entries) {
		return 0, nil
	}
	return uint64(i), nil
}

// DBSize implements CaptureSizer.
func (m *model) DBSize(db int) (keys, expires int) {
	for _, e := range m.dbs[db].index {
		keys++
		if e.expire != NoExpire {
			expires++
		}
	}
	return keys, expires
}

func loadState(t testing.TB, data []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := ReadSnapshot(bytes.NewReader(data), "capture", SnapshotHandler{Key: func(r Record) error {
		k := fmt.Sprintf("%d/%s", r.DB, r.Key)
		if _, dup := out[k]; dup {
			return fmt.Errorf("key %s written twice", k)
		}
		exp := r.ExpireAt
		if exp == NoExpire {
			exp = 0
		}
		out[k] = fmt.Sprintf("%s@%d", must(decodeRDBString(r.Value)), exp)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The snapshot equals the state at the capture's start, exactly, while
// concurrent writers set, delete, expire and flush as fast as they can.
func TestCaptureIsPointInTimeUnderConcurrentWrites(t *testing.T) {
	for round := range 20 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(round), 7))
			const dbs, keys = 3, 300
			m := newModel(dbs)
			for i := range keys * 2 {
				m.set(rng.IntN(dbs), fmt.Sprintf("k%d", rng.IntN(keys)), fmt.Sprint(i), int64(rng.IntN(3))*1000)
			}
			m.mu.Lock()
			c := m.begin(allTestCodecs())
			want := m.state()
			m.mu.Unlock()

			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for w := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(round), uint64(w)))
					for i := 0; ctx.Err() == nil; i++ {
						m.mu.Lock()
						db, key := r.IntN(dbs), fmt.Sprintf("k%d", r.IntN(keys*2))
						switch op := r.IntN(1000); {
						case op < 600:
							m.set(db, key, fmt.Sprintf("w%d-%d", w, i), int64(r.IntN(3))*1000)
						case op < 998:
							m.del(db, key)
						default:
							m.flush(db)
						}
						m.mu.Unlock()
					}
				}()
			}
			var buf bytes.Buffer
			st, err := c.Write(ctx, NewSnapshotWriter(&buf), &m.mu, m, CaptureOptions{ChunkKeys: 3})
			m.mu.Lock()
			m.capture = nil
			m.mu.Unlock()
			cancel()
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			got := loadState(t, buf.Bytes())
			if len(got) != len(want) {
				t.Fatalf("%d keys captured, %d at the start (stats %+v)", len(got), len(want), st)
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("%s = %q, was %q at the start", k, got[k], v)
				}
			}
			if st.Keys != int64(len(want)) {
				t.Fatalf("stats count %d keys, want %d", st.Keys, len(want))
			}
		})
	}
}

func TestCaptureStopsWhenCancelled(t *testing.T) {
	m := newModel(1)
	for i := range 1000 {
		m.set(0, fmt.Sprint(i), "v", 0)
	}
	c := m.begin(allTestCodecs())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Write(ctx, NewSnapshotWriter(&bytes.Buffer{}), &m.mu, m, CaptureOptions{}); err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
}

// Redis's RESIZEDB: a source that knows its databases' sizes gets a size
// hint written before the keys of each non-empty database.
func TestCaptureWritesResizeDBBeforeEachDatabase(t *testing.T) {
	m := newModel(3)
	for i := range 300 {
		exp := NoExpire
		if i%3 == 0 {
			exp = 1700000000000
		}
		m.set(0, fmt.Sprint("a", i), "v", exp)
		if i < 5 {
			m.set(2, fmt.Sprint("b", i), "w", NoExpire)
		}
	}
	var buf bytes.Buffer
	c := m.begin(allTestCodecs())
	if _, err := c.Write(context.Background(), NewSnapshotWriter(&buf), &m.mu, m, CaptureOptions{ChunkKeys: 16}); err != nil {
		t.Fatal(err)
	}
	var events []string
	seen := map[int]bool{}
	err := ReadSnapshot(bytes.NewReader(buf.Bytes()), "capture", SnapshotHandler{
		ResizeDB: func(db, keys, expires int) error {
			events = append(events, fmt.Sprintf("resize %d %d %d", db, keys, expires))
			return nil
		},
		Key: func(r Record) error {
			if !seen[r.DB] {
				seen[r.DB] = true
				events = append(events, fmt.Sprintf("first key of %d", r.DB))
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"resize 0 300 100", "first key of 0", "resize 2 5 0", "first key of 2"}
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Fatalf("events %q, want %q", events, want)
	}
}

// upperStrings is a string codec other than the raw one (it upper-cases).
type upperStrings struct{}

func (upperStrings) Type() ValueType { return TypeString }
func (upperStrings) AppendValue(dst []byte, v any) ([]byte, error) {
	return rdb.AppendStringObject(dst, bytes.ToUpper(v.([]byte))), nil
}
func (upperStrings) DecodeValue(b []byte) (any, error)  { return decodeRDBString(b) }
func (upperStrings) DecodeLegacy(b []byte) (any, error) { return b, nil }

func TestChunkAddStringEncodesAsAdd(t *testing.T) {
	// AddString skips the codec only for raw strings; either way the
	// chunk holds what Add would have encoded.
	for _, codecs := range []*Codecs{allTestCodecs(), must(NewCodecs(upperStrings{}))} {
		var viaAdd, viaString bytes.Buffer
		for _, c := range []struct {
			buf *bytes.Buffer
			add func(ch *Chunk) error
		}{
			{&viaAdd, func(ch *Chunk) error { return ch.Add(3, "k", 42, TypeString, []byte("val"), 0) }},
			{&viaString, func(ch *Chunk) error { return ch.AddString(3, "k", 42, []byte("val"), 0) }},
		} {
			ch := &Chunk{codecs: codecs}
			mustOK(t, c.add(ch))
			w := NewSnapshotWriter(c.buf)
			mustOK(t, ch.writeTo(w))
			mustOK(t, w.Close())
		}
		if !bytes.Equal(viaAdd.Bytes(), viaString.Bytes()) {
			t.Fatalf("raw %v: AddString wrote %x, Add %x", codecs.RawStrings(), viaString.Bytes(), viaAdd.Bytes())
		}
	}
	if !allTestCodecs().RawStrings() || must(NewCodecs(upperStrings{})).RawStrings() {
		t.Fatal("RawStrings wrong")
	}
}
