package scripting

import (
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/node/command"
	lua "github.com/yuin/gopher-lua"
)

// The redis table (luaRegisterRedisAPI).

// Log levels (LL_*) and propagation flags (PROPAGATE_*) of Redis.
const (
	logDebug, logVerbose, logNotice, logWarning = 0, 1, 2, 3
	replNone, replAOF, replReplica, replAll     = 0, 1, 2, 3
)

// redisVersionNum is REDIS_VERSION_NUM of command.RedisVersion.
func redisVersionNum() int {
	n := 0
	for _, p := range strings.SplitN(command.RedisVersion, ".", 3) {
		v, _ := strconv.Atoi(p)
		n = n<<8 | v
	}
	return n
}

func (rt *Runtime) redisAPI() *lua.LTable {
	L := rt.L
	t := L.CreateTable(0, 32)
	fns := map[string]lua.LGFunction{
		"call":          func(L *lua.LState) int { return rt.redisCall(L, true) },
		"pcall":         func(L *lua.LState) int { return rt.redisCall(L, false) },
		"log":           rt.redisLog,
		"setresp":       rt.setResp,
		"sha1hex":       sha1hexCommand,
		"error_reply":   errorReply,
		"status_reply":  statusReply,
		"set_repl":      rt.setRepl,
		"acl_check_cmd": rt.aclCheckCmd,
		"breakpoint":    func(L *lua.LState) int { L.Push(lua.LFalse); return 1 },
		"debug":         func(L *lua.LState) int { return 0 },
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	for name, v := range map[string]int{
		"LOG_DEBUG": logDebug, "LOG_VERBOSE": logVerbose, "LOG_NOTICE": logNotice, "LOG_WARNING": logWarning,
		"REPL_NONE": replNone, "REPL_AOF": replAOF, "REPL_SLAVE": replReplica, "REPL_REPLICA": replReplica, "REPL_ALL": replAll,
		"REDIS_VERSION_NUM": redisVersionNum(),
	} {
		t.RawSetString(name, lua.LNumber(v))
	}
	t.RawSetString("REDIS_VERSION", lua.LString(command.RedisVersion))
	return t
}

// raise raises a redis error table (luaPushError + luaError).
func raise(L *lua.LState, msg string) int {
	L.Error(errorTable(L, msg), 1)
	return 0
}

// notInRun is the error of a redis.* call outside a script run.
func (rt *Runtime) current(L *lua.LState, what string) *Run {
	if rt.run == nil {
		raise(L, what+" can only be called inside a script invocation")
	}
	return rt.run
}

// argv converts the arguments of redis.call (luaArgsToRedisArgv) into
// the runtime's argument buffers, reused by the next call as Redis
// reuses its lua_argv: a command that keeps an argument past its call
// copies it (a propagated rewrite, a key signalled ready, a stored value),
// as it does with a client's read buffer. A call with more than
// maxKeptArgBytes of arguments gets buffers of its own.
func (rt *Runtime) argv(L *lua.LState) ([][]byte, string) {
	n := L.GetTop()
	if n == 0 {
		return nil, "Please specify at least one argument for this redis lib call"
	}
	size := 0
	for i := 1; i <= n; i++ {
		switch x := L.Get(i).(type) {
		case lua.LString:
			size += len(x)
		case lua.LNumber:
			size += 24 // "%.17g" of a double is at most 24 bytes
		default:
			return nil, "Lua redis lib command arguments must be strings or integers"
		}
	}
	buf, args := rt.argBuf[:0], rt.argVec[:0]
	if size > cap(buf) {
		buf = make([]byte, 0, size)
	}
	if n > cap(args) {
		args = make([][]byte, 0, n)
	}
	for i := 1; i <= n; i++ {
		start := len(buf)
		switch x := L.Get(i).(type) {
		case lua.LString:
			buf = append(buf, x...)
		case lua.LNumber:
			buf = appendG17(buf, float64(x))
		}
		args = append(args, buf[start:len(buf):len(buf)])
	}
	if cap(buf) <= maxKeptArgBytes {
		rt.argBuf, rt.argVec = buf, args
	}
	return args, ""
}

// maxKeptArgBytes bounds the argument buffer a runtime keeps between
// calls.
const maxKeptArgBytes = 64 << 10

// redisCall is redis.call (raise true) and redis.pcall
// (luaRedisGenericCommand).
func (rt *Runtime) redisCall(L *lua.LState, raiseErr bool) int {
	run := rt.current(L, "redis.call/pcall")
	// The arguments stay on the stack: the VM takes the pushed result
	// from the top.
	args, msg := rt.argv(L)
	if msg != "" {
		if raiseErr {
			return raise(L, msg)
		}
		L.Push(errorTable(L, msg))
		return 1
	}
	reply, refused := run.c.ScriptCall(&run.st, args)
	if refused != "" {
		if raiseErr {
			return raise(L, refused)
		}
		L.Push(errorTable(L, refused))
		return 1
	}
	v, isErr := replyToLua(L, rt.numbers, reply)
	if isErr && raiseErr {
		L.Error(v, 1)
		return 0
	}
	L.Push(v)
	return 1
}

func sha1hexCommand(L *lua.LState) int {
	if L.GetTop() != 1 {
		return raise(L, "wrong number of arguments")
	}
	s, _ := argString(L.Get(1))
	L.Push(lua.LString(SHA1Hex(s)))
	return 1
}

// errorReply is redis.error_reply: {err=msg}, "-" optional.
func errorReply(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(errorTable(L, "wrong number or type of arguments"))
		return 1
	}
	msg := string(s)
	if !strings.HasPrefix(msg, "-") {
		msg = "-" + msg
	}
	L.Push(errorTable(L, msg))
	return 1
}

// statusReply is redis.status_reply: {ok=msg}.
func statusReply(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(errorTable(L, "wrong number or type of arguments"))
		return 1
	}
	t := L.CreateTable(0, 1)
	t.RawSetString("ok", s)
	L.Push(t)
	return 1
}

// redisLog is redis.log (luaLogCommand): the message goes to the node's
// log, filtered by loglevel.
func (rt *Runtime) redisLog(L *lua.LState) int {
	n := L.GetTop()
	if n < 2 {
		return raise(L, "redis.log() requires two arguments or more.")
	}
	lv, ok := L.Get(1).(lua.LNumber)
	if !ok {
		if s, isStr := L.Get(1).(lua.LString); isStr {
			f, err := strconv.ParseFloat(strings.TrimSpace(string(s)), 64)
			ok, lv = err == nil, lua.LNumber(f)
		}
	}
	if !ok {
		return raise(L, "First argument must be a number (log level).")
	}
	level := int(lv)
	if level < logDebug || level > logWarning {
		return raise(L, "Invalid debug level.")
	}
	// The arguments after the level, as lua_tolstring makes them (strings
	// and numbers; others are skipped), joined by spaces.
	var msg strings.Builder
	for i := 2; i <= n; i++ {
		var part string
		switch x := L.Get(i).(type) {
		case lua.LString:
			part = string(x)
		case lua.LNumber:
			part = formatG(float64(x), 14)
		default:
			continue
		}
		if i != 2 {
			msg.WriteByte(' ')
		}
		msg.WriteString(part)
	}
	if run := rt.run; run != nil {
		run.c.ScriptLog(level, msg.String())
	} else if rt.last != nil { // FUNCTION LOAD running a library's code
		rt.last.ScriptLog(level, msg.String())
	}
	return 0
}

// setResp is redis.setresp.
func (rt *Runtime) setResp(L *lua.LState) int {
	run := rt.current(L, "redis.setresp")
	if L.GetTop() != 1 {
		return raise(L, "redis.setresp() requires one argument.")
	}
	v := int(luaNumber(L.Get(1)))
	if v != 2 && v != 3 {
		return raise(L, "RESP version must be 2 or 3.")
	}
	run.st.Proto = v
	return 0
}

// setRepl is redis.set_repl.
func (rt *Runtime) setRepl(L *lua.LState) int {
	run := rt.current(L, "redis.set_repl")
	if L.GetTop() != 1 {
		return raise(L, "redis.set_repl() requires two arguments.")
	}
	f := int(luaNumber(L.Get(1)))
	if f&^replAll != 0 {
		return raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
	}
	run.st.Repl = f
	return 0
}

// aclCheckCmd is redis.acl_check_cmd: whether the user may run the
// command (Redis's ACLCheckAllUserCommandPerm).
func (rt *Runtime) aclCheckCmd(L *lua.LState) int {
	run := rt.current(L, "redis.acl_check_cmd")
	args, msg := rt.argv(L)
	if msg != "" {
		return raise(L, msg)
	}
	allowed, known := run.c.ScriptACLCheck(args)
	if !known {
		return raise(L, "Invalid command passed to redis.acl_check_cmd()")
	}
	L.Push(lua.LBool(allowed))
	return 1
}

// luaNumber is lua_tonumber: numbers, numeric strings, else 0.
func luaNumber(v lua.LValue) float64 {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x)
	case lua.LString:
		f, err := strconv.ParseFloat(strings.TrimSpace(string(x)), 64)
		if err == nil {
			return f
		}
	}
	return 0
}
