package replication

// eqFold compares an argument with a lower-case keyword without
// allocating (ASCII only, as the engine's).
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

// boolInt is 1 for true, as INFO writes flags.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// copyArgs copies a command's arguments (they alias a read buffer).
func copyArgs(args [][]byte) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = append([]byte(nil), a...)
	}
	return out
}
