package scripting

import (
	"strings"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/resp"
)

// Flags are a script's or function's flags (command.ScriptFlags).
type Flags = command.ScriptFlags

// flagNames are Redis's scripts_flags_def, in its order.
var flagNames = []struct {
	name string
	flag Flags
}{
	{"no-writes", command.ScriptNoWrites},
	{"allow-oom", command.ScriptAllowOOM},
	{"allow-stale", command.ScriptAllowStale},
	{"no-cluster", command.ScriptNoCluster},
	{"allow-cross-slot-keys", command.ScriptAllowCrossSlot},
}

// flagByName is the flag of a name, 0 when unknown.
func flagByName(name string) Flags {
	for _, f := range flagNames {
		if f.name == name {
			return f.flag
		}
	}
	return 0
}

// ShebangFlags reads a script's "#!lua flags=..." line
// (evalExtractShebangFlags): the flags (ScriptEvalCompat without a
// shebang), the length of the shebang line without its line feed, or the
// error text.
func ShebangFlags(body string) (Flags, int, string) {
	if !strings.HasPrefix(body, "#!") {
		return command.ScriptEvalCompat, 0, ""
	}
	n := strings.IndexByte(body, '\n')
	if n < 0 {
		return 0, 0, "Invalid script shebang"
	}
	parts, ok := resp.SplitArgs([]byte(body[:n]), nil)
	if !ok || len(parts) == 0 {
		return 0, 0, "Invalid engine in script shebang"
	}
	if string(parts[0]) != "#!lua" {
		return 0, 0, "Unexpected engine in script shebang: " + string(parts[0])
	}
	var flags Flags
	for _, p := range parts[1:] {
		opt := string(p)
		if !strings.HasPrefix(opt, "flags=") {
			return 0, 0, "Unknown lua shebang option: " + opt
		}
		list := opt[len("flags="):]
		if list == "" {
			continue
		}
		for _, name := range strings.Split(list, ",") {
			f := flagByName(name)
			if f == 0 {
				return 0, 0, "Unexpected flag in script shebang: " + name
			}
			flags |= f
		}
	}
	return flags, n, ""
}
