package zset

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/shoal-dev/shoal/node/keyspace/internal/dict"
)

func mustAdd(t *testing.T, z *ZSet, lim Limits, member string, score float64) {
	t.Helper()
	if _, _, err := z.Add(lim, []byte(member), score, 0); err != nil {
		t.Fatal(err)
	}
}

// both returns an empty set in each encoding.
func both(t *testing.T) map[string]*ZSet {
	t.Helper()
	return map[string]*ZSet{
		"listpack": New(DefaultLimits(), 0),
		"skiplist": New(Limits{MaxListpackEntries: 0, MaxListpackValue: 64}, 0),
	}
}

func TestZAddOptions(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		name      string
		existing  *float64
		score     float64
		flags     AddFlags
		wantScore float64
		wantRes   AddResult
		wantErr   error
		stored    float64 // score afterwards (if the member exists)
	}{
		{"adds a new member", nil, 1, 0, 1, Added, nil, 1},
		{"updates an existing member", ptr(1), 2, 0, 2, Updated, nil, 2},
		{"same score is processed but not updated", ptr(2), 2, 0, 2, Unchanged, nil, 2},
		{"NX never updates existing members", ptr(1), 5, AddNX, 1, NOP, nil, 1},
		{"NX adds new members", nil, 5, AddNX, 5, Added, nil, 5},
		{"XX never adds new members", nil, 5, AddXX, 0, NOP, nil, 0},
		{"XX updates existing members", ptr(1), 5, AddXX, 5, Updated, nil, 5},
		{"GT updates only to a greater score", ptr(3), 2, AddGT, 3, NOP, nil, 3},
		{"GT with a greater score updates", ptr(3), 4, AddGT, 4, Updated, nil, 4},
		{"GT with an equal score is a NOP", ptr(3), 3, AddGT, 3, NOP, nil, 3},
		{"GT still adds new members", nil, 1, AddGT, 1, Added, nil, 1},
		{"LT updates only to a lower score", ptr(3), 4, AddLT, 3, NOP, nil, 3},
		{"LT with a lower score updates", ptr(3), 1, AddLT, 1, Updated, nil, 1},
		{"INCR adds to the current score", ptr(1.5), 2, AddIncr, 3.5, Updated, nil, 3.5},
		{"INCR on a new member starts from the increment", nil, 2, AddIncr, 2, Added, nil, 2},
		{"INCR with GT compares the incremented score", ptr(3), -1, AddIncr | AddGT, 3, NOP, nil, 3},
		{"INCR with NX on an existing member is a NOP", ptr(3), 1, AddIncr | AddNX, 3, NOP, nil, 3},
		{"INCR of inf by -inf is NaN and rejected", ptr(inf), -inf, AddIncr, 0, NOP, ErrNaN, inf},
		{"a NaN score is rejected", nil, math.NaN(), 0, 0, NOP, ErrNaN, 0},
	}
	for _, c := range cases {
		for enc, z := range both(t) {
			t.Run(c.name+"/"+enc, func(t *testing.T) {
				lim := DefaultLimits()
				if enc == "skiplist" {
					lim.MaxListpackEntries = 0
				}
				mustAdd(t, z, lim, "other", 100)
				if c.existing != nil {
					mustAdd(t, z, lim, "m", *c.existing)
				}
				got, res, err := z.Add(lim, []byte("m"), c.score, c.flags)
				if !errors.Is(err, c.wantErr) || res != c.wantRes || (res != NOP && got != c.wantScore) {
					t.Fatalf("Add = %g, %d, %v; want %g, %d, %v", got, res, err, c.wantScore, c.wantRes, c.wantErr)
				}
				s, ok := z.Score([]byte("m"))
				if ok != (c.existing != nil || res == Added) || (ok && s != c.stored) {
					t.Fatalf("after Add: Score = %g, %v; want %g", s, ok, c.stored)
				}
				if z.Encoding() != enc {
					t.Fatalf("encoding changed to %s", z.Encoding())
				}
			})
		}
	}
}

func ptr(f float64) *float64 { return &f }

func TestListpackConvertsToSkiplist(t *testing.T) {
	lim := DefaultLimits()
	t.Run("when zset-max-listpack-entries is exceeded", func(t *testing.T) {
		z := New(lim, 0)
		for i := 0; i < 128; i++ {
			mustAdd(t, z, lim, fmt.Sprintf("m%03d", i), float64(i))
		}
		if z.Encoding() != "listpack" {
			t.Fatalf("128 members: %s, want listpack", z.Encoding())
		}
		mustAdd(t, z, lim, "m128", 128)
		if z.Encoding() != "skiplist" || z.Len() != 129 {
			t.Fatalf("129 members: %s len %d, want skiplist 129", z.Encoding(), z.Len())
		}
		for i := 0; i < 129; i++ {
			if s, ok := z.Score([]byte(fmt.Sprintf("m%03d", i))); !ok || s != float64(i) {
				t.Fatalf("member %d lost in conversion: %g %v", i, s, ok)
			}
		}
	})
	t.Run("when a member is longer than zset-max-listpack-value", func(t *testing.T) {
		z := New(lim, 0)
		mustAdd(t, z, lim, strings.Repeat("a", 64), 1)
		if z.Encoding() != "listpack" {
			t.Fatal("a 64-byte member should fit a listpack")
		}
		mustAdd(t, z, lim, strings.Repeat("b", 65), 1)
		if z.Encoding() != "skiplist" {
			t.Fatal("a 65-byte member should convert to skiplist")
		}
	})
	t.Run("and never converts back", func(t *testing.T) {
		z := New(lim, 0)
		mustAdd(t, z, lim, strings.Repeat("b", 65), 1)
		z.Remove([]byte(strings.Repeat("b", 65)))
		mustAdd(t, z, lim, "a", 1)
		if z.Encoding() != "skiplist" {
			t.Fatal("converted back to listpack")
		}
	})
	t.Run("from the start when entries are disabled or the first member is long", func(t *testing.T) {
		if New(Limits{0, 64}, 1).Encoding() != "skiplist" || New(lim, 65).Encoding() != "skiplist" || New(lim, 64).Encoding() != "listpack" {
			t.Fatal("wrong initial encoding")
		}
	})
	t.Run("XX on a missing member does not convert", func(t *testing.T) {
		z := New(Limits{MaxListpackEntries: 1, MaxListpackValue: 64}, 0)
		mustAdd(t, z, lim, "a", 1)
		if _, res, _ := z.Add(Limits{1, 64}, []byte("b"), 1, AddXX); res != NOP || z.Encoding() != "listpack" {
			t.Fatalf("XX add: %d %s", res, z.Encoding())
		}
	})
}

func TestNegativeZeroIsStoredAsZeroInListpackOnly(t *testing.T) {
	// Redis 7.0: ZADD z -0 a; ZSCORE z a -> "0" (listpack), "-0" (skiplist).
	want := map[string]string{"listpack": "0", "skiplist": "-0"}
	for enc, z := range both(t) {
		lim := DefaultLimits()
		if enc == "skiplist" {
			lim.MaxListpackEntries = 0
		}
		mustAdd(t, z, lim, "a", math.Copysign(0, -1))
		s, _ := z.Score([]byte("a"))
		if got := FormatScore(s); got != want[enc] {
			t.Errorf("%s: score prints %q, want %q", enc, got, want[enc])
		}
	}
}

func TestScoresKeepFullPrecisionInListpack(t *testing.T) {
	z := New(DefaultLimits(), 0)
	vals := []float64{0.1, -1e300, 1e17, 123456789012345678, 1 << 53, 1<<53 + 2, -(1 << 53), 5e-324, math.Inf(1), math.Inf(-1), -7, 0}
	for i, v := range vals {
		mustAdd(t, z, DefaultLimits(), fmt.Sprint(i), v)
	}
	for i, v := range vals {
		if s, _ := z.Score([]byte(fmt.Sprint(i))); s != v {
			t.Errorf("score %g came back as %g", v, s)
		}
	}
}

func TestAppendScorePrintsLikeRedis(t *testing.T) {
	// Values checked against redis-server 7.0.15 ZSCORE.
	cases := map[float64]string{
		1: "1", 1.5: "1.5", 0.1: "0.10000000000000001", 3e20: "3e+20", 1e16: "10000000000000000",
		1e17: "1e+17", 123456789012345678: "1.2345678901234568e+17", math.Inf(1): "inf",
		math.Inf(-1): "-inf", 1e-5: "1.0000000000000001e-05", 0.0001: "0.0001", -2.5: "-2.5",
		math.Copysign(0, -1): "-0", 9.9999999999999694e-311: "9.9999999999999694e-311",
	}
	for f, want := range cases {
		if got := FormatScore(f); got != want {
			t.Errorf("FormatScore(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestParseScoreAcceptsWhatString2dAccepts(t *testing.T) {
	ok := map[string]float64{
		"1": 1, "-1.5": -1.5, "+inf": math.Inf(1), "inf": math.Inf(1), "-Infinity": math.Inf(-1),
		"0x10": 16, "0x1p-2": 0.25, "0X.8": 0.5, "1.": 1, ".5": 0.5, "1e5": 1e5, "1E+2": 100, "+3": 3,
		"1e-310": 1e-310, "00012": 12, "-0": math.Copysign(0, -1),
	}
	for in, want := range ok {
		got, valid := ParseScore([]byte(in))
		if !valid || got != want || math.Signbit(got) != math.Signbit(want) {
			t.Errorf("ParseScore(%q) = %g, %v; want %g", in, got, valid, want)
		}
	}
	for _, in := range []string{"", " 1", "1 ", "nan", "NaN", "-nan(0x1)", "1e400", "-1e400", "1e-400", "abc", "1e", "0x", "1_0", "1.5.2", ".", "+", "e5", "inff", "1\x00"} {
		if v, valid := ParseScore([]byte(in)); valid {
			t.Errorf("ParseScore(%q) = %g, want invalid", in, v)
		}
	}
}

func TestParseScoreRangeFollowsStrtod(t *testing.T) {
	cases := []struct {
		min, max string
		want     ScoreRange
		err      error
	}{
		{"1", "2", ScoreRange{Min: 1, Max: 2}, nil},
		{"(1", "(2", ScoreRange{Min: 1, Max: 2, MinEx: true, MaxEx: true}, nil},
		{"-inf", "+inf", ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}, nil},
		{"", "(", ScoreRange{Min: 0, Max: 0, MaxEx: true}, nil},    // empty strtod is 0
		{" 1", "1e999", ScoreRange{Min: 1, Max: math.Inf(1)}, nil}, // spaces and overflow accepted
		{"1\x00junk", "2", ScoreRange{Min: 1, Max: 2}, nil},        // C string stops at NUL
		{"0x1p1", "INFINITY", ScoreRange{Min: 2, Max: math.Inf(1)}, nil},
		{"nan", "1", ScoreRange{}, ErrMinMaxNotFloat},
		{"1", "1abc", ScoreRange{}, ErrMinMaxNotFloat},
		{"1e", "2", ScoreRange{}, ErrMinMaxNotFloat},
		{"[1", "2", ScoreRange{}, ErrMinMaxNotFloat},
		{"((1", "2", ScoreRange{}, ErrMinMaxNotFloat},
	}
	for _, c := range cases {
		got, err := ParseScoreRange([]byte(c.min), []byte(c.max))
		if err != c.err || (err == nil && got != c.want) {
			t.Errorf("ParseScoreRange(%q, %q) = %+v, %v; want %+v, %v", c.min, c.max, got, err, c.want, c.err)
		}
	}
	if ErrMinMaxNotFloat.Error() != "ERR min or max is not a float" || ErrLexRange.Error() != "ERR min or max not valid string range item" {
		t.Fatal("error words differ from Redis")
	}
}

func TestParseLexRangeItems(t *testing.T) {
	for _, c := range []struct {
		min, max string
		ok       bool
	}{
		{"-", "+", true}, {"[a", "(b", true}, {"[", "(", true}, {"a", "+", false}, {"", "+", false},
		{"-a", "+", false}, {"-", "+b", false}, {"{a", "+", false},
	} {
		_, err := ParseLexRange([]byte(c.min), []byte(c.max))
		if (err == nil) != c.ok {
			t.Errorf("ParseLexRange(%q, %q) error %v, want ok=%v", c.min, c.max, err, c.ok)
		}
	}
}

func lexMembers(t *testing.T, z *ZSet, min, max string, rev bool) string {
	t.Helper()
	r, err := ParseLexRange([]byte(min), []byte(max))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range z.AppendRangeByLex(nil, r, rev, 0, -1) {
		names = append(names, string(e.Member))
	}
	return strings.Join(names, ",")
}

func TestLexRangeBounds(t *testing.T) {
	for enc, z := range both(t) {
		lim := DefaultLimits()
		if enc == "skiplist" {
			lim.MaxListpackEntries = 0
		}
		for _, m := range []string{"a", "b", "c", "d"} {
			mustAdd(t, z, lim, m, 0)
		}
		for _, c := range []struct {
			min, max string
			rev      bool
			want     string
		}{
			{"-", "+", false, "a,b,c,d"},
			{"-", "+", true, "d,c,b,a"},
			{"[b", "[c", false, "b,c"},
			{"(b", "[d", false, "c,d"},
			{"[b", "(d", true, "c,b"},
			{"[b", "[b", false, "b"},
			{"(b", "[b", false, ""},
			{"+", "+", false, ""}, // "+ +" is an empty range in Redis
			{"-", "-", false, ""},
			{"+", "-", false, ""},
			{"[c", "[a", false, ""},
		} {
			if got := lexMembers(t, z, c.min, c.max, c.rev); got != c.want {
				t.Errorf("%s: lex %s %s rev=%v = %q, want %q", enc, c.min, c.max, c.rev, got, c.want)
			}
		}
	}
}

func TestRankRangeSanitisesLikeZRANGE(t *testing.T) {
	for _, c := range []struct {
		start, stop, n, s, e int
		ok                   bool
	}{
		{0, -1, 5, 0, 4, true}, {-2, -1, 5, 3, 4, true}, {-100, 2, 5, 0, 2, true}, {2, 100, 5, 2, 4, true},
		{3, 2, 5, 0, 0, false}, {5, 10, 5, 0, 0, false}, {0, -6, 5, 0, 0, false}, {0, 0, 0, 0, 0, false},
	} {
		s, e, ok := RankRange(c.start, c.stop, c.n)
		if ok != c.ok || (ok && (s != c.s || e != c.e)) {
			t.Errorf("RankRange(%d,%d,%d) = %d,%d,%v", c.start, c.stop, c.n, s, e, ok)
		}
	}
}

func TestZRangeByScoreLimit(t *testing.T) {
	for enc, z := range both(t) {
		lim := DefaultLimits()
		if enc == "skiplist" {
			lim.MaxListpackEntries = 0
		}
		for i, m := range []string{"a", "b", "c", "d"} {
			mustAdd(t, z, lim, m, float64(i+1))
		}
		all := ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}
		for _, c := range []struct {
			offset, count int
			rev           bool
			want          int
		}{
			{-1, 2, false, 0}, // negative offset: empty, as Redis
			{1, -1, false, 3}, // negative count: no limit
			{1, 0, false, 0},
			{4, 1, false, 0},
			{3, 5, true, 1},
		} {
			if got := len(z.AppendRangeByScore(nil, all, c.rev, c.offset, c.count)); got != c.want {
				t.Errorf("%s: LIMIT %d %d rev=%v: %d members, want %d", enc, c.offset, c.count, c.rev, got, c.want)
			}
		}
	}
}

func TestZRandMember(t *testing.T) {
	for enc, z := range both(t) {
		lim := DefaultLimits()
		if enc == "skiplist" {
			lim.MaxListpackEntries = 0
		}
		const n = 40
		for i := 0; i < n; i++ {
			mustAdd(t, z, lim, fmt.Sprintf("m%02d", i), float64(i))
		}
		rnd := rand.New(rand.NewPCG(5, 6))
		t.Run(enc+"/a count at least the size returns the whole set from the top", func(t *testing.T) {
			got := z.AppendRandom(nil, n+5, true, rnd)
			if len(got) != n || string(got[0].Member) != "m39" || string(got[n-1].Member) != "m00" {
				t.Fatalf("got %d members: %s", len(got), fmtEntries(got))
			}
		})
		for _, count := range []int{1, 5, 20, 39} {
			t.Run(fmt.Sprintf("%s/a positive count %d returns distinct members", enc, count), func(t *testing.T) {
				seen := map[string]bool{}
				for _, e := range z.AppendRandom(nil, count, true, rnd) {
					if seen[string(e.Member)] {
						t.Fatalf("duplicate %s", e.Member)
					}
					if s, _ := z.Score(e.Member); s != e.Score {
						t.Fatalf("wrong score for %s", e.Member)
					}
					seen[string(e.Member)] = true
				}
				if len(seen) != count {
					t.Fatalf("%d members, want %d", len(seen), count)
				}
			})
		}
		t.Run(enc+"/a negative count returns exactly that many, with repetitions, covering the set", func(t *testing.T) {
			got := z.AppendRandom(nil, 2000, false, rnd)
			seen := map[string]int{}
			for _, e := range got {
				seen[string(e.Member)]++
			}
			if len(got) != 2000 || len(seen) != n {
				t.Fatalf("%d picks over %d members", len(got), len(seen))
			}
		})
		t.Run(enc+"/without count returns one member", func(t *testing.T) {
			e, ok := z.RandomMember(rnd)
			if s, in := z.Score(e.Member); !ok || !in || s != e.Score {
				t.Fatalf("RandomMember = %s %v", e.Member, ok)
			}
		})
	}
	if _, ok := New(DefaultLimits(), 0).RandomMember(rand.New(rand.NewPCG(1, 1))); ok {
		t.Fatal("random member of an empty set")
	}
}

func TestZScanOfListpackReturnsEverythingWithCursorZero(t *testing.T) {
	z := New(DefaultLimits(), 0)
	for i := 0; i < 50; i++ {
		mustAdd(t, z, DefaultLimits(), fmt.Sprint(i), 1)
	}
	cursor, got := z.Scan(0, 10, nil)
	if cursor != 0 || len(got) != 50 {
		t.Fatalf("cursor %d, %d members", cursor, len(got))
	}
}

func TestZPopReturnsDetachedMembers(t *testing.T) {
	for enc, z := range both(t) {
		lim := DefaultLimits()
		if enc == "skiplist" {
			lim.MaxListpackEntries = 0
		}
		for i := 0; i < 10; i++ {
			mustAdd(t, z, lim, fmt.Sprintf("member-%d", i), float64(i))
		}
		popped := z.Pop(3, false)
		for i := 0; i < 10; i++ { // overwrite the storage the views came from
			mustAdd(t, z, lim, fmt.Sprintf("XXXXXX-%d", i), float64(-i))
		}
		if got := fmtEntries(popped); got != "member-0:0 member-1:1 member-2:2 " {
			t.Errorf("%s: popped %q", enc, got)
		}
		if got := fmtEntries(z.Pop(2, true)); got != "member-9:9 member-8:8 " {
			t.Errorf("%s: ZPOPMAX popped %q", enc, got)
		}
		if z.Pop(0, true) != nil {
			t.Errorf("%s: Pop(0) returned members", enc)
		}
	}
}

// fakeSet is a plain set input for the set operations.
type fakeSet struct{ members []string }

func (s *fakeSet) Len() int { return len(s.members) }
func (s *fakeSet) IsMember(m []byte) bool {
	for _, x := range s.members {
		if x == string(m) {
			return true
		}
	}
	return false
}
func (s *fakeSet) All() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for _, x := range s.members {
			if !yield([]byte(x)) {
				return
			}
		}
	}
}

func zsetOf(t *testing.T, pairs ...any) *ZSet {
	z := New(DefaultLimits(), 0)
	for i := 0; i < len(pairs); i += 2 {
		mustAdd(t, z, DefaultLimits(), pairs[i].(string), pairs[i+1].(float64))
	}
	return z
}

func contents(z *ZSet) string {
	var b strings.Builder
	for m, s := range z.All() {
		fmt.Fprintf(&b, "%s=%s ", m, FormatScore(s))
	}
	return strings.TrimSpace(b.String())
}

func TestSetOperations(t *testing.T) {
	inf := math.Inf(1)
	a := zsetOf(t, "x", 1.0, "y", 2.0, "z", 3.0)
	b := zsetOf(t, "y", 10.0, "z", 20.0, "w", 30.0)
	plain := &fakeSet{[]string{"z", "w", "v"}}
	infs := zsetOf(t, "x", inf, "y", -inf)
	lim := DefaultLimits()
	in := func(z *ZSet, w float64) Input { return Input{Z: z, Weight: w} }
	cases := []struct {
		name string
		got  *ZSet
		want string
	}{
		{"ZUNION sums scores", unionSet(lim, []Input{in(a, 1), in(b, 1)}, AggregateSum), "x=1 y=12 z=23 w=30"},
		{"ZUNION applies WEIGHTS", unionSet(lim, []Input{in(a, 2), in(b, 0.5)}, AggregateSum), "x=2 y=9 w=15 z=16"},
		{"ZUNION AGGREGATE MIN", unionSet(lim, []Input{in(a, 1), in(b, 1)}, AggregateMin), "x=1 y=2 z=3 w=30"},
		{"ZUNION AGGREGATE MAX", unionSet(lim, []Input{in(a, 1), in(b, 1)}, AggregateMax), "x=1 y=10 z=20 w=30"},
		{"ZUNION counts a plain set's members as score 1", unionSet(lim, []Input{in(a, 1), {Set: plain, Weight: 1}}, AggregateSum), "v=1 w=1 x=1 y=2 z=4"},
		{"ZUNION treats a missing key as empty", unionSet(lim, []Input{in(a, 1), {Weight: 1}}, AggregateSum), "x=1 y=2 z=3"},
		{"weight 0 times inf is 0, not NaN", unionSet(lim, []Input{in(infs, 0)}, AggregateSum), "x=0 y=0"},
		{"a sum of inf and -inf is 0, not NaN", unionSet(lim, []Input{in(infs, 1), in(zsetOf(t, "x", -inf), 1)}, AggregateSum), "y=-inf x=0"},
		{"ZINTER keeps common members", interSet(lim, []Input{in(a, 1), in(b, 1)}, AggregateSum), "y=12 z=23"},
		{"ZINTER with a plain set", interSet(lim, []Input{in(a, 1), {Set: plain, Weight: 3}}, AggregateSum), "z=6"},
		{"ZINTER of a key with itself", interSet(lim, []Input{in(a, 1), in(a, 2)}, AggregateSum), "x=3 y=6 z=9"},
		{"ZINTER with a missing key is empty", interSet(lim, []Input{in(a, 1), {Weight: 1}}, AggregateSum), ""},
		{"ZDIFF keeps the first set's members not elsewhere", diffSet(lim, []Input{in(a, 1), in(b, 1)}), "x=1"},
		{"ZDIFF against a plain set", diffSet(lim, []Input{in(b, 1), {Set: plain}}), "y=10"},
		{"ZDIFF of a key with itself is empty", diffSet(lim, []Input{in(a, 1), in(a, 1)}), ""},
		{"ZDIFF of a plain set first scores 1", diffSet(lim, []Input{{Set: plain}, in(a, 1)}), "v=1 w=1"},
	}
	for _, c := range cases {
		if got := contents(c.got); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if n := InterCard([]Input{in(a, 1), in(b, 1)}, 0); n != 2 {
		t.Errorf("ZINTERCARD = %d, want 2", n)
	}
	if n := InterCard([]Input{in(a, 1), in(b, 1)}, 1); n != 1 {
		t.Errorf("ZINTERCARD LIMIT 1 = %d, want 1", n)
	}
}

func TestStoreResultEncoding(t *testing.T) {
	// ZUNIONSTORE and friends store a listpack when the result fits.
	lim := Limits{MaxListpackEntries: 3, MaxListpackValue: 5}
	small := zsetOf(t, "a", 1.0, "b", 2.0)
	if got := unionSet(lim, []Input{{Z: small, Weight: 1}}, AggregateSum).Encoding(); got != "listpack" {
		t.Errorf("small result: %s", got)
	}
	big := zsetOf(t, "a", 1.0, "b", 2.0, "c", 3.0, "d", 4.0)
	if got := unionSet(lim, []Input{{Z: big, Weight: 1}}, AggregateSum).Encoding(); got != "skiplist" {
		t.Errorf("4 members over a limit of 3: %s", got)
	}
	long := zsetOf(t, "longer", 1.0)
	if got := unionSet(lim, []Input{{Z: long, Weight: 1}}, AggregateSum).Encoding(); got != "skiplist" {
		t.Errorf("6-byte member over a limit of 5: %s", got)
	}
}

func TestMemoryUsageTracksContents(t *testing.T) {
	lp := New(DefaultLimits(), 0)
	sl := New(Limits{0, 64}, 0)
	empty := sl.MemoryUsage()
	for i := 0; i < 100; i++ {
		mustAdd(t, lp, DefaultLimits(), fmt.Sprintf("member:%d", i), float64(i))
		mustAdd(t, sl, Limits{0, 64}, fmt.Sprintf("member:%d", i), float64(i))
	}
	if lp.MemoryUsage() >= 2000 || lp.MemoryUsage() < 1000 {
		t.Errorf("listpack of 100 short members: %d bytes", lp.MemoryUsage())
	}
	if per := (sl.MemoryUsage() - empty) / 100; per < 80 || per > 200 {
		t.Errorf("skiplist: %d bytes per member", per)
	}
	for i := 0; i < 100; i++ {
		sl.Remove([]byte(fmt.Sprintf("member:%d", i)))
	}
	if sl.MemoryUsage() > empty+64 {
		t.Errorf("emptied skiplist still accounts %d bytes (empty %d)", sl.MemoryUsage(), empty)
	}
}

func TestFromSortedSortsUnorderedEntries(t *testing.T) {
	for _, lim := range []Limits{DefaultLimits(), {}} {
		z := FromSorted(lim, []Entry{{[]byte("c"), 2}, {[]byte("a"), 1}, {[]byte("b"), 1}})
		if got := contents(z); got != "a=1 b=1 c=2" {
			t.Errorf("%s: %q", z.Encoding(), got)
		}
		if r, _, _ := z.Rank([]byte("c"), false); r != 2 {
			t.Errorf("%s: rank of c = %d", z.Encoding(), r)
		}
	}
}

func TestSkiplistLevelsFollowTheirNode(t *testing.T) {
	offsets := []uintptr{unsafe.Offsetof(node1{}.l), unsafe.Offsetof(node2{}.l), unsafe.Offsetof(node3{}.l),
		unsafe.Offsetof(node4{}.l), unsafe.Offsetof(node8{}.l), unsafe.Offsetof(node16{}.l), unsafe.Offsetof(node32{}.l)}
	for _, off := range offsets {
		if off != nodeSize {
			t.Fatalf("levels at offset %d, want %d", off, nodeSize)
		}
	}
	if got := dict.AllocSize(int(unsafe.Sizeof(node1{}))); got != 64 {
		t.Errorf("a level-1 node takes %d bytes, want 64", got)
	}
	for level := 1; level <= maxLevel; level++ {
		x, _ := newNode(level, 1, "m")
		l := levels(x)
		if len(l) != level {
			t.Fatalf("level %d node has %d levels", level, len(l))
		}
		l[level-1].span = 7 // writable to the end
	}
}

func TestLongMembersInAListpackWithRaisedLimits(t *testing.T) {
	lim := Limits{MaxListpackEntries: 128, MaxListpackValue: 1000}
	z := New(lim, 0)
	long := strings.Repeat("L", 300) // a multi-byte header
	mustAdd(t, z, lim, "a", 1)
	mustAdd(t, z, lim, long, 1e300)     // a float score
	mustAdd(t, z, lim, "b", -123456789) // a multi-byte integer score
	if got := contents(z); z.Encoding() != "listpack" || got != "b=-123456789 a=1 "+long+"=1.0000000000000001e+300" {
		t.Fatalf("%s: %q", z.Encoding(), got)
	}
	if r, _, _ := z.Rank([]byte(long), false); r != 2 {
		t.Fatalf("rank of the long member = %d", r)
	}
}

// unionSet, interSet and diffSet are the sets ZUNIONSTORE, ZINTERSTORE and
// ZDIFFSTORE store.
func unionSet(lim Limits, in []Input, agg Aggregate) *ZSet {
	return FromSorted(lim, UnionEntries(in, agg))
}
func interSet(lim Limits, in []Input, agg Aggregate) *ZSet {
	return FromSorted(lim, InterEntries(in, agg))
}
func diffSet(lim Limits, in []Input) *ZSet { return FromSorted(lim, DiffEntries(in)) }
