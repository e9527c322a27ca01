package persistence

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/shoal-dev/shoal/node/keyspace/hash"
	"github.com/shoal-dev/shoal/node/keyspace/list"
	"github.com/shoal-dev/shoal/node/keyspace/set"
	"github.com/shoal-dev/shoal/node/keyspace/zset"
)

func collect[T any](seq func(func(T) bool)) []T {
	var out []T
	for v := range seq {
		out = append(out, v)
	}
	return out
}

// Each keyspace type survives encode/decode in its small and its big
// encoding, and comes back in the encoding its size calls for.
func TestKeyspaceCodecsRoundTrip(t *testing.T) {
	c := KeyspaceCodecs(nil, nil, nil, nil)
	for _, n := range []int{1, 5, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			l := list.New(-2)
			h := hash.New()
			sInt := set.New(set.DefaultLimits(), []byte("1"), n)
			sStr := set.New(set.DefaultLimits(), []byte("m"), n)
			var zs []zset.Entry
			for i := range n {
				l.Push(list.Tail, []byte(fmt.Sprintf("e%d", i)))
				h.Set([]byte(fmt.Sprintf("f%d", i)), []byte(fmt.Sprintf("v%d", i)), hash.DefaultLimits())
				sInt.Add(set.DefaultLimits(), []byte(fmt.Sprint(i*7-3)))
				sStr.Add(set.DefaultLimits(), []byte(fmt.Sprintf("m%d", i)))
				zs = append(zs, zset.Entry{Member: []byte(fmt.Sprintf("z%05d", i)), Score: float64(i%10) - 0.5})
			}
			slices.SortFunc(zs, func(a, b zset.Entry) int {
				if a.Score != b.Score {
					if a.Score < b.Score {
						return -1
					}
					return 1
				}
				return slices.Compare(a.Member, b.Member)
			})
			z := zset.FromSorted(zset.DefaultLimits(), zs)

			back := func(t ValueType, v any) any {
				typ, got, err := c.Restore(must(c.Dump(t, v)))
				if err != nil || typ != t {
					panic(fmt.Sprintf("%s: %v %v", t, typ, err))
				}
				return got
			}
			l2 := back(TypeList, l).(*list.List)
			if !slices.EqualFunc(collect(l.All()), collect(l2.All()), func(a, b []byte) bool { return string(a) == string(b) }) {
				t.Fatal("list changed")
			}
			h2 := back(TypeHash, h).(*hash.Hash)
			if h2.Len() != n || h2.Encoding() != h.Encoding() {
				t.Fatalf("hash: %d fields %s, want %d %s", h2.Len(), h2.Encoding(), n, h.Encoding())
			}
			for f, v := range h.All() {
				if got, ok := h2.Get(f); !ok || string(got) != string(v) {
					t.Fatalf("hash field %s = %q", f, got)
				}
			}
			for _, s := range []*set.Set{sInt, sStr} {
				s2 := back(TypeSet, s).(*set.Set)
				if s2.Len() != s.Len() || s2.Encoding() != s.Encoding() {
					t.Fatalf("set: %d %s, want %d %s", s2.Len(), s2.Encoding(), s.Len(), s.Encoding())
				}
				for m := range s.All() {
					if !s2.IsMember(m) {
						t.Fatalf("set lost %s", m)
					}
				}
			}
			z2 := back(TypeZSet, z).(*zset.ZSet)
			if z2.Len() != n || z2.Encoding() != z.Encoding() {
				t.Fatalf("zset: %d %s, want %d %s", z2.Len(), z2.Encoding(), n, z.Encoding())
			}
			for m, s := range z.All() {
				if got, ok := z2.Score(m); !ok || got != s {
					t.Fatalf("zset %s = %v", m, got)
				}
			}
		})
	}
}

func TestKeyspaceCodecsRejectBadValues(t *testing.T) {
	c := KeyspaceCodecs(nil, nil, nil, nil)
	dupHash := must(AppendPairs(nil, 2, pairsOf("f", "1", "f", "2")))
	dupSet := must(AppendElements(nil, 2, slices.Values(bs("7", "7"))))
	dupZSet := must(AppendScored(nil, 2, scoredOf(scored{"a", 1}, scored{"a", 2})))
	nan := must(AppendScored(nil, 1, scoredOf(scored{"a", math.NaN()})))
	empty := []byte{0}
	cases := []struct {
		name string
		t    ValueType
		b    []byte
	}{
		{"duplicate hash field", TypeHash, dupHash},
		{"duplicate set member", TypeSet, dupSet},
		{"duplicate zset member", TypeZSet, dupZSet},
		{"NaN score", TypeZSet, nan},
		{"empty list", TypeList, empty},
		{"empty hash", TypeHash, empty},
		{"empty set", TypeSet, empty},
		{"empty zset", TypeZSet, empty},
	}
	for _, tc := range cases {
		if _, err := c.DecodeValue(tc.t, tc.b); !errors.Is(err, ErrBadValue) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		// Through RESTORE it is Redis's "Bad data format".
		if _, _, err := c.Restore(AppendDump(nil, tc.t, tc.b)); err != ErrBadDataFormat {
			t.Errorf("%s: RESTORE err = %v", tc.name, err)
		}
	}
	if _, err := c.AppendValue(nil, TypeList, []byte("not a list")); err == nil {
		t.Error("list codec accepted a string")
	}
}

// goldenListDumpHex freezes a list's DUMP payload: type 1, count 2, "a",
// "bc", version, CRC.
const goldenListDumpHex = "01" + "02" + "0161" + "026263" + "0180"

func TestListDumpGoldenBytes(t *testing.T) {
	c := KeyspaceCodecs(nil, nil, nil, nil)
	l := list.New(-2)
	l.Push(list.Tail, []byte("a"))
	l.Push(list.Tail, []byte("bc"))
	p := must(c.Dump(TypeList, l))
	if got := fmt.Sprintf("%x", p[:len(p)-8]); got != goldenListDumpHex {
		t.Fatalf("list payload %s, want %s", got, goldenListDumpHex)
	}
}
