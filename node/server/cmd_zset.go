package server

// zsetHandlers returns the handlers of the zset commands by command name
// (see "Adding a command group" in doc.go). The command specs live in
// node/command/zset.go; a spec without a handler stays unknown to clients.
func zsetHandlers() map[string]Handler {
	return map[string]Handler{}
}
