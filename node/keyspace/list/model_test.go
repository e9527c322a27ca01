package list

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// checkInvariants verifies the node structure: links, counts, entry
// boundaries in both directions, node size limits and no empty nodes.
func checkInvariants(t testing.TB, l *List) {
	t.Helper()
	count, nodes := 0, 0
	var prev *node
	for n := l.head; n != nil; n = n.next {
		if n.prev != prev {
			t.Fatalf("node %d: prev link broken", nodes)
		}
		if n.count <= 0 {
			t.Fatalf("node %d: count %d, empty nodes must be unlinked", nodes, n.count)
		}
		if n.lo < 0 || n.lo > n.hi || int(n.hi) > len(n.buf) {
			t.Fatalf("node %d: lo %d hi %d len %d", nodes, n.lo, n.hi, len(n.buf))
		}
		k, off := 0, int(n.lo)
		for off < int(n.hi) {
			_, off = readForward(n.buf, off)
			k++
		}
		if off != int(n.hi) || k != int(n.count) {
			t.Fatalf("node %d: forward walk ends at %d (hi %d) after %d entries (count %d)", nodes, off, n.hi, k, n.count)
		}
		k, off = 0, int(n.hi)
		for off > int(n.lo) {
			_, off = readBackward(n.buf, off)
			k++
		}
		if off != int(n.lo) || k != int(n.count) {
			t.Fatalf("node %d: backward walk ends at %d (lo %d) after %d entries", nodes, off, n.lo, k)
		}
		if n.count > 1 && n.size() > l.limit() {
			t.Fatalf("node %d: %d bytes in %d entries exceeds the %d-byte limit", nodes, n.size(), n.count, l.limit())
		}
		if l.fill > 0 && n.count > l.fill {
			t.Fatalf("node %d: %d entries exceeds fill %d", nodes, n.count, l.fill)
		}
		count += int(n.count)
		nodes++
		prev = n
	}
	if l.tail != prev {
		t.Fatal("tail does not point at the last node")
	}
	if count != l.count || nodes != int(l.nodes) {
		t.Fatalf("list says %d elements in %d nodes, found %d in %d", l.count, l.nodes, count, nodes)
	}
}

// model is the naive list the property test compares against.
type model [][]byte

func (m model) strings() []string {
	out := make([]string, len(m))
	for i, v := range m {
		out[i] = string(v)
	}
	return out
}

func (m model) normRange(start, stop int) (int, int, bool) {
	n := len(m)
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	if start > stop || start >= n {
		return 0, 0, false
	}
	return start, min(stop, n-1), true
}

// randValue draws from a small alphabet so that LREM, LPOS and LINSERT
// find matches, with occasional long values to cross node limits and the
// one-byte length encoding.
func randValue(r *rand.Rand) []byte {
	switch r.IntN(20) {
	case 0:
		return bytes.Repeat([]byte{'L'}, 100+r.IntN(3000))
	case 1:
		return bytes.Repeat([]byte{'H'}, 5000)
	case 2:
		return []byte{}
	}
	return []byte{byte('a' + r.IntN(4))}
}

func randIndex(r *rand.Rand, n int) int {
	return r.IntN(2*n+6) - n - 3
}

// TestListMatchesNaiveModel applies random operations to a List and to a
// slice, comparing replies and contents after each step, for fills that
// produce one-element nodes, small nodes and byte-limited nodes.
func TestListMatchesNaiveModel(t *testing.T) {
	for _, fill := range []int{-1, -2, 1, 2, 5} {
		for seed := uint64(1); seed <= 8; seed++ {
			t.Run(fmt.Sprintf("fill%d/seed%d", fill, seed), func(t *testing.T) {
				runModel(t, fill, rand.New(rand.NewPCG(seed, uint64(fill+10))), 3000)
			})
		}
	}
}

func runModel(t *testing.T, fill int, r *rand.Rand, steps int) {
	l, l2 := New(fill), New(fill)
	var m, m2 model
	for step := 0; step < steps; step++ {
		var op string
		switch k := r.IntN(100); {
		case k < 25:
			v := randValue(r)
			if r.IntN(2) == 0 {
				op = "LPUSH"
				l.Push(Head, v)
				m = slices.Insert(m, 0, v)
			} else {
				op = "RPUSH"
				l.Push(Tail, v)
				m = append(m, v)
			}
		case k < 37:
			end := End(r.IntN(2))
			op = fmt.Sprintf("POP %d", end)
			v, ok := l.Pop(end)
			if ok != (len(m) > 0) {
				t.Fatalf("step %d %s: ok %v with model len %d", step, op, ok, len(m))
			}
			if ok {
				i := 0
				if end == Tail {
					i = len(m) - 1
				}
				if !bytes.Equal(v, m[i]) {
					t.Fatalf("step %d %s: got %q want %q", step, op, v, m[i])
				}
				m = slices.Delete(m, i, i+1)
			}
		case k < 45:
			i := randIndex(r, len(m))
			op = fmt.Sprintf("LINDEX %d", i)
			v, ok := l.Index(i)
			j, want := normIndex(i, len(m))
			if ok != want || (ok && !bytes.Equal(v, m[j])) {
				t.Fatalf("step %d %s: got %q,%v", step, op, v, ok)
			}
		case k < 53:
			i := randIndex(r, len(m))
			v := randValue(r)
			op = fmt.Sprintf("LSET %d len %d", i, len(v))
			ok := l.Set(i, v)
			j, want := normIndex(i, len(m))
			if ok != want {
				t.Fatalf("step %d %s: ok %v", step, op, ok)
			}
			if ok {
				m[j] = v
			}
		case k < 61:
			pivot, v := randValue(r), randValue(r)
			after := r.IntN(2) == 0
			op = fmt.Sprintf("LINSERT after=%v %q", after, pivot)
			got := l.Insert(pivot, v, after)
			want := -1
			if i := slices.IndexFunc(m, func(e []byte) bool { return bytes.Equal(e, pivot) }); i >= 0 {
				if after {
					i++
				}
				m = slices.Insert(m, i, v)
				want = len(m)
			}
			if got != want {
				t.Fatalf("step %d %s: got %d want %d", step, op, got, want)
			}
		case k < 67:
			count := r.IntN(7) - 3
			v := randValue(r)
			op = fmt.Sprintf("LREM %d %q", count, v)
			got := l.Remove(count, v)
			want := 0
			quota := max(count, -count)
			if count >= 0 {
				for i := 0; i < len(m) && (quota == 0 || want < quota); {
					if bytes.Equal(m[i], v) {
						m = slices.Delete(m, i, i+1)
						want++
					} else {
						i++
					}
				}
			} else {
				for i := len(m) - 1; i >= 0 && want < quota; i-- {
					if bytes.Equal(m[i], v) {
						m = slices.Delete(m, i, i+1)
						want++
					}
				}
			}
			if got != want {
				t.Fatalf("step %d %s: removed %d want %d", step, op, got, want)
			}
		case k < 70:
			start, stop := randIndex(r, len(m)), randIndex(r, len(m))
			if r.IntN(3) > 0 { // mostly trims that keep something
				start, stop = r.IntN(3), -1-r.IntN(3)
			}
			op = fmt.Sprintf("LTRIM %d %d", start, stop)
			l.Trim(start, stop)
			if from, to, ok := m.normRange(start, stop); ok {
				m = m[from : to+1]
			} else {
				m = nil
			}
		case k < 80:
			start, stop := randIndex(r, len(m)), randIndex(r, len(m))
			op = fmt.Sprintf("LRANGE %d %d", start, stop)
			got := rangeOf(l, start, stop)
			want := []string{}
			if from, to, ok := m.normRange(start, stop); ok {
				want = m[from : to+1].strings()
			}
			if !slices.Equal(got, want) {
				t.Fatalf("step %d %s: got %q want %q", step, op, got, want)
			}
		case k < 88:
			v := randValue(r)
			rank := r.IntN(3) + 1
			if r.IntN(2) == 0 {
				rank = -rank
			}
			count, maxlen := r.IntN(3), r.IntN(len(m)+2)
			op = fmt.Sprintf("LPOS %q RANK %d COUNT %d MAXLEN %d", v, rank, count, maxlen)
			got := l.Pos(nil, v, rank, count, maxlen)
			want := m.pos(v, rank, count, maxlen)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d %s: got %v want %v", step, op, got, want)
			}
		default:
			from, to := End(r.IntN(2)), End(r.IntN(2))
			dst, md := l2, &m2
			if r.IntN(3) == 0 {
				dst, md = l, &m
			}
			op = fmt.Sprintf("LMOVE %d %d same=%v", from, to, dst == l)
			v, ok := Move(l, dst, from, to)
			if ok != (len(m) > 0) {
				t.Fatalf("step %d %s: ok %v", step, op, ok)
			}
			if ok {
				i := 0
				if from == Tail {
					i = len(m) - 1
				}
				mv := m[i]
				m = slices.Delete(m, i, i+1)
				if to == Head {
					*md = slices.Insert(*md, 0, mv)
				} else {
					*md = append(*md, mv)
				}
				if !bytes.Equal(v, mv) {
					t.Fatalf("step %d %s: moved %q want %q", step, op, v, mv)
				}
			}
		}
		if l.Len() != len(m) {
			t.Fatalf("step %d %s: Len %d want %d", step, op, l.Len(), len(m))
		}
		if step%7 == 0 || step == steps-1 {
			checkInvariants(t, l)
			checkInvariants(t, l2)
			if got := contents(l); !slices.Equal(got, m.strings()) && len(m) > 0 {
				t.Fatalf("step %d %s: contents differ\n got %q\nwant %q", step, op, got, m.strings())
			}
			if got := contents(l2); !slices.Equal(got, m2.strings()) && len(m2) > 0 {
				t.Fatalf("step %d %s: destination contents differ", step, op)
			}
			if got := backward(l); !slices.Equal(got, reversed(m.strings())) && len(m) > 0 {
				t.Fatalf("step %d %s: backward iteration differs", step, op)
			}
		}
	}
}

func (m model) pos(v []byte, rank, count, maxlen int) []int {
	var out []int
	matches := 0
	n := len(m)
	for index := 0; index < n && (maxlen == 0 || index < maxlen); index++ {
		i := index
		if rank < 0 {
			i = n - 1 - index
		}
		if !bytes.Equal(m[i], v) {
			continue
		}
		matches++
		if matches >= max(rank, -rank) {
			out = append(out, i)
			if count != 0 && len(out) >= count {
				break
			}
		}
	}
	return out
}

func backward(l *List) []string {
	var out []string
	it := l.Backward()
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		out = append(out, string(v))
	}
	return out
}

func reversed(s []string) []string {
	s = slices.Clone(s)
	slices.Reverse(s)
	return s
}

func TestBigListKeepsElementsAcrossManyNodes(t *testing.T) {
	l := New(DefaultFill)
	const n = 200000
	for i := 0; i < n; i++ {
		l.Push(Tail, []byte(fmt.Sprint(i)))
	}
	checkInvariants(t, l)
	for _, i := range []int{0, 1, n / 3, n / 2, n - 2, n - 1} {
		v, ok := l.Index(i)
		if !ok || string(v) != fmt.Sprint(i) {
			t.Fatalf("LINDEX %d = %q,%v", i, v, ok)
		}
		v, _ = l.Index(i - n)
		if string(v) != fmt.Sprint(i) {
			t.Fatalf("LINDEX %d = %q", i-n, v)
		}
	}
	if got := rangeOf(l, n/2, n/2+2); !slices.Equal(got, []string{fmt.Sprint(n / 2), fmt.Sprint(n/2 + 1), fmt.Sprint(n/2 + 2)}) {
		t.Fatalf("LRANGE in the middle = %q", got)
	}
	l.Trim(1000, -1001)
	checkInvariants(t, l)
	if v, _ := l.Index(0); string(v) != "1000" || l.Len() != n-2000 {
		t.Fatalf("after LTRIM head %q len %d", v, l.Len())
	}
	if strings.Contains(fmt.Sprint(l.nodes), "-") {
		t.Fatal("negative node count")
	}
}
