package rdb

import (
	"cmp"
	"fmt"
	"slices"
)

// Object is a decoded value in a neutral form, whatever its RDB encoding.
// Its slices may alias the decoded input.
type Object struct {
	Kind Kind
	// Type is the RDB type byte it was read from.
	Type byte
	// Str is a string's value.
	Str []byte
	// Elems is a list (head to tail) or a set's members; for a hash,
	// fields and values alternate; for a sorted set, the members, with
	// their scores in Scores.
	Elems  [][]byte
	Scores []float64
	// Stream is a stream's content.
	Stream *Stream
}

// DecodeObject decodes an object of type t that is exactly b.
func DecodeObject(t byte, b []byte) (Object, error) {
	r := NewReader(b)
	o := r.Object(t)
	if r.err == nil && r.Left() != 0 {
		r.fail("%d bytes after the value", r.Left())
	}
	return o, r.err
}

// Object reads an object of type t.
func (r *Reader) Object(t byte) Object {
	kind, ok := KindOf(t)
	if !ok {
		r.fail("unknown object type %d", t)
		return Object{}
	}
	o := Object{Kind: kind, Type: t}
	switch t {
	case TypeString:
		o.Str = r.String()
	case TypeList, TypeSet:
		n := r.Count(1)
		o.Elems = make([][]byte, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			o.Elems = append(o.Elems, r.String())
		}
	case TypeHash:
		n := r.Count(2)
		o.Elems = make([][]byte, 0, 2*n)
		for i := 0; i < n && r.err == nil; i++ {
			o.Elems = append(o.Elems, r.String(), r.String())
		}
	case TypeZSet, TypeZSet2:
		n := r.Count(2)
		o.Elems = make([][]byte, 0, n)
		o.Scores = make([]float64, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			o.Elems = append(o.Elems, r.String())
			if t == TypeZSet {
				o.Scores = append(o.Scores, r.Double())
			} else {
				o.Scores = append(o.Scores, r.BinaryDouble())
			}
		}
	case TypeListQuicklist:
		n := r.Count(1)
		for i := 0; i < n && r.err == nil; i++ {
			r.packed(&o, r.String(), walkZiplist)
		}
	case TypeListQuicklist2:
		n := r.Count(2)
		for i := 0; i < n && r.err == nil; i++ {
			switch c := r.Len(); c {
			case containerPlain:
				o.Elems = append(o.Elems, r.String())
			case containerPacked:
				r.packed(&o, r.String(), walkListpack)
			default:
				r.fail("quicklist node container %d", c)
			}
		}
	case TypeListZiplist, TypeHashZiplist, TypeZSetZiplist:
		r.packed(&o, r.String(), walkZiplist)
	case TypeHashListpack, TypeZSetListpack, TypeSetListpack:
		r.packed(&o, r.String(), walkListpack)
	case TypeSetIntset:
		r.packed(&o, r.String(), walkIntset)
	case TypeHashZipmap:
		r.packed(&o, r.String(), walkZipmap)
	case TypeStreamListpacks, TypeStreamListpacks2:
		o.Stream = r.stream(t)
	case TypeModule, TypeModule2:
		if r.err == nil {
			r.err = ErrUnsupported
		}
		return o
	}
	if r.err != nil {
		return o
	}
	switch kind {
	case KindHash:
		if len(o.Elems)%2 != 0 {
			r.fail("hash with an odd number of entries")
		}
	case KindZSet:
		if t == TypeZSetZiplist || t == TypeZSetListpack {
			r.splitScores(&o)
		}
	}
	if r.err == nil && kind != KindString && kind != KindStream && len(o.Elems) == 0 {
		r.err = fmt.Errorf("%w: %s", ErrEmpty, kind)
	}
	return o
}

// packed walks one packed string, appending its entries to o.Elems.
func (r *Reader) packed(o *Object, b []byte, walk func([]byte, func([]byte) error) error) {
	if r.err != nil {
		return
	}
	err := walk(b, func(e []byte) error {
		o.Elems = append(o.Elems, e)
		return nil
	})
	if err != nil && r.err == nil {
		r.err = err
	}
}

// splitScores turns the alternating member, score entries of a packed
// sorted set into Elems and Scores.
func (r *Reader) splitScores(o *Object) {
	if len(o.Elems)%2 != 0 {
		r.fail("sorted set with an odd number of entries")
		return
	}
	n := len(o.Elems) / 2
	members := make([][]byte, n)
	o.Scores = make([]float64, n)
	for i := 0; i < n; i++ {
		members[i] = o.Elems[2*i]
		f, ok := parseScore(o.Elems[2*i+1])
		if !ok {
			r.fail("bad score %q", o.Elems[2*i+1])
			return
		}
		o.Scores[i] = f
	}
	o.Elems = members
}

// SortedMembers returns a sorted set's members and scores in ascending
// (score, member) order.
func (o *Object) SortedMembers() (members [][]byte, scores []float64) {
	idx := make([]int, len(o.Elems))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(o.Scores[a], o.Scores[b]); c != 0 {
			return c
		}
		return slices.Compare(o.Elems[a], o.Elems[b])
	})
	members = make([][]byte, len(idx))
	scores = make([]float64, len(idx))
	for i, j := range idx {
		members[i], scores[i] = o.Elems[j], o.Scores[j]
	}
	return members, scores
}
