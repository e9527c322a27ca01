// Package commands lists the data node's command families: each family
// is a package under node/commands that returns its specs with their
// handlers (command.Spec rows with Run), and All is the one list the node
// plugs into its engine (server.CommandFamilies(commands.All()...)).
// Adding a family is a package and one line in All; node/server's package
// doc has a worked example and the rules of what a handler may touch.
package commands
