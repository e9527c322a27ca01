// Package hash is the hash command family (HSET ... HSCAN,
// HRANDFIELD), as Redis 7.0's t_hash.c, over node/keyspace/hash. Specs
// and handlers are one row each (specs.go).
package hash
