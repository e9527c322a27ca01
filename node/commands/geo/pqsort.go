package geo

// pqsort is Redis's pqsort.c (NetBSD's qsort, Bentley & McIlroy, that only
// recurses into partitions overlapping [lrange, rrange]), over points, so
// COUNT without ANY orders ties of distance as Redis does.
func pqsort(a []point, cmp distOrder, lrange, rrange int) {
	pqsortRange(a, 0, len(a), cmp, lrange, rrange)
}

func med3(a []point, i, j, k int, cmp distOrder) int {
	if cmp.compare(&a[i], &a[j]) < 0 {
		if cmp.compare(&a[j], &a[k]) < 0 {
			return j
		}
		if cmp.compare(&a[i], &a[k]) < 0 {
			return k
		}
		return i
	}
	if cmp.compare(&a[j], &a[k]) > 0 {
		return j
	}
	if cmp.compare(&a[i], &a[k]) < 0 {
		return i
	}
	return k
}

func vecswap(a []point, i, j, n int) {
	for ; n > 0; n-- {
		a[i], a[j] = a[j], a[i]
		i++
		j++
	}
}

func insertionSort(a []point, lo, n int, cmp distOrder) {
	for m := lo + 1; m < lo+n; m++ {
		for l := m; l > lo && cmp.compare(&a[l-1], &a[l]) > 0; l-- {
			a[l], a[l-1] = a[l-1], a[l]
		}
	}
}

// pqsortRange sorts a[lo:lo+n] (indices, not bytes: the C code's es is 1).
func pqsortRange(a []point, lo, n int, cmp distOrder, lrange, rrange int) {
	for {
		if n < 7 {
			insertionSort(a, lo, n, cmp)
			return
		}
		pm := lo + n/2
		if n > 7 {
			pl, pn := lo, lo+n-1
			if n > 40 {
				d := n / 8
				pl = med3(a, pl, pl+d, pl+2*d, cmp)
				pm = med3(a, pm-d, pm, pm+d, cmp)
				pn = med3(a, pn-2*d, pn-d, pn, cmp)
			}
			pm = med3(a, pl, pm, pn, cmp)
		}
		a[lo], a[pm] = a[pm], a[lo]
		pa, pb := lo+1, lo+1
		pc, pd := lo+n-1, lo+n-1
		swapped := false
		for {
			for pb <= pc {
				r := cmp.compare(&a[pb], &a[lo])
				if r > 0 {
					break
				}
				if r == 0 {
					swapped = true
					a[pa], a[pb] = a[pb], a[pa]
					pa++
				}
				pb++
			}
			for pb <= pc {
				r := cmp.compare(&a[pc], &a[lo])
				if r < 0 {
					break
				}
				if r == 0 {
					swapped = true
					a[pc], a[pd] = a[pd], a[pc]
					pd--
				}
				pc--
			}
			if pb > pc {
				break
			}
			a[pb], a[pc] = a[pc], a[pb]
			swapped = true
			pb++
			pc--
		}
		if !swapped {
			insertionSort(a, lo, n, cmp)
			return
		}
		pn := lo + n
		r := min(pa-lo, pb-pa)
		vecswap(a, lo, pb-r, r)
		r = min(pd-pc, pn-pd-1)
		vecswap(a, pb, pn-r, r)
		if r = pb - pa; r > 1 {
			if !((lrange < lo && rrange < lo) || (lrange > lo+r-1 && rrange > lo+r-1)) {
				pqsortRange(a, lo, r, cmp, lrange, rrange)
			}
		}
		if r = pd - pc; r > 1 {
			lo, n = pn-r, r
			if !((lrange < lo && rrange < lo) || (lrange > lo+r-1 && rrange > lo+r-1)) {
				continue
			}
		}
		return
	}
}

// distOrder orders points by distance, ascending or (desc) descending;
// equal distances compare equal. A type, not a func value, so the points
// sorted can stay on the stack.
type distOrder struct{ desc bool }

func (o distOrder) compare(a, b *point) int {
	r := 0
	if a.dist > b.dist {
		r = 1
	} else if a.dist < b.dist {
		r = -1
	}
	if o.desc {
		r = -r
	}
	return r
}
