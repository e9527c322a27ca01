package scripting

import (
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/scripting"
)

// SCRIPT's subcommands (eval.c scriptCommand).

func cmdScriptLoad(c *command.Ctx) {
	sha, _, msg := scripting.Of(c).CreateScript(string(c.Args[2]))
	if msg != "" {
		c.Error(msg)
		return
	}
	c.W.BulkString(sha)
}

func cmdScriptExists(c *command.Ctx) {
	rt := scripting.Of(c)
	c.W.ArrayLen(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		if len(a) == 40 && rt.Exists(string(a)) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func cmdScriptFlush(c *command.Ctx) {
	if len(c.Args) > 3 || (len(c.Args) == 3 && !command.EqFold(c.Args[2], "sync") && !command.EqFold(c.Args[2], "async")) {
		c.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	scripting.Of(c).Flush()
	c.W.OK()
}

func cmdScriptKill(c *command.Ctx) {
	if msg := c.ScriptKill(false); msg != "" {
		c.Error(msg)
		return
	}
	c.W.OK()
}

func cmdScriptDebug(c *command.Ctx) {
	switch {
	case command.EqFold(c.Args[2], "no"):
		c.W.OK()
	case command.EqFold(c.Args[2], "yes"), command.EqFold(c.Args[2], "sync"):
		c.Error("ERR SCRIPT DEBUG is not supported by this server")
	default:
		c.Error("ERR Use SCRIPT DEBUG YES/SYNC/NO")
	}
}

func cmdScriptHelp(c *command.Ctx) {
	help(c,
		"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DEBUG (YES|SYNC|NO)",
		"    Set the debug mode for subsequent scripts executed.",
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
		"HELP",
		"    Prints this help.",
	)
}

// help replies a HELP text as Redis's addReplyHelp: status lines.
func help(c *command.Ctx, lines ...string) {
	c.W.ArrayLen(len(lines))
	for _, l := range lines {
		c.W.SimpleString(l)
	}
}
