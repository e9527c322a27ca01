package scripting

import (
	"runtime"

	"github.com/shoal-dev/shoal/node/scripting/lualib"
	lua "github.com/yuin/gopher-lua"
)

// The sandbox, as Redis 7.0.15's scriptingInit and luaRegisterRedisAPI:
// the base library without dofile, loadfile, print, module and require;
// table, string, math (its random from Redis's lrand48), coroutine, and
// cjson, cmsgpack, bit and struct (node/scripting/lualib); no
// os or io (Redis 7.0 has neither). The globals and the library tables
// are read-only: scripts see them through proxies whose __newindex
// raises "Attempt to modify a readonly table" and reading an undefined
// global raises "Script attempted to access nonexistent global
// variable". The runtime sets KEYS and ARGV in the real table.

// removedGlobals are the base functions scripts do not get.
var removedGlobals = []string{"dofile", "loadfile", "print", "_printregs", "module", "require", "_GOPHER_LUA_VERSION",
	"getfenv", "setfenv", "newproxy"}

// sandbox opens the libraries and the redis API in a new state.
func (rt *Runtime) sandbox() {
	L := rt.L
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	rt.globals = g
	for _, name := range removedGlobals {
		g.RawSetString(name, lua.LNil)
	}
	lualib.Open(L)
	g.RawSetString("pcall", L.NewFunction(rt.luaPcall))
	g.RawSetString("error", L.NewFunction(luaErrorFn))
	g.RawSetString("tostring", L.NewFunction(luaToString))
	g.RawSetString("gcinfo", L.NewFunction(gcinfo))
	tab := g.RawGetString("table").(*lua.LTable)
	tab.RawSetString("foreach", L.NewFunction(tableForeach))
	tab.RawSetString("foreachi", L.NewFunction(tableForeachi))
	tab.RawSetString("setn", L.NewFunction(tableSetn))
	math := g.RawGetString("math").(*lua.LTable)
	math.RawSetString("random", L.NewFunction(rt.mathRandom))
	math.RawSetString("randomseed", L.NewFunction(rt.mathRandomSeed))
	g.RawSetString("redis", rt.redisAPI())
	// Before the error handler joins the globals: it must not count.
	rt.countArgs(g)
	for _, name := range []string{"string", "table", "math"} {
		rt.countArgs(g.RawGetString(name).(*lua.LTable))
	}
	rt.errHandler = L.NewFunction(rt.errorHandler)
	rt.pcallHandler = L.NewFunction(rt.namingHandler)
	g.RawSetString("__redis__err__handler", rt.errHandler)

	rt.protected = map[*lua.LTable]bool{}
	for _, name := range []string{"string", "table", "math", "coroutine", "redis", "cjson", "cmsgpack", "bit", "struct"} {
		if t, ok := g.RawGetString(name).(*lua.LTable); ok {
			g.RawSetString(name, rt.readOnly(t))
		}
	}
	g.RawSetString("rawset", L.NewFunction(rt.rawSet))
	g.RawSetString("setmetatable", L.NewFunction(rt.setMetatable))
	// Undefined globals are an error; scripts see g through env.
	gmt := L.CreateTable(0, 1)
	gmt.RawSetString("__index", L.NewFunction(nonexistentGlobal))
	L.SetMetatable(g, gmt)
	rt.env, rt.envMT = rt.readOnlyView(g)
	g.RawSetString("_G", rt.env)
	L.Env = rt.env
}

// readOnly is a read-only view of t.
func (rt *Runtime) readOnly(t *lua.LTable) *lua.LTable {
	p, _ := rt.readOnlyView(t)
	return p
}

// readOnlyView is readOnly that also returns the view's metatable.
func (rt *Runtime) readOnlyView(t *lua.LTable) (*lua.LTable, *lua.LTable) {
	L := rt.L
	p := L.CreateTable(0, 0)
	mt := L.CreateTable(0, 3)
	mt.RawSetString("__index", t)
	mt.RawSetString("__newindex", L.NewFunction(readonlyError))
	mt.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(p, mt)
	rt.protected[p] = true
	rt.protected[t] = true
	return p, mt
}

// clearEnv drops what a script stored in the views with rawset-like
// paths the runtime does not see, so the next script starts clean.
func (rt *Runtime) clearEnv() {
	if k, _ := rt.env.Next(lua.LNil); k != lua.LNil {
		rt.resetView(rt.env)
	}
}

func (rt *Runtime) resetView(t *lua.LTable) {
	var keys []lua.LValue
	t.ForEach(func(k, _ lua.LValue) { keys = append(keys, k) })
	for _, k := range keys {
		t.RawSet(k, lua.LNil)
	}
}

func readonlyError(L *lua.LState) int {
	L.RaiseError("Attempt to modify a readonly table")
	return 0
}

func nonexistentGlobal(L *lua.LState) int {
	L.RaiseError("Script attempted to access nonexistent global variable '%s'", lua.LVAsString(L.Get(2)))
	return 0
}

// rawSet is rawset refusing the read-only tables.
func (rt *Runtime) rawSet(L *lua.LState) int {
	t := L.CheckTable(1)
	if rt.protected[t] {
		L.Error(lua.LString("Attempt to modify a readonly table"), 0)
		return 0
	}
	t.RawSet(L.CheckAny(2), L.CheckAny(3))
	L.Push(t)
	return 1
}

// setMetatable is setmetatable refusing the read-only tables.
func (rt *Runtime) setMetatable(L *lua.LState) int {
	if t, ok := L.Get(1).(*lua.LTable); ok && rt.protected[t] {
		L.Error(lua.LString("Attempt to modify a readonly table"), 0)
		return 0
	}
	L.CheckTypes(1, lua.LTTable)
	mt := L.Get(2)
	if m := L.GetMetatable(L.Get(1)); m != lua.LNil {
		if mm, ok := m.(*lua.LTable); ok && mm.RawGetString("__metatable") != lua.LNil {
			L.RaiseError("cannot change a protected metatable")
		}
	}
	if mt != lua.LNil {
		L.CheckTypes(2, lua.LTTable)
	}
	L.SetMetatable(L.Get(1), mt)
	L.SetTop(1)
	return 1
}

// errHandler is Redis's __redis__err__handler: the error becomes a table
// {err=..., source=..., line=...} naming the Lua line that raised it.
func (rt *Runtime) errorHandler(L *lua.LState) int {
	err := L.Get(1)
	t, ok := err.(*lua.LTable)
	if !ok {
		t = L.CreateTable(0, 3)
		msg := err.String()
		if s, ok := err.(lua.LString); ok {
			msg = rt.runtimeMessage(L, string(s))
		}
		t.RawSetString("err", lua.LString("ERR "+msg))
	}
	for level := 0; level < 8; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			continue
		}
		if dbg.What == "G" || dbg.CurrentLine <= 0 {
			continue
		}
		t.RawSetString("source", lua.LString("@"+dbg.Source))
		t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
		break
	}
	L.Push(t)
	return 1
}

// namingHandler is pcall's message handler: a runtime error raised by
// the VM gets Lua 5.1's words and the variable's name, which only the
// failing frame, still on the stack here, can tell.
func (rt *Runtime) namingHandler(L *lua.LState) int {
	err := L.Get(1)
	if s, ok := err.(lua.LString); ok {
		err = lua.LString(rt.runtimeMessage(L, string(s)))
	}
	L.Push(err)
	return 1
}

// luaPcall is Redis's luaRedisPcall: pcall whose error, when it is a
// redis error table, is its err string (Redis 6 scripts expect a string).
func (rt *Runtime) luaPcall(L *lua.LState) int {
	L.CheckAny(1)
	top := L.GetTop()
	err := L.PCall(top-1, lua.MultRet, rt.pcallHandler)
	if err == nil {
		L.Insert(lua.LTrue, 1)
		return L.GetTop()
	}
	var obj lua.LValue = lua.LString(err.Error())
	if ae, ok := err.(*lua.ApiError); ok {
		obj = ae.Object
	}
	if t, ok := obj.(*lua.LTable); ok {
		if s, ok := t.RawGetString("err").(lua.LString); ok {
			obj = s
		}
	} else if s, ok := obj.(lua.LString); ok {
		obj = lua.LString(rt.lua51Message(string(s)))
	}
	L.SetTop(0)
	L.Push(lua.LFalse)
	L.Push(obj)
	return 2
}

// mathRandom is Redis's redis_math_random.
func (rt *Runtime) mathRandom(L *lua.LState) int {
	r := float64(rt.rand.next()%lrandMax) / float64(lrandMax)
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := L.CheckInt(1)
		if u < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(floor(r*float64(u)) + 1))
	case 2:
		l, u := L.CheckInt(1), L.CheckInt(2)
		if l > u {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(floor(r*float64(u-l+1)) + float64(l)))
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

func floor(f float64) float64 {
	i := float64(int64(f))
	if i > f {
		i--
	}
	return i
}

// mathRandomSeed is Redis's redis_math_randomseed.
func (rt *Runtime) mathRandomSeed(L *lua.LState) int {
	rt.rand.seed(int32(L.CheckInt(1)))
	return 0
}

// luaErrorFn is Lua 5.1's error: a number message gets the position as a
// string does, and error() raises nil.
func luaErrorFn(L *lua.LState) int {
	obj := L.Get(1)
	level := L.OptInt(2, 1)
	if n, ok := obj.(lua.LNumber); ok {
		obj = lua.LString(luaNumberString(float64(n)))
	}
	L.Error(obj, level)
	return 0
}

// luaToString is tostring with Lua 5.1's "%.14g" for numbers.
func luaToString(L *lua.LState) int {
	v := L.CheckAny(1)
	if n, ok := v.(lua.LNumber); ok {
		L.Push(lua.LString(luaNumberString(float64(n))))
		return 1
	}
	if mt, ok := L.GetMetatable(v).(*lua.LTable); ok {
		if fn := mt.RawGetString("__tostring"); fn != lua.LNil {
			L.Push(fn)
			L.Push(v)
			L.Call(1, 1)
			return 1
		}
	}
	L.Push(lua.LString(v.String()))
	return 1
}

// luaNumberString is Lua 5.1's LUAI_NUMFFORMAT "%.14g".
func luaNumberString(f float64) string { return formatG(f, 14) }

// gcinfo is Lua 5.1's gcinfo: the memory in use in KB (Go's heap here).
func gcinfo(L *lua.LState) int {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	L.Push(lua.LNumber(ms.HeapAlloc / 1024))
	return 1
}

func tableForeach(L *lua.LState) int {
	t := L.CheckTable(1)
	f := L.CheckFunction(2)
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		L.Push(f)
		L.Push(k)
		L.Push(v)
		L.Call(2, 1)
		if r := L.Get(-1); r != lua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}

func tableForeachi(L *lua.LState) int {
	t := L.CheckTable(1)
	f := L.CheckFunction(2)
	for i := 1; i <= t.Len(); i++ {
		L.Push(f)
		L.Push(lua.LNumber(i))
		L.Push(t.RawGetInt(i))
		L.Call(2, 1)
		if r := L.Get(-1); r != lua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}

func tableSetn(L *lua.LState) int {
	L.RaiseError("'setn' is obsolete")
	return 0
}
