package sort

import (
	"bytes"
	"math"
	"slices"
	"strings"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/hash"
	"github.com/shoal-dev/shoal/node/keyspace/list"
	"github.com/shoal-dev/shoal/node/keyspace/set"
	"github.com/shoal-dev/shoal/node/keyspace/zset"
)

const (
	errByCluster  = "ERR BY option of SORT denied in Cluster mode."
	errGetCluster = "ERR GET option of SORT denied in Cluster mode."
	errNotDouble  = "ERR One or more scores can't be converted into double"
	errByACL      = "ERR BY option of SORT denied due to insufficient ACL permissions."
	errGetACL     = "ERR GET option of SORT denied due to insufficient ACL permissions."
)

// options are SORT's arguments after the key.
type options struct {
	desc, alpha bool
	// dontSort: BY a pattern without '*' (no weights to look up).
	dontSort bool
	by       []byte // nil: sort by the elements themselves
	gets     [][]byte
	store    []byte // nil: reply
	limitOff int64
	limitCnt int64 // -1: to the end
}

// elem is one element of the sorting vector (Redis's redisSortObject):
// its value, its numeric weight, or for ALPHA the bytes compared (its BY
// value, or itself; cut at a zero byte unless storing, as strcoll sees
// them; noCmp when the BY key is missing).
type elem struct {
	obj   []byte
	score float64
	cmp   []byte
	noCmp bool
	pos   int // input position: equal elements keep their order
}

func cmdSort(c *command.Ctx)    { sortGeneric(c, false) }
func cmdSort_ro(c *command.Ctx) { sortGeneric(c, true) }

// sortGeneric is sortCommandGeneric: options first (the first bad one
// replies), then the key's type, then the vector, its weights, the sort
// and the output.
func sortGeneric(c *command.Ctx, readOnly bool) {
	o, ok := parseOptions(c, c.Args[2:], readOnly)
	if !ok {
		return
	}
	key := c.Args[1]
	var e *keyspace.Entry
	if o.store == nil {
		e = c.LookupRead(key)
	} else {
		e = c.DB.Lookup(key) // lookupKeyWrite: no hit/miss counted
	}
	if e != nil && e.Type() != keyspace.TypeList && e.Type() != keyspace.TypeSet && e.Type() != keyspace.TypeZSet {
		c.WrongType()
		return
	}
	// A set in no defined order is sorted as strings when stored, so that
	// replicas and the AOF store the same list.
	if o.dontSort && e != nil && e.Type() == keyspace.TypeSet && o.store != nil {
		o.dontSort, o.alpha, o.by = false, true, nil
	}
	if e != nil && e.Type() == keyspace.TypeZSet {
		e = skiplistEncoded(c, key, e)
	}
	n := 0
	if e != nil {
		n = e.Object().(interface{ Len() int }).Len()
	}
	start, end := limitRange(o.limitOff, o.limitCnt, n)
	vec, start, end := load(e, &o, start, end)
	if !o.dontSort {
		if !weigh(c, vec, &o) {
			c.Error(errNotDouble)
			return
		}
		sortVector(vec, &o)
	}
	var out []elem
	if end >= start {
		out = vec[start : end+1]
	}
	if o.store != nil {
		store(c, &o, out)
		return
	}
	reply(c, &o, out)
}

// parseOptions parses ASC, DESC, ALPHA, LIMIT off count, STORE dst (not
// for SORT_RO), BY pattern and GET pattern, replying the error itself. In
// cluster mode BY with a pattern and any GET are refused, as Redis 7.0,
// and so they are for a user who may not read every key (ACL).
func parseOptions(c *command.Ctx, args [][]byte, readOnly bool) (options, bool) {
	o := options{limitCnt: -1}
	cluster := c.Limits().ClusterEnabled
	fullAccess := c.FullKeyAccess()
	for j := 0; j < len(args); j++ {
		left := len(args) - j - 1
		switch {
		case command.EqFold(args[j], "asc"):
			o.desc = false
		case command.EqFold(args[j], "desc"):
			o.desc = true
		case command.EqFold(args[j], "alpha"):
			o.alpha = true
		case command.EqFold(args[j], "limit") && left >= 2:
			var ok bool
			if o.limitOff, ok = c.ParseInt(args[j+1]); !ok {
				return o, false
			}
			if o.limitCnt, ok = c.ParseInt(args[j+2]); !ok {
				return o, false
			}
			j += 2
		case !readOnly && command.EqFold(args[j], "store") && left >= 1:
			o.store = args[j+1]
			j++
		case command.EqFold(args[j], "by") && left >= 1:
			o.by = args[j+1]
			if bytes.IndexByte(cString(o.by), '*') < 0 {
				o.dontSort = true
			} else {
				o.dontSort = false
				if cluster {
					c.Error(errByCluster)
					return o, false
				}
				if !fullAccess {
					c.Error(errByACL)
					return o, false
				}
			}
			j++
		case command.EqFold(args[j], "get") && left >= 1:
			if cluster {
				c.Error(errGetCluster)
				return o, false
			}
			if !fullAccess {
				c.Error(errGetACL)
				return o, false
			}
			o.gets = append(o.gets, args[j+1])
			j++
		default:
			c.Error(command.ErrSyntax)
			return o, false
		}
	}
	if o.dontSort {
		o.by = nil
	}
	return o, true
}

// limitRange is SORT's LIMIT over n elements, clamped as Redis clamps it
// (no overflow on huge values): the inclusive range start..end, empty
// (end = start-1) when nothing is selected.
func limitRange(off, count int64, n int) (start, end int) {
	n64 := int64(n)
	s := min(max(off, 0), n64)
	cnt := min(max(count, -1), n64)
	e := n64 - 1
	if cnt >= 0 {
		e = s + cnt - 1
	}
	if s >= n64 {
		s, e = n64-1, n64-2
	}
	if e >= n64 {
		e = n64 - 1
	}
	return int(s), int(e)
}

// load builds the sorting vector. A list or sorted set that is not to be
// sorted is read in its order (reversed for DESC) and only the LIMIT
// range is loaded; start and end are then relative to the vector.
func load(e *keyspace.Entry, o *options, start, end int) ([]elem, int, int) {
	if e == nil {
		return nil, start, end
	}
	switch v := e.Object().(type) {
	case *list.List:
		if !o.dontSort {
			vec := make([]elem, 0, v.Len())
			for b := range v.All() {
				vec = append(vec, elem{obj: b})
			}
			return vec, start, end
		}
		if end < start {
			return nil, 0, -1
		}
		vec := make([]elem, 0, end-start+1)
		var it list.Iterator
		if o.desc {
			it = v.Range(v.Len()-1-end, v.Len()-1-start)
			for b, ok := it.Next(); ok; b, ok = it.Next() {
				vec = append(vec, elem{obj: b})
			}
			slices.Reverse(vec)
		} else {
			it = v.Range(start, end)
			for b, ok := it.Next(); ok; b, ok = it.Next() {
				vec = append(vec, elem{obj: b})
			}
		}
		return vec, 0, len(vec) - 1
	case *zset.ZSet:
		if !o.dontSort {
			vec := make([]elem, 0, v.Len())
			for m := range v.All() {
				vec = append(vec, elem{obj: m})
			}
			return vec, start, end
		}
		if end < start {
			return nil, 0, -1
		}
		entries := v.AppendRangeByRank(nil, start, end, o.desc)
		vec := make([]elem, len(entries))
		for i, en := range entries {
			vec[i] = elem{obj: en.Member}
		}
		return vec, 0, len(vec) - 1
	case *set.Set:
		// In the set's order (integer order for an intset), which equal
		// BY values keep, as in Redis (so SORT ... BY ... ALPHA STORE of
		// a hashtable set with ties may store another order on a replica,
		// as in Redis).
		members := v.AppendMembers(make([][]byte, 0, v.Len()))
		vec := make([]elem, len(members))
		for i, m := range members {
			vec[i] = elem{obj: m}
		}
		return vec, start, end
	}
	return nil, start, end
}

// skiplistEncoded converts a listpack sorted set to its skiplist encoding,
// as Redis's SORT does to every sorted set it sorts (OBJECT ENCODING then
// says "skiplist").
func skiplistEncoded(c *command.Ctx, key []byte, e *keyspace.Entry) *keyspace.Entry {
	z := e.Object().(*zset.ZSet)
	if z.Encoding() != "listpack" {
		return e
	}
	e = c.LookupWrite(key)
	entries := z.AppendRangeByRank(nil, 0, z.Len()-1, false)
	e.SetObject(zset.FromSorted(zset.Limits{}, entries))
	return e
}

// weigh loads the weights: the BY key's value (numeric or, with ALPHA,
// the string) or the element itself. It reports false when a numeric
// weight is not a double (strtod over the whole C string, no ERANGE, not
// NaN); a missing weight key weighs 0 (nil for ALPHA).
func weigh(c *command.Ctx, vec []elem, o *options) bool {
	ok := true
	for i := range vec {
		w := vec[i].obj
		if o.by != nil {
			var found bool
			if w, found = lookupByPattern(c, o.by, vec[i].obj, o.store != nil); !found {
				vec[i].noCmp = true
				continue
			}
		}
		if o.alpha {
			vec[i].cmp = w
			if o.store == nil {
				vec[i].cmp = cString(w)
			}
			continue
		}
		s := cString(w)
		f, n, erange := zset.Strtod(s)
		if n != len(s) || erange || math.IsNaN(f) {
			ok = false
		}
		vec[i].score = f
	}
	return ok
}

// sortVector is qsort with sortCompare. Redis's qsort (glibc's merge
// sort) keeps equal elements in input order: pdqsort with the input
// position as the last tie-break does the same in O(N log N) (Go's stable
// sort moves elements O(N log² N) times: 1M elements took seconds more).
func sortVector(vec []elem, o *options) {
	for i := range vec {
		vec[i].pos = i
	}
	mode := sortMode{alpha: o.alpha}
	sign := 1
	if o.desc {
		sign = -1
	}
	slices.SortFunc(vec, func(a, b elem) int {
		if r := mode.compare(&a, &b); r != 0 {
			return sign * r
		}
		return a.pos - b.pos
	})
}

// sortMode is what sortCompare reads from the server's sort_* globals
// (the others are settled by weigh).
type sortMode struct{ alpha bool }

// compare is sortCompare before DESC: numeric by weight, ties by the
// elements' bytes; ALPHA by the BY values (a missing one first) or the
// elements.
func (m sortMode) compare(a, b *elem) int {
	switch {
	case !m.alpha:
		switch {
		case a.score > b.score:
			return 1
		case a.score < b.score:
			return -1
		}
		return bytes.Compare(a.obj, b.obj)
	case a.noCmp || b.noCmp:
		switch {
		case a.noCmp && b.noCmp:
			return 0
		case a.noCmp:
			return -1
		}
		return 1
	}
	// Binary when storing (compareStringObjects), otherwise strcoll, which
	// in the C locale Redis runs in is strcmp: weigh cut the bytes at a
	// zero byte.
	return bytes.Compare(a.cmp, b.cmp)
}

// cString is b up to its first zero byte, as C's string functions see it.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// lookupByPattern is lookupKeyByPattern: "#" is the element itself;
// otherwise the first '*' of the pattern is replaced by the element and
// the key read as a string, or, with "->field" after the '*', the hash
// field read. found is false when there is no '*', no such key, or a key
// of another type.
func lookupByPattern(c *command.Ctx, pattern, subst []byte, write bool) (val []byte, found bool) {
	cs := cString(pattern)
	if len(cs) == 1 && cs[0] == '#' {
		return subst, true
	}
	p := bytes.IndexByte(cs, '*')
	if p < 0 {
		return nil, false
	}
	var field []byte
	keyEnd := len(pattern)
	if f := bytes.Index(cs[p+1:], []byte("->")); f >= 0 && p+1+f+2 < len(cs) {
		f += p + 1
		field = pattern[f+2:]
		keyEnd = f
	}
	k := make([]byte, 0, p+len(subst)+keyEnd-p-1)
	k = append(append(append(k, pattern[:p]...), subst...), pattern[p+1:keyEnd]...)
	var e *keyspace.Entry
	if write {
		e = c.DB.Lookup(k)
	} else {
		e = c.LookupRead(k)
	}
	switch {
	case e == nil:
		return nil, false
	case field != nil:
		if e.Type() != keyspace.TypeHash {
			return nil, false
		}
		return e.Object().(*hash.Hash).Get(field)
	case e.Type() != keyspace.TypeString:
		return nil, false
	}
	return e.Bytes(), true
}

// reply writes the sorted elements, or for each the values of the GET
// patterns (nil for a missing one).
func reply(c *command.Ctx, o *options, out []elem) {
	if len(o.gets) == 0 {
		c.W.ArrayLen(len(out))
		for i := range out {
			c.W.Bulk(out[i].obj)
		}
		return
	}
	c.W.ArrayLen(len(out) * len(o.gets))
	for i := range out {
		for _, g := range o.gets {
			if v, ok := lookupByPattern(c, g, out[i].obj, false); ok {
				c.W.Bulk(v)
			} else {
				c.W.Null()
			}
		}
	}
}

// store makes the destination the list of the output (GET values, ""
// for a missing one), replacing whatever it held and its TTL; an empty
// output deletes it. It replies the list's length.
func store(c *command.Ctx, o *options, out []elem) {
	dst := o.store
	l := list.New(c.Limits().Encoding.ListFill)
	for i := range out {
		if len(o.gets) == 0 {
			l.Push(list.Tail, out[i].obj)
			continue
		}
		for _, g := range o.gets {
			v, _ := lookupByPattern(c, g, out[i].obj, true)
			l.Push(list.Tail, v)
		}
	}
	n := l.Len()
	c.W.Int(int64(n))
	e := c.LookupWrite(dst)
	if n == 0 {
		if e != nil {
			c.DB.DeleteEntry(e)
			c.Modified(dst)
			c.Notify(command.NotifyGeneric, "del", dst)
		}
		return
	}
	if e != nil {
		c.DB.ReplaceObject(e, keyspace.TypeList, l)
	} else {
		c.DB.AddObject(dst, keyspace.TypeList, l)
	}
	c.Modified(dst)
	c.AddDirty(int64(n - 1))
	c.Notify(command.NotifyList, "sortstore", dst)
	c.SignalReady(dst)
}

// sortKeys is sortGetKeys: the key, and the destination of the last STORE
// (options of SORT are skipped with their arguments on the way).
func sortKeys(args [][]byte, dst []int) []int {
	dst = append(dst, 1)
	if store := storeKey(args); store > 0 {
		dst = append(dst, store)
	}
	return dst
}

// sortKeyRefs is sortKeys with each key's flags: the key is read, the
// destination overwritten.
func sortKeyRefs(args [][]byte, dst []command.KeyRef) []command.KeyRef {
	dst = append(dst, command.KeyRef{Pos: 1, Flags: command.KeyRO | command.KeyAccess})
	if store := storeKey(args); store > 0 {
		dst = append(dst, command.KeyRef{Pos: store, Flags: command.KeyOW | command.KeyUpdate})
	}
	return dst
}

// sortROKeyRefs is sortROKeys with the key's flags.
func sortROKeyRefs(args [][]byte, dst []command.KeyRef) []command.KeyRef {
	return append(dst, command.KeyRef{Pos: 1, Flags: command.KeyRO | command.KeyAccess})
}

// storeKey is the position of the last STORE's destination, 0 for none.
func storeKey(args [][]byte) int {
	store := 0
	for i := 2; i < len(args); i++ {
		switch a := string(args[i]); {
		case strings.EqualFold(a, "limit"):
			i += 2
		case strings.EqualFold(a, "get"), strings.EqualFold(a, "by"):
			i++
		case strings.EqualFold(a, "store") && i+1 < len(args):
			store = i + 1
		}
	}
	return store
}

// sortROKeys is sortROGetKeys: only the key.
func sortROKeys(args [][]byte, dst []int) []int { return append(dst, 1) }
