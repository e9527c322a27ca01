package persistence

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/keyspace/hash"
	"github.com/shoal-dev/shoal/node/keyspace/list"
	"github.com/shoal-dev/shoal/node/keyspace/set"
	"github.com/shoal-dev/shoal/node/keyspace/zset"
	"github.com/shoal-dev/shoal/node/persistence/rdb"
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

// rdbObj builds an RDB object: type byte, then a count and strings (a
// "|" in parts writes the next part as an 8-byte binary score instead).
func rdbObj(typ byte, count int, parts ...string) []byte {
	b := rdb.AppendLen([]byte{typ}, uint64(count))
	for _, p := range parts {
		if f, ok := strings.CutPrefix(p, "|"); ok {
			b = rdb.AppendBinaryDouble(b, must(strconv.ParseFloat(f, 64)))
			continue
		}
		b = rdb.AppendString(b, []byte(p))
	}
	return b
}

func TestKeyspaceCodecsRejectBadValues(t *testing.T) {
	c := KeyspaceCodecs(nil, nil, nil, nil)
	cases := []struct {
		name string
		t    ValueType
		b    []byte
	}{
		{"duplicate hash field", TypeHash, rdbObj(rdb.TypeHash, 2, "f", "1", "f", "2")},
		{"duplicate set member", TypeSet, rdbObj(rdb.TypeSet, 2, "7", "7")},
		{"duplicate zset member", TypeZSet, rdbObj(rdb.TypeZSet2, 2, "a", "|1", "a", "|2")},
		{"NaN score", TypeZSet, rdbObj(rdb.TypeZSet2, 1, "a", "|NaN")},
		{"empty list", TypeList, rdbObj(rdb.TypeList, 0)},
		{"empty hash", TypeHash, rdbObj(rdb.TypeHash, 0)},
		{"empty set", TypeSet, rdbObj(rdb.TypeSet, 0)},
		{"empty zset", TypeZSet, rdbObj(rdb.TypeZSet2, 0)},
		{"set given for a list", TypeList, rdbObj(rdb.TypeSet, 1, "a")},
		{"trailing bytes", TypeList, append(rdbObj(rdb.TypeList, 1, "a"), 0)},
	}
	for _, tc := range cases {
		if _, err := c.DecodeValue(tc.t, tc.b); !errors.Is(err, ErrBadValue) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		// Through RESTORE it is Redis's "Bad data format" (a set is a
		// set there: the payload names its type).
		if _, _, err := c.Restore(AppendDump(nil, tc.b)); err != ErrBadDataFormat && tc.b[0] != rdb.TypeSet {
			t.Errorf("%s: RESTORE err = %v", tc.name, err)
		}
	}
	if _, err := c.AppendValue(nil, TypeList, []byte("not a list")); err == nil {
		t.Error("list codec accepted a string")
	}
}

// goldenListDumpHex freezes a list's DUMP payload as Redis 7.0.15 writes
// it (DUMP of RPUSH l a bc): a quicklist of one listpack node, version 10,
// CRC.
const goldenListDumpHex = "120102" + "0e" + "0e000000020081610282626303ff" + "0a00"

func TestListDumpGoldenBytes(t *testing.T) {
	c := KeyspaceCodecs(nil, nil, nil, nil)
	l := list.New(-2)
	l.Push(list.Tail, []byte("a"))
	l.Push(list.Tail, []byte("bc"))
	p := must(c.Dump(TypeList, l))
	typ, v, err := c.Restore(p)
	if err != nil || typ != TypeList || v.(*list.List).Len() != 2 {
		t.Fatalf("restore: %v %v %v", typ, v, err)
	}
	// Our lengths of packed strings use the 32-bit form: compare the
	// listpack itself and the trailer's version.
	want := must(hex.DecodeString(goldenListDumpHex))
	o := must(rdb.DecodeObject(p[0], p[1:len(p)-10]))
	if o.Kind != rdb.KindList || len(o.Elems) != 2 || !bytes.Contains(p, want[4:len(want)-2]) || !bytes.Equal(p[len(p)-10:len(p)-8], want[len(want)-2:]) {
		t.Fatalf("list payload %x, want the listpack and version of %x", p, want)
	}
	theirs := append(slices.Clone(want), le64(CRC64(want))...)
	if typ, v, err := c.Restore(theirs); err != nil || typ != TypeList || v.(*list.List).Len() != 2 {
		t.Fatalf("restore of Redis's payload: %v %v %v", typ, v, err)
	}
}
