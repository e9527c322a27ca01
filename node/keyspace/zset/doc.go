// Package zset is the sorted-set value type of the keyspace, with Redis 7's
// semantics: members are unique byte strings ordered by (score, member bytes).
//
// It owns the two encodings Redis reports in OBJECT ENCODING:
//   - "listpack": one packed byte slice of (member, score) pairs in order,
//     used while the set has at most Limits.MaxListpackEntries members of at
//     most Limits.MaxListpackValue bytes (zset-max-listpack-entries/-value);
//   - "skiplist": a skiplist with span counts (O(log n) rank) whose nodes are
//     also the entries of a hash index from member to node.
//
// A set converts to "skiplist" when a limit is exceeded and never back, as in
// Redis, except where Redis itself builds a fresh value (STORE variants).
//
// It also owns the parts of the command semantics that are pure functions of
// sorted sets: ZADD's NX/XX/GT/LT/INCR rules, score/lex range parsing with
// Redis's error words, score formatting as Redis prints doubles, rank and
// range queries, ZRANDMEMBER's sampling rules, the ZSCAN cursor, and
// ZUNION/ZINTER/ZDIFF with WEIGHTS and AGGREGATE (plain sets count as score 1).
//
// It must not: parse whole commands, write replies, touch the keyspace, keep
// global mutable state, or draw randomness other than from the source passed
// in (skiplist node levels, which do not affect results, use math/rand/v2).
// A *ZSet is not safe for concurrent use. Member slices returned by queries
// alias the set's storage: they are valid until the set is next modified and
// must not be written to.
package zset
