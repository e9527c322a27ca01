// Package dict is the hash table behind the big encodings of the set and
// sorted-set types (Redis's "hashtable" and the member index of "skiplist").
//
// It owns: a chained hash table of *Entry values keyed by member bytes, with
// incremental rehashing (two tables while growing or shrinking, as Redis's
// dict does, so no single command pays for a whole rehash), a stateless
// reverse-binary SCAN cursor that keeps Redis's guarantee (an element present
// for a whole scan is returned at least once, across resizes), uniform-ish
// random entries from an injected source, and an estimate of its own memory.
//
// Entries are intrusive: callers allocate Entry values (possibly embedded in a
// larger allocation) and the table only links them. The sorted set uses this
// to make its skiplist node and its index entry one object.
//
// It must not: know about Redis types, commands or replies, keep global state,
// or be used from more than one goroutine at a time.
package dict
