// Package keyspace owns one Redis database (what SELECT picks): keys mapped
// to typed values, expiry (lazy on access plus an active sampling cycle),
// the LRU/LFU clock of every key for maxmemory eviction and OBJECT
// IDLETIME/FREQ, SCAN with Redis's guarantees, RANDOMKEY, and a hook for a
// per-slot key index (cluster mode) that costs nothing when unset.
//
// Keys live in a chained hash table with incremental rehashing, like
// Redis's dict, so SCAN can use Redis's reverse-binary cursor: a key present
// for the whole iteration is returned at least once, even while the table
// grows or shrinks. Entries are pointer-stable. Loaders add each key with
// one hash and one probe (AddStringIfAbsent, Redis's dictAdd) and size the
// table once from a snapshot's hint (Reserve, Redis's RESIZEDB).
//
// String values are stored here; lists, hashes, sets and sorted sets are
// objects from the sub-packages (list, hash, set, zset) held as `any`.
// The package is not goroutine-safe: the server serializes all access. It
// knows nothing about clients, replies or commands, and it never blocks.
package keyspace
