package set

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

func setOf(lim Limits, ms ...string) *Set {
	s := New(lim, []byte(ms[0]), len(ms))
	for _, m := range ms {
		s.Add(lim, []byte(m))
	}
	return s
}

func TestIntegerMembersAreThoseString2llAccepts(t *testing.T) {
	for in, want := range map[string]bool{
		"0": true, "-1": true, "123": true, "9223372036854775807": true, "-9223372036854775808": true,
		"9223372036854775808": false, "-9223372036854775809": false, "007": false, "-0": false, "+1": false,
		" 1": false, "1 ": false, "": false, "-": false, "1.0": false, "1e3": false, "99999999999999999999": false,
	} {
		if _, ok := parseInt([]byte(in)); ok != want {
			t.Errorf("parseInt(%q) ok=%v, want %v", in, ok, want)
		}
	}
	// A non-canonical integer string makes the set leave the intset encoding
	// and is kept verbatim.
	s := setOf(DefaultLimits(), "1", "007")
	if s.Encoding() != "listpack" || !s.IsMember([]byte("007")) || s.IsMember([]byte("7")) {
		t.Fatalf("007: encoding %s, members %v", s.Encoding(), members(s))
	}
}

func TestCreationEncodingFollowsSetTypeCreate(t *testing.T) {
	lim := DefaultLimits()
	for _, c := range []struct {
		first string
		hint  int
		want  string
	}{
		{"1", 1, "intset"}, {"1", 512, "intset"}, {"1", 513, "hashtable"}, {"a", 1, "listpack"},
		{"a", 128, "listpack"}, {"a", 129, "hashtable"},
	} {
		if got := New(lim, []byte(c.first), c.hint).Encoding(); got != c.want {
			t.Errorf("New(%q, %d) = %s, want %s", c.first, c.hint, got, c.want)
		}
	}
	// Redis 7.0 has no listpack sets: entries 0 restores its behaviour.
	if got := New(Limits{512, 0, 64}, []byte("a"), 1).Encoding(); got != "hashtable" {
		t.Errorf("7.0 limits: %s", got)
	}
}

func TestIntsetConversions(t *testing.T) {
	lim := DefaultLimits()
	t.Run("more than set-max-intset-entries integers become a hashtable", func(t *testing.T) {
		s := New(lim, []byte("0"), 1)
		for i := 0; i < 512; i++ {
			s.Add(lim, []byte(fmt.Sprint(i)))
		}
		if s.Encoding() != "intset" {
			t.Fatalf("512 integers: %s", s.Encoding())
		}
		s.Add(lim, []byte("512"))
		if s.Encoding() != "hashtable" || s.Len() != 513 || !s.IsMember([]byte("511")) {
			t.Fatalf("513 integers: %s len %d", s.Encoding(), s.Len())
		}
	})
	t.Run("a string joining a small intset makes a listpack in integer order", func(t *testing.T) {
		s := setOf(lim, "3", "1", "2")
		s.Add(lim, []byte("x"))
		var got []string
		for m := range s.All() {
			got = append(got, string(m))
		}
		if s.Encoding() != "listpack" || strings.Join(got, ",") != "1,2,3,x" {
			t.Fatalf("%s %v", s.Encoding(), got)
		}
	})
	t.Run("a string joining a large intset makes a hashtable", func(t *testing.T) {
		s := New(lim, []byte("0"), 1)
		for i := 0; i < 128; i++ {
			s.Add(lim, []byte(fmt.Sprint(i)))
		}
		s.Add(lim, []byte("x"))
		if s.Encoding() != "hashtable" || s.Len() != 129 {
			t.Fatalf("%s len %d", s.Encoding(), s.Len())
		}
	})
	t.Run("a long string joining an intset makes a hashtable", func(t *testing.T) {
		s := setOf(lim, "1")
		s.Add(lim, []byte(strings.Repeat("x", 65)))
		if s.Encoding() != "hashtable" {
			t.Fatal(s.Encoding())
		}
	})
	t.Run("integers too long for listpack values make a hashtable", func(t *testing.T) {
		small := Limits{MaxIntsetEntries: 512, MaxListpackEntries: 128, MaxListpackValue: 3}
		s := setOf(small, "1000")
		s.Add(small, []byte("x"))
		if s.Encoding() != "hashtable" {
			t.Fatal(s.Encoding())
		}
	})
	t.Run("intsets widen to 32 and 64 bits and keep order", func(t *testing.T) {
		s := setOf(lim, "5", "-3")
		for _, v := range []string{"70000", "-9223372036854775808", "9223372036854775807", "0"} {
			s.Add(lim, []byte(v))
		}
		var got []string
		for m := range s.All() {
			got = append(got, string(m))
		}
		if s.Encoding() != "intset" || s.width != 8 || strings.Join(got, ",") != "-9223372036854775808,-3,0,5,70000,9223372036854775807" {
			t.Fatalf("%s width %d: %v", s.Encoding(), s.width, got)
		}
	})
}

func TestListpackConversions(t *testing.T) {
	lim := DefaultLimits()
	s := New(lim, []byte("a"), 1)
	for i := 0; i < 128; i++ {
		s.Add(lim, []byte(fmt.Sprintf("m%d", i)))
	}
	if s.Encoding() != "listpack" {
		t.Fatalf("128 strings: %s", s.Encoding())
	}
	s.Add(lim, []byte("one more"))
	if s.Encoding() != "hashtable" || s.Len() != 129 {
		t.Fatalf("129 strings: %s", s.Encoding())
	}
	s2 := setOf(lim, "a")
	s2.Add(lim, []byte(strings.Repeat("v", 65)))
	if s2.Encoding() != "hashtable" {
		t.Fatalf("65-byte member: %s", s2.Encoding())
	}
	s2.Remove([]byte(strings.Repeat("v", 65)))
	if s2.Encoding() != "hashtable" {
		t.Fatal("converted back")
	}
}

func allEncodings(t *testing.T, n int) map[string]*Set {
	lim := DefaultLimits()
	out := map[string]*Set{}
	for _, enc := range []string{"intset", "listpack", "hashtable"} {
		var s *Set
		switch enc {
		case "intset":
			s = New(lim, []byte("0"), 1)
		case "listpack":
			s = New(lim, []byte("a"), 1)
		default:
			s = New(Limits{0, 0, 0}, []byte("a"), 1)
		}
		for i := 0; i < n; i++ {
			s.Add(lim, []byte(fmt.Sprint(i)))
		}
		if s.Encoding() != enc {
			t.Fatalf("wanted %s, got %s", enc, s.Encoding())
		}
		out[enc] = s
	}
	return out
}

func TestSRandMember(t *testing.T) {
	rnd := rand.New(rand.NewPCG(8, 9))
	const n = 50
	for enc, s := range allEncodings(t, n) {
		t.Run(enc+"/a count at least the size returns the whole set", func(t *testing.T) {
			if got := s.AppendRandom(nil, n+1, true, rnd); len(got) != n {
				t.Fatalf("%d members", len(got))
			}
		})
		for _, count := range []int{1, 10, 20, 49} {
			t.Run(fmt.Sprintf("%s/a positive count %d returns distinct members", enc, count), func(t *testing.T) {
				seen := map[string]bool{}
				for _, m := range s.AppendRandom(nil, count, true, rnd) {
					if seen[string(m)] || !s.IsMember(m) {
						t.Fatalf("bad or duplicate member %s", m)
					}
					seen[string(m)] = true
				}
				if len(seen) != count {
					t.Fatalf("%d members", len(seen))
				}
			})
		}
		t.Run(enc+"/a negative count repeats and covers the set", func(t *testing.T) {
			seen := map[string]int{}
			got := s.AppendRandom(nil, 3000, false, rnd)
			for _, m := range got {
				seen[string(m)]++
			}
			if len(got) != 3000 || len(seen) != n {
				t.Fatalf("%d picks over %d members", len(got), len(seen))
			}
		})
		t.Run(enc+"/positive picks are uniform", func(t *testing.T) {
			counts := map[string]int{}
			for i := 0; i < 5000; i++ {
				for _, m := range s.AppendRandom(nil, 5, true, rnd) {
					counts[string(m)]++
				}
			}
			// 25000 picks over 50 members: 500 expected each.
			for m, c := range counts {
				if c < 350 || c > 650 {
					t.Fatalf("member %s picked %d times, expected about 500", m, c)
				}
			}
		})
	}
	if _, ok := (&Set{}).RandomMember(rnd); ok {
		t.Fatal("random member of an empty set")
	}
}

func TestSPop(t *testing.T) {
	rnd := rand.New(rand.NewPCG(10, 11))
	for enc, s := range allEncodings(t, 30) {
		popped := s.Pop(10, rnd)
		seen := map[string]bool{}
		for _, m := range popped {
			if seen[string(m)] || s.IsMember(m) {
				t.Fatalf("%s: popped %s twice or still a member", enc, m)
			}
			seen[string(m)] = true
		}
		snapshot := fmt.Sprint(popped)
		for i := 100; i < 140; i++ { // reuse the storage the pops came from
			s.Add(DefaultLimits(), []byte(fmt.Sprint(i)))
		}
		if fmt.Sprint(popped) != snapshot {
			t.Fatalf("%s: popped members changed after later writes", enc)
		}
		if len(popped) != 10 || s.Len() != 60 {
			t.Fatalf("%s: popped %d, %d left", enc, len(popped), s.Len())
		}
		rest := s.Pop(100, rnd)
		if len(rest) != 60 || s.Len() != 0 {
			t.Fatalf("%s: popping everything left %d", enc, s.Len())
		}
	}
}

func TestSScanOfSmallEncodingsReturnsEverythingWithCursorZero(t *testing.T) {
	for enc, s := range allEncodings(t, 40) {
		cursor, got := s.Scan(0, 5, nil)
		if enc != "hashtable" && (cursor != 0 || len(got) != 40) {
			t.Errorf("%s: cursor %d, %d members", enc, cursor, len(got))
		}
		if enc == "hashtable" && (cursor == 0 || len(got) < 5) {
			t.Errorf("hashtable: first page cursor %d, %d members", cursor, len(got))
		}
	}
}

func sortedMembers(s *Set) string {
	var out []string
	for m := range s.All() {
		out = append(out, string(m))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestSetOperations(t *testing.T) {
	lim := DefaultLimits()
	a := setOf(lim, "1", "2", "3", "x")
	b := setOf(lim, "2", "3", "4")
	c := setOf(lim, "3", "x", "y")
	ints := setOf(lim, "1", "2")
	cases := []struct {
		name, want string
		got        *Set
	}{
		{"SINTER", "3", Inter(lim, []*Set{a, b, c})},
		{"SINTER with itself", "1,2,3,x", Inter(lim, []*Set{a, a})},
		{"SINTER with a missing key is empty", "", Inter(lim, []*Set{a, nil})},
		{"SUNION", "1,2,3,4,x,y", Union(lim, []*Set{a, b, c})},
		{"SUNION skips missing keys", "2,3,4", Union(lim, []*Set{nil, b})},
		{"SDIFF", "1,x", Diff(lim, []*Set{a, b})},
		{"SDIFF of several", "1", Diff(lim, []*Set{a, b, c})},
		{"SDIFF skips missing keys", "1,2,3,x", Diff(lim, []*Set{a, nil})},
		{"SDIFF of a missing first key is empty", "", Diff(lim, []*Set{nil, a})},
		{"SDIFF with itself is empty", "", Diff(lim, []*Set{a, a})},
	}
	for _, c := range cases {
		if got := sortedMembers(c.got); got != c.want {
			t.Errorf("%s = %q, want %q", c.name, got, c.want)
		}
	}
	if got := Union(lim, []*Set{ints, ints}).Encoding(); got != "intset" {
		t.Errorf("SUNIONSTORE of integers: %s, want intset", got)
	}
	if got := Union(lim, []*Set{a, b}).Encoding(); got != "listpack" {
		t.Errorf("SUNIONSTORE of mixed small sets: %s, want listpack", got)
	}
	if n := InterCard([]*Set{a, b}, 0); n != 2 {
		t.Errorf("SINTERCARD = %d, want 2", n)
	}
	if n := InterCard([]*Set{a, b}, 1); n != 1 {
		t.Errorf("SINTERCARD LIMIT 1 = %d, want 1", n)
	}
}

func TestMemoryUsage(t *testing.T) {
	lim := DefaultLimits()
	is := New(lim, []byte("1"), 1)
	lp := New(lim, []byte("a"), 1)
	ht := New(Limits{}, []byte("a"), 1)
	for i := 0; i < 100; i++ {
		is.Add(lim, []byte(fmt.Sprint(i)))
		lp.Add(lim, []byte(fmt.Sprintf("m%d", i)))
		ht.Add(lim, []byte(fmt.Sprintf("m%d", i)))
	}
	if got := is.MemoryUsage(); got > 56+300 {
		t.Errorf("intset of 100 small integers: %d bytes", got)
	}
	if got := lp.MemoryUsage(); got > 56+600 {
		t.Errorf("listpack of 100 short members: %d bytes", got)
	}
	if got := ht.MemoryUsage(); got < 100*(24+8) || got > 100*80 {
		t.Errorf("hashtable of 100 short members: %d bytes", got)
	}
}

func TestLongMembersInAListpackWithRaisedLimits(t *testing.T) {
	lim := Limits{MaxIntsetEntries: 512, MaxListpackEntries: 128, MaxListpackValue: 1000}
	long := strings.Repeat("L", 300) // a multi-byte length prefix
	s := setOf(lim, "a", long, "b")
	if s.Encoding() != "listpack" || !s.IsMember([]byte(long)) || !s.IsMember([]byte("b")) {
		t.Fatalf("%s: members %v", s.Encoding(), members(s))
	}
	if !s.Remove([]byte(long)) || s.IsMember([]byte(long)) || sortedMembers(s) != "a,b" {
		t.Fatalf("after removing the long member: %s", sortedMembers(s))
	}
}
