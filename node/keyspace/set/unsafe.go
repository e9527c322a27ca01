package set

import "unsafe"

// sbytes views a string's bytes without copying; the result must not be
// modified.
func sbytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
