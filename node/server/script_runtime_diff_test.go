package server

import "testing"

// scriptRuntimeErrorSteps are runtime errors whose texts gopher-lua
// words its own way and the runtime gives in Lua 5.1's words
// (node/scripting errors.go): comparisons, arithmetic and concatenation
// of the wrong types, indexing a non-table, arguments missing ("got no
// value") or of the wrong type, directly and through pcall.
var scriptRuntimeErrorSteps = []step{
	eval("return nil + 1"),
	eval("return {} + 1"),
	eval("return 'a' + 1"),
	eval("return 1 + nil"),
	eval("return '1' + {}"),
	eval("return nil .. 'x'"),
	eval("return {} .. 'x'"),
	eval("return 1 .. {}"),
	eval("return 1 < 'x'"),
	eval("return {} < {}"),
	eval("return nil < 1"),
	eval("return nil < nil"),
	eval("local t = {} return t < 1"),
	eval("return string.rep()"),
	eval("return string.rep('x')"),
	eval("return string.sub()"),
	eval("return string.len()"),
	eval("return math.floor('x')"),
	eval("return math.floor()"),
	eval("return tonumber()"),
	eval("return table.insert(1, 2)"),
	eval("return table.concat({{}})"),
	eval("return table.concat(1)"),
	eval("return setmetatable(1, {})"),
	eval("return ipairs()"),
	eval("return pairs(nil)"),
	eval("return select(0)"),
	eval("return unpack(1)"),
	eval("return string.byte('a', {})"),
	eval("return tostring()"),
	eval("return type()"),
	eval("return rawget(1)"),
	eval("local t = setmetatable({}, {__index = function(t, k) return k .. nil end}) return t.x"),
	eval("local ok, e = pcall(function() return {} .. 'x' end) return e"),
	eval("local ok, e = pcall(function() return {} < {} end) return e"),
	eval("local ok, e = pcall(function() return nil + 1 end) return e"),
	eval("return (nil).x"),
	eval("local ok, e = pcall(function() return (nil)[1] end) return e"),
}

func TestDifferentialScriptRuntimeErrors(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, scriptRuntimeErrorSteps)
}
