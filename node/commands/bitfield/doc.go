// Package bitfield is BITFIELD and BITFIELD_RO, as Redis 7.0's
// bitfieldGeneric (bitops.c): signed (i1..i64) and unsigned (u1..u63)
// integers at any bit offset of a string value (`#n` counts in units of
// the type's width), read with GET, written with SET and INCRBY under the
// OVERFLOW policy in force (WRAP, SAT or FAIL, which skips the write and
// replies nil). Specs and handlers are one row each (specs.go).
package bitfield
