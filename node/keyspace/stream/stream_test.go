package stream

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// model is the obvious stream: a sorted slice of live entries.
type model struct {
	ids []ID
	fv  map[ID]string
}

func entryString(fv [][]byte) string { return fmt.Sprintf("%q", fv) }

func (m *model) rangeOf(start, end ID, rev bool) []ID {
	var out []ID
	for _, id := range m.ids {
		if !id.Less(start) && !end.Less(id) {
			out = append(out, id)
		}
	}
	if rev {
		slices.Reverse(out)
	}
	return out
}

func check(t *testing.T, s *Stream, m *model, step int) {
	t.Helper()
	if s.Len() != len(m.ids) {
		t.Fatalf("step %d: Len %d, model %d", step, s.Len(), len(m.ids))
	}
	var first, last ID
	if len(m.ids) > 0 {
		first, last = m.ids[0], m.ids[len(m.ids)-1]
	}
	if s.FirstID() != first || s.LastEntryID() != last {
		t.Fatalf("step %d: first/last %v %v, model %v %v", step, s.FirstID(), s.LastEntryID(), first, last)
	}
	for _, rev := range []bool{false, true} {
		a, b := ID{Ms: uint64(rand.IntN(400))}, ID{Ms: uint64(rand.IntN(400)), Seq: 5}
		var got []ID
		s.Range(a, b, rev, func(id ID, fv [][]byte) bool {
			if entryString(fv) != m.fv[id] {
				t.Fatalf("step %d: entry %v = %s, model %s", step, id, entryString(fv), m.fv[id])
			}
			got = append(got, id)
			return true
		})
		if want := m.rangeOf(a, b, rev); !slices.Equal(got, want) {
			t.Fatalf("step %d: Range(%v, %v, rev=%v) = %v, model %v", step, a, b, rev, got, want)
		}
	}
}

// TestStreamAgainstModel runs random adds (with changing field sets, so
// blocks mix master-field and explicit entries), deletions and trims
// under small block limits, checking every read against the model.
func TestStreamAgainstModel(t *testing.T) {
	for _, lim := range []Limits{{NodeMaxEntries: 3}, {NodeMaxBytes: 40}, DefaultLimits()} {
		s, m := New(), &model{fv: map[ID]string{}}
		next := ID{1, 0}
		for step := 0; step < 3000; step++ {
			switch r := rand.IntN(10); {
			case r < 6:
				fv := [][]byte{[]byte("f"), fmt.Appendf(nil, "%d", step)}
				if rand.IntN(3) == 0 {
					fv = append(fv, []byte("g"), []byte("x"))
				}
				s.Add(next, fv, lim)
				m.ids = append(m.ids, next)
				m.fv[next] = entryString(fv)
				if rand.IntN(2) == 0 {
					next.Seq++
				} else {
					next = ID{next.Ms + uint64(rand.IntN(3)), 0}
					next.Ms++
				}
			case r < 8 && len(m.ids) > 0:
				id := m.ids[rand.IntN(len(m.ids))]
				if !s.Delete(id) {
					t.Fatalf("step %d: Delete(%v) of a live entry failed", step, id)
				}
				if s.Delete(id) {
					t.Fatalf("step %d: Delete(%v) twice succeeded", step, id)
				}
				i := slices.Index(m.ids, id)
				m.ids = slices.Delete(m.ids, i, i+1)
			case r == 8:
				n := int64(rand.IntN(len(m.ids) + 1))
				removed := s.Trim(TrimArgs{Strategy: TrimMaxLen, MaxLen: n})
				if want := int64(len(m.ids)) - n; max(want, 0) != removed {
					t.Fatalf("step %d: exact MAXLEN %d removed %d, want %d", step, n, removed, want)
				}
				m.ids = m.ids[len(m.ids)-min(int(n), len(m.ids)):]
			default:
				if len(m.ids) == 0 {
					continue
				}
				min := m.ids[rand.IntN(len(m.ids))]
				s.Trim(TrimArgs{Strategy: TrimMinID, MinID: min})
				i := slices.Index(m.ids, min)
				m.ids = m.ids[i:]
			}
			check(t, s, m, step)
			if step%500 == 0 {
				c := s.Copy().(*Stream)
				check(t, c, m, step)
			}
		}
	}
}

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		in      string
		special bool
		want    ID
		ok      bool
	}{
		{"1-2", false, ID{1, 2}, true}, {"5", false, ID{5, 7}, true}, {"-", true, ID{}, true},
		{"+", true, MaxID, true}, {"+", false, ID{}, false}, {"1-", false, ID{}, false},
		{"-1", false, ID{}, false}, {" 3-+4", false, ID{3, 4}, true}, {"18446744073709551616", false, ID{}, false},
		{"1-2-3", false, ID{}, false}, {"", false, ID{}, false}, {"a", false, ID{}, false},
	} {
		got, _, ok := ParseID([]byte(tc.in), 7, tc.special)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("ParseID(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
