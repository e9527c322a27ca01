package str

import (
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
)

// LCS, as Redis 7.0.15's lcsCommand: the longest common subsequence of
// two string values by the dynamic-programming table of LCS lengths, with
// LEN, IDX, MINMATCHLEN and WITHMATCHLEN. The table takes 4 bytes per
// cell, (len1+1)*(len2+1) cells; as Redis, a table larger than
// proto-max-bulk-len is refused before anything is allocated.

// lcsOptions are LCS's arguments after the two keys.
type lcsOptions struct {
	getLen, getIdx, withMatchLen bool
	minMatchLen                  int64
}

// lcsMatch is one IDX range: positions in the first and second string,
// both inclusive.
type lcsMatch struct {
	aStart, aEnd, bStart, bEnd int
}

func cmdLCS(c *command.Ctx) {
	a, okA := lcsValue(c, c.Args[1])
	b, okB := lcsValue(c, c.Args[2])
	if !okA || !okB {
		c.Error("ERR The specified keys must contain string values")
		return
	}
	opt, ok := parseLCSOptions(c, c.Args[3:])
	if !ok {
		return
	}
	if opt.getIdx && opt.getLen {
		c.Error("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	if uint64(len(a)) >= 1<<32-2 || uint64(len(b)) >= 1<<32-2 {
		c.Error("ERR String too long for LCS")
		return
	}
	if cells := uint64(len(a)+1) * uint64(len(b)+1); cells*4 > uint64(c.Limits().ProtoMaxBulkLen) {
		c.Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	table := lcsTable(a, b)
	n := table[len(table)-1]
	if opt.getLen {
		c.W.Int(int64(n))
		return
	}
	str, matches := lcsWalk(a, b, table, opt.minMatchLen)
	if !opt.getIdx {
		c.W.Bulk(str)
		return
	}
	c.W.MapLen(2)
	c.W.BulkString("matches")
	c.W.ArrayLen(len(matches))
	for _, m := range matches {
		if opt.withMatchLen {
			c.W.ArrayLen(3)
		} else {
			c.W.ArrayLen(2)
		}
		c.W.ArrayLen(2)
		c.W.Int(int64(m.aStart))
		c.W.Int(int64(m.aEnd))
		c.W.ArrayLen(2)
		c.W.Int(int64(m.bStart))
		c.W.Int(int64(m.bEnd))
		if opt.withMatchLen {
			c.W.Int(int64(m.aEnd - m.aStart + 1))
		}
	}
	c.W.BulkString("len")
	c.W.Int(int64(n))
}

// lcsValue reads a key's string for LCS: a missing key is the empty
// string, a key of another type is not ok.
func lcsValue(c *command.Ctx, key []byte) ([]byte, bool) {
	e := c.LookupRead(key)
	if e == nil {
		return nil, true
	}
	if e.Type() != keyspace.TypeString {
		return nil, false
	}
	return e.Bytes(), true
}

// parseLCSOptions parses IDX, LEN, WITHMATCHLEN and MINMATCHLEN n (a
// negative n is 0), replying the error itself when it fails.
func parseLCSOptions(c *command.Ctx, args [][]byte) (lcsOptions, bool) {
	var o lcsOptions
	for j := 0; j < len(args); j++ {
		switch {
		case command.EqFold(args[j], "idx"):
			o.getIdx = true
		case command.EqFold(args[j], "len"):
			o.getLen = true
		case command.EqFold(args[j], "withmatchlen"):
			o.withMatchLen = true
		case command.EqFold(args[j], "minmatchlen") && j+1 < len(args):
			n, ok := c.ParseInt(args[j+1])
			if !ok {
				return o, false
			}
			o.minMatchLen = max(n, 0)
			j++
		default:
			c.Error(command.ErrSyntax)
			return o, false
		}
	}
	return o, true
}

// lcsTable is the table of LCS lengths: cell j+(len(b)+1)*i holds the
// length of the LCS of a[:i] and b[:j].
func lcsTable(a, b []byte) []uint32 {
	w := len(b) + 1
	t := make([]uint32, (len(a)+1)*w)
	for i := 1; i <= len(a); i++ {
		row, prev := t[i*w:(i+1)*w], t[(i-1)*w:i*w]
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1] == b[j-1]:
				row[j] = prev[j-1] + 1
			case prev[j] > row[j-1]:
				row[j] = prev[j]
			default:
				row[j] = row[j-1]
			}
		}
	}
	return t
}

// lcsWalk walks the table back from its last cell as Redis does, and
// returns the LCS and the ranges of contiguous matches, from the end of
// the strings to their start, keeping those at least minMatchLen long.
func lcsWalk(a, b []byte, t []uint32, minMatchLen int64) ([]byte, []lcsMatch) {
	w := len(b) + 1
	idx := t[len(t)-1]
	result := make([]byte, idx)
	var matches []lcsMatch
	const unset = -1
	cur := lcsMatch{aStart: unset}
	i, j := len(a), len(b)
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			switch {
			case cur.aStart == unset:
				cur = lcsMatch{aStart: i - 1, aEnd: i - 1, bStart: j - 1, bEnd: j - 1}
			case cur.aStart == i && cur.bStart == j:
				cur.aStart--
				cur.bStart--
			default:
				emit = true
			}
			if cur.aStart == 0 || cur.bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if t[(i-1)*w+j] > t[i*w+j-1] {
				i--
			} else {
				j--
			}
			if cur.aStart != unset {
				emit = true
			}
		}
		if emit {
			if minMatchLen == 0 || int64(cur.aEnd-cur.aStart+1) >= minMatchLen {
				matches = append(matches, cur)
			}
			cur.aStart = unset
		}
	}
	return result, matches
}
