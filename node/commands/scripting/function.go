package scripting

import (
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/scripting"
)

// FCALL, FCALL_RO and FUNCTION (functions.c).

func cmdFcall(c *command.Ctx)   { fcallGeneric(c, false) }
func cmdFcallRO(c *command.Ctx) { fcallGeneric(c, true) }

// fcallGeneric is Redis's fcallCommandGeneric.
func fcallGeneric(c *command.Ctx, ro bool) {
	rt := scripting.Of(c)
	fn := rt.Function(string(c.Args[1]))
	if fn == nil {
		c.Error("ERR Function not found")
		return
	}
	n, ok := keyspace.ParseInt(c.Args[2])
	if !ok {
		c.Error("ERR Bad number of keys provided")
		return
	}
	rest := c.Args[3:]
	if n > int64(len(rest)) {
		c.Error("ERR Number of keys can't be greater than number of args")
		return
	}
	if n < 0 {
		c.Error("ERR Number of keys can't be negative")
		return
	}
	c.PreventPropagation()
	rt.FCall(c, fn, rest[:n], rest[n:], ro)
}

func cmdFunctionLoad(c *command.Ctx) {
	replace := false
	args := c.Args[2:]
	if len(args) == 2 {
		if !command.EqFold(args[0], "replace") {
			c.Error("ERR Unknown option given: " + string(args[0]))
			return
		}
		replace, args = true, args[1:]
	}
	if len(args) != 1 {
		c.Error("ERR Function code was not given")
		return
	}
	name, msg := scripting.Of(c).LoadLibrary(string(args[0]), replace)
	if msg != "" {
		c.Error("ERR " + msg)
		return
	}
	c.AddDirty(1)
	c.W.BulkString(name)
}

func cmdFunctionDelete(c *command.Ctx) {
	if !scripting.Of(c).DeleteLibrary(string(c.Args[2])) {
		c.Error("ERR Library not found")
		return
	}
	c.AddDirty(1)
	c.W.OK()
}

func cmdFunctionFlush(c *command.Ctx) {
	if len(c.Args) > 3 {
		c.Error(command.SubcommandSyntaxError(c.Args))
		return
	}
	if len(c.Args) == 3 && !command.EqFold(c.Args[2], "sync") && !command.EqFold(c.Args[2], "async") {
		c.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		return
	}
	scripting.Of(c).FlushFunctions()
	c.AddDirty(1)
	c.W.OK()
}

func cmdFunctionKill(c *command.Ctx) {
	if msg := c.ScriptKill(true); msg != "" {
		c.Error(msg)
		return
	}
	c.W.OK()
}

func cmdFunctionList(c *command.Ctx) {
	withCode := false
	var pattern []byte
	for i := 2; i < len(c.Args); i++ {
		switch a := c.Args[i]; {
		case command.EqFold(a, "withcode") && !withCode:
			withCode = true
		case command.EqFold(a, "libraryname") && pattern == nil:
			if i+1 >= len(c.Args) {
				c.Error("ERR library name argument was not given")
				return
			}
			i++
			pattern = c.Args[i]
		default:
			c.Error("ERR Unknown argument " + string(a))
			return
		}
	}
	var libs []*scripting.Library
	for _, lib := range scripting.Of(c).Libraries() {
		if pattern == nil || command.GlobMatch(pattern, []byte(lib.Name), false) {
			libs = append(libs, lib)
		}
	}
	c.W.ArrayLen(len(libs))
	for _, lib := range libs {
		n := 3
		if withCode {
			n++
		}
		c.W.MapLen(n)
		c.W.BulkString("library_name")
		c.W.BulkString(lib.Name)
		c.W.BulkString("engine")
		c.W.BulkString("LUA")
		c.W.BulkString("functions")
		c.W.ArrayLen(len(lib.Functions))
		for _, fn := range lib.SortedFunctions() {
			c.W.MapLen(3)
			c.W.BulkString("name")
			c.W.BulkString(fn.Name)
			c.W.BulkString("description")
			if fn.Description == nil {
				c.W.Null()
			} else {
				c.W.BulkString(*fn.Description)
			}
			c.W.BulkString("flags")
			flags := scripting.FlagNames(fn.Flags)
			c.W.SetLen(len(flags))
			for _, f := range flags {
				c.W.SimpleString(f)
			}
		}
		if withCode {
			c.W.BulkString("library_code")
			c.W.BulkString(lib.Code)
		}
	}
}

func cmdFunctionStats(c *command.Ctx) {
	rt := scripting.Of(c)
	c.W.MapLen(2)
	c.W.BulkString("running_script")
	if name, args, start, ok := rt.Running(); ok {
		c.W.MapLen(3)
		c.W.BulkString("name")
		c.W.BulkString(name)
		c.W.BulkString("command")
		c.W.ArrayLen(len(args))
		for _, a := range args {
			c.W.Bulk(a)
		}
		c.W.BulkString("duration_ms")
		c.W.Int(time.Since(start).Milliseconds())
	} else {
		c.W.Null()
	}
	c.W.BulkString("engines")
	c.W.MapLen(1)
	c.W.BulkString("LUA")
	c.W.MapLen(2)
	c.W.BulkString("libraries_count")
	c.W.Int(int64(len(rt.Libraries())))
	c.W.BulkString("functions_count")
	c.W.Int(int64(rt.FunctionCount()))
}

func cmdFunctionDump(c *command.Ctx) { c.W.Bulk(scripting.Of(c).Dump()) }

func cmdFunctionRestore(c *command.Ctx) {
	policy := "append"
	if len(c.Args) > 4 {
		c.Error(command.ErrSyntax)
		return
	}
	if len(c.Args) == 4 {
		switch a := c.Args[3]; {
		case command.EqFold(a, "flush"):
			policy = "flush"
		case command.EqFold(a, "append"):
		case command.EqFold(a, "replace"):
			policy = "replace"
		default:
			c.Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
			return
		}
	}
	if msg := scripting.Of(c).Restore(c.Args[2], policy); msg != "" {
		c.Error("ERR " + msg)
		return
	}
	c.AddDirty(1)
	c.W.OK()
}

func cmdFunctionHelp(c *command.Ctx) {
	help(c,
		"FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"LOAD [REPLACE] <FUNCTION CODE>",
		"    Create a new library with the given library name and code.",
		"DELETE <LIBRARY NAME>",
		"    Delete the given library.",
		"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
		"    Return general information on all the libraries:",
		"    * Library name",
		"    * The engine used to run the Library",
		"    * Library description",
		"    * Functions list",
		"    * Library code (if WITHCODE is given)",
		"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
		"STATS",
		"    Return information about the current function running:",
		"    * Function name",
		"    * Command used to run the function",
		"    * Duration in MS that the function is running",
		"    If no function is running, return nil",
		"    In addition, returns a list of available engines.",
		"KILL",
		"    Kill the current running function.",
		"FLUSH [ASYNC|SYNC]",
		"    Delete all the libraries.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the libraries.",
		"    * SYNC: Synchronously flush the libraries.",
		"DUMP",
		"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
		"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
		"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
		"    control how to handle existing libraries (default APPEND):",
		"    * FLUSH: delete all existing libraries.",
		"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
		"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
		"      libraries with the new libraries (notice that even on this option there is a chance of failure",
		"      in case of functions name collision with another library).",
		"HELP",
		"    Prints this help.",
	)
}
