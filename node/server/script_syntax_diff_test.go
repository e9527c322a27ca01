package server

import (
	"strings"
	"testing"
)

// brokenScripts are chunks Lua 5.1 refuses to compile, one or more for
// each error rule of its lexer and parser (llex.c, lparser.c); Redis
// replies "Error compiling script (new function): user_script:N: ...".
var brokenScripts = []string{
	"x error", "x", "x.y", "a, b", "a, b =", "(f)", "a, f() = 1", "return 1 +", "return )", "f(", "x = 1 1",
	"function f()", "function f()\n  return 1\n", "if x then", "if x then\n\nelse\n", "if x end", "if then end",
	"while true do", "while true do\n x = 1\n", "do\n", "repeat x = 1", "repeat\n\n", "for i = 1 do end",
	"for i in do end", "for 1 do end", "for i=1,2 do\n", "for i = 1, 2, do end", "local = 1", "local a, = 1",
	"local function 1() end", "local function() end", "function () end", "function a.b:c.d() end",
	"return function(a, 1) end", "return function(a,", "function f(...,a) end", "return 1 2", "return 1 end",
	"end", "do end end", "elseif", "break", "while 1 do local function g() break end end",
	"local function f() return ... end", "return a.1", "return a:b", "return nil.x", "return #", "return not",
	"return (1", "return (1\n+2", "f(1,\n2", "f\n(1)", "local t = {1, 2", "local t = {\n1,\n2\n",
	"local t = {a = }", "return {,}", "return {1,,2}", "return {;}", "return {[1 = 2}", "return {[1]}",
	"t = {1 2}", "t = {a b}", "return a[", "return a[]",
	"local x = \"abc", "x = \"abc\ny\"", "return 'abc\\", "return [[abc", "x = [==[ abc ]=]",
	"--[[ unfinished comment", "x = [=", "x = [==x", "return \"\\9999\"", "return '\\300'",
	"return 1e", "return 0x", "return 1..2", "return 0x1p", "return 1_000", "return 1.5.3",
	"return ~", "x = @", "return 1 & 2", "return 3 // 2", "local x <const> = 1", "goto x", "::lbl::",
	"x = \x01", "\x00", "\xc3\xa9 = 1", "x = [[a\nb]] y", "\n\n\nreturn )", "\r\n\r\nx", "\n\r\n\rx",
	"# not a shebang\nreturn 1",
	"local " + strings.Repeat("a,", 200) + "a",
	"return " + strings.Repeat("(", 199) + "1" + strings.Repeat(")", 199),
}

func TestDifferentialScriptSyntaxErrors(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	var steps []step
	for _, s := range brokenScripts {
		steps = append(steps, eval(s), cmd("SCRIPT", "LOAD", s),
			cmd("FUNCTION", "LOAD", "#!lua name=broken\n"+s))
	}
	runDifferential(t, ours, ref, steps)
}
