// Package hash is the value of a Redis hash key, in Redis 7.0's two
// encodings: "listpack", one packed byte buffer of field/value pairs in
// insertion order, for hashes within hash-max-listpack-entries and
// hash-max-listpack-value; and "hashtable", a chained hash table with
// incremental rehashing (node/keyspace/internal/dict) once either limit is
// crossed. Like Redis it never converts back.
//
// It owns the hash semantics of the H* commands: set, get, delete, field
// lengths, HINCRBY overflow rules, HINCRBYFLOAT in C long double arithmetic
// printed as Redis prints it, HRANDFIELD's count rules with an injected
// random source, HSCAN's cursor (a listpack returns everything at once with
// cursor 0), memory accounting and iteration for snapshot and AOF writers.
//
// It must not know about keys, databases, expiry, replies, argument parsing
// or configuration files: callers pass the listpack limits in, parse
// command arguments, and delete a key whose hash became empty. A Hash is not
// safe for concurrent use; the caller serialises access.
//
// Byte slices returned by Hash methods alias the hash's own storage: they
// are valid until the next change to that hash and must not be modified.
package hash
