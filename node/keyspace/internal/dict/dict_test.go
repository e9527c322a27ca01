package dict

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func insertKey(t *Table[int], k string, v int) {
	t.Insert(&Entry[int]{Key: k, Val: v})
}

// TestTableMatchesMap drives random inserts and deletes (through growth,
// shrinking and incremental rehashing) and compares with a Go map.
func TestTableMatchesMap(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	tab := New[int](0)
	model := map[string]int{}
	for op := 0; op < 200000; op++ {
		k := fmt.Sprintf("k%d", rnd.IntN(3000))
		switch rnd.IntN(3) {
		case 0, 1:
			if _, ok := model[k]; !ok && op < 150000 {
				insertKey(tab, k, op)
				model[k] = op
			}
		case 2:
			e := tab.Delete([]byte(k))
			_, ok := model[k]
			if (e != nil) != ok {
				t.Fatalf("op %d: delete %q returned %v, model has it: %v", op, k, e, ok)
			}
			delete(model, k)
		}
		if tab.Len() != len(model) {
			t.Fatalf("op %d: Len %d, model %d", op, tab.Len(), len(model))
		}
		if op%997 == 0 {
			for mk, mv := range model {
				e := tab.Find([]byte(mk))
				if e == nil || e.Val != mv {
					t.Fatalf("op %d: Find(%q) = %v, want %d", op, mk, e, mv)
				}
			}
		}
	}
	n := 0
	for e := range tab.All() {
		if model[e.Key] != e.Val {
			t.Fatalf("All yielded %q=%d, model %d", e.Key, e.Val, model[e.Key])
		}
		n++
	}
	if n != len(model) {
		t.Fatalf("All yielded %d entries, want %d", n, len(model))
	}
}

// TestScanReturnsEveryStableElementAcrossResizes checks Redis's SCAN
// guarantee: an element present during the whole scan is returned at least
// once, even while the table grows and shrinks between calls.
func TestScanReturnsEveryStableElementAcrossResizes(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		rnd := rand.New(rand.NewPCG(seed, 7))
		tab := New[int](0)
		stable := map[string]bool{}
		for i := 0; i < 500; i++ {
			k := fmt.Sprintf("s%d", i)
			insertKey(tab, k, i)
			stable[k] = true
		}
		seen := map[string]bool{}
		churn := 0
		cursor := uint64(0)
		for calls := 0; ; calls++ {
			cursor = tab.Scan(cursor, func(e *Entry[int]) { seen[e.Key] = true })
			if cursor == 0 {
				break
			}
			if calls > 1_000_000 {
				t.Fatal("scan did not terminate")
			}
			// Grow a lot, then shrink, while scanning.
			switch phase := calls % 40; {
			case phase < 20:
				for j := 0; j < rnd.IntN(200); j++ {
					insertKey(tab, fmt.Sprintf("c%d", churn), churn)
					churn++
				}
			default:
				for j := 0; j < rnd.IntN(400) && churn > 0; j++ {
					churn--
					tab.Delete([]byte(fmt.Sprintf("c%d", churn)))
				}
			}
		}
		for k := range stable {
			if !seen[k] {
				t.Fatalf("seed %d: stable element %q never returned by scan", seed, k)
			}
		}
	}
}

func TestScanOfEmptyTableIsDone(t *testing.T) {
	if c := New[int](0).Scan(0, func(*Entry[int]) { t.Fatal("emitted from empty table") }); c != 0 {
		t.Fatalf("cursor = %d, want 0", c)
	}
}

// TestRandomCoversAllEntries checks that random picks reach every entry,
// including while the table is rehashing.
func TestRandomCoversAllEntries(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	tab := New[int](0)
	for i := 0; i < 64; i++ {
		insertKey(tab, fmt.Sprintf("r%d", i), i)
	}
	insertKey(tab, "trigger", -1) // starts a rehash to 128 buckets
	if !tab.rehashing() {
		t.Fatal("expected an incremental rehash in progress")
	}
	counts := map[string]int{}
	for i := 0; i < 65*400; i++ {
		counts[tab.Random(rnd).Key]++
	}
	if len(counts) != 65 {
		t.Fatalf("random reached %d distinct entries, want 65", len(counts))
	}
	if New[int](0).Random(rnd) != nil {
		t.Fatal("random of empty table should be nil")
	}
}

func TestTableShrinksWhenSparse(t *testing.T) {
	tab := New[int](0)
	for i := 0; i < 1024; i++ {
		insertKey(tab, fmt.Sprintf("x%d", i), i)
	}
	for i := 0; i < 1020; i++ {
		tab.Delete([]byte(fmt.Sprintf("x%d", i)))
	}
	for i := 0; i < 100; i++ {
		tab.Find([]byte("x1023")) // drive the incremental rehash
	}
	if got := len(tab.ht[0]); tab.rehashing() || tab.Len()*100/got < minFill {
		t.Fatalf("table has %d buckets for %d entries, want fill >= %d%%", got, tab.Len(), minFill)
	}
}

func TestAllocSizeRoundsToSizeClass(t *testing.T) {
	for _, c := range []struct{ n, want int }{{0, 0}, {1, 8}, {9, 16}, {24, 24}, {25, 32}, {1025, 1152}, {32768, 32768}, {32769, 40960}} {
		if got := AllocSize(c.n); got != c.want {
			t.Errorf("AllocSize(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

func BenchmarkFind(b *testing.B) {
	tab := New[int](0)
	keys := make([][]byte, 10000)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("member:%d", i))
		insertKey(tab, string(keys[i]), i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if tab.Find(keys[i%len(keys)]) == nil {
			b.Fatal("missing")
		}
	}
}

// TestRandomIsUniform checks that random picks do not favour entries in
// short chains (Redis's dictGetRandomKey does). The table's hash seed is
// random, so now and then a chain is longer than fairChain, where Random
// is documented to pick each entry fairChain/k as often: each entry's
// count is checked against what its chain length promises.
func TestRandomIsUniform(t *testing.T) {
	rnd := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{100, 1000, 1025} { // 1025 is mid-rehash
		tab := New[int](0)
		for i := 0; i < n; i++ {
			insertKey(tab, fmt.Sprintf("u%d", i), i)
		}
		counts := make([]int, n)
		const per = 400
		for i := 0; i < n*per; i++ {
			counts[tab.Random(rnd).Val]++
		}
		chain := chainLengths(tab) // after the picks, which finish a rehash
		for k, c := range counts {
			want := per * min(chain[k], fairChain) / chain[k]
			if c < want*6/10 || c > want*14/10 {
				t.Fatalf("n=%d: entry %d (chain of %d) picked %d times, expected about %d", n, k, chain[k], c, want)
			}
		}
	}
}

// chainLengths maps each entry's value to the length of its chain.
func chainLengths(tab *Table[int]) map[int]int {
	out := map[int]int{}
	for _, ht := range tab.ht {
		for _, head := range ht {
			k := 0
			for e := head; e != nil; e = e.next {
				k++
			}
			for e := head; e != nil; e = e.next {
				out[e.Val] = k
			}
		}
	}
	return out
}
