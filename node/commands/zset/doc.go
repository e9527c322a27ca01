// Package zset is the sorted set command family (ZADD ... ZSCAN, the
// range, store, pop and blocking pop commands), as Redis 7.0's t_zset.c,
// over node/keyspace/zset. ZUNION/ZINTER/ZDIFF accept plain sets as inputs
// with score 1. Specs and handlers are one row each (specs.go).
package zset
