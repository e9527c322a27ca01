package zset

// Scan is one ZSCAN step: it appends about count members from cursor and
// returns the next cursor (0 when done). A listpack set is returned whole
// with cursor 0, as Redis does; a skiplist set is scanned through its hash
// index with Redis's reverse-binary cursor, so every member present for the
// whole scan is returned at least once. MATCH is the caller's filter.
func (z *ZSet) Scan(cursor uint64, count int, dst []Entry) (uint64, []Entry) {
	if z.sl == nil {
		for m, s := range z.All() {
			dst = append(dst, Entry{m, s})
		}
		return 0, dst
	}
	count = max(count, 1)
	maxIterations := count * 10
	base := len(dst)
	emit := func(x *node) { dst = append(dst, Entry{sbytes(x.Key), x.Val.score}) }
	for {
		cursor = z.sl.index.Scan(cursor, emit)
		maxIterations--
		if cursor == 0 || maxIterations == 0 || len(dst)-base >= count {
			return cursor, dst
		}
	}
}
