package server

// setHandlers returns the handlers of the set commands by command name
// (see "Adding a command group" in doc.go). The command specs live in
// node/command/set.go; a spec without a handler stays unknown to clients.
func setHandlers() map[string]Handler {
	return map[string]Handler{}
}
