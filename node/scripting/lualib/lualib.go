package lualib

import lua "github.com/yuin/gopher-lua"

// Open registers cjson, cmsgpack, bit and struct as globals of L, as Redis's
// scripting engine loads them (luaLoadLib for each).
func Open(L *lua.LState) {
	null := L.NewUserData()
	null.Value = jsonNullValue{}
	L.SetGlobal("cjson", newCjsonLib(L, null))
	L.SetGlobal("cmsgpack", newCmsgpackLib(L))
	L.SetGlobal("bit", newBitLib(L))
	L.SetGlobal("struct", newStructLib(L))
}

// newLib returns a table holding fns.
func newLib(L *lua.LState, fns map[string]lua.LGFunction) *lua.LTable {
	t := L.NewTable()
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}
