package scripting

import "github.com/shoal-dev/shoal/node/command"

var _ = functionSpecs

func notYet(c *command.Ctx)             { c.Error("ERR not served yet") }
func cmdFcall(c *command.Ctx)           { notYet(c) }
func cmdFcallRO(c *command.Ctx)         { notYet(c) }
func cmdFunctionDelete(c *command.Ctx)  { notYet(c) }
func cmdFunctionDump(c *command.Ctx)    { notYet(c) }
func cmdFunctionFlush(c *command.Ctx)   { notYet(c) }
func cmdFunctionHelp(c *command.Ctx)    { notYet(c) }
func cmdFunctionKill(c *command.Ctx)    { notYet(c) }
func cmdFunctionList(c *command.Ctx)    { notYet(c) }
func cmdFunctionLoad(c *command.Ctx)    { notYet(c) }
func cmdFunctionRestore(c *command.Ctx) { notYet(c) }
func cmdFunctionStats(c *command.Ctx)   { notYet(c) }
