package zset

import (
	"math/bits"
	"math/rand/v2"
	"unsafe"

	"github.com/shoal-dev/shoal/node/keyspace/internal/dict"
)

// The "skiplist" encoding: William Pugh's skiplist as Redis uses it (repeated
// scores, ordered by member within a score, spans for ranks, a backward link
// at level 0), whose nodes are also the entries of a hash index keyed by
// member, so each member is stored once and found in O(1).

const (
	maxLevel = 32 // ZSKIPLIST_MAXLEVEL
)

type zlevel struct {
	forward *node
	span    int
}

type znode struct {
	score    float64
	backward *node
	nlevel   uint8 // number of levels, stored right after the node
}

// node is a skiplist node; Key is the member. Every node is the first
// field of one of the nodeN structs below, whose level array follows it in
// the same allocation: that saves a slice header per node (and puts a
// level-1 node in a 64-byte size class instead of 80).
type node = dict.Entry[znode]

// nodeSize is the offset of the levels from their node.
const nodeSize = unsafe.Sizeof(node{})

// levels returns the level array of x.
func levels(x *node) []zlevel {
	return unsafe.Slice((*zlevel)(unsafe.Add(unsafe.Pointer(x), nodeSize)), x.Val.nlevel)
}

type skiplist struct {
	header *node
	tail   *node
	length int
	level  int
	index  *dict.Table[znode]
	mem    int // bytes held by nodes (members are counted by the index)
}

func newSkiplist(hint int) *skiplist {
	h := &new(node32).n
	h.Val.nlevel = maxLevel
	return &skiplist{header: h, level: 1, index: dict.New[znode](hint)}
}

// randomLevel returns 1..maxLevel with P(level > k) = 4^-k (ZSKIPLIST_P 0.25).
func randomLevel() int {
	l := 1 + bits.TrailingZeros64(rand.Uint64()|1<<62)/2
	return min(l, maxLevel)
}

// The allocations that hold a node and its levels. Levels 1 to 4 (99.6%
// of nodes) fit exactly; rarer higher nodes use the next of 8, 16 or 32.
type (
	node1 struct {
		n node
		l [1]zlevel
	}
	node2 struct {
		n node
		l [2]zlevel
	}
	node3 struct {
		n node
		l [3]zlevel
	}
	node4 struct {
		n node
		l [4]zlevel
	}
	node8 struct {
		n node
		l [8]zlevel
	}
	node16 struct {
		n node
		l [16]zlevel
	}
	node32 struct {
		n node
		l [maxLevel]zlevel
	}
)

// newNode allocates a node of the given level and returns it with the bytes
// it occupies (node and levels; the member is the index's to count).
func newNode(level int, score float64, member string) (*node, int) {
	var x *node
	switch {
	case level == 1:
		x = &new(node1).n
	case level == 2:
		x = &new(node2).n
	case level == 3:
		x = &new(node3).n
	case level == 4:
		x = &new(node4).n
	case level <= 8:
		x = &new(node8).n
	case level <= 16:
		x = &new(node16).n
	default:
		x = &new(node32).n
	}
	x.Key = member
	x.Val.score = score
	x.Val.nlevel = uint8(level)
	return x, nodeMem(x)
}

// nodeMem is the allocation size of x's node and levels.
func nodeMem(x *node) int {
	capacity := int(x.Val.nlevel)
	if capacity > 4 {
		capacity = 1 << bits.Len(uint(capacity-1)) // 8, 16 or 32
	}
	return dict.AllocSize(int(nodeSize) + capacity*int(unsafe.Sizeof(zlevel{})))
}

// before reports whether x orders before (score, member).
func before(x *node, score float64, member string) bool {
	return x.Val.score < score || (x.Val.score == score && x.Key < member)
}

// add creates and links a node for a member that is not present.
func (sl *skiplist) add(member string, score float64) *node {
	x, size := newNode(randomLevel(), score, member)
	sl.link(x)
	sl.index.Insert(x)
	sl.mem += size
	return x
}

// link inserts x (score and levels set) at its place (zslInsert).
func (sl *skiplist) link(x *node) {
	var update [maxLevel]*node
	var rank [maxLevel]int
	h := sl.header
	cur := h
	score, member := x.Val.score, x.Key
	for i := sl.level - 1; i >= 0; i-- {
		if i < sl.level-1 {
			rank[i] = rank[i+1]
		}
		for {
			f := levels(cur)[i].forward
			if f == nil || !before(f, score, member) {
				break
			}
			rank[i] += levels(cur)[i].span
			cur = f
		}
		update[i] = cur
	}
	lvl := int(x.Val.nlevel)
	if lvl > sl.level {
		for i := sl.level; i < lvl; i++ {
			rank[i] = 0
			update[i] = h
			levels(h)[i].span = sl.length
		}
		sl.level = lvl
	}
	for i := 0; i < lvl; i++ {
		ul := &levels(update[i])[i]
		levels(x)[i].forward = ul.forward
		ul.forward = x
		levels(x)[i].span = ul.span - (rank[0] - rank[i])
		ul.span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < sl.level; i++ {
		levels(update[i])[i].span++
	}
	if update[0] != h {
		x.Val.backward = update[0]
	} else {
		x.Val.backward = nil
	}
	if f := levels(x)[0].forward; f != nil {
		f.Val.backward = x
	} else {
		sl.tail = x
	}
	sl.length++
}

// findUpdate fills update with, at each level, the last node before
// (score, member), and returns the level-0 successor of that position.
func (sl *skiplist) findUpdate(update *[maxLevel]*node, score float64, member string) *node {
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for {
			f := levels(x)[i].forward
			if f == nil || !before(f, score, member) {
				break
			}
			x = f
		}
		update[i] = x
	}
	return levels(x)[0].forward
}

// unlinkNode removes x given its predecessors (zslDeleteNode).
func (sl *skiplist) unlinkNode(x *node, update *[maxLevel]*node) {
	for i := 0; i < sl.level; i++ {
		ul := &levels(update[i])[i]
		if ul.forward == x {
			ul.span += levels(x)[i].span - 1
			ul.forward = levels(x)[i].forward
		} else {
			ul.span--
		}
	}
	if f := levels(x)[0].forward; f != nil {
		f.Val.backward = x.Val.backward
	} else {
		sl.tail = x.Val.backward
	}
	for sl.level > 1 && levels(sl.header)[sl.level-1].forward == nil {
		sl.level--
	}
	sl.length--
}

// unlink removes the node of a present member from the skiplist only.
func (sl *skiplist) unlink(x *node) {
	var update [maxLevel]*node
	sl.findUpdate(&update, x.Val.score, x.Key)
	sl.unlinkNode(x, &update)
}

// remove deletes member; it returns the removed node or nil.
func (sl *skiplist) remove(member []byte) *node {
	x := sl.index.Delete(member)
	if x == nil {
		return nil
	}
	sl.unlink(x)
	sl.mem -= nodeMem(x)
	return x
}

// removeNode deletes a node found by a skiplist walk.
func (sl *skiplist) removeNode(x *node, update *[maxLevel]*node) {
	sl.unlinkNode(x, update)
	sl.index.Delete(sbytes(x.Key))
	sl.mem -= nodeMem(x)
}

// updateScore moves x to newscore (zslUpdateScore): in place when the order
// is unchanged, otherwise relinked (keeping its levels, which are random).
func (sl *skiplist) updateScore(x *node, newscore float64) {
	b, f := x.Val.backward, levels(x)[0].forward
	if (b == nil || b.Val.score < newscore) && (f == nil || f.Val.score > newscore) {
		x.Val.score = newscore
		return
	}
	sl.unlink(x)
	x.Val.score = newscore
	sl.link(x)
}

// rank is the 1-based rank of a present (score, member) (zslGetRank).
func (sl *skiplist) rank(score float64, member string) int {
	r := 0
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for {
			f := levels(x)[i].forward
			if f == nil || !(f.Val.score < score || (f.Val.score == score && f.Key <= member)) {
				break
			}
			r += levels(x)[i].span
			x = f
		}
		if x != sl.header && x.Key == member {
			return r
		}
	}
	return 0
}

// byRank returns the node at 1-based rank, or nil (zslGetElementByRank).
func (sl *skiplist) byRank(rank int) *node {
	traversed := 0
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for {
			f := levels(x)[i].forward
			if f == nil || traversed+levels(x)[i].span > rank {
				break
			}
			traversed += levels(x)[i].span
			x = f
		}
		if traversed == rank {
			return x
		}
	}
	return nil
}

func (sl *skiplist) first() *node { return levels(sl.header)[0].forward }

// isInRange reports whether some part of the set may be inside r.
func (sl *skiplist) isInRange(r *ScoreRange) bool {
	if r.empty() || sl.tail == nil || !r.gteMin(sl.tail.Val.score) {
		return false
	}
	return r.lteMax(sl.first().Val.score)
}

// firstInRange is zslFirstInRange.
func (sl *skiplist) firstInRange(r *ScoreRange) *node {
	if !sl.isInRange(r) {
		return nil
	}
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := levels(x)[i].forward; f != nil && !r.gteMin(f.Val.score); f = levels(x)[i].forward {
			x = f
		}
	}
	x = levels(x)[0].forward
	if !r.lteMax(x.Val.score) {
		return nil
	}
	return x
}

// lastInRange is zslLastInRange.
func (sl *skiplist) lastInRange(r *ScoreRange) *node {
	if !sl.isInRange(r) {
		return nil
	}
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := levels(x)[i].forward; f != nil && r.lteMax(f.Val.score); f = levels(x)[i].forward {
			x = f
		}
	}
	if !r.gteMin(x.Val.score) {
		return nil
	}
	return x
}

func (sl *skiplist) isInLexRange(r *LexRange) bool {
	if r.empty() || sl.tail == nil || !r.gteMin(sbytes(sl.tail.Key)) {
		return false
	}
	return r.lteMax(sbytes(sl.first().Key))
}

// firstInLexRange is zslFirstInLexRange.
func (sl *skiplist) firstInLexRange(r *LexRange) *node {
	if !sl.isInLexRange(r) {
		return nil
	}
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := levels(x)[i].forward; f != nil && !r.gteMin(sbytes(f.Key)); f = levels(x)[i].forward {
			x = f
		}
	}
	x = levels(x)[0].forward
	if !r.lteMax(sbytes(x.Key)) {
		return nil
	}
	return x
}

// lastInLexRange is zslLastInLexRange.
func (sl *skiplist) lastInLexRange(r *LexRange) *node {
	if !sl.isInLexRange(r) {
		return nil
	}
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := levels(x)[i].forward; f != nil && r.lteMax(sbytes(f.Key)); f = levels(x)[i].forward {
			x = f
		}
	}
	if !r.gteMin(sbytes(x.Key)) {
		return nil
	}
	return x
}

// removeRangeByScore is zslDeleteRangeByScore.
func (sl *skiplist) removeRangeByScore(r *ScoreRange) int {
	var update [maxLevel]*node
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := levels(x)[i].forward; f != nil && !r.gteMin(f.Val.score); f = levels(x)[i].forward {
			x = f
		}
		update[i] = x
	}
	removed := 0
	for x = levels(x)[0].forward; x != nil && r.lteMax(x.Val.score); removed++ {
		next := levels(x)[0].forward
		sl.removeNode(x, &update)
		x = next
	}
	return removed
}

// removeRangeByLex is zslDeleteRangeByLex.
func (sl *skiplist) removeRangeByLex(r *LexRange) int {
	var update [maxLevel]*node
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := levels(x)[i].forward; f != nil && !r.gteMin(sbytes(f.Key)); f = levels(x)[i].forward {
			x = f
		}
		update[i] = x
	}
	removed := 0
	for x = levels(x)[0].forward; x != nil && r.lteMax(sbytes(x.Key)); removed++ {
		next := levels(x)[0].forward
		sl.removeNode(x, &update)
		x = next
	}
	return removed
}

// removeRangeByRank deletes 1-based ranks start..end (zslDeleteRangeByRank).
func (sl *skiplist) removeRangeByRank(start, end int) int {
	var update [maxLevel]*node
	traversed := 0
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := levels(x)[i].forward; f != nil && traversed+levels(x)[i].span < start; f = levels(x)[i].forward {
			traversed += levels(x)[i].span
			x = f
		}
		update[i] = x
	}
	traversed++
	removed := 0
	for x = levels(x)[0].forward; x != nil && traversed <= end; traversed++ {
		next := levels(x)[0].forward
		sl.removeNode(x, &update)
		removed++
		x = next
	}
	return removed
}

// memoryUsage estimates the bytes of the whole encoding.
func (sl *skiplist) memoryUsage() int {
	const list = 64 // the skiplist struct
	header := dict.AllocSize(int(unsafe.Sizeof(node32{})))
	return list + header + sl.mem + sl.index.MemoryUsage()
}

// sbytes views a string's bytes without copying; the result must not be
// modified.
func sbytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
