package command

import "time"

// ScriptRun is the state of one script or function run that the engine
// reads and updates on each redis.call (Redis's scriptRunCtx): the
// script's own database (SELECT inside a script changes only the
// script's), the protocol its calls reply in (redis.setresp) and the
// flags that decide which commands it may run.
type ScriptRun struct {
	// Flags are the script's (shebang) or function's flags and RO says
	// it was called by EVAL_RO, EVALSHA_RO or FCALL_RO: ScriptStart
	// checks them against the server's state and sets the fields below.
	Flags ScriptFlags
	RO    bool
	DB    int // the script client's selected database
	// Slot is the cluster slot the script's keys must hash to (the
	// declared keys', or the first key a command touched), -1 none yet.
	Slot  int
	Proto int // 2 or 3 (redis.setresp)
	// ReadOnly refuses write commands (EVAL_RO, FCALL_RO, no-writes).
	ReadOnly bool
	// AllowOOM runs denyoom commands above maxmemory (allow-oom).
	AllowOOM bool
	// AllowCrossSlot lets a command reach keys of other slots of this
	// node (allow-cross-slot-keys, and scripts without a shebang).
	AllowCrossSlot bool
	// Repl is redis.set_repl's flags (REPL_AOF 1 | REPL_REPLICA 2):
	// writes propagate only while it is not REPL_NONE.
	Repl int
	// Wrote is set by the engine once the script ran a write command
	// (SCRIPT_WRITE_DIRTY): later writes are no longer refused on
	// OOM or replica state, and SCRIPT KILL answers UNKILLABLE.
	Wrote bool
	// Function is the name of the running function ("" for EVAL).
	Function string
	// Start is when the run started (set by ScriptStart: its command's
	// start, FUNCTION STATS's duration).
	Start time.Time
	// Killed is set by SCRIPT KILL / FUNCTION KILL from another client
	// (lock held, while the script yields); the runtime's instruction
	// hook polls it and ends the script with an error.
	Killed bool
}

// ScriptFlags are a script's shebang flags or a function's flags.
type ScriptFlags uint8

const (
	ScriptNoWrites ScriptFlags = 1 << iota
	ScriptAllowOOM
	ScriptAllowStale
	ScriptNoCluster
	ScriptAllowCrossSlot
	// ScriptEvalCompat: an EVAL script without a shebang (Redis's
	// SCRIPT_FLAG_EVAL_COMPAT_MODE), run as before Redis 7.
	ScriptEvalCompat
)

// ScriptEngine is the engine side of scripting (EVAL, FCALL): a handler
// reaches it through the Ctx methods below.
type ScriptEngine interface {
	// ScriptRuntime is the server's scripting runtime, made by mk on
	// first use: one per server, kept across calls.
	ScriptRuntime(mk func() any) any
	// ScriptCall runs args as the script client of this client (Redis's
	// scriptCall): the reply is its raw RESP, valid until the next call;
	// a command refused before it ran returns its error text instead.
	ScriptCall(run *ScriptRun, args [][]byte) (reply []byte, refused string)
	// ScriptStart checks a run's flags against the server's state
	// (Redis's scriptPrepareForRun) and returns the error reply that
	// refuses it, or "" and marks the start of the run (lock held):
	// other clients get BUSY once it runs longer than
	// busy-reply-threshold, and SCRIPT KILL reaches it. ScriptEnd marks
	// its end.
	ScriptStart(run *ScriptRun) string
	ScriptEnd(run *ScriptRun)
	// ScriptYield runs from the runtime's instruction hook: once the
	// script passed busy-reply-threshold it lets other clients in (BUSY,
	// SCRIPT KILL) for a moment.
	ScriptYield(run *ScriptRun)
	// ScriptKill is SCRIPT KILL (function false) or FUNCTION KILL: ""
	// when the running script was marked killed, else the error reply.
	ScriptKill(function bool) string
	// ScriptACLCheck reports whether the caller's user may run args
	// (redis.acl_check_cmd); known is false for an unknown command.
	ScriptACLCheck(args [][]byte) (allowed, known bool)
	// ScriptLog is redis.log: msg goes to the node's log when level (0
	// debug, 1 verbose, 2 notice, 3 warning) passes loglevel.
	ScriptLog(level int, msg string)
}

// ScriptRuntime is the server's scripting runtime (see ScriptEngine).
func (c *Ctx) ScriptRuntime(mk func() any) any { return c.eng.ScriptRuntime(mk) }

// ScriptCall runs a command from a script (see ScriptEngine).
func (c *Ctx) ScriptCall(run *ScriptRun, args [][]byte) ([]byte, string) {
	return c.eng.ScriptCall(run, args)
}

// ScriptStart and ScriptEnd bracket a script run (see ScriptEngine).
func (c *Ctx) ScriptStart(run *ScriptRun) string { return c.eng.ScriptStart(run) }

// ScriptEnd ends what ScriptStart began.
func (c *Ctx) ScriptEnd(run *ScriptRun) { c.eng.ScriptEnd(run) }

// ScriptYield lets other clients be answered while a script runs long.
func (c *Ctx) ScriptYield(run *ScriptRun) { c.eng.ScriptYield(run) }

// ScriptKill marks the running script killed (see ScriptEngine).
func (c *Ctx) ScriptKill(function bool) string { return c.eng.ScriptKill(function) }

// ScriptACLCheck checks a command against the caller's ACL user.
func (c *Ctx) ScriptACLCheck(args [][]byte) (allowed, known bool) { return c.eng.ScriptACLCheck(args) }

// ScriptLog writes a script's redis.log message (see ScriptEngine).
func (c *Ctx) ScriptLog(level int, msg string) { c.eng.ScriptLog(level, msg) }
