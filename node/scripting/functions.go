package scripting

import (
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/resp"
	lua "github.com/yuin/gopher-lua"
)

// Functions, as Redis 7.0's functions.c and function_lua.c: libraries
// loaded with FUNCTION LOAD ("#!lua name=lib" and calls of
// redis.register_function), their functions called by FCALL. They share
// the scripts' Lua state; SCRIPT FLUSH compiles them again into the new
// one.

// Library is a loaded library.
type Library struct {
	Name      string
	Code      string // the whole FUNCTION LOAD payload, shebang included
	Functions map[string]*Function
}

// Function is a registered function.
type Function struct {
	Name        string
	Description *string
	Flags       Flags
	Lib         *Library
	fn          *lua.LFunction
	// reuseArgs: the function only indexes its keys and args tables
	// (paramsOnlyIndexed), so FCALL refills the last call's.
	reuseArgs bool
}

type functions struct {
	libs  map[string]*Library
	funcs map[string]*Function
	// loading is the library being loaded (redis.register_function adds
	// to it), nil outside FUNCTION LOAD.
	loading *Library
	loadAPI *lua.LTable // the globals FUNCTION LOAD's code sees
}

func newFunctions() *functions {
	return &functions{libs: map[string]*Library{}, funcs: map[string]*Function{}}
}

// recompile compiles the libraries again into a new state (SCRIPT FLUSH).
func (f *functions) recompile(rt *Runtime) {
	f.loadAPI = nil
	libs := f.libs
	f.libs, f.funcs = map[string]*Library{}, map[string]*Function{}
	for _, name := range sortedLibNames(libs) {
		rt.LoadLibrary(libs[name].Code, false)
	}
}

func sortedLibNames(libs map[string]*Library) []string {
	names := make([]string, 0, len(libs))
	for n := range libs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

const errBadName = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

// libraryMeta reads "#!lua name=lib" (functionExtractLibMetaData): the
// engine, the name and the code after the shebang line (its line feed
// kept).
func libraryMeta(code string) (engine, name, body, msg string) {
	if !strings.HasPrefix(code, "#!") {
		return "", "", "", "Missing library metadata"
	}
	n := strings.IndexByte(code, '\n')
	if n < 0 {
		return "", "", "", "Invalid library metadata"
	}
	parts, ok := resp.SplitArgs([]byte(code[:n]), nil)
	if !ok || len(parts) == 0 {
		return "", "", "", "Invalid library metadata"
	}
	engine = string(parts[0][2:])
	for _, p := range parts[1:] {
		s := string(p)
		if !strings.HasPrefix(s, "name=") {
			return "", "", "", "Invalid metadata value given: " + s
		}
		name = s[len("name="):]
	}
	if name == "" && len(parts) == 1 {
		return "", "", "", "Library name was not given"
	}
	return engine, name, code[n:], ""
}

// LoadLibrary is FUNCTION LOAD (functionsCreateWithLibraryCtx): the
// library's name, or the error text.
func (rt *Runtime) LoadLibrary(code string, replace bool) (string, string) {
	f := rt.funcs
	engine, name, body, msg := libraryMeta(code)
	if msg != "" {
		return "", msg
	}
	if !validName.MatchString(name) {
		return "", errBadName
	}
	if !strings.EqualFold(engine, "lua") {
		return "", "Engine '" + engine + "' not found"
	}
	old := f.libs[name]
	if old != nil && !replace {
		return "", "Library '" + name + "' already exists"
	}
	lib := &Library{Name: name, Code: code, Functions: map[string]*Function{}}
	if msg := rt.runLoad(lib, body); msg != "" {
		return "", msg
	}
	if len(lib.Functions) == 0 {
		return "", "No functions registered"
	}
	for fname := range lib.Functions {
		if other := f.funcs[fname]; other != nil && other.Lib != old {
			return "", "Function " + fname + " already exists"
		}
	}
	if old != nil {
		f.unlink(old)
	}
	f.link(lib)
	return name, ""
}

func (f *functions) link(lib *Library) {
	f.libs[lib.Name] = lib
	for n, fn := range lib.Functions {
		f.funcs[n] = fn
	}
}

func (f *functions) unlink(lib *Library) {
	delete(f.libs, lib.Name)
	for n := range lib.Functions {
		delete(f.funcs, n)
	}
}

// runLoad runs a library's code with the load globals (only
// redis.register_function, redis.log and the version), as luaEngineCreate.
func (rt *Runtime) runLoad(lib *Library, body string) string {
	L := rt.L
	fn, err := rt.compile(body, "user_function")
	if err != nil {
		return "Error compiling function: " + compileError(err)
	}
	mt := rt.envMT
	mt.RawSetString("__index", rt.loadGlobals())
	rt.funcs.loading = lib
	defer func() {
		mt.RawSetString("__index", rt.globals)
		rt.funcs.loading = nil
		L.SetTop(0)
		rt.clearEnv()
	}()
	L.Push(fn)
	rt.hook.startLoad()
	L.SetContext(&rt.hook)
	err = L.PCall(0, 0, nil)
	L.RemoveContext()
	timedOut := rt.hook.endLoad()
	if timedOut {
		return "Error registering functions: ERR FUNCTION LOAD timeout"
	}
	if err != nil {
		var obj lua.LValue = lua.LString(err.Error())
		if ae, ok := err.(*lua.ApiError); ok {
			obj = ae.Object
		}
		msg := "ERR " + lua.LVAsString(obj)
		if t, ok := obj.(*lua.LTable); ok {
			msg = lua.LVAsString(t.RawGetString("err"))
		} else if s, ok := obj.(lua.LString); ok {
			msg = "ERR " + rt.lua51Message(string(s))
		}
		return "Error registering functions: " + msg
	}
	// From now on the library's functions run with the scripts' globals.
	rt.bindGlobals(fn.Proto, false, nil)
	return ""
}

// loadGlobals is the globals table of FUNCTION LOAD's code.
func (rt *Runtime) loadGlobals() *lua.LTable {
	f := rt.funcs
	if f.loadAPI != nil {
		return f.loadAPI
	}
	L := rt.L
	errMT := L.CreateTable(0, 1)
	errMT.RawSetString("__index", L.NewFunction(nonexistentGlobal))
	redis := L.CreateTable(0, 8)
	redis.RawSetString("register_function", L.NewFunction(rt.registerFunction))
	redis.RawSetString("log", L.NewFunction(rt.redisLog))
	for name, v := range map[string]int{"LOG_DEBUG": logDebug, "LOG_VERBOSE": logVerbose, "LOG_NOTICE": logNotice, "LOG_WARNING": logWarning, "REDIS_VERSION_NUM": redisVersionNum()} {
		redis.RawSetString(name, lua.LNumber(v))
	}
	redis.RawSetString("REDIS_VERSION", lua.LString(command.RedisVersion))
	L.SetMetatable(redis, errMT)
	g := L.CreateTable(0, 1)
	g.RawSetString("redis", rt.readOnly(redis))
	L.SetMetatable(g, errMT)
	f.loadAPI = g
	return g
}

// registerFunction is redis.register_function (luaRegisterFunction).
func (rt *Runtime) registerFunction(L *lua.LState) int {
	lib := rt.funcs.loading
	if lib == nil {
		return raise(L, "redis.register_function can only be called on FUNCTION LOAD command")
	}
	var name string
	var desc *string
	var flags Flags
	var cb *lua.LFunction
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			return raise(L, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		var msg string
		name, desc, flags, cb, msg = namedArgs(t)
		if msg != "" {
			return raise(L, msg)
		}
	case 2:
		s, ok := luaString(L.Get(1))
		if !ok {
			return raise(L, "first argument to redis.register_function must be a string")
		}
		f, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			return raise(L, "second argument to redis.register_function must be a function")
		}
		name, cb = string(s), f
	default:
		return raise(L, "wrong number of arguments to redis.register_function")
	}
	if !validName.MatchString(name) {
		return raise(L, errBadName)
	}
	if lib.Functions[name] != nil {
		return raise(L, "Function already exists in the library")
	}
	lib.Functions[name] = &Function{Name: name, Description: desc, Flags: flags, Lib: lib, fn: cb,
		reuseArgs: paramsOnlyIndexed(cb, 2)}
	return 0
}

// namedArgs reads register_function's table form.
func namedArgs(t *lua.LTable) (name string, desc *string, flags Flags, cb *lua.LFunction, msg string) {
	hasName := false
	t.ForEach(func(k, v lua.LValue) {
		if msg != "" {
			return
		}
		key, ok := k.(lua.LString)
		if !ok {
			msg = "named argument key given to redis.register_function is not a string"
			return
		}
		switch string(key) {
		case "function_name":
			s, ok := v.(lua.LString)
			if !ok {
				msg = "function_name argument given to redis.register_function must be a string"
				return
			}
			name, hasName = string(s), true
		case "description":
			s, ok := v.(lua.LString)
			if !ok {
				msg = "description argument given to redis.register_function must be a string"
				return
			}
			d := string(s)
			desc = &d
		case "callback":
			f, ok := v.(*lua.LFunction)
			if !ok {
				msg = "callback argument given to redis.register_function must be a function"
				return
			}
			cb = f
		case "flags":
			ft, ok := v.(*lua.LTable)
			if !ok {
				msg = "flags argument to redis.register_function must be a table representing function flags"
				return
			}
			ft.ForEach(func(_, fv lua.LValue) {
				s, ok := fv.(lua.LString)
				fl := flagByName(string(s))
				if !ok || fl == 0 {
					msg = "unknown flag given"
					return
				}
				flags |= fl
			})
		default:
			msg = "unknown argument given to redis.register_function"
		}
	})
	if msg == "" && !hasName {
		msg = "redis.register_function must get a function name argument"
	}
	if msg == "" && cb == nil {
		msg = "redis.register_function must get a callback argument"
	}
	return
}

// Function is the function registered as name, or nil.
func (rt *Runtime) Function(name string) *Function { return rt.funcs.funcs[name] }

// FCall runs a function for c (fcallCommandGeneric).
func (rt *Runtime) FCall(c *command.Ctx, fn *Function, keys, args [][]byte, ro bool) {
	run := rt.newRun(c, fn.Name, command.ScriptRun{Flags: fn.Flags, RO: ro, Function: fn.Name})
	if msg := c.ScriptStart(&run.st); msg != "" {
		c.Error(msg)
		return
	}
	rt.L.Push(fn.fn)
	if fn.reuseArgs {
		rt.fkeysT = rt.refill(rt.fkeysT, keys)
		rt.fargsT = rt.refill(rt.fargsT, args)
		rt.L.Push(rt.fkeysT)
		rt.L.Push(rt.fargsT)
	} else {
		rt.L.Push(rt.array(keys))
		rt.L.Push(rt.array(args))
	}
	rt.call(run, 2)
}

// Libraries are the loaded libraries sorted by name.
func (rt *Runtime) Libraries() []*Library {
	var out []*Library
	for _, n := range sortedLibNames(rt.funcs.libs) {
		out = append(out, rt.funcs.libs[n])
	}
	return out
}

// FunctionCount is the number of registered functions.
func (rt *Runtime) FunctionCount() int { return len(rt.funcs.funcs) }

// DeleteLibrary is FUNCTION DELETE: false when there is no such library.
func (rt *Runtime) DeleteLibrary(name string) bool {
	lib := rt.funcs.libs[name]
	if lib == nil {
		return false
	}
	rt.funcs.unlink(lib)
	return true
}

// FlushFunctions is FUNCTION FLUSH.
func (rt *Runtime) FlushFunctions() {
	rt.funcs.libs, rt.funcs.funcs = map[string]*Library{}, map[string]*Function{}
}

// FlagNames are the names of flags, in Redis's order.
func FlagNames(f Flags) []string {
	var out []string
	for _, fl := range flagNames {
		if f&fl.flag != 0 {
			out = append(out, fl.name)
		}
	}
	return out
}

// SortedFunctions are the library's functions sorted by name.
func (lib *Library) SortedFunctions() []*Function {
	out := make([]*Function, 0, len(lib.Functions))
	for _, f := range lib.Functions {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Running is the function being run (FUNCTION STATS): its name, the
// command that called it and when it started; ok is false when no
// function runs.
func (rt *Runtime) Running() (name string, args [][]byte, start time.Time, ok bool) {
	run := rt.run
	if run == nil || run.st.Function == "" {
		return "", nil, time.Time{}, false
	}
	return run.st.Function, run.c.Args, run.st.Start, true
}

// luaString is lua_tostring of a string or a number ("%.14g").
func luaString(v lua.LValue) (lua.LString, bool) {
	switch x := v.(type) {
	case lua.LString:
		return x, true
	case lua.LNumber:
		return lua.LString(luaNumberString(float64(x))), true
	}
	return "", false
}
