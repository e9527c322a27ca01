// Package geo is the geospatial command family (GEOADD, GEODIST, GEOHASH,
// GEOPOS, GEOSEARCH, GEOSEARCHSTORE and the deprecated GEORADIUS*), as
// Redis 7.0's geo.c: points are sorted-set members scored by their 52-bit
// geohash (node/keyspace/geohash), searches walk the score ranges of the
// 9 cells around the centre. Specs and handlers are one row each
// (specs.go).
package geo
