package set

import "github.com/shoal-dev/shoal/node/keyspace/internal/dict"

// Scan is one SSCAN step: it appends about count members from cursor and
// returns the next cursor (0 when done). Intset and listpack sets are
// returned whole with cursor 0, as Redis does; a hashtable is scanned with
// Redis's reverse-binary cursor, so every member present for the whole scan
// is returned at least once. MATCH is the caller's filter.
func (s *Set) Scan(cursor uint64, count int, dst [][]byte) (uint64, [][]byte) {
	if s.enc != encHashtable {
		return 0, s.AppendMembers(dst)
	}
	count = max(count, 1)
	maxIterations := count * 10
	base := len(dst)
	emit := func(e *dict.Entry[struct{}]) { dst = append(dst, sbytes(e.Key)) }
	for {
		cursor = s.ht.Scan(cursor, emit)
		maxIterations--
		if cursor == 0 || maxIterations == 0 || len(dst)-base >= count {
			return cursor, dst
		}
	}
}
