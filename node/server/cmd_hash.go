package server

// hashHandlers returns the handlers of the hash commands by command name
// (see "Adding a command group" in doc.go). The command specs live in
// node/command/hash.go; a spec without a handler stays unknown to clients.
func hashHandlers() map[string]Handler {
	return map[string]Handler{}
}
