package set

import "slices"

// Inter is SINTER/SINTERSTORE: the members of every set, built as
// SINTERSTORE builds its result (an empty intset, then adding the members of
// the smallest set that are in all others, in its order). A nil set is a
// missing key, which makes the result empty.
func Inter(lim Limits, sets []*Set) *Set {
	dst := &Set{}
	InterEach(sets, 0, func(m []byte) { dst.Add(lim, m) })
	return dst
}

// InterCard is SINTERCARD: the intersection's size, stopping at limit (0
// means no limit).
func InterCard(sets []*Set, limit int) int {
	n := 0
	InterEach(sets, limit, func([]byte) { n++ })
	return n
}

// InterEach calls emit for each member of the intersection, in the order
// of the smallest set (the order SINTER replies in), stopping after limit
// members (0 means no limit). Emitted slices are only valid during the
// call.
func InterEach(sets []*Set, limit int, emit func([]byte)) {
	if len(sets) == 0 || slices.Contains(sets, nil) {
		return
	}
	// Smallest first (Redis sorts by cardinality; the sort is stable so
	// equal sizes keep their order).
	src := slices.Clone(sets)
	slices.SortStableFunc(src, func(a, b *Set) int { return a.Len() - b.Len() })
	n := 0
	for m := range src[0].All() {
		in := true
		for _, o := range src[1:] {
			if o != src[0] && !o.IsMember(m) {
				in = false
				break
			}
		}
		if !in {
			continue
		}
		emit(m)
		if n++; limit > 0 && n >= limit {
			return
		}
	}
}

// Union is SUNION/SUNIONSTORE: every member of any set, added in order to an
// empty intset (so the result is encoded as SUNIONSTORE stores it). Nil sets
// are missing keys.
func Union(lim Limits, sets []*Set) *Set {
	dst := &Set{}
	for _, s := range sets {
		if s == nil {
			continue
		}
		for m := range s.All() {
			dst.Add(lim, m)
		}
	}
	return dst
}

// Diff is SDIFF/SDIFFSTORE: the members of the first set that are in no
// other, in the first set's order. Nil sets are missing keys.
func Diff(lim Limits, sets []*Set) *Set {
	dst := &Set{}
	if len(sets) == 0 || sets[0] == nil {
		return dst
	}
	for _, o := range sets[1:] {
		if o == sets[0] {
			return dst
		}
	}
next:
	for m := range sets[0].All() {
		for _, o := range sets[1:] {
			if o != nil && o.IsMember(m) {
				continue next
			}
		}
		dst.Add(lim, m)
	}
	return dst
}
