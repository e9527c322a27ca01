package scripting

import (
	"regexp"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Runtime error texts: gopher-lua words some of Lua's runtime errors its
// own way; lua51Message rewrites those into Lua 5.1's words (ldebug.c's
// luaG_typeerror, luaG_concaterror, luaG_aritherror, luaG_ordererror,
// lauxlib.c's luaL_argerror), as far as the message tells: Lua 5.1 also
// names the variable the value came from ("local 'a'", "field 'x'"),
// which gopher-lua does not say, so those errors read "a nil value".

var (
	// argErrorFunc finds gopher-lua's "bad argument #n to f (" to quote
	// the function's name as Lua 5.1 does ("to 'f' (").
	argErrorFunc = regexp.MustCompile(`bad argument #(\d+) to ([A-Za-z_][A-Za-z0-9_.:]*) \(`)
	argGotNil    = regexp.MustCompile(`bad argument #(\d+) to '[^']*' \(\w+ expected, got nil\)`)
	compareError = regexp.MustCompile(`attempt to compare (\w+) with (\w+)$`)
	opError      = regexp.MustCompile(`cannot perform (\w+) operation between (\w+) and (\w+)$`)
	indexError   = regexp.MustCompile(`attempt to index a non-table object\((\w+)\) with key '.*'$`)
	concatValue  = regexp.MustCompile(`invalid value \((\w+)\) at index (\d+) in table for concat$`)
)

// countArgs wraps the Go functions of t so that the runtime knows how
// many arguments the last of them got (nargs): Lua 5.1 says "got no
// value" of an argument the call did not pass, gopher-lua "got nil".
func (rt *Runtime) countArgs(t *lua.LTable) {
	t.ForEach(func(_, v lua.LValue) {
		if f, ok := v.(*lua.LFunction); ok && f.IsG {
			g := f.GFunction
			f.GFunction = func(L *lua.LState) int {
				rt.nargs = L.GetTop()
				return g(L)
			}
		}
	})
}

// runtimeMessage is a runtime error message in Lua 5.1's words, with the
// variable's name when the frame that raised it tells (varinfo.go).
// Called from an error handler, the failing frame just below it.
func (rt *Runtime) runtimeMessage(L *lua.LState, s string) string {
	if f, ok := failedFrame(L); ok {
		if named, ok := namedTypeError(f, s); ok {
			return named
		}
	}
	return rt.lua51Message(s)
}

// lua51Message is a runtime error message in Lua 5.1's words.
func (rt *Runtime) lua51Message(s string) string {
	switch {
	case strings.Contains(s, "bad argument #"):
		s = argErrorFunc.ReplaceAllString(s, "bad argument #$1 to '$2' (")
		return argGotNil.ReplaceAllStringFunc(s, func(m string) string {
			g := argGotNil.FindStringSubmatch(m)
			if n, err := strconv.Atoi(g[1]); err == nil && n > rt.nargs {
				return strings.TrimSuffix(m, "got nil)") + "got no value)"
			}
			return m
		})
	case strings.Contains(s, "attempt to compare "):
		return compareError.ReplaceAllStringFunc(s, func(m string) string {
			g := compareError.FindStringSubmatch(m)
			if g[1] == g[2] {
				return "attempt to compare two " + g[1] + " values"
			}
			return m
		})
	case strings.Contains(s, "cannot perform "):
		return opError.ReplaceAllStringFunc(s, func(m string) string {
			g := opError.FindStringSubmatch(m)
			op, lhs, rhs := g[1], g[2], g[3]
			if op == "concat" {
				// luaG_concaterror: the first operand unless it is a
				// string or a number.
				if lhs == "string" || lhs == "number" {
					lhs = rhs
				}
				return "attempt to concatenate a " + lhs + " value"
			}
			// luaG_aritherror: the first operand unless it is a number.
			if lhs == "number" {
				lhs = rhs
			}
			return "attempt to perform arithmetic on a " + lhs + " value"
		})
	case strings.Contains(s, "attempt to index a non-table object("):
		return indexError.ReplaceAllString(s, "attempt to index a $1 value")
	case strings.Contains(s, "in table for concat"):
		return concatValue.ReplaceAllString(s, "invalid value ($1) at index $2 in table for 'concat'")
	}
	return s
}
