package server

// yesNo is a bool as a redis.conf value, for tests that start a node with
// one (the model's own formatter is node/config's).
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
