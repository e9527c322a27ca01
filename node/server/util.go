package server

import (
	"strconv"

	"github.com/shoal-dev/shoal/node/keyspace"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// eqFold compares an argument with a lower-case keyword without allocating.
func eqFold(arg []byte, lower string) bool {
	if len(arg) != len(lower) {
		return false
	}
	for i := 0; i < len(arg); i++ {
		c := arg[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func keyspaceInt(b []byte) (int64, bool) { return keyspace.ParseInt(b) }
