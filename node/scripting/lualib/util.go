package lualib

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// raise is luaL_error from a C function: the message is prefixed with
// luaL_where(L, 1), the position of the caller when the caller is a Lua
// function ("chunk:line: "), nothing when it is a Go function (pcall).
func raise(L *lua.LState, format string, args ...any) {
	L.Error(lua.LString(where(L)+fmt.Sprintf(format, args...)), 0)
}

// raiseRuntime is luaG_runerror raised inside a C function (lua_settable's
// "table index is nil"): no position.
func raiseRuntime(L *lua.LState, msg string) {
	L.Error(lua.LString(msg), 0)
}

// where is luaL_where(L, 1) as seen from a Go function.
func where(L *lua.LState) string {
	dbg, ok := L.GetStack(1)
	if !ok {
		return ""
	}
	if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil || dbg.What == "G" || dbg.CurrentLine <= 0 {
		return ""
	}
	return fmt.Sprintf("%s:%d: ", dbg.Source, dbg.CurrentLine)
}

// funcName is the name luaL_argerror reports for the running Go function:
// the name the Lua caller used, "?" when called from Go (e.g. by pcall).
func funcName(L *lua.LState) string {
	dbg, ok := L.GetStack(0)
	if !ok {
		return "?"
	}
	if _, err := L.GetInfo("n", dbg, lua.LNil); err != nil || dbg.Name == "" || dbg.Name == "(anonymous)" {
		return "?"
	}
	return dbg.Name
}

// argError is luaL_argerror: "bad argument #n to 'f' (msg)".
func argError(L *lua.LState, n int, msg string) {
	raise(L, "bad argument #%d to '%s' (%s)", n, funcName(L), msg)
}

// typeError is luaL_typerror: "<type> expected, got <type>".
func typeError(L *lua.LState, n int, want string) {
	got := "no value"
	if n <= L.GetTop() {
		got = typeName(L.Get(n))
	}
	argError(L, n, fmt.Sprintf("%s expected, got %s", want, got))
}

// typeName is lua_typename of v ("no value" for an absent argument is not
// distinguishable here and reads as "nil").
func typeName(v lua.LValue) string {
	if v == nil {
		return "nil"
	}
	return v.Type().String()
}

// parseLuaNumber is Lua 5.1's luaO_str2d: strtod, then a hexadecimal
// integer, surrounded by optional white space.
func parseLuaNumber(s string) (float64, error) {
	s = strings.Trim(s, " \t\n\r\f\v")
	if s == "" || strings.ContainsRune(s, '_') {
		return 0, strconv.ErrSyntax
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil || isRangeErr(err) {
		return f, nil
	}
	body := s
	neg := false
	if body[0] == '-' || body[0] == '+' {
		neg = body[0] == '-'
		body = body[1:]
	}
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		u, err := strconv.ParseUint(body[2:], 16, 64)
		if err != nil && !isRangeErr(err) {
			return 0, err
		}
		if err != nil {
			u = math.MaxUint64
		}
		f := float64(u)
		if neg {
			f = -f
		}
		return f, nil
	}
	return 0, strconv.ErrSyntax
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// checkInt is luaL_checkint: a number (or numeric string) truncated to int.
func checkNumber(L *lua.LState, n int) float64 {
	f, ok := toNumber(L.Get(n))
	if !ok {
		typeError(L, n, "number")
	}
	return f
}

var (
	posInf = math.Inf(1)
	nan    = math.NaN()
)
