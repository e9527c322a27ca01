package zset

import (
	"math"
	"testing"
)

// FuzzParseScore checks that the argument parsers never panic, never
// yield NaN, and that every accepted score prints back to itself.
func FuzzParseScore(f *testing.F) {
	for _, s := range []string{"1", "-1.5", "inf", "-Infinity", "0x1p-2", "0X.8", "1e400", "1e-400", "(1", "[a", "-", "+", "nan(0x1)", " 1", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, ok := ParseScore(b); ok {
			if math.IsNaN(v) {
				t.Fatalf("ParseScore(%q) accepted NaN", b)
			}
			back, ok := ParseScore(AppendScore(nil, v))
			if !ok || back != v {
				t.Fatalf("ParseScore(%q) = %v, which prints as %q and parses back as %v, %v", b, v, AppendScore(nil, v), back, ok)
			}
		}
		if r, err := ParseScoreRange(b, b); err == nil && (math.IsNaN(r.Min) || math.IsNaN(r.Max)) {
			t.Fatalf("ParseScoreRange(%q) accepted NaN", b)
		}
		_, _ = ParseLexRange(b, b)
	})
}

// FuzzZSetOps runs a byte-coded script of writes and queries on a set with
// tiny limits (so both encodings and the conversion are exercised) and
// compares it with the model.
func FuzzZSetOps(f *testing.F) {
	f.Add([]byte{0, 1, 2, 0, 3, 4, 1, 1, 5, 2, 3, 4, 6, 0, 0, 7, 1, 1})
	f.Add([]byte{0, 9, 9, 0, 8, 8, 0, 7, 7, 0, 6, 6, 0, 5, 5, 4, 0, 0, 3, 2, 1})
	f.Fuzz(func(t *testing.T, script []byte) {
		lim := Limits{MaxListpackEntries: 4, MaxListpackValue: 2}
		z := New(lim, 0)
		m := model{}
		members := []string{"a", "b", "c", "dd", "eee", "f", "g", "hh"}
		for i := 0; i+2 < len(script); i += 3 {
			op, a, b := script[i]%8, script[i+1], script[i+2]
			member := members[a%8]
			score := float64(int8(b)) / 4
			switch op {
			case 0, 1:
				flags := []AddFlags{0, AddNX, AddXX, AddGT, AddLT, AddIncr, AddIncr | AddGT, AddXX | AddLT}[b%8]
				got, res, err := z.Add(lim, []byte(member), score, flags)
				want, wantRes := modelAdd(m, member, score, flags)
				if err != nil || res != wantRes || (res != NOP && got != want) {
					t.Fatalf("Add(%s, %g, %b) = %g %d %v, want %g %d", member, score, flags, got, res, err, want, wantRes)
				}
			case 2:
				_, ok := m[member]
				delete(m, member)
				if z.Remove([]byte(member)) != ok {
					t.Fatalf("Remove(%s) != %v", member, ok)
				}
			case 3:
				r := ScoreRange{Min: float64(int8(a)) / 8, Max: score, MinEx: a&1 == 0, MaxEx: b&1 == 0}
				want := m.rangeScore(r, a&2 == 0, 0, -1)
				if got := z.AppendRangeByScore(nil, r, a&2 == 0, 0, -1); !sameEntries(got, want) {
					t.Fatalf("RangeByScore(%+v) = %s, want %s", r, fmtEntries(got), fmtEntries(want))
				}
				for _, e := range want {
					delete(m, string(e.Member))
				}
				if n := z.RemoveRangeByScore(r); n != len(want) {
					t.Fatalf("RemoveRangeByScore(%+v) = %d, want %d", r, n, len(want))
				}
			case 4:
				count := int(a%3) + 1
				all := m.sorted()
				if b&1 == 0 {
					for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
						all[i], all[j] = all[j], all[i]
					}
				}
				want := all[:min(count, len(all))]
				got := z.Pop(count, b&1 == 0)
				for _, e := range want {
					delete(m, string(e.Member))
				}
				if !sameEntries(got, want) {
					t.Fatalf("Pop = %s, want %s", fmtEntries(got), fmtEntries(want))
				}
			default:
				rank, _, ok := z.Rank([]byte(member), b&1 == 0)
				if _, in := m[member]; ok != in || (ok && (rank < 0 || rank >= len(m))) {
					t.Fatalf("Rank(%s) = %d %v with %d members", member, rank, ok, len(m))
				}
			}
			if z.Len() != len(m) {
				t.Fatalf("Len = %d, want %d", z.Len(), len(m))
			}
		}
		var got []Entry
		for mb, s := range z.All() {
			got = append(got, Entry{mb, s})
		}
		if want := m.sorted(); !sameEntries(got, want) {
			t.Fatalf("contents %s, want %s", fmtEntries(got), fmtEntries(want))
		}
	})
}
