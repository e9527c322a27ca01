package hash

import "github.com/shoal-dev/shoal/node/keyspace/internal/dict"

// Scan is one HSCAN call without MATCH (the caller filters, after the
// collection, as Redis does): it calls fn for the fields and values it
// visits from cursor and returns the next cursor, 0 when the iteration is
// complete. A listpack returns everything at once with cursor 0. A
// hashtable visits buckets until about count elements were returned or
// count*10 more buckets were tried; a field present during the whole
// iteration is returned at least once even if the table grows or shrinks.
func (h *Hash) Scan(cursor uint64, count int, fn func(field, value []byte)) uint64 {
	if h.table == nil {
		for f, v := range h.All() {
			fn(f, v)
		}
		return 0
	}
	emitted := 0
	emit := func(e *dict.Entry[uint32]) {
		fn(stringBytes(e.Key), entryValue(e))
		emitted++
	}
	for maxIterations := count * 10; ; maxIterations-- {
		cursor = h.table.Scan(cursor, emit)
		if cursor == 0 || maxIterations == 0 || emitted >= count {
			return cursor
		}
	}
}
