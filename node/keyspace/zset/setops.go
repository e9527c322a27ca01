package zset

import (
	"iter"
	"math"
	"slices"
	"unsafe"
)

// Aggregate is ZUNION/ZINTER's AGGREGATE option.
type Aggregate uint8

const (
	AggregateSum Aggregate = iota
	AggregateMin
	AggregateMax
)

// Members is a plain set used as an input of the set operations, where
// every member has score 1 (Redis accepts sets there). Yielded slices are
// only valid during the callback.
type Members interface {
	Len() int
	IsMember(member []byte) bool
	All() iter.Seq[[]byte]
}

// Input is one source key of ZUNION/ZINTER/ZDIFF: a sorted set, a plain
// set, or neither (a missing key, which is empty). Weight defaults to 1 in
// Redis; the caller sets it.
type Input struct {
	Z      *ZSet
	Set    Members
	Weight float64
}

func (in *Input) len() int {
	switch {
	case in.Z != nil:
		return in.Z.Len()
	case in.Set != nil:
		return in.Set.Len()
	}
	return 0
}

func (in *Input) all() iter.Seq2[[]byte, float64] {
	return func(yield func([]byte, float64) bool) {
		switch {
		case in.Z != nil:
			for m, s := range in.Z.All() {
				if !yield(m, s) {
					return
				}
			}
		case in.Set != nil:
			for m := range in.Set.All() {
				if !yield(m, 1) {
					return
				}
			}
		}
	}
}

func (in *Input) score(member []byte) (float64, bool) {
	switch {
	case in.Z != nil:
		return in.Z.Score(member)
	case in.Set != nil:
		return 1, in.Set.IsMember(member)
	}
	return 0, false
}

// same reports whether two inputs are the same key's value.
func (in *Input) same(o *Input) bool {
	if in.Z != nil || o.Z != nil {
		return in.Z == o.Z
	}
	return in.Set != nil && in.Set == o.Set
}

// weighted is Redis's weight*score with NaN (0*inf) turned into 0.
func weighted(w, s float64) float64 {
	v := w * s
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// aggregate is zunionInterAggregate.
func aggregate(agg Aggregate, target *float64, v float64) {
	switch agg {
	case AggregateSum:
		*target += v
		if math.IsNaN(*target) {
			*target = 0
		}
	case AggregateMin:
		if v < *target {
			*target = v
		}
	case AggregateMax:
		if v > *target {
			*target = v
		}
	}
}

// bySize orders inputs by cardinality, as Redis does (a stable sort, so
// equal sizes keep their order and float sums add up in the same order).
func bySize(inputs []Input) []Input {
	s := slices.Clone(inputs)
	slices.SortStableFunc(s, func(a, b Input) int { return a.len() - b.len() })
	return s
}

// arena copies members into shared backing arrays so results do not alias
// inputs and do not cost an allocation each.
type arena struct{ buf []byte }

func (a *arena) copy(m []byte) []byte {
	if cap(a.buf)-len(a.buf) < len(m) {
		a.buf = make([]byte, 0, max(4096, len(m)))
	}
	n := len(a.buf)
	a.buf = append(a.buf, m...)
	return a.buf[n:len(a.buf):len(a.buf)]
}

func sortEntries(e []Entry) { slices.SortFunc(e, compareEntries) }

// InterEntries is ZINTER/ZINTERSTORE: members present in every input,
// scored by the weighted aggregate, in order. ZINTERSTORE stores them with
// FromSorted; ZINTER replies with them as they are, which keeps what a
// stored set would not (a -0 score, which Redis's listpack stores as 0 but
// its ZINTER answers as -0).
func InterEntries(inputs []Input, agg Aggregate) []Entry {
	return interEntries(inputs, agg, 0)
}

// InterCard is ZINTERCARD: the intersection's size, stopping at limit
// (0 means no limit).
func InterCard(inputs []Input, limit int) int {
	return len(interEntries(inputs, AggregateSum, limit))
}

func interEntries(inputs []Input, agg Aggregate, limit int) []Entry {
	if len(inputs) == 0 {
		return nil
	}
	src := bySize(inputs)
	if src[0].len() == 0 {
		return nil
	}
	var out []Entry
	var ar arena
	for m, s := range src[0].all() {
		score := weighted(src[0].Weight, s)
		j := 1
		for ; j < len(src); j++ {
			var v float64
			if src[j].same(&src[0]) {
				v = s
			} else {
				var ok bool
				if v, ok = src[j].score(m); !ok {
					break
				}
			}
			aggregate(agg, &score, weighted(src[j].Weight, v))
		}
		if j < len(src) {
			continue
		}
		if limit > 0 {
			out = append(out, Entry{})
			if len(out) >= limit {
				break
			}
			continue
		}
		out = append(out, Entry{ar.copy(m), score})
	}
	sortEntries(out)
	return out
}

// UnionEntries is ZUNION/ZUNIONSTORE: every member of any input, scored by
// the weighted aggregate over the inputs that hold it, in order (see
// InterEntries).
func UnionEntries(inputs []Input, agg Aggregate) []Entry {
	src := bySize(inputs)
	size := 0
	if len(src) > 0 {
		size = src[len(src)-1].len()
	}
	index := make(map[string]int, size)
	out := make([]Entry, 0, size)
	var ar arena
	for i := range src {
		for m, s := range src[i].all() {
			score := weighted(src[i].Weight, s)
			if k, ok := index[string(m)]; ok {
				aggregate(agg, &out[k].Score, score)
				continue
			}
			c := ar.copy(m)
			// The key views the arena copy, which is never written again.
			index[unsafe.String(unsafe.SliceData(c), len(c))] = len(out)
			out = append(out, Entry{c, score})
		}
	}
	sortEntries(out)
	return out
}

// DiffEntries is ZDIFF/ZDIFFSTORE: members of the first input that are in
// no other, with their first-input scores (weights do not apply), in order
// (see InterEntries).
func DiffEntries(inputs []Input) []Entry {
	if len(inputs) == 0 || inputs[0].len() == 0 {
		return nil
	}
	for j := 1; j < len(inputs); j++ {
		if inputs[j].same(&inputs[0]) {
			return nil
		}
	}
	var out []Entry
	var ar arena
next:
	for m, s := range inputs[0].all() {
		for j := 1; j < len(inputs); j++ {
			if _, ok := inputs[j].score(m); ok {
				continue next
			}
		}
		out = append(out, Entry{ar.copy(m), s})
	}
	sortEntries(out)
	return out
}
