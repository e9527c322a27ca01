package scripting

import (
	"crypto/sha1"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/shoal-dev/shoal/node/command"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Runtime is a server's Lua: one state reused by every script and
// function, the compiled scripts by SHA1 (Redis's lctx.lua_scripts) and
// the function libraries.
type Runtime struct {
	L       *lua.LState
	globals *lua.LTable // the real globals (scripts see them through env)
	env     *lua.LTable // the read-only view of the globals scripts get
	envMT   *lua.LTable // env's metatable (FUNCTION LOAD swaps its __index)
	// protected are the read-only views (globals, libraries): rawset and
	// setmetatable refuse them.
	protected  map[*lua.LTable]bool
	errHandler *lua.LFunction
	// pcallHandler names the variables of pcall's errors (namingHandler).
	pcallHandler *lua.LFunction
	scripts      map[string]*Script
	rand         lrand48
	hook         hook
	run          *Run // the script being run, nil between runs
	funcs        *functions
	// last is the command that used the runtime last (Of): the engine
	// redis.log writes to outside a run (a library's code run by FUNCTION
	// LOAD).
	last *command.Ctx
	// runBuf is the one Run (runs do not nest); argBuf and argVec the
	// buffers of redis.call's arguments (argv).
	runBuf Run
	argBuf []byte
	argVec [][]byte
	// keysT and argvT are the tables of EVAL's KEYS and ARGV, refilled by
	// the next EVAL when the script left them as they were (refill).
	keysT, argvT *lua.LTable
	// fkeysT and fargsT are FCALL's, for functions that only index them
	// (Function.reuseArgs).
	fkeysT, fargsT *lua.LTable
	numbers        *numbers
	// nargs is the argument count of the last library function called
	// (countArgs).
	nargs int
}

// Script is a compiled EVAL script.
type Script struct {
	SHA   string // lower-case hex SHA1 of Body
	Body  string
	Flags Flags
	fn    *lua.LFunction
	args  []argSlot // its constants standing for KEYS and ARGV
}

// Run is one script or function run: its caller and engine state.
type Run struct {
	c    *command.Ctx
	st   command.ScriptRun
	name string // the SHA1 or function name of error texts
}

// Of is the runtime of the server c runs on (made on first use).
func Of(c *command.Ctx) *Runtime {
	rt := c.ScriptRuntime(newRuntime).(*Runtime)
	rt.last = c
	return rt
}

func newRuntime() any { return New() }

// New makes a runtime with a fresh Lua state.
func New() *Runtime {
	rt := &Runtime{scripts: map[string]*Script{}, numbers: newNumbers()}
	rt.reset()
	rt.funcs = newFunctions()
	return rt
}

// reset makes a new Lua state and forgets the scripts (SCRIPT FLUSH).
func (rt *Runtime) reset() {
	if rt.L != nil {
		rt.L.Close()
	}
	rt.scripts = map[string]*Script{}
	rt.keysT, rt.argvT, rt.fkeysT, rt.fargsT = nil, nil, nil, nil
	rt.rand.seed(0)
	rt.L = lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 256, MinimizeStackMemory: true})
	rt.hook.rt = rt
	rt.sandbox()
}

// SHA1Hex is the lower-case hex SHA1 of s (script names, redis.sha1hex).
func SHA1Hex(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// compile compiles a chunk named user_script (Redis's "@user_script").
// Lua 5.1's syntax check runs first (syntax.go): its errors are Lua
// 5.1's, and what Lua 5.1 refuses is refused.
func (rt *Runtime) compile(body, name string) (*lua.LFunction, error) {
	if err := checkSyntax(body, name); err != nil {
		return nil, err
	}
	chunk, err := parse.Parse(strings.NewReader(body), name)
	if err != nil {
		return nil, err
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, err
	}
	// A main chunk has no 'arg' table in Lua 5.1 (only its vararg
	// functions do), but gopher-lua's compatibility mode makes one on
	// every call of the chunk: a table and a map per EVALSHA, for a value
	// no name refers to.
	proto.IsVarArg &^= lua.VarArgNeedsArg
	fn := rt.L.NewFunctionFromProto(proto)
	fn.Env = rt.env
	return fn, nil
}

// CreateScript compiles and caches body (luaCreateFunction): the SHA1
// and "" on success, else the error reply.
func (rt *Runtime) CreateScript(body string) (string, *Script, string) {
	sha := SHA1Hex(body)
	if s := rt.scripts[sha]; s != nil {
		return sha, s, ""
	}
	flags, n, msg := ShebangFlags(body)
	if msg != "" {
		return "", nil, "ERR " + msg
	}
	// The shebang line is skipped but its line feed kept, so line
	// numbers stay the user's.
	fn, err := rt.compile(body[n:], "user_script")
	if err != nil {
		return "", nil, "ERR Error compiling script (new function): " + compileError(err)
	}
	var slots []argSlot
	rt.bindGlobals(fn.Proto, true, &slots)
	s := &Script{SHA: sha, Body: body, Flags: flags, fn: fn, args: slots}
	rt.scripts[sha] = s
	return sha, s, ""
}

// compileError is gopher-lua's syntax error in Lua's "chunk:line: msg"
// shape where it can be found.
func compileError(err error) string {
	if se, ok := err.(*syntaxError); ok {
		return se.msg
	}
	msg := strings.TrimSpace(strings.ReplaceAll(err.Error(), "\n", " "))
	if m := parseErrorShape.FindStringSubmatch(msg); m != nil {
		return m[1] + ":" + m[2] + ": " + strings.TrimSpace(m[4]) + " near '" + m[3] + "'"
	}
	return msg
}

// parseErrorShape is gopher-lua's "chunk line:N(column:M) near 'tok': msg".
var parseErrorShape = regexp.MustCompile(`^(\S+) line:(\d+)\(column:\d+\) near '(.*)':\s+(.*)$`)

// Lookup is the cached script of sha (either case), or nil.
func (rt *Runtime) Lookup(sha string) *Script { return rt.scripts[strings.ToLower(sha)] }

// LookupSHA is Lookup of EVALSHA's argument, without allocating: a
// SHA1 in upper case is lowered into a buffer first.
func (rt *Runtime) LookupSHA(sha []byte) *Script {
	var buf [40]byte
	if len(sha) == len(buf) {
		for i, b := range sha {
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			buf[i] = b
		}
		sha = buf[:]
	}
	return rt.scripts[string(sha)]
}

// Flush forgets every script and starts a new Lua state (SCRIPT FLUSH);
// the function libraries are compiled again into it.
func (rt *Runtime) Flush() {
	rt.reset()
	rt.funcs.recompile(rt)
}

// Eval runs a script for c (evalGenericCommand, luaCallFunction): keys
// and args become KEYS and ARGV; the reply goes to c.
func (rt *Runtime) Eval(c *command.Ctx, s *Script, keys, args [][]byte, ro bool) {
	run := rt.newRun(c, s.SHA, command.ScriptRun{Flags: s.Flags, RO: ro})
	if msg := c.ScriptStart(&run.st); msg != "" {
		c.Error(msg)
		return
	}
	// Only Eval sets KEYS and ARGV (scripts cannot): a refilled table is
	// in place already.
	if t := rt.refill(rt.keysT, keys); t != rt.keysT {
		rt.keysT = t
		rt.globals.RawSetString("KEYS", t)
	}
	if t := rt.refill(rt.argvT, args); t != rt.argvT {
		rt.argvT = t
		rt.globals.RawSetString("ARGV", t)
	}
	setArgs(s.args, rt.keysT, rt.argvT)
	rt.L.Push(s.fn)
	rt.call(run, 0)
}

// newRun is the runtime's Run, reset for a new run.
func (rt *Runtime) newRun(c *command.Ctx, name string, st command.ScriptRun) *Run {
	if rt.run != nil { // not expected: a command run while a script is busy
		return &Run{c: c, name: name, st: st}
	}
	rt.runBuf = Run{c: c, name: name, st: st}
	return &rt.runBuf
}

// call runs the function (and nargs arguments) on the stack with the
// error handler, and replies; the run has been started (ScriptStart).
func (rt *Runtime) call(run *Run, nargs int) {
	L := rt.L
	c := run.c
	rt.run = run
	rt.hook.start()
	L.SetContext(&rt.hook)
	err := L.PCall(nargs, 1, rt.errHandler)
	L.RemoveContext()
	c.ScriptEnd(&run.st)
	rt.run = nil
	if err != nil {
		rt.replyError(c, run, err)
	} else {
		v := L.Get(-1)
		writeReply(c.W, v, run.st.Proto, 0)
	}
	L.SetTop(0)
	rt.clearEnv()
}

// replyError replies the error a script ended with (luaCallFunction).
func (rt *Runtime) replyError(c *command.Ctx, run *Run, err error) {
	var obj lua.LValue = lua.LString(err.Error())
	if ae, ok := err.(*lua.ApiError); ok {
		obj = ae.Object
	}
	t, ok := obj.(*lua.LTable)
	if !ok {
		msg := "execution failure"
		if s, ok := obj.(lua.LString); ok {
			msg = string(s)
		}
		if len(msg) > 100 {
			msg = msg[:100]
		}
		c.Error("ERR Error running script " + run.name + ", " + msg)
		return
	}
	msg := lua.LVAsString(t.RawGetString("err"))
	if run.st.Killed {
		msg = "ERR Script killed by user with SCRIPT KILL..."
	}
	source, sok := t.RawGetString("source").(lua.LString)
	line := t.RawGetString("line")
	if sok && line != lua.LNil {
		msg += " script: " + run.name + ", on " + string(source) + ":" + lua.LVAsString(line) + "."
	}
	c.Error(msg)
}

// array is a Lua array of the strings of v (luaCreateArray).
func (rt *Runtime) array(v [][]byte) *lua.LTable {
	t := rt.L.CreateTable(len(v), 0)
	for i, b := range v {
		t.RawSetInt(i+1, lua.LString(b))
	}
	return t
}

// refill is t (a KEYS or ARGV table of the last EVAL) holding v, when
// t holds exactly as many values, at 1..n, and has no metatable: else a
// new table. A script cannot keep a reference to KEYS or ARGV past its
// run (the globals are read-only), so what it finds is what it would
// find in a new table. FCALL's are refilled only for a function that
// cannot keep them (paramsOnlyIndexed): a library's closure may.
func (rt *Runtime) refill(t *lua.LTable, v [][]byte) *lua.LTable {
	if t == nil || t.Metatable != lua.LNil || t.Len() != len(v) || !rt.onlyArray(t, len(v)) {
		return rt.array(v)
	}
	for i, b := range v {
		// An argument as the last call's (ARGV's constants) stays.
		if old, ok := t.RawGetInt(i + 1).(lua.LString); ok && string(old) == string(b) {
			continue
		}
		t.RawSetInt(i+1, lua.LString(b))
	}
	return t
}

// onlyArray reports whether t's entries are exactly 1..n: each of them
// set and nothing after n (Next). ForEach would box every index.
func (rt *Runtime) onlyArray(t *lua.LTable, n int) bool {
	for i := 1; i <= n; i++ {
		if t.RawGetInt(i) == lua.LNil {
			return false
		}
	}
	var last lua.LValue = lua.LNil // Next(nil): the first entry
	if n > 0 {
		last = rt.numbers.box(lua.LNumber(n))
	}
	k, _ := t.Next(last)
	return k == lua.LNil
}

// Exists reports whether sha is cached.
func (rt *Runtime) Exists(sha string) bool { return rt.Lookup(sha) != nil }
