package server

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/cluster"
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/persistence"
	"github.com/shoal-dev/shoal/node/resp"
)

// The engine side of scripting (EVAL, FCALL; node/scripting runs the Lua,
// node/commands/scripting serves the commands): the script client that
// runs redis.call's commands under the lock the script already holds, as
// Redis's scriptCall, and the busy state of a script that runs long.

// scriptState is the server's scripting state (Server.script).
type scriptState struct {
	runtime any     // node/scripting's runtime, made on first use
	client  *Client // the script client (Redis's lctx.lua_client)
	// running is the script being run, nil between scripts; busy is set
	// once it passed busy-reply-threshold and lets other clients in.
	running *command.ScriptRun
	caller  *Client
	start   time.Time
	now     int64 // the command time of the script's commands (unix ms)
	busy    bool
	yields  int
	// pendingFunctions are libraries loaded from a snapshot before the
	// runtime exists: it restores them when it is made.
	pendingFunctions []byte
	// loadedCodes are the RDB_OPCODE_FUNCTION2 libraries of the
	// snapshot loaded at start-up.
	loadedCodes [][]byte
}

// ScriptRuntime is the server's scripting runtime, made by mk on first
// use (command.ScriptEngine).
func (c *Client) ScriptRuntime(mk func() any) any {
	st := &c.srv.script
	if st.runtime == nil {
		st.runtime = mk()
		if p := st.pendingFunctions; p != nil {
			st.pendingFunctions = nil
			if libs, ok := st.runtime.(functionLibraries); ok {
				if msg := libs.Restore(p, "flush"); msg != "" {
					c.srv.log.Printf("Function libraries of the snapshot not restored: %s", msg)
				}
			}
		}
	}
	return st.runtime
}

// scriptClient is the client redis.call runs commands as: no connection,
// authenticated, its replies kept in its writer for the script to read.
func (s *Server) scriptClient() *Client {
	if s.script.client == nil {
		c := newClient(s, nullConn{})
		c.authenticated = true
		c.name = "lua"
		c.W = resp.NewWriter(nullConn{})
		c.Bind(c)
		s.script.client = c
	}
	return s.script.client
}

// Script errors, as Redis 7.0's scriptCall.
const (
	errScriptUnknown  = "Unknown Redis command called from script"
	errScriptArity    = "Wrong number of args calling Redis command from script"
	errScriptNoScript = "This Redis command is not allowed from script"
	errScriptWriteRO  = "Write commands are not allowed from read-only scripts."
	errScriptACL      = "The user executing the script can't run this command or subcommand"
)

// ScriptCall runs args as the script client of c (command.ScriptEngine),
// with the checks of Redis's scriptCall.
func (c *Client) ScriptCall(run *command.ScriptRun, args [][]byte) ([]byte, string) {
	s := c.srv
	spec, _ := s.cmds.LookupArgs(args)
	if spec == nil {
		return nil, errScriptUnknown
	}
	if !spec.ArityOK(len(args)) {
		return nil, errScriptArity
	}
	if spec.Is(command.NoScript) {
		return nil, errScriptNoScript
	}
	sc := s.scriptClient()
	sc.aclUser = c.aclUser
	sc.user = c.user
	if c.aclUser != nil && !c.aclUser.Unrestricted() {
		if reason := c.aclDenial(spec, args); reason != 0 {
			return nil, errScriptACL
		}
	}
	write := spec.Is(command.Write)
	if run.ReadOnly && (write || mayReplicate(spec)) {
		return nil, errScriptWriteRO
	}
	if write && !run.Wrote {
		if len(s.hooks.guard) > 0 {
			if msg := s.guardRefuses(c, spec); msg != "" {
				return nil, "-" + msg
			}
		}
		if s.diskErrorRefuses(c, spec) {
			return nil, "-" + ErrMisconf
		}
	}
	if !run.AllowOOM && !run.Wrote && s.cfg.MaxMemory > 0 && spec.Is(command.DenyOOM) && !s.performEvictions() {
		return nil, "-" + command.ErrOOM
	}
	if msg := s.scriptRouteRefuses(c, run, spec, args); msg != "" {
		return nil, msg
	}
	if write {
		run.Wrote = true
	}
	if run.DB < 0 || run.DB >= len(s.dbs) {
		run.DB = 0
	}
	sc.DB = s.dbs[run.DB]
	sc.W.SetProto(run.Proto)
	sc.W.Truncate(0)
	sc.inExec = true // a blocking command answers at once, as in MULTI
	s.env.Now = s.script.now
	mark := len(s.propBuf)
	sc.Args = args
	s.callNested(sc, spec)
	sc.Args = nil
	run.DB = sc.DB.ID
	if run.Repl == 0 && len(s.propBuf) > mark {
		s.propBuf = s.propBuf[:mark]
	}
	return sc.W.Bytes(), ""
}

// scriptRouteRefuses is the cluster check of a command a script runs
// (Redis's scriptVerifyClusterState): its keys must be served here, and,
// unless the script allows cross-slot keys, in the slot of the keys the
// script declared (or of the first key it touched).
func (s *Server) scriptRouteRefuses(c *Client, run *command.ScriptRun, spec *command.Spec, args [][]byte) string {
	if !s.cfg.ClusterEnabled || len(s.hooks.route) == 0 {
		return ""
	}
	sc := s.scriptClient()
	sc.cl.flags = c.cl.flags // ASKING and READONLY are the caller's
	if msg := s.routeRefuses(sc, spec, args); msg != "" {
		switch {
		case strings.HasPrefix(msg, "CLUSTERDOWN") && strings.Contains(msg, "read"):
			return "Script attempted to execute a write command while the cluster is down and readonly"
		case strings.HasPrefix(msg, "CLUSTERDOWN"):
			return "Script attempted to execute a command while the cluster is down"
		}
		return "Script attempted to access a non local key in a cluster node"
	}
	if len(s.holds.keys) > 0 && s.holdOf(sc, spec, args) != nil {
		// A key MIGRATE is sending (keyhold.go): the script cannot wait
		// for it, as a command does; Redis's answer to a key of a slot
		// in the middle of a move (TRYAGAIN) in a script.
		return "Script attempted to access a non local key in a cluster node"
	}
	if run.AllowCrossSlot {
		return ""
	}
	keys, ok := spec.GetKeys(args, sc.keysBuf[:0])
	sc.keysBuf = keys
	if !ok || len(keys) == 0 {
		return ""
	}
	slot := cluster.KeyHashSlot(args[keys[0]])
	switch {
	case run.Slot < 0:
		run.Slot = slot
	case run.Slot != slot:
		return "Script attempted to access keys that do not hash to the same slot"
	}
	return ""
}

// declaredSlot is the slot of the first key a command declares, -1
// without keys (Redis's client slot after getNodeByQuery).
func (s *Server) declaredSlot(c *Client) int {
	if !s.cfg.ClusterEnabled || c.Cmd == nil {
		return -1
	}
	keys, ok := c.Cmd.GetKeys(c.Args, c.keysBuf[:0])
	c.keysBuf = keys
	if !ok || len(keys) == 0 {
		return -1
	}
	return cluster.KeyHashSlot(c.Args[keys[0]])
}

// ScriptStart checks a run against the server's state (Redis's
// scriptPrepareForRun) and marks its start (lock held).
func (c *Client) ScriptStart(run *command.ScriptRun) string {
	s := c.srv
	f := run.Flags
	compat := f&command.ScriptEvalCompat != 0
	if !compat {
		if msg := s.scriptCommandRefuses(c, f); msg != "" {
			return msg
		}
		if f&command.ScriptNoCluster != 0 && s.cfg.ClusterEnabled {
			return "ERR Can not run script on cluster, 'no-cluster' flag is set."
		}
		if f&command.ScriptNoWrites == 0 && run.RO {
			return "ERR Can not execute a script with write flag using *_ro command."
		}
	}
	run.ReadOnly = run.RO || (!compat && f&command.ScriptNoWrites != 0)
	run.AllowOOM = !compat && f&command.ScriptAllowOOM != 0
	run.AllowCrossSlot = compat || f&command.ScriptAllowCrossSlot != 0
	run.DB = c.DB.ID
	run.Slot = s.declaredSlot(c)
	run.Proto = 2
	run.Repl = 3
	st := &s.script
	st.running = run
	st.caller = c
	st.start = c.cmdStart
	if st.start.IsZero() {
		st.start = time.Now()
	}
	run.Start = st.start
	st.now = s.env.Now
	st.busy = false
	st.yields = 0
	return ""
}

// scriptCommandRefuses is what processCommand refuses for a script with a
// shebang, whose flags replace EVAL's command flags (Redis's
// scriptFlagsToCmdFlags): denyoom unless allow-oom or no-writes, write
// unless no-writes, stale only with allow-stale.
func (s *Server) scriptCommandRefuses(c *Client, f command.ScriptFlags) string {
	write := f&command.ScriptNoWrites == 0
	if write && f&command.ScriptAllowOOM == 0 && s.cfg.MaxMemory > 0 && !s.performEvictions() {
		return command.ErrOOM
	}
	if write && s.diskErrorRefuses(c, s.setSpec) {
		return ErrMisconf
	}
	if len(s.hooks.guard) > 0 {
		// The Guard hooks (replication's) refuse as for a command with
		// the script's flags: SET is a write, GET is neither write nor
		// stale.
		probe := s.getSpec
		if write {
			probe = s.setSpec
		}
		if f&command.ScriptAllowStale == 0 || write {
			if msg := s.guardRefuses(c, probe); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// callFlags are the flags of one call of spec (Redis's
// getCommandFlags): a script's or function's flags replace EVAL's and
// FCALL's (command.Spec.CallFlags), so a no-writes script does not wait
// for CLIENT PAUSE WRITE.
func (s *Server) callFlags(c *Client, spec *command.Spec, args [][]byte) command.Flags {
	if spec.CallFlags == nil {
		return spec.Flags
	}
	return spec.CallFlags(&c.Ctx, args, spec.Flags)
}

// ScriptEnd marks the end of the script run ScriptStart began.
func (c *Client) ScriptEnd(run *command.ScriptRun) {
	st := &c.srv.script
	if st.running == run {
		st.running = nil
		st.caller = nil
		st.busy = false
	}
}

// ScriptYield runs from the runtime's instruction hook (lock held): once
// the script passed busy-reply-threshold it lets the other clients take
// the lock for a moment, to be answered BUSY or to SCRIPT KILL it.
func (c *Client) ScriptYield(run *command.ScriptRun) {
	s := c.srv
	st := &s.script
	if st.running != run {
		return
	}
	limit := s.cfg.Inert.BusyReplyThreshold
	if limit <= 0 || time.Since(st.start) < time.Duration(limit)*time.Millisecond {
		return
	}
	if !st.busy {
		st.busy = true
		s.log.Printf("Slow script detected: still in execution after %d milliseconds. You can try killing the script using the SCRIPT KILL command.", time.Since(st.start).Milliseconds())
	}
	st.yields++
	mark := s.persistMark()
	s.mu.Unlock()
	if c.loop != nil {
		// The replies of the loop's iteration go out with the BUSY
		// replies: their writes must be durable first.
		s.persistWait(mark)
	}
	runtime.Gosched()
	s.mu.Lock()
	if c.loop != nil {
		// The script runs on its connection's event loop: the loop's
		// other connections are answered from here.
		c.loop.ServeWhileBlocked()
	}
	select {
	case <-s.closing:
		// The server closes (SIGTERM, SHUTDOWN NOSAVE): the script ends
		// at once, as Redis exits from its while-blocked cron.
		run.Killed = true
	default:
	}
}

// busyRefuses is the BUSY refusal of a command while a script runs long
// (processCommand's isInsideYieldingLongCommand).
func (s *Server) busyRefuses(c *Client, spec *command.Spec) string {
	st := &s.script
	if !st.busy || st.running == nil || c == st.caller || spec.Is(command.AllowBusy) {
		return ""
	}
	if st.running.Function != "" {
		return "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	}
	return "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
}

// ScriptKill is SCRIPT KILL / FUNCTION KILL (Redis's scriptKill).
func (c *Client) ScriptKill(function bool) string {
	st := &c.srv.script
	run := st.running
	switch {
	case run == nil:
		return "NOTBUSY No scripts in execution right now."
	case run.Wrote:
		return "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	case !function && run.Function != "":
		return "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	case function && run.Function == "":
		return "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	}
	run.Killed = true
	return ""
}

// ScriptACLCheck reports whether c's user may run args
// (redis.acl_check_cmd).
func (c *Client) ScriptACLCheck(args [][]byte) (allowed, known bool) {
	spec, _ := c.srv.cmds.LookupArgs(args)
	if spec == nil {
		return false, false
	}
	u := c.aclUser
	if u == nil || u.Unrestricted() {
		return true, true
	}
	reason, _ := u.Check(spec, args)
	return reason == 0, true
}

// ScriptLog is redis.log (Redis's luaLogCommand and serverLogRaw): the
// message is logged when its level is at least loglevel's.
func (c *Client) ScriptLog(level int, msg string) {
	s := c.srv
	if level < logVerbosity(s.cfg.LogLevel) {
		return
	}
	s.log.Print(msg)
}

// logVerbosity is the level number of a loglevel (LL_DEBUG 0 ...
// LL_WARNING 3; notice for anything else).
func logVerbosity(name string) int {
	switch name {
	case "debug":
		return 0
	case "verbose":
		return 1
	case "warning":
		return 3
	}
	return 2
}

// mayReplicate is Redis's CMD_MAY_REPLICATE, which COMMAND INFO does not
// show for PUBLISH and SPUBLISH: a read-only script may not run them.
func mayReplicate(spec *command.Spec) bool {
	return spec.Is(command.MayReplicate) || spec.Name == "publish" || spec.Name == "spublish"
}

// shutdownDuringScript is SHUTDOWN while a script runs long: refused
// unless NOSAVE (BUSY, as Redis), and then the script is ended at its
// next instruction hook, so the server can close.
func (s *Server) shutdownDuringScript(nosave bool) string {
	st := &s.script
	if !st.busy || st.running == nil {
		return ""
	}
	if !nosave {
		return s.busyRefuses(nil, s.setSpec)
	}
	st.running.Killed = true
	return ""
}

// Functions in snapshots: the libraries ride in an aux field of every
// snapshot (files, the AOF base, a replica's full sync) as a FUNCTION
// DUMP payload (Redis writes them as RDB_OPCODE_FUNCTION2 records; our
// snapshot format keeps its own records for keys only).

// FunctionsAuxField names the aux field of the function libraries.
const FunctionsAuxField = "shoal-functions"

// functionLibraries is what the engine needs of the scripting runtime
// (node/scripting's Runtime) to keep its functions in snapshots.
type functionLibraries interface {
	Dump() []byte
	Restore(payload []byte, policy string) string
	FunctionCount() int
}

// FunctionsAux is the aux field of the loaded function libraries, none
// without functions (lock held). Persistence adds it to every snapshot.
func (s *Server) FunctionsAux() [][2]string {
	st := &s.script
	if st.runtime == nil {
		if st.pendingFunctions == nil {
			return nil
		}
		return [][2]string{{FunctionsAuxField, string(st.pendingFunctions)}}
	}
	libs, ok := st.runtime.(functionLibraries)
	if !ok || libs.FunctionCount() == 0 {
		return nil
	}
	return [][2]string{{FunctionsAuxField, string(libs.Dump())}}
}

// LoadFunctionsAux takes an aux field of a snapshot being loaded (lock
// held): the function libraries replace the loaded ones (Redis flushes
// them before loading an RDB). Other fields are ignored.
func (s *Server) LoadFunctionsAux(name, value []byte) error {
	if string(name) != FunctionsAuxField {
		return nil
	}
	return s.replaceFunctions(append([]byte(nil), value...))
}

// LoadFunctionCode takes a library's code of the snapshot being loaded
// at start-up (lock held): a file of Redis carries its libraries as
// RDB_OPCODE_FUNCTION2 records. The libraries read so far replace the
// loaded ones, as Redis loads them into an emptied set.
func (s *Server) LoadFunctionCode(code []byte) error {
	s.script.loadedCodes = append(s.script.loadedCodes, code)
	return s.replaceFunctions(persistence.FunctionsPayload(s.script.loadedCodes))
}

// replaceFunctions installs a FUNCTION DUMP payload in place of the
// loaded libraries (nil: none).
func (s *Server) replaceFunctions(payload []byte) error {
	st := &s.script
	if st.runtime == nil {
		st.pendingFunctions = payload
		return nil
	}
	libs, ok := st.runtime.(functionLibraries)
	if !ok {
		return nil
	}
	if payload == nil {
		return nil
	}
	if msg := libs.Restore(payload, "flush"); msg != "" {
		return fmt.Errorf("%w: function libraries: %s", persistence.ErrCorrupt, msg)
	}
	return nil
}

// replaceAllFunctions is a full resync's: the master's libraries replace
// ours, none when it has none.
func (s *Server) replaceAllFunctions(payload []byte) {
	st := &s.script
	if st.runtime == nil {
		st.pendingFunctions = payload
		return
	}
	if libs, ok := st.runtime.(functionLibraries); ok {
		if payload == nil {
			libs.Restore(emptyFunctionsDump, "flush")
			return
		}
		if msg := libs.Restore(payload, "flush"); msg != "" {
			s.log.Printf("Function libraries of the master not restored: %s", msg)
		}
	}
}

// emptyFunctionsDump is FUNCTION DUMP with no library: RDB version 10
// and the CRC64 of those two bytes.
var emptyFunctionsDump = func() []byte {
	b := []byte{10, 0}
	crc := persistence.CRC64(b)
	for i := 0; i < 8; i++ {
		b = append(b, byte(crc>>(8*i)))
	}
	return b
}()
