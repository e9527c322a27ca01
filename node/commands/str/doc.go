// Package str is the string command family (GET, SET and its options,
// the INCR family, APPEND, SETRANGE, GETRANGE, MGET/MSET, LCS) with the
// bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP), as Redis
// 7.0's t_string.c and bitops.c. It is named str because string is Go's
// type. Specs and handlers are one row each (specs.go).
package str
