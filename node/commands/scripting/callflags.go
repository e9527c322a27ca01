package scripting

import (
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/scripting"
)

// The flags of one EVAL or FCALL call (command.Spec.CallFlags), as Redis's
// evalGetCommandFlags and fcallGetCommandFlags: a script with a shebang,
// and every function, has its flags replace the command's.

// evalCallFlags is EVAL's and EVAL_RO's: the cached script's flags, else
// the shebang's of the body.
func evalCallFlags(c *command.Ctx, args [][]byte, flags command.Flags) command.Flags {
	if len(args) < 2 {
		return flags
	}
	body := string(args[1])
	if s := scripting.Of(c).Lookup(scripting.SHA1Hex(body)); s != nil {
		return scriptCallFlags(flags, s.Flags)
	}
	f, _, msg := scripting.ShebangFlags(body)
	if msg != "" {
		return flags
	}
	return scriptCallFlags(flags, f)
}

// evalshaCallFlags is EVALSHA's and EVALSHA_RO's: the cached script's
// flags, the command's for an unknown script.
func evalshaCallFlags(c *command.Ctx, args [][]byte, flags command.Flags) command.Flags {
	if len(args) < 2 || len(args[1]) != 40 {
		return flags
	}
	if s := scripting.Of(c).LookupSHA(args[1]); s != nil {
		return scriptCallFlags(flags, s.Flags)
	}
	return flags
}

// fcallCallFlags is FCALL's and FCALL_RO's: the function's flags.
func fcallCallFlags(c *command.Ctx, args [][]byte, flags command.Flags) command.Flags {
	if len(args) < 2 {
		return flags
	}
	if fn := scripting.Of(c).Function(string(args[1])); fn != nil {
		return scriptCallFlags(flags, fn.Flags)
	}
	return flags
}

// scriptCallFlags is Redis's scriptFlagsToCmdFlags; a script without a
// shebang keeps the command's flags.
func scriptCallFlags(flags command.Flags, f command.ScriptFlags) command.Flags {
	if f&command.ScriptEvalCompat != 0 {
		return flags
	}
	flags &^= command.Stale | command.DenyOOM | command.Write | command.MayReplicate
	if f&(command.ScriptAllowOOM|command.ScriptNoWrites) == 0 {
		flags |= command.DenyOOM
	}
	if f&command.ScriptNoWrites == 0 {
		flags |= command.Write
	}
	if f&command.ScriptAllowStale != 0 {
		flags |= command.Stale
	}
	return flags
}
