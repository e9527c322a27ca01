package set

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// FuzzSetOps runs a byte-coded script of adds, removes and pops with tiny
// limits (so the intset, listpack and hashtable encodings and their
// conversions are exercised) and compares it with a map.
func FuzzSetOps(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 200, 1, 1, 2, 3, 0, 40, 0, 41})
	f.Add([]byte{0, 250, 0, 251, 0, 252, 0, 253, 0, 254, 3, 0, 1, 252})
	f.Fuzz(func(t *testing.T, script []byte) {
		lim := Limits{MaxIntsetEntries: 5, MaxListpackEntries: 4, MaxListpackValue: 3}
		member := func(b byte) []byte {
			if b >= 200 {
				return []byte("s" + strconv.Itoa(int(b%10)))
			}
			if b >= 150 {
				return []byte(strconv.Itoa(int(b)*1000003 - 100000000)) // wide integers
			}
			return []byte(strconv.Itoa(int(b%20) - 5))
		}
		var s *Set
		m := model{}
		var seed uint64
		for _, c := range script {
			seed = seed*31 + uint64(c)
		}
		rnd := rand.New(rand.NewPCG(seed, 1))
		for i := 0; i+1 < len(script); i += 2 {
			op, b := script[i]%4, script[i+1]
			mb := member(b)
			switch op {
			case 0:
				if s == nil {
					s = New(lim, mb, 1)
				}
				if got, want := s.Add(lim, mb), !m[string(mb)]; got != want {
					t.Fatalf("Add(%s) = %v, want %v", mb, got, want)
				}
				m[string(mb)] = true
			case 1:
				if s != nil && s.Remove(mb) != m[string(mb)] {
					t.Fatalf("Remove(%s) disagrees", mb)
				}
				delete(m, string(mb))
			case 2:
				if s != nil && s.IsMember(mb) != m[string(mb)] {
					t.Fatalf("IsMember(%s) disagrees", mb)
				}
			case 3:
				if s == nil {
					continue
				}
				for _, p := range s.Pop(int(b%3)+1, rnd) {
					if !m[string(p)] {
						t.Fatalf("popped %s, not a member", p)
					}
					delete(m, string(p))
				}
			}
			if s != nil && s.Len() != len(m) {
				t.Fatalf("Len = %d, want %d", s.Len(), len(m))
			}
		}
		if s != nil && !sameStrings(members(s), m.sorted()) {
			t.Fatalf("members %v, want %v", members(s), m.sorted())
		}
	})
}
