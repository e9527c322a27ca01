package replication

// boolInt is 1 for true, as INFO writes flags.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
