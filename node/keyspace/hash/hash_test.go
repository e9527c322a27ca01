package hash

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

func set(h *Hash, lim Limits, pairs ...string) int {
	created := 0
	for i := 0; i+1 < len(pairs); i += 2 {
		if h.Set([]byte(pairs[i]), []byte(pairs[i+1]), lim) {
			created++
		}
	}
	return created
}

func get(h *Hash, f string) (string, bool) {
	v, ok := h.Get([]byte(f))
	return string(v), ok
}

// pairs lists the hash as "field=value" in iteration order.
func pairs(h *Hash) []string {
	var out []string
	for f, v := range h.All() {
		out = append(out, string(f)+"="+string(v))
	}
	return out
}

func TestHSETCountsOnlyNewFields(t *testing.T) {
	h := New()
	lim := DefaultLimits()
	if n := set(h, lim, "a", "1", "b", "2"); n != 2 {
		t.Fatalf("HSET of two new fields = %d", n)
	}
	if n := set(h, lim, "a", "x", "c", "3"); n != 1 {
		t.Fatalf("HSET updating one field and adding one = %d", n)
	}
	if got, want := pairs(h), []string{"a=x", "b=2", "c=3"}; !slices.Equal(got, want) {
		t.Fatalf("listpack order %q, want insertion order %q", got, want)
	}
	if v, ok := get(h, "a"); !ok || v != "x" {
		t.Fatalf("HGET a = %q,%v", v, ok)
	}
	if _, ok := get(h, "zz"); ok {
		t.Fatal("HGET of a missing field found something")
	}
	if h.Len() != 3 || h.StrLen([]byte("c")) != 1 || h.StrLen([]byte("zz")) != 0 {
		t.Fatalf("HLEN %d HSTRLEN c %d", h.Len(), h.StrLen([]byte("c")))
	}
}

func TestListpackLimitsConvertToHashtable(t *testing.T) {
	lim := Limits{MaxListpackEntries: 4, MaxListpackValue: 8}
	cases := []struct {
		name  string
		pairs []string
		want  string
	}{
		{"at the entry limit stays listpack", []string{"a", "1", "b", "2", "c", "3", "d", "4"}, "listpack"},
		{"one entry over the limit", []string{"a", "1", "b", "2", "c", "3", "d", "4", "e", "5"}, "hashtable"},
		{"value of exactly the byte limit stays listpack", []string{"a", "12345678"}, "listpack"},
		{"value over the byte limit", []string{"a", "123456789"}, "hashtable"},
		{"field over the byte limit", []string{"123456789", "a"}, "hashtable"},
		{"empty hash", nil, "listpack"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := New()
			set(h, lim, c.pairs...)
			if got := h.Encoding(); got != c.want {
				t.Fatalf("OBJECT ENCODING = %s, want %s", got, c.want)
			}
			if h.Len() != len(c.pairs)/2 {
				t.Fatalf("HLEN %d after conversion", h.Len())
			}
			for i := 0; i < len(c.pairs); i += 2 {
				if v, ok := get(h, c.pairs[i]); !ok || v != c.pairs[i+1] {
					t.Fatalf("HGET %s = %q,%v after conversion", c.pairs[i], v, ok)
				}
			}
		})
	}
}

func TestHashtableNeverConvertsBack(t *testing.T) {
	lim := Limits{MaxListpackEntries: 2, MaxListpackValue: 64}
	h := New()
	set(h, lim, "a", "1", "b", "2", "c", "3")
	h.Delete([]byte("a"))
	h.Delete([]byte("b"))
	if h.Encoding() != "hashtable" || h.Len() != 1 {
		t.Fatalf("after deletes: %s with %d fields", h.Encoding(), h.Len())
	}
}

func TestTryConversionChecksEveryArgumentFirst(t *testing.T) {
	lim := Limits{MaxListpackEntries: 128, MaxListpackValue: 4}
	h := New()
	h.TryConversion(lim, []byte("a"), []byte("1"))
	if h.Encoding() != "listpack" {
		t.Fatal("short arguments converted the hash")
	}
	h.TryConversion(lim, []byte("a"), []byte("12345"))
	if h.Encoding() != "hashtable" {
		t.Fatal("a long argument did not convert the hash")
	}
}

func TestHDELRemovesOnlyPresentFields(t *testing.T) {
	for _, lim := range []Limits{DefaultLimits(), {0, 0}} {
		h := New()
		set(h, lim, "a", "1", "b", "2", "c", "3")
		if !h.Delete([]byte("b")) || h.Delete([]byte("b")) || h.Delete([]byte("zz")) {
			t.Fatalf("%s: HDEL results wrong", h.Encoding())
		}
		got := pairs(h)
		slices.Sort(got)
		if !slices.Equal(got, []string{"a=1", "c=3"}) {
			t.Fatalf("%s: after HDEL %q", h.Encoding(), got)
		}
	}
}

func TestHINCRBYRules(t *testing.T) {
	cases := []struct {
		name   string
		stored string // "" means absent
		incr   int64
		want   int64
		err    error
	}{
		{"absent field counts from 0", "", 5, 5, nil},
		{"negative increment", "10", -15, -5, nil},
		{"max int64 reached exactly", "9223372036854775806", 1, math.MaxInt64, nil},
		{"overflow upwards", "9223372036854775807", 1, 0, ErrOverflow},
		{"overflow downwards", "-9223372036854775808", -1, 0, ErrOverflow},
		{"min int64 reached exactly", "-9223372036854775807", -1, math.MinInt64, nil},
		{"float value is not an integer", "1.5", 1, 0, ErrHashValueNotInteger},
		{"leading space is not an integer", " 1", 1, 0, ErrHashValueNotInteger},
		{"plus sign is not an integer", "+1", 1, 0, ErrHashValueNotInteger},
		{"leading zero is not an integer", "01", 1, 0, ErrHashValueNotInteger},
		{"minus zero is not an integer", "-0", 1, 0, ErrHashValueNotInteger},
		{"empty value is not an integer", "\x00empty", 1, 0, ErrHashValueNotInteger},
		{"value beyond int64 is not an integer", "9223372036854775808", 1, 0, ErrHashValueNotInteger},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := New()
			lim := DefaultLimits()
			switch c.stored {
			case "":
			case "\x00empty":
				set(h, lim, "f", "")
			default:
				set(h, lim, "f", c.stored)
			}
			got, err := h.IncrBy([]byte("f"), c.incr, lim)
			if !errors.Is(err, c.err) || got != c.want {
				t.Fatalf("HINCRBY = %d,%v want %d,%v", got, err, c.want, c.err)
			}
			if err == nil {
				if v, _ := get(h, "f"); v != fmt.Sprint(c.want) {
					t.Fatalf("stored %q", v)
				}
			}
		})
	}
}

func TestErrorTextsAreRedis(t *testing.T) {
	cases := map[error]string{
		ErrHashValueNotInteger: "ERR hash value is not an integer",
		ErrOverflow:            "ERR increment or decrement would overflow",
		ErrHashValueNotFloat:   "ERR hash value is not a float",
		ErrNotFloat:            "ERR value is not a valid float",
		ErrIncrNaNOrInfinity:   "ERR value is NaN or Infinity",
		ErrResultNaNOrInfinity: "ERR increment would produce NaN or Infinity",
	}
	for err, want := range cases {
		if err.Error() != want {
			t.Errorf("%q, want %q", err, want)
		}
	}
}

func TestHINCRBYFLOATResultTooLongForListpackConverts(t *testing.T) {
	h := New()
	lim := DefaultLimits()
	in, err := ParseFloatIncrement([]byte("1e300"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.IncrByFloat([]byte("f"), in, lim); err != nil {
		t.Fatal(err)
	}
	if h.Encoding() != "hashtable" {
		t.Fatalf("a 301-byte value left the hash as %s (Redis converts)", h.Encoding())
	}
}

// seqRand is a seeded source, for deterministic HRANDFIELD tests.
type seqRand struct{ r *rand.Rand }

func (s seqRand) IntN(n int) int { return s.r.IntN(n) }

func newRand(seed uint64) seqRand { return seqRand{rand.New(rand.NewPCG(seed, seed))} }

func TestHRANDFIELDCountRules(t *testing.T) {
	for _, lim := range []Limits{DefaultLimits(), {MaxListpackEntries: 0, MaxListpackValue: 64}} {
		h := New()
		var want []string
		for i := range 10 {
			f := fmt.Sprintf("f%d", i)
			set(h, lim, f, "v"+f)
			want = append(want, f)
		}
		rnd := newRand(1)
		collect := func(count int) []string {
			var out []string
			h.RandomFields(count, rnd, func(f, v []byte) bool {
				if string(v) != "v"+string(f) {
					t.Fatalf("%s: field %s came with value %s", h.Encoding(), f, v)
				}
				out = append(out, string(f))
				return true
			})
			if len(out) != h.RandomCount(count) {
				t.Fatalf("%s: count %d gave %d fields, RandomCount says %d", h.Encoding(), count, len(out), h.RandomCount(count))
			}
			return out
		}
		if got := collect(0); len(got) != 0 {
			t.Fatalf("count 0 gave %q", got)
		}
		// A count at or above the size returns the whole hash.
		for _, count := range []int{10, 11, math.MaxInt} {
			got := collect(count)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: count %d gave %q", h.Encoding(), count, got)
			}
		}
		// A positive count below the size gives distinct fields.
		for _, count := range []int{1, 2, 3, 4, 9} {
			got := collect(count)
			if len(slices.Compact(slices.Sorted(slices.Values(got)))) != count {
				t.Fatalf("%s: count %d gave repeated fields %q", h.Encoding(), count, got)
			}
		}
		// A negative count repeats: 1000 picks out of 10 fields must repeat
		// and should reach every field.
		got := collect(-1000)
		seen := map[string]bool{}
		for _, f := range got {
			seen[f] = true
		}
		if len(seen) != 10 {
			t.Fatalf("%s: 1000 picks reached %d of 10 fields", h.Encoding(), len(seen))
		}
		// Stopping early is honoured.
		n := 0
		h.RandomFields(-50, rnd, func(f, v []byte) bool { n++; return n < 3 })
		if n != 3 {
			t.Fatalf("fn returned false at 3 but was called %d times", n)
		}
		f, v, ok := h.RandomField(rnd)
		if !ok || string(v) != "v"+string(f) {
			t.Fatalf("HRANDFIELD = %q %q %v", f, v, ok)
		}
	}
	if _, _, ok := New().RandomField(newRand(1)); ok {
		t.Fatal("HRANDFIELD on an empty hash found something")
	}
}

func TestHRANDFIELDDistinctOnABigTableUsesEveryField(t *testing.T) {
	h := New()
	lim := DefaultLimits()
	for i := range 1000 {
		set(h, lim, fmt.Sprint(i), "v")
	}
	rnd := newRand(7)
	seen := map[string]bool{}
	for range 200 {
		var got []string
		h.RandomFields(10, rnd, func(f, v []byte) bool { got = append(got, string(f)); return true })
		if len(slices.Compact(slices.Sorted(slices.Values(got)))) != 10 {
			t.Fatalf("count 10 of 1000 gave duplicates: %q", got)
		}
		for _, f := range got {
			seen[f] = true
		}
	}
	if len(seen) < 800 {
		t.Fatalf("2000 distinct picks reached only %d of 1000 fields", len(seen))
	}
}

func TestHSCANListpackReturnsEverythingWithCursorZero(t *testing.T) {
	h := New()
	set(h, DefaultLimits(), "a", "1", "b", "2", "c", "3")
	var got []string
	next := h.Scan(12345, 1, func(f, v []byte) { got = append(got, string(f)+"="+string(v)) })
	if next != 0 || !slices.Equal(got, []string{"a=1", "b=2", "c=3"}) {
		t.Fatalf("HSCAN = %d %q", next, got)
	}
}

// TestHSCANReturnsEveryStableFieldAcrossResizes checks the SCAN guarantee
// on the hashtable encoding while fields are added and removed between
// calls, so the table grows and shrinks during the iteration.
func TestHSCANReturnsEveryStableFieldAcrossResizes(t *testing.T) {
	lim := DefaultLimits()
	for seed := uint64(1); seed <= 10; seed++ {
		r := rand.New(rand.NewPCG(seed, 3))
		h := New()
		stable := map[string]bool{}
		for i := range 600 {
			f := fmt.Sprintf("s%d", i)
			set(h, lim, f, "v")
			stable[f] = true
		}
		seen := map[string]bool{}
		cursor, calls := uint64(0), 0
		for {
			cursor = h.Scan(cursor, 10, func(f, v []byte) { seen[string(f)] = true })
			calls++
			// Churn: grow a lot, then shrink, with temporary fields.
			for range r.IntN(40) {
				f := fmt.Sprintf("t%d", r.IntN(5000))
				if calls < 30 {
					set(h, lim, f, "x")
				} else {
					h.Delete([]byte(f))
				}
			}
			if cursor == 0 {
				break
			}
			if calls > 100000 {
				t.Fatal("scan does not terminate")
			}
		}
		for f := range stable {
			if !seen[f] {
				t.Fatalf("seed %d: stable field %s never returned", seed, f)
			}
		}
	}
}

func TestHSCANCountBoundsAStep(t *testing.T) {
	h := New()
	lim := DefaultLimits()
	for i := range 5000 {
		set(h, lim, fmt.Sprint(i), "v")
	}
	n := 0
	next := h.Scan(0, 20, func(f, v []byte) { n++ })
	if next == 0 || n < 20 || n > 60 {
		t.Fatalf("one HSCAN COUNT 20 step returned %d fields, cursor %d", n, next)
	}
}

func TestMemoryUsageTracksContent(t *testing.T) {
	lim := DefaultLimits()
	h := New()
	empty := h.MemoryUsage()
	set(h, lim, "field", strings.Repeat("v", 60))
	small := h.MemoryUsage()
	if small <= empty {
		t.Fatalf("listpack memory %d not above empty %d", small, empty)
	}
	for i := range 10000 {
		set(h, lim, fmt.Sprintf("field:%d", i), "value")
	}
	big := h.MemoryUsage()
	if big < 10000*60 || big > 10000*200 {
		t.Fatalf("10000 small fields use %d bytes by our estimate", big)
	}
	for i := range 10000 {
		h.Delete([]byte(fmt.Sprintf("field:%d", i)))
	}
	if after := h.MemoryUsage(); after > big/4 {
		t.Fatalf("after deleting almost everything memory estimate is %d (was %d)", after, big)
	}
}

// TestHashMatchesNaiveModel applies random operations to a Hash with small
// listpack limits (so conversions happen mid-run) and to a map.
func TestHashMatchesNaiveModel(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			lim := Limits{MaxListpackEntries: 1 + r.IntN(40), MaxListpackValue: 1 + r.IntN(30)}
			h := New()
			m := map[string]string{}
			field := func() string { return fmt.Sprintf("f%d", r.IntN(60)) }
			value := func() string {
				if r.IntN(10) == 0 {
					return strings.Repeat("L", r.IntN(200))
				}
				return fmt.Sprint(r.IntN(1000) - 500)
			}
			for step := range 4000 {
				switch k := r.IntN(10); {
				case k < 4:
					f, v := field(), value()
					_, had := m[f]
					if created := h.Set([]byte(f), []byte(v), lim); created == had {
						t.Fatalf("step %d HSET %s: created %v, model had it %v", step, f, created, had)
					}
					m[f] = v
				case k < 6:
					f := field()
					_, had := m[f]
					if h.Delete([]byte(f)) != had {
						t.Fatalf("step %d HDEL %s", step, f)
					}
					delete(m, f)
				case k < 8:
					f := field()
					v, ok := get(h, f)
					mv, mok := m[f]
					if ok != mok || v != mv {
						t.Fatalf("step %d HGET %s = %q,%v want %q,%v", step, f, v, ok, mv, mok)
					}
				default:
					f := field()
					incr := int64(r.IntN(100) - 50)
					got, err := h.IncrBy([]byte(f), incr, lim)
					old, had := m[f]
					n, isInt := parseInt([]byte(old))
					if had && !isInt {
						if err != ErrHashValueNotInteger {
							t.Fatalf("step %d HINCRBY on %q: %v", step, old, err)
						}
						continue
					}
					if err != nil || got != n+incr {
						t.Fatalf("step %d HINCRBY %s %d = %d,%v want %d", step, f, incr, got, err, n+incr)
					}
					m[f] = fmt.Sprint(got)
				}
				if h.Len() != len(m) {
					t.Fatalf("step %d: HLEN %d want %d", step, h.Len(), len(m))
				}
			}
			got := map[string]string{}
			for f, v := range h.All() {
				got[string(f)] = string(v)
			}
			if !maps.Equal(got, m) {
				t.Fatalf("final contents differ (%s)", h.Encoding())
			}
		})
	}
}

func TestParseIntIsString2ll(t *testing.T) {
	cases := []struct {
		in string
		v  int64
		ok bool
	}{
		{"0", 0, true}, {"-1", -1, true}, {"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true}, {"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false}, {"", 0, false}, {"-", 0, false}, {"+1", 0, false},
		{"01", 0, false}, {"-0", 0, false}, {"1a", 0, false}, {" 1", 0, false},
		{"99999999999999999999", 0, false}, {"123456789012345678901", 0, false},
	}
	for _, c := range cases {
		v, ok := parseInt([]byte(c.in))
		if v != c.v || ok != c.ok {
			t.Errorf("parseInt(%q) = %d,%v want %d,%v", c.in, v, ok, c.v, c.ok)
		}
	}
}

func TestCopyIsIndependent(t *testing.T) {
	for _, lim := range []Limits{DefaultLimits(), {0, 0}} {
		h := New()
		set(h, lim, "a", "1", "b", "2")
		c := h.Copy().(*Hash)
		if c.Encoding() != h.Encoding() {
			t.Fatalf("copy encoding %s, original %s", c.Encoding(), h.Encoding())
		}
		set(h, lim, "a", "changed", "x", "new")
		c.Delete([]byte("b"))
		if v, _ := get(c, "a"); v != "1" || c.Len() != 1 || c.Exists([]byte("x")) {
			t.Fatalf("%s copy changed with the original: a=%q len %d", c.Encoding(), v, c.Len())
		}
		if v, _ := get(h, "b"); v != "2" || h.Len() != 3 {
			t.Fatalf("%s original changed with the copy", h.Encoding())
		}
		if c.MemoryUsage() <= 0 {
			t.Fatal("no memory")
		}
	}
}

// An empty value's slice must not point one past its field's allocation:
// that pointer lies in the next object or a free span, and the garbage
// collector fails on it ("found bad pointer in Go heap"); checkptr under
// -race reported it ("pointer arithmetic result points to invalid
// allocation") in a snapshot of a hashtable hash with an empty value.
func TestEmptyValueDoesNotPointPastTheField(t *testing.T) {
	for _, field := range []string{"", "f", "sixteen-byte-fld", "a field of thirty-two bytes long"} {
		e := newEntry([]byte(field), nil)
		v := entryValue(e)
		if len(v) != 0 {
			t.Fatalf("field %q: value %q, want empty", field, v)
		}
		if len(field) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(v))) == uintptr(unsafe.Pointer(unsafe.StringData(e.Key)))+uintptr(len(e.Key)) {
			t.Fatalf("field %q: the empty value points one past the field's bytes", field)
		}
	}
	h := New()
	lim := Limits{MaxListpackEntries: 1, MaxListpackValue: 64}
	for i := range 100 {
		h.Set([]byte(strconv.Itoa(i)), nil, lim)
	}
	if h.Encoding() != "hashtable" {
		t.Fatalf("encoding %s, want hashtable", h.Encoding())
	}
	n := 0
	for _, v := range h.All() {
		if len(v) != 0 {
			t.Fatalf("value %q, want empty", v)
		}
		n++
	}
	if n != 100 {
		t.Fatalf("%d fields iterated, want 100", n)
	}
}
