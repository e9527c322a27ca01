// Package redsync runs go-redsync (github.com/go-redsync/redsync/v4), the
// Redis distributed lock most Go services use, against real shoal-node
// processes: one node, and a cluster of three masters. Its unlock and
// extend are Lua scripts (EVALSHA, EVAL after NOSCRIPT): under contention
// from several goroutines exactly one holds a lock at a time, an extended
// lock outlives its first expiry, and an expired holder's unlock does not
// release the next holder's lock.
//
// The tests skip when the node does not serve EVAL (a build without the
// scripting engine).
package redsync
