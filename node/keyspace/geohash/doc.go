// Package geohash is Redis 7.0's geohash arithmetic (geohash.c and
// geohash_helper.c): the 52-bit interleaved hash GEOADD stores as a
// sorted-set score, its decoding to the centre of its cell, the
// neighbouring cells, the estimation of the step that makes a search area
// fit the 9 cells around its centre, the haversine distance on Redis's
// earth radius, and the circle and box membership tests, with the same
// floating-point operations in the same order so results match Redis's
// to the last printed digit.
//
// It is pure arithmetic: no commands, replies or keyspace.
package geohash
