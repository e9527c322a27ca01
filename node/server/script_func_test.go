package server

import (
	"strings"
	"testing"
)

func fload(code string) step { return cmd("FUNCTION", "LOAD", code) }

const libX = "#!lua name=x\nredis.register_function('f', function(keys, args) return {keys[1], args[1], #keys, #args} end)"

var functionSteps = []step{
	fload("return 1"), fload("#!lua"), fload("#!lua name=x foo=bar\n"), fload("#!lua name=x-y\n"),
	fload("#!py name=x\n"), fload("#!lua name=x\n"), fload("#!lua name=x\nreturn 1"),
	fload("#!lua name=x\nredis.call('x')"), fload("#!lua name=x\nlocal x = string.len('a')"),
	fload("#!lua name=x\nx = 1"),
	fload(libX), fload(libX), fload("#!lua name=y\nredis.register_function('f', function() return 1 end)"),
	cmd("FUNCTION", "LOAD", "REPLACE", libX), cmd("FUNCTION", "LOAD", "BAD", libX), cmd("FUNCTION", "LOAD"),
	cmd("FUNCTION", "LOAD", "REPLACE", "REPLACE", "return 1"), cmd("FUNCTION", "LOAD", "REPLACE", "1.5", ""),
	cmd("FUNCTION", "LOAD", "42\x00x", "REPLACE", "return 1"), cmd("FUNCTION", "LOAD", "replace", "a\r\nb", "return 1"),
	cmd("FCALL", "nosuch", "0"), cmd("FCALL", "f", "x"), cmd("FCALL", "f", "2", "a"), cmd("FCALL", "f", "-1"),
	cmd("FCALL", "f", "1", "k", "a"), cmd("FCALL_RO", "f", "1", "k", "a"), cmd("FCALL", "f", "0"),
	cmd("FUNCTION", "LIST"), cmd("FUNCTION", "LIST", "WITHCODE"), cmd("FUNCTION", "LIST", "LIBRARYNAME", "x*"),
	cmd("FUNCTION", "LIST", "LIBRARYNAME", "nomatch"), cmd("FUNCTION", "LIST", "bad"), cmd("FUNCTION", "LIST", "LIBRARYNAME"),
	cmd("FUNCTION", "LIST", "WITHCODE", "WITHCODE"), cmd("FUNCTION", "STATS"),
	fload("#!lua name=z\nredis.register_function{function_name='g', callback=function(keys, args) return redis.call('set', keys[1], args[1]) end, flags={'no-writes'}, description='d'}"),
	cmd("FCALL", "g", "1", "k", "v"), cmd("FUNCTION", "LIST", "LIBRARYNAME", "z"),
	fload("#!lua name=z2\nredis.register_function{function_name='g2', callback=function(keys, args) error('oops') end, flags={'bad'}}"),
	fload("#!lua name=z2\nredis.register_function{function_name='g2', callback=function(keys, args) error('oops') end}"),
	cmd("FCALL", "g2", "0"), cmd("FCALL_RO", "g2", "0"),
	fload("#!lua name=z3\nredis.register_function('a-b', function() end)"),
	fload("#!lua name=z3\nredis.register_function('a', 'b')"), fload("#!lua name=z3\nredis.register_function{}"),
	fload("#!lua name=z3\nredis.register_function(1, function() end)"), fload("#!lua name=z3\nredis.register_function()"),
	fload("#!lua name=z3\nredis.register_function{function_name='a'}"), fload("#!lua name=z3\nredis.register_function{function_name='a', callback=1}"),
	fload("#!lua name=z3\nredis.register_function{function_name='a', callback=function() end, flags=1}"),
	fload("#!lua name=z3\nredis.register_function{function_name='a', callback=function() end, other=1}"),
	fload("#!lua name=z3\nredis.register_function('a', function() end) redis.register_function('a', function() end)"),
	fload("#!lua name=w\nredis.register_function('wf', function(k, a) return redis.call('set', 'k', 'v') end)"),
	cmd("FCALL_RO", "wf", "0"), cmd("FCALL", "wf", "0"), cmd("GET", "k"),
	fload("#!lua name=ro\nredis.register_function{function_name='rf', callback=function(k, a) return redis.call('get', 'k') end, flags={'no-writes'}}"),
	cmd("FCALL_RO", "rf", "0"),
	cmd("FUNCTION", "STATS"), cmd("FUNCTION", "KILL"),
	cmd("FUNCTION", "DELETE", "nosuch"), cmd("FUNCTION", "DELETE", "z"), cmd("FCALL", "g", "0"),
	cmd("FUNCTION", "FLUSH", "bad"), cmd("FUNCTION", "RESTORE", "xx"), cmd("FUNCTION", "RESTORE", "xx", "bad"),
	cmd("FUNCTION", "HELP"), cmd("SCRIPT", "HELP"),
	cmd("FUNCTION", "FLUSH"), cmd("FUNCTION", "LIST"), cmd("FUNCTION", "DUMP"), cmd("FUNCTION", "STATS"),
	cmd("EVAL", "return redis.register_function", "0"),
}

func TestDifferentialFunctions(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, functionSteps)
}

// TestFunctionDumpRestoreAcrossServers restores a real Redis's FUNCTION
// DUMP payload on our node and ours on Redis.
func TestFunctionDumpRestoreAcrossServers(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	a, b := ours.raw(t), ref.raw(t)
	long := "#!lua name=big\n" + "local t = {} " + repeatString("t[#t+1] = 'abcdefgh' ", 40) + "\nredis.register_function('big', function() return #t end)"
	for _, code := range []string{libX, long} {
		if got := b.do("FUNCTION", "LOAD", code); got[0] != '$' {
			t.Fatalf("redis FUNCTION LOAD = %q", got)
		}
	}
	payload := b.do("FUNCTION", "DUMP")
	payload = bulkPayload(t, payload)
	if got := a.do("FUNCTION", "RESTORE", payload); got != "+OK\r\n" {
		t.Fatalf("RESTORE of redis's payload = %q", got)
	}
	for _, s := range [][]string{{"FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "x"}, {"FCALL", "big", "0"}, {"FCALL", "f", "1", "k", "a"}} {
		if got, want := a.do(s...), b.do(s...); got != want {
			t.Errorf("%q after RESTORE:\n ours  %q\n redis %q", s, got, want)
		}
	}
	ourPayload := bulkPayload(t, a.do("FUNCTION", "DUMP"))
	if got := b.do("FUNCTION", "RESTORE", ourPayload, "FLUSH"); got != "+OK\r\n" {
		t.Fatalf("redis RESTORE of our payload = %q", got)
	}
	if got := a.do("FUNCTION", "RESTORE", ourPayload); !strings.HasPrefix(got, "-ERR Library ") || !strings.HasSuffix(got, " already exists\r\n") {
		t.Errorf("RESTORE APPEND over the same libraries = %q", got)
	}
	for _, s := range [][]string{{"FUNCTION", "RESTORE", ourPayload, "REPLACE"}, {"FCALL", "big", "0"}} {
		if got, want := a.do(s...), b.do(s...); got != want {
			t.Errorf("%q:\n ours  %q\n redis %q", s, got, want)
		}
	}
	bad := ourPayload[:len(ourPayload)-1] + string(ourPayload[len(ourPayload)-1]^1)
	if got, want := a.do("FUNCTION", "RESTORE", bad, "FLUSH"), b.do("FUNCTION", "RESTORE", bad, "FLUSH"); got != want {
		t.Errorf("bad checksum: ours %q, redis %q", got, want)
	}
}

func repeatString(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

// bulkPayload is the content of a raw bulk string reply.
func bulkPayload(t *testing.T, raw string) string {
	t.Helper()
	i := 0
	for i < len(raw) && raw[i] != '\n' {
		i++
	}
	if len(raw) < i+3 || raw[0] != '$' {
		t.Fatalf("not a bulk string: %q", raw)
	}
	return raw[i+1 : len(raw)-2]
}
