package zset

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// model is a naive sorted set: a map and a sort on every query.
type model map[string]float64

func (m model) sorted() []Entry {
	out := make([]Entry, 0, len(m))
	for k, v := range m {
		out = append(out, Entry{[]byte(k), v})
	}
	sortEntries(out)
	return out
}

func (m model) rangeScore(r ScoreRange, rev bool, offset, count int) []Entry {
	var in []Entry
	for _, e := range m.sorted() {
		if r.gteMin(e.Score) && r.lteMax(e.Score) {
			in = append(in, e)
		}
	}
	return window(in, rev, offset, count)
}

func (m model) rangeLex(r LexRange, rev bool, offset, count int) []Entry {
	var in []Entry
	for _, e := range m.sorted() {
		if r.gteMin(e.Member) && r.lteMax(e.Member) {
			in = append(in, e)
		}
	}
	return window(in, rev, offset, count)
}

func window(in []Entry, rev bool, offset, count int) []Entry {
	if rev {
		slices.Reverse(in)
	}
	if offset < 0 || offset >= len(in) {
		return nil
	}
	in = in[offset:]
	if count >= 0 && count < len(in) {
		in = in[:count]
	}
	return in
}

func sameEntries(a, b []Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Member, b[i].Member) || a[i].Score != b[i].Score {
			return false
		}
	}
	return true
}

func fmtEntries(e []Entry) string {
	var b bytes.Buffer
	for _, x := range e {
		fmt.Fprintf(&b, "%s:%g ", x.Member, x.Score)
	}
	return b.String()
}

// randomScoreRange draws bounds from the score domain, infinities included.
func randomScoreRange(rnd *rand.Rand) ScoreRange {
	b := func() float64 {
		switch rnd.IntN(10) {
		case 0:
			return math.Inf(-1)
		case 1:
			return math.Inf(1)
		}
		return float64(rnd.IntN(21) - 10)
	}
	return ScoreRange{Min: b(), Max: b(), MinEx: rnd.IntN(2) == 0, MaxEx: rnd.IntN(2) == 0}
}

func randomLexRange(rnd *rand.Rand) LexRange {
	b := func() LexBound {
		switch rnd.IntN(8) {
		case 0:
			return LexBound{kind: lexMinusInf, Ex: true}
		case 1:
			return LexBound{kind: lexPlusInf, Ex: true}
		}
		return LexBound{Value: []byte(fmt.Sprintf("m%02d", rnd.IntN(40))), Ex: rnd.IntN(2) == 0}
	}
	return LexRange{Min: b(), Max: b()}
}

// TestZSetMatchesModel runs random operations on both encodings (tiny
// limits force conversions) and compares every answer with the model.
func TestZSetMatchesModel(t *testing.T) {
	for _, lim := range []Limits{DefaultLimits(), {MaxListpackEntries: 8, MaxListpackValue: 4}, {MaxListpackEntries: 0, MaxListpackValue: 64}} {
		for seed := uint64(1); seed <= 8; seed++ {
			t.Run(fmt.Sprintf("entries=%d/seed=%d", lim.MaxListpackEntries, seed), func(t *testing.T) {
				runModel(t, lim, seed, false)
			})
			t.Run(fmt.Sprintf("lex/entries=%d/seed=%d", lim.MaxListpackEntries, seed), func(t *testing.T) {
				runModel(t, lim, seed, true)
			})
		}
	}
}

func runModel(t *testing.T, lim Limits, seed uint64, lexOnly bool) {
	rnd := rand.New(rand.NewPCG(seed, 99))
	z := New(lim, 0)
	m := model{}
	member := func() []byte { return []byte(fmt.Sprintf("m%02d", rnd.IntN(40))) }
	score := func() float64 {
		if lexOnly {
			return 0
		}
		if rnd.IntN(10) == 0 {
			return float64(rnd.IntN(5)) + 0.5
		}
		return float64(rnd.IntN(21) - 10)
	}
	var dst []Entry
	for op := 0; op < 3000; op++ {
		switch k := rnd.IntN(14); k {
		case 0, 1, 2, 3:
			mb, s := member(), score()
			flags := AddFlags(0)
			if !lexOnly {
				flags = []AddFlags{0, AddNX, AddXX, AddGT, AddLT, AddIncr, AddIncr | AddXX, AddGT | AddXX}[rnd.IntN(8)]
			}
			got, res, err := z.Add(lim, mb, s, flags)
			if err != nil {
				t.Fatalf("op %d: Add: %v", op, err)
			}
			want, wantRes := modelAdd(m, string(mb), s, flags)
			if res != wantRes || (res != NOP && got != want) {
				t.Fatalf("op %d: Add(%s, %g, %b) = %g,%d want %g,%d", op, mb, s, flags, got, res, want, wantRes)
			}
		case 4:
			mb := member()
			_, ok := m[string(mb)]
			delete(m, string(mb))
			if z.Remove(mb) != ok {
				t.Fatalf("op %d: Remove(%s) != %v", op, mb, ok)
			}
		case 5:
			mb := member()
			s, ok := z.Score(mb)
			ws, wok := m[string(mb)]
			if ok != wok || s != ws {
				t.Fatalf("op %d: Score(%s) = %g,%v want %g,%v", op, mb, s, ok, ws, wok)
			}
			rev := rnd.IntN(2) == 0
			rank, rs, rok := z.Rank(mb, rev)
			wantRank := -1
			for i, e := range m.sorted() {
				if string(e.Member) == string(mb) {
					wantRank = i
					if rev {
						wantRank = len(m) - 1 - i
					}
				}
			}
			if rok != wok || (rok && (rank != wantRank || rs != ws)) {
				t.Fatalf("op %d: Rank(%s,%v) = %d,%v want %d,%v", op, mb, rev, rank, rok, wantRank, wok)
			}
		case 6:
			start, stop := rnd.IntN(50)-25, rnd.IntN(50)-25
			rev := rnd.IntN(2) == 0
			s, e, ok := RankRange(start, stop, len(m))
			dst = dst[:0]
			if ok {
				dst = z.AppendRangeByRank(dst, s, e, rev)
			}
			all := m.sorted()
			if rev {
				slices.Reverse(all)
			}
			var want []Entry
			if ok {
				want = all[s : e+1]
			}
			if !sameEntries(dst, want) {
				t.Fatalf("op %d: RangeByRank(%d,%d,%v) = %s want %s", op, start, stop, rev, fmtEntries(dst), fmtEntries(want))
			}
		case 7:
			r := randomScoreRange(rnd)
			rev := rnd.IntN(2) == 0
			offset, count := 0, -1
			if rnd.IntN(2) == 0 {
				offset, count = rnd.IntN(8)-1, rnd.IntN(8)-1
			}
			dst = z.AppendRangeByScore(dst[:0], r, rev, offset, count)
			if want := m.rangeScore(r, rev, offset, count); !sameEntries(dst, want) {
				t.Fatalf("op %d: RangeByScore(%+v,%v,%d,%d) = %s want %s", op, r, rev, offset, count, fmtEntries(dst), fmtEntries(want))
			}
			if got, want := z.CountByScore(r), len(m.rangeScore(r, false, 0, -1)); got != want {
				t.Fatalf("op %d: CountByScore(%+v) = %d want %d", op, r, got, want)
			}
		case 8:
			if !lexOnly {
				continue
			}
			r := randomLexRange(rnd)
			rev := rnd.IntN(2) == 0
			offset, count := 0, -1
			if rnd.IntN(2) == 0 {
				offset, count = rnd.IntN(8)-1, rnd.IntN(8)-1
			}
			dst = z.AppendRangeByLex(dst[:0], r, rev, offset, count)
			if want := m.rangeLex(r, rev, offset, count); !sameEntries(dst, want) {
				t.Fatalf("op %d: RangeByLex(%+v,%v) = %s want %s", op, r, rev, fmtEntries(dst), fmtEntries(want))
			}
			if got, want := z.CountByLex(r), len(m.rangeLex(r, false, 0, -1)); got != want {
				t.Fatalf("op %d: CountByLex = %d want %d", op, got, want)
			}
		case 9:
			if rnd.IntN(4) != 0 {
				continue
			}
			if lexOnly {
				r := randomLexRange(rnd)
				want := m.rangeLex(r, false, 0, -1)
				for _, e := range want {
					delete(m, string(e.Member))
				}
				if got := z.RemoveRangeByLex(r); got != len(want) {
					t.Fatalf("op %d: RemoveRangeByLex = %d want %d", op, got, len(want))
				}
				continue
			}
			r := randomScoreRange(rnd)
			want := m.rangeScore(r, false, 0, -1)
			for _, e := range want {
				delete(m, string(e.Member))
			}
			if got := z.RemoveRangeByScore(r); got != len(want) {
				t.Fatalf("op %d: RemoveRangeByScore = %d want %d", op, got, len(want))
			}
		case 10:
			if rnd.IntN(4) != 0 {
				continue
			}
			s, e, ok := RankRange(rnd.IntN(20)-10, rnd.IntN(20)-10, len(m))
			want := 0
			if ok {
				for _, x := range m.sorted()[s : e+1] {
					delete(m, string(x.Member))
				}
				want = e - s + 1
			}
			got := 0
			if ok {
				got = z.RemoveRangeByRank(s, e)
			}
			if got != want {
				t.Fatalf("op %d: RemoveRangeByRank = %d want %d", op, got, want)
			}
		case 11:
			count, max := rnd.IntN(4)+1, rnd.IntN(2) == 0
			all := m.sorted()
			if max {
				slices.Reverse(all)
			}
			want := all[:min(count, len(all))]
			got := z.Pop(count, max)
			for _, e := range want {
				delete(m, string(e.Member))
			}
			if !sameEntries(got, want) {
				t.Fatalf("op %d: Pop(%d,%v) = %s want %s", op, count, max, fmtEntries(got), fmtEntries(want))
			}
		case 12:
			cursor := uint64(0)
			seen := map[string]float64{}
			for {
				var page []Entry
				cursor, page = z.Scan(cursor, 3, nil)
				for _, e := range page {
					seen[string(e.Member)] = e.Score
				}
				if cursor == 0 {
					break
				}
			}
			if len(seen) != len(m) {
				t.Fatalf("op %d: Scan saw %d members, want %d", op, len(seen), len(m))
			}
			for k, v := range m {
				if seen[k] != v {
					t.Fatalf("op %d: Scan %s = %g want %g", op, k, seen[k], v)
				}
			}
		case 13:
			c := z.Clone()
			var got []Entry
			for mb, s := range c.All() {
				got = append(got, Entry{mb, s})
			}
			if !sameEntries(got, m.sorted()) || c.Encoding() != z.Encoding() {
				t.Fatalf("op %d: Clone differs", op)
			}
		}
		if z.Len() != len(m) {
			t.Fatalf("op %d: Len %d want %d", op, z.Len(), len(m))
		}
		if z.Encoding() == "listpack" && (z.Len() > lim.MaxListpackEntries) {
			t.Fatalf("op %d: listpack with %d entries over limit %d", op, z.Len(), lim.MaxListpackEntries)
		}
	}
	var all []Entry
	for mb, s := range z.All() {
		all = append(all, Entry{mb, s})
	}
	if !sameEntries(all, m.sorted()) {
		t.Fatalf("final contents differ:\n got %s\nwant %s", fmtEntries(all), fmtEntries(m.sorted()))
	}
}

// modelAdd is zsetAdd's rules on the model.
func modelAdd(m model, k string, s float64, flags AddFlags) (float64, AddResult) {
	cur, ok := m[k]
	if !ok {
		if flags&AddXX != 0 {
			return 0, NOP
		}
		m[k] = s
		return s, Added
	}
	if flags&AddNX != 0 {
		return cur, NOP
	}
	if flags&AddIncr != 0 {
		s += cur
	}
	if (flags&AddLT != 0 && s >= cur) || (flags&AddGT != 0 && s <= cur) {
		return cur, NOP
	}
	if s == cur {
		return s, Unchanged
	}
	m[k] = s
	return s, Updated
}
