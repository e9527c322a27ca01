package server

// listHandlers returns the handlers of the list commands by command name
// (see "Adding a command group" in doc.go). The command specs live in
// node/command/list.go; a spec without a handler stays unknown to clients.
func listHandlers() map[string]Handler {
	return map[string]Handler{}
}
