// Package hyperloglog is the HyperLogLog command family (PFADD, PFCOUNT,
// PFMERGE, PFDEBUG, PFSELFTEST), as Redis 7.0's hyperloglog.c, over
// string values in node/keyspace/hll's byte-exact representation. Specs
// and handlers are one row each (specs.go).
package hyperloglog
