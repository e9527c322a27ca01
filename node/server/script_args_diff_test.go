package server

import "testing"

// scriptArgsSteps are scripts that change KEYS and ARGV, each followed
// by one that reads them: every EVAL finds tables holding its own keys
// and arguments only (the runtime refills the last EVAL's tables when
// the script left them as they were).
var scriptArgsSteps = []step{
	evalN("KEYS[2] = 'x' KEYS.y = 1 return #KEYS", "1", "a"),
	evalN("return {#KEYS, KEYS[1], KEYS[2], tostring(KEYS.y)}", "1", "b"),
	evalN("KEYS[1] = nil KEYS.z = 2 return 1", "1", "a"),
	evalN("return {#KEYS, KEYS[1], tostring(KEYS.z)}", "1", "c"),
	evalN("setmetatable(KEYS, {__index = function() return 'm' end}) return 1", "1", "a"),
	evalN("return {KEYS[1], tostring(KEYS[5])}", "1", "d"),
	evalN("table.remove(ARGV) return #ARGV", "0", "x", "y"),
	evalN("return ARGV", "0", "p", "q"),
	evalN("table.insert(ARGV, 'extra') return #ARGV", "0", "x", "y"),
	evalN("return ARGV", "0", "p", "q"),
	evalN("return {KEYS, ARGV}", "2", "k1", "k2", "a1"),
	evalN("return {KEYS, ARGV}", "1", "k3", "a2", "a3"),
	evalN("return {#KEYS, #ARGV}", "0"),
	evalN("return {KEYS[1], ARGV[1]}", "1", "k4", "a4"),
}

func TestDifferentialScriptKeysArgvFresh(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, scriptArgsSteps)
}

// functionArgsLib has functions that only index keys and args (the
// runtime refills the last FCALL's tables for them) and functions that
// keep, hand out or change them (new tables every call).
const functionArgsLib = "#!lua name=argslib\n" +
	"local kept\n" +
	"redis.register_function('show', function(keys, args) return {#keys, #args, keys[1] or 'none', args[2] or 'none', keys[#keys] or 'none'} end)\n" +
	"redis.register_function('count', function(keys, args) local n = 0 for i = 1, #keys do n = n + #keys[i] end return n end)\n" +
	"redis.register_function('keep', function(keys, args) local prev = kept kept = keys return prev or {} end)\n" +
	"redis.register_function('grow', function(keys, args) keys[#keys + 1] = 'g' args.x = 1 return #keys end)\n" +
	"redis.register_function('both', function(keys, args) return {keys, args} end)\n"

// functionArgsSteps: every FCALL finds tables holding its own keys and
// arguments, whichever function ran before, and a table a function kept
// still holds what it held.
var functionArgsSteps = []step{
	fload(functionArgsLib),
	cmd("FCALL", "show", "2", "a", "b", "x", "y"), cmd("FCALL", "show", "0"),
	cmd("FCALL", "show", "3", "a", "b", "c"), cmd("FCALL", "count", "2", "abc", "de"),
	cmd("FCALL", "keep", "1", "k1"), cmd("FCALL", "show", "1", "c", "v1", "v2"),
	cmd("FCALL", "keep", "2", "k2", "k3"), cmd("FCALL", "show", "1", "d"),
	cmd("FCALL", "grow", "1", "e", "w"), cmd("FCALL", "show", "1", "f", "w1", "w2"),
	cmd("FCALL", "both", "1", "g", "h"), cmd("FCALL", "show", "2", "i", "j"),
	cmd("FCALL", "keep", "0"), cmd("FCALL_RO", "show", "1", "k"),
}

func TestDifferentialFunctionKeysArgsFresh(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, functionArgsSteps)
}

// scriptGlobalsSteps read globals in every way a compiled chunk can (the
// runtime binds the reads of globals to their values when it compiles a
// script, and a library's functions once its load ran): locals that
// shadow them, writes refused, unknown globals, KEYS and ARGV changing
// between calls, and a library whose load-time code may only see the
// load globals while its functions see the scripts'.
var scriptGlobalsSteps = []step{
	evalN("return {type(redis.call), string.upper('a'), tostring(_G == _G), math.floor(2.5)}", "0"),
	evalN("local redis = {call = function() return 5 end} return redis.call()", "0"),
	evalN("redis = 1 return 1", "0"),
	evalN("string.upper = nil return 1", "0"),
	evalN("return nosuch", "0"),
	evalN("local function f() return nosuch2 end return f()", "0"),
	evalN("local function f(k) return redis.call('INCR', k) end return {f(KEYS[1]), #ARGV, ARGV[1]}", "1", "g1", "x"),
	evalN("local function f(k) return redis.call('INCR', k) end return {f(KEYS[1]), #ARGV, ARGV[1]}", "1", "g1"),
	evalN("return _G.redis.call('GET', KEYS[1])", "1", "g1"),
	evalN("local x = {call = 5} return (x or redis).call", "0"),
	evalN("local x = nil return type((x or redis).call)", "0"),
	evalN("local x = {call = 6} local y if x then y = x else y = redis end return y.call", "0"),
	evalN("local r = redis return tostring(r.call == redis.call)", "0"),
	evalN("return {string.format('%d-%s', 5, 'a'), cjson.encode({1}), type(redis.nosuch), math.max(1, 3)}", "0"),
	evalN("for i = 1, 2 do if i == 2 then return redis.call('GET', KEYS[1]) end end", "1", "g1"),
	fload("#!lua name=bl\nlocal function s() return string.len('abc') end\nlocal n = s()\nredis.register_function('s', s)"),
	fload("#!lua name=bl\nlocal function v() return redis.REDIS_VERSION_NUM end\nlocal atload = v()\n" +
		"redis.register_function('h', function(keys) return {v() == atload, string.upper(keys[1]), type(redis.call), redis.call('INCR', keys[1])} end)\n" +
		"redis.register_function('n', function() return nosuch end)"),
	cmd("FCALL", "h", "1", "g2"), cmd("FCALL", "h", "1", "g2"), cmd("FCALL", "n", "0"),
}

func TestDifferentialScriptGlobals(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, scriptGlobalsSteps)
}
