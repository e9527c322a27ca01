// Package set is the set value type of the keyspace, with Redis 7's
// semantics and the three encodings OBJECT ENCODING reports:
//   - "intset": a sorted array of integers (16, 32 or 64 bits wide, widened
//     as needed) while every member is a canonical 64-bit integer and there
//     are at most Limits.MaxIntsetEntries (set-max-intset-entries);
//   - "listpack": members packed in one byte slice in insertion order while
//     there are at most Limits.MaxListpackEntries members of at most
//     Limits.MaxListpackValue bytes (set-max-listpack-entries/-value, Redis
//     7.2; a MaxListpackEntries of 0 gives Redis 7.0's behaviour, which has
//     no listpack sets);
//   - "hashtable": an incrementally rehashed hash table.
//
// Conversions follow Redis: intset -> listpack or hashtable, listpack ->
// hashtable, never back. It also owns the pure parts of the set commands:
// SRANDMEMBER's and SPOP's sampling rules with an injected random source,
// the SSCAN cursor, SINTER/SUNION/SDIFF (results built as the STORE variants
// build them) and SINTERCARD with LIMIT.
//
// It must not: parse commands, write replies, touch the keyspace, keep global
// mutable state, or draw randomness other than from the source passed in.
// A *Set is not safe for concurrent use. Member slices returned by queries
// alias the set's storage (or a scratch buffer, for intset members yielded by
// iterators): they are valid until the set is next modified, or until the
// iteration's callback returns, and must not be written to.
package set
