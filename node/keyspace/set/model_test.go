package set

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
)

type model map[string]bool

func (m model) sorted() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func members(s *Set) []string {
	var out []string
	for m := range s.All() {
		out = append(out, string(m))
	}
	sort.Strings(out)
	return out
}

func sameStrings(a, b []string) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// TestSetMatchesModel runs random operations with integer and string
// members under several limits and compares every answer with a map.
func TestSetMatchesModel(t *testing.T) {
	limits := []Limits{DefaultLimits(), {MaxIntsetEntries: 8, MaxListpackEntries: 6, MaxListpackValue: 3}, {MaxIntsetEntries: 512, MaxListpackEntries: 0, MaxListpackValue: 64}}
	for li, lim := range limits {
		for seed := uint64(1); seed <= 8; seed++ {
			t.Run(fmt.Sprintf("limits%d/seed%d", li, seed), func(t *testing.T) {
				rnd := rand.New(rand.NewPCG(seed, 5))
				intsOnly := seed%2 == 0
				member := func() []byte {
					if intsOnly || rnd.IntN(3) > 0 {
						return []byte(fmt.Sprint(rnd.IntN(60) - 30))
					}
					return []byte(fmt.Sprintf("s%d", rnd.IntN(30)))
				}
				first := member()
				s := New(lim, first, 1)
				m := model{}
				for op := 0; op < 3000; op++ {
					switch rnd.IntN(10) {
					case 0, 1, 2, 3:
						mb := member()
						if got, want := s.Add(lim, mb), !m[string(mb)]; got != want {
							t.Fatalf("op %d: Add(%s) = %v want %v", op, mb, got, want)
						}
						m[string(mb)] = true
					case 4, 5:
						mb := member()
						if got, want := s.Remove(mb), m[string(mb)]; got != want {
							t.Fatalf("op %d: Remove(%s) = %v want %v", op, mb, got, want)
						}
						delete(m, string(mb))
					case 6:
						mb := member()
						if s.IsMember(mb) != m[string(mb)] {
							t.Fatalf("op %d: IsMember(%s) wrong", op, mb)
						}
					case 7:
						if rnd.IntN(5) != 0 {
							continue
						}
						for _, p := range s.Pop(rnd.IntN(4)+1, rnd) {
							if !m[string(p)] {
								t.Fatalf("op %d: popped %s which is not a member", op, p)
							}
							delete(m, string(p))
						}
					case 8:
						seen := model{}
						cursor := uint64(0)
						for {
							var page [][]byte
							cursor, page = s.Scan(cursor, 3, nil)
							for _, p := range page {
								seen[string(p)] = true
							}
							if cursor == 0 {
								break
							}
						}
						if !sameStrings(seen.sorted(), m.sorted()) {
							t.Fatalf("op %d: Scan saw %v want %v", op, seen.sorted(), m.sorted())
						}
					case 9:
						c := s.Clone()
						if !sameStrings(members(c), m.sorted()) || c.Encoding() != s.Encoding() {
							t.Fatalf("op %d: Clone differs", op)
						}
					}
					if s.Len() != len(m) {
						t.Fatalf("op %d: Len %d want %d", op, s.Len(), len(m))
					}
					switch s.Encoding() {
					case "intset":
						if s.Len() > lim.MaxIntsetEntries {
							t.Fatalf("op %d: intset of %d over limit", op, s.Len())
						}
					case "listpack":
						if s.Len() > lim.MaxListpackEntries {
							t.Fatalf("op %d: listpack of %d over limit", op, s.Len())
						}
					}
				}
				if !sameStrings(members(s), m.sorted()) {
					t.Fatalf("final members %v want %v", members(s), m.sorted())
				}
			})
		}
	}
}
