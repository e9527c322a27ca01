package list

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// fromStrings builds a list by RPUSHing vals.
func fromStrings(fill int, vals ...string) *List {
	l := New(fill)
	for _, v := range vals {
		l.Push(Tail, []byte(v))
	}
	return l
}

// contents returns the list's elements from head to tail.
func contents(l *List) []string {
	var out []string
	for v := range l.All() {
		out = append(out, string(v))
	}
	return out
}

// rangeOf collects an LRANGE.
func rangeOf(l *List, start, stop int) []string {
	it := l.Range(start, stop)
	out := []string{}
	n := it.Len()
	for {
		v, ok := it.Next()
		if !ok {
			break
		}
		out = append(out, string(v))
	}
	if len(out) != n {
		panic("iterator Len disagrees with the elements it returned")
	}
	return out
}

func TestLPUSHPushesEachArgumentAtTheHeadInTurn(t *testing.T) {
	l := New(DefaultFill)
	for _, v := range []string{"a", "b", "c"} {
		l.Push(Head, []byte(v))
	}
	if got, want := contents(l), []string{"c", "b", "a"}; !slices.Equal(got, want) {
		t.Fatalf("LPUSH a b c = %q, want %q", got, want)
	}
	checkInvariants(t, l)
}

func TestLRANGEIndexRules(t *testing.T) {
	l := fromStrings(DefaultFill, "a", "b", "c", "d", "e")
	cases := []struct {
		name        string
		start, stop int
		want        []string
	}{
		{"whole list with 0 -1", 0, -1, []string{"a", "b", "c", "d", "e"}},
		{"negative start counts from the tail", -2, -1, []string{"d", "e"}},
		{"start before the head is clamped to 0", -100, 1, []string{"a", "b"}},
		{"stop past the tail is clamped to the last element", 3, 100, []string{"d", "e"}},
		{"start past the tail is empty", 5, 10, []string{}},
		{"start after stop is empty", 3, 1, []string{}},
		{"stop before the head is empty", 0, -100, []string{}},
		{"single element", 2, 2, []string{"c"}},
		{"extreme bounds", math.MinInt, math.MaxInt, []string{"a", "b", "c", "d", "e"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := rangeOf(l, c.start, c.stop); !slices.Equal(got, c.want) {
				t.Fatalf("LRANGE %d %d = %q, want %q", c.start, c.stop, got, c.want)
			}
		})
	}
}

func TestLINDEXNegativeIndexesCountFromTheTail(t *testing.T) {
	l := fromStrings(DefaultFill, "a", "b", "c")
	cases := []struct {
		i    int
		want string
		ok   bool
	}{{0, "a", true}, {2, "c", true}, {-1, "c", true}, {-3, "a", true}, {3, "", false}, {-4, "", false}, {math.MinInt, "", false}}
	for _, c := range cases {
		v, ok := l.Index(c.i)
		if ok != c.ok || string(v) != c.want {
			t.Errorf("LINDEX %d = %q,%v want %q,%v", c.i, v, ok, c.want, c.ok)
		}
	}
}

func TestLSETOutOfRangeIndexIsRefused(t *testing.T) {
	l := fromStrings(DefaultFill, "a", "b", "c")
	if l.Set(3, []byte("x")) || l.Set(-4, []byte("x")) {
		t.Fatal("LSET out of range succeeded")
	}
	if !l.Set(-1, []byte("a much longer value than before")) || !l.Set(0, []byte("")) {
		t.Fatal("LSET in range failed")
	}
	if got, want := contents(l), []string{"", "b", "a much longer value than before"}; !slices.Equal(got, want) {
		t.Fatalf("after LSET: %q, want %q", got, want)
	}
	checkInvariants(t, l)
}

func TestLINSERTUsesTheFirstPivotFromTheHead(t *testing.T) {
	l := fromStrings(DefaultFill, "a", "p", "b", "p")
	if n := l.Insert([]byte("p"), []byte("x"), false); n != 5 {
		t.Fatalf("LINSERT BEFORE = %d, want 5", n)
	}
	if n := l.Insert([]byte("p"), []byte("y"), true); n != 6 {
		t.Fatalf("LINSERT AFTER = %d, want 6", n)
	}
	if n := l.Insert([]byte("missing"), []byte("z"), true); n != -1 {
		t.Fatalf("LINSERT with no pivot = %d, want -1", n)
	}
	if got, want := contents(l), []string{"a", "x", "p", "y", "b", "p"}; !slices.Equal(got, want) {
		t.Fatalf("after LINSERT: %q, want %q", got, want)
	}
	checkInvariants(t, l)
}

func TestLREMCountSign(t *testing.T) {
	base := []string{"x", "a", "x", "b", "x", "c", "x"}
	cases := []struct {
		name    string
		count   int
		removed int
		want    []string
	}{
		{"positive count removes from the head", 2, 2, []string{"a", "b", "x", "c", "x"}},
		{"negative count removes from the tail", -2, 2, []string{"x", "a", "x", "b", "c"}},
		{"zero removes every match", 0, 4, []string{"a", "b", "c"}},
		{"count above the matches removes them all", 10, 4, []string{"a", "b", "c"}},
		{"most negative count removes them all as in Redis", math.MinInt, 4, []string{"a", "b", "c"}},
	}
	for _, c := range cases {
		for _, fill := range []int{DefaultFill, 1, 2} {
			l := fromStrings(fill, base...)
			if n := l.Remove(c.count, []byte("x")); n != c.removed {
				t.Fatalf("%s (fill %d): removed %d, want %d", c.name, fill, n, c.removed)
			}
			if got := contents(l); !slices.Equal(got, c.want) {
				t.Fatalf("%s (fill %d): %q, want %q", c.name, fill, got, c.want)
			}
			checkInvariants(t, l)
		}
	}
}

func TestLTRIMKeepsTheNormalisedRange(t *testing.T) {
	cases := []struct {
		start, stop int
		want        []string
	}{
		{1, -2, []string{"b", "c", "d"}},
		{0, -1, []string{"a", "b", "c", "d", "e"}},
		{-100, 100, []string{"a", "b", "c", "d", "e"}},
		{3, 1, nil},
		{5, 10, nil},
		{-1, -1, []string{"e"}},
	}
	for _, c := range cases {
		for _, fill := range []int{DefaultFill, 1, 2} {
			l := fromStrings(fill, "a", "b", "c", "d", "e")
			l.Trim(c.start, c.stop)
			if got := contents(l); !slices.Equal(got, c.want) {
				t.Fatalf("LTRIM %d %d (fill %d) = %q, want %q", c.start, c.stop, fill, got, c.want)
			}
			checkInvariants(t, l)
		}
	}
}

func TestLPOSRankCountMaxlen(t *testing.T) {
	l := fromStrings(2, "a", "b", "c", "1", "2", "3", "c", "c")
	cases := []struct {
		name                string
		rank, count, maxlen int
		want                []int
	}{
		{"first match from the head", 1, 1, 0, []int{2}},
		{"rank 2 skips the first match", 2, 1, 0, []int{6}},
		{"negative rank searches from the tail", -1, 1, 0, []int{7}},
		{"count 0 returns all matches", 1, 0, 0, []int{2, 6, 7}},
		{"count with negative rank reports from the tail", -1, 2, 0, []int{7, 6}},
		{"maxlen limits the comparisons", 1, 0, 3, []int{2}},
		{"maxlen too short finds nothing", 1, 0, 2, nil},
		{"rank past the matches finds nothing", 4, 0, 0, nil},
		{"most negative rank reports every match from the tail, as Redis 7.0", math.MinInt, 1, 0, []int{7, 6, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := l.Pos(nil, []byte("c"), c.rank, c.count, c.maxlen); !slices.Equal(got, c.want) {
				t.Fatalf("LPOS c RANK %d COUNT %d MAXLEN %d = %v, want %v", c.rank, c.count, c.maxlen, got, c.want)
			}
		})
	}
}

func TestPopFromAnEmptyListReportsNothing(t *testing.T) {
	l := New(DefaultFill)
	if _, ok := l.Pop(Head); ok {
		t.Fatal("pop from empty list succeeded")
	}
	l.Push(Tail, []byte("a"))
	if v, ok := l.Pop(Tail); !ok || string(v) != "a" {
		t.Fatalf("RPOP = %q,%v", v, ok)
	}
	if l.Len() != 0 || l.head != nil || l.tail != nil || l.nodes != 0 {
		t.Fatalf("emptied list keeps nodes: len %d nodes %d", l.Len(), l.nodes)
	}
}

func TestRPOPLPUSHOnOneListRotatesIt(t *testing.T) {
	for _, fill := range []int{DefaultFill, 1} {
		l := fromStrings(fill, "a", "b", "c")
		v, ok := Move(l, l, Tail, Head)
		if !ok || string(v) != "c" {
			t.Fatalf("RPOPLPUSH = %q,%v", v, ok)
		}
		if got, want := contents(l), []string{"c", "a", "b"}; !slices.Equal(got, want) {
			t.Fatalf("after rotation %q, want %q", got, want)
		}
		checkInvariants(t, l)
	}
}

func TestLMOVEBetweenListsKeepsTheMovedValue(t *testing.T) {
	src := fromStrings(DefaultFill, "a", "b")
	dst := fromStrings(DefaultFill, "x")
	v, ok := Move(src, dst, Head, Tail)
	if !ok || string(v) != "a" {
		t.Fatalf("LMOVE LEFT RIGHT = %q,%v", v, ok)
	}
	if got := contents(dst); !slices.Equal(got, []string{"x", "a"}) {
		t.Fatalf("destination %q", got)
	}
	if _, ok := Move(New(DefaultFill), dst, Head, Tail); ok {
		t.Fatal("LMOVE from an empty list moved something")
	}
}

func TestEncodingIsQuicklistAsRedis70Reports(t *testing.T) {
	if got := fromStrings(DefaultFill, "a").Encoding(); got != "quicklist" {
		t.Fatalf("OBJECT ENCODING = %q", got)
	}
}

func TestNodesRespectListMaxListpackSize(t *testing.T) {
	big := strings.Repeat("v", 1000)
	cases := []struct {
		fill      int
		val       string
		n         int
		wantNodes int
	}{
		{DefaultFill, "abc", 10000, 7},                  // 5-byte entries, 8 KB nodes
		{-1, big, 20, 5},                                // 1004-byte entries, 4 KB nodes: 4 per node
		{3, "abc", 10, 4},                               // 3 elements per node
		{0, "abc", 3, 3},                                // fill 0 behaves as 1 element per node
		{-100, "abc", 10000, 1},                         // clamped to -5: 64 KB nodes
		{DefaultFill, strings.Repeat("x", 20000), 2, 2}, // an element bigger than a node gets its own
	}
	for _, c := range cases {
		l := New(c.fill)
		for i := 0; i < c.n; i++ {
			l.Push(Tail, []byte(c.val))
		}
		if int(l.nodes) != c.wantNodes {
			t.Errorf("fill %d, %d x %d bytes: %d nodes, want %d", c.fill, c.n, len(c.val), l.nodes, c.wantNodes)
		}
		checkInvariants(t, l)
	}
}

func TestMemoryUsageGrowsWithTheElements(t *testing.T) {
	l := New(DefaultFill)
	small := l.MemoryUsage()
	for i := 0; i < 100000; i++ {
		l.Push(Tail, []byte("abcdefgh"))
	}
	m := l.MemoryUsage()
	// 10 bytes per entry packed: allow the free room of partly filled nodes.
	if m < 100000*10 || m > 100000*10*5/4 {
		t.Fatalf("MemoryUsage for 100000 8-byte elements = %d, small list %d", m, small)
	}
}

func TestCopyIsIndependent(t *testing.T) {
	for _, fill := range []int{DefaultFill, 2} {
		l := fromStrings(fill, "a", "b", "c", "d", "e")
		c := l.Copy().(*List)
		checkInvariants(t, c)
		l.Set(0, []byte("changed"))
		l.Pop(Tail)
		c.Push(Head, []byte("new"))
		if got, want := contents(c), []string{"new", "a", "b", "c", "d", "e"}; !slices.Equal(got, want) {
			t.Fatalf("copy %q, want %q", got, want)
		}
		if got, want := contents(l), []string{"changed", "b", "c", "d"}; !slices.Equal(got, want) {
			t.Fatalf("original %q, want %q", got, want)
		}
		checkInvariants(t, c)
	}
}
