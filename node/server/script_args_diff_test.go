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
