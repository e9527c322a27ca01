// Package stream serves the stream commands (XADD, XRANGE, XREAD,
// XREADGROUP, XGROUP, XACK, XCLAIM, XINFO ...) over node/keyspace/stream,
// with Redis 7.0's replies, errors, keyspace events and propagation (XADD
// * propagates the ID it chose; trimming with ~ propagates the exact
// effect; consumer-group state moves as XCLAIM and XGROUP SETID).
package stream
