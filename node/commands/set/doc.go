// Package set is the set command family (SADD ... SSCAN, SINTERCARD,
// SPOP and SRANDMEMBER with counts), as Redis 7.0's t_set.c, over
// node/keyspace/set. Specs and handlers are one row each (specs.go).
package set
