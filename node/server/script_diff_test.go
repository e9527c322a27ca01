package server

import "testing"

// The differential tests of scripting (node/scripting, EVAL/SCRIPT): the
// same scripts to Debian's redis-server and to our node, same replies,
// covering the Lua<->RESP conversions, the error texts and the sandbox.

func eval(script string, keysAndArgs ...string) step {
	return cmd(append([]string{"EVAL", script, "0"}, keysAndArgs...)...)
}

func evalN(script, numkeys string, keysAndArgs ...string) step {
	return cmd(append([]string{"EVAL", script, numkeys}, keysAndArgs...)...)
}

// scriptConversionSteps are the Lua -> RESP and RESP -> Lua rules.
var scriptConversionSteps = []step{
	eval("return 1"), eval("return 3.99"), eval("return -3.99"), eval("return 'x'"),
	eval("return true"), eval("return false"), eval("return nil"), eval("return {}"),
	eval("return {1,2,3.7,nil,4}"), eval("return {1,{2,{3,'x'}},false,true}"),
	eval("return {ok='fine'}"), eval("return {err='MY error'}"), eval("return {err='no code'}"),
	eval("return {err=3}"), eval("return {ok=3}"), eval("return {ok='a\\r\\nb'}"),
	eval("return redis.status_reply('PONG')"), eval("return redis.error_reply('x')"),
	eval("return redis.error_reply('-x y')"), eval("return redis.error_reply('MY x')"),
	eval("return redis.status_reply(1)"), eval("return redis.error_reply()"),
	eval("return {double=3.5}"), eval("return {big_number='123'}"),
	eval("return {map={a=1}}"), eval("return {set={a=true}}"),
	eval("return 1e300"), eval("return -1e300"), eval("return 0/0"), eval("return 2^53+1"),
	eval("return tostring(1e15)"), eval("return tostring(0.1)"), eval("return 9007199254740993"),
	eval("return function() end"), eval("return {function() end, 1}"),
	eval("return {'a', {}, {nil, 1}}"),
	cmd("SET", "s", "x"), cmd("RPUSH", "l", "a", "b", "c"), cmd("HSET", "h", "f", "v"), cmd("SET", "n", "10"),
	eval("return redis.call('GET', 's')"), eval("return redis.call('GET', 'nokey')"),
	eval("return redis.call('LRANGE', 'l', 0, -1)"), eval("return redis.call('HGETALL', 'h')"),
	eval("return redis.call('INCR', 'n')"), eval("return redis.call('INCRBY', 'n', 2.5)"),
	eval("return redis.call('INCRBY', 'n', 5)"), eval("return redis.call('SET', 'x', 1.5)"), eval("return redis.call('GET', 'x')"),
	eval("return redis.call('SET', 'x', 0.1)"), eval("return redis.call('GET', 'x')"),
	eval("return redis.call('SET', 'x', 1e20)"), eval("return redis.call('GET', 'x')"),
	eval("return redis.call('PING')"), eval("return type(redis.call('PING'))"), eval("return redis.call('PING').ok"),
	eval("return redis.call('BLPOP', 'nolist', 0)"), eval("return type(redis.call('GET', 'nokey'))"),
	eval("return redis.call('EXISTS', 's', 'nokey', 's')"), eval("return redis.call('TYPE', 's')"),
	eval("return redis.pcall('INCR', 's')"), eval("return type(redis.pcall('INCR', 's'))"),
	eval("local r = redis.pcall('INCR', 's'); return r.err"),
	eval("return redis.call('INCR', 's')"),
	evalN("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", "2", "k1", "k2", "a1", "a2"),
	evalN("return redis.call('SET', KEYS[1], ARGV[1])", "1", "kk", "vv"), cmd("GET", "kk"),
	eval("redis.setresp(3); return redis.call('HGETALL', 'h')"),
	eval("redis.setresp(3); return redis.call('GET', 'nokey')"),
	eval("redis.setresp(3); return type(redis.call('GET', 'nokey'))"),
	eval("redis.setresp(3); return redis.call('HGETALL', 'h').map.f"),
	eval("redis.setresp(3); return true"), eval("redis.setresp(3); return false"),
	eval("redis.setresp(3); return redis.call('SMEMBERS', 'nokey')"),
	cmd("SADD", "set1", "m"), eval("redis.setresp(3); return redis.call('SMEMBERS', 'set1').set.m"),
	cmd("ZADD", "z", "1.5", "m"), eval("redis.setresp(3); return redis.call('ZSCORE', 'z', 'm')"),
	eval("redis.setresp(3); return redis.call('ZSCORE', 'z', 'm').double"),
	eval("return redis.call('ZSCORE', 'z', 'm')"),
	eval("return cjson.encode({1, 'a', {x=1}})"), eval("return cjson.decode('[1,2,3]')"),
	eval("return cmsgpack.unpack(cmsgpack.pack({1, 2, 'x'}))"), eval("return bit.band(0xff, 0x0f)"),
	eval("return struct.pack('>I2', 258)"), eval("cjson.x = 1"),
	eval("return math.floor(2.5)"), eval("return string.format('%d-%s', 3, 'x')"), eval("return string.rep('ab', 3)"),
	eval("return table.concat({1,2,3}, ',')"), eval("return #KEYS"),
	eval("return select('#', 1, 2, 3)"), eval("return tonumber('0x10')"), eval("return unpack({1, 2})"),
	eval("local t = {} for i=1,5 do t[#t+1]=i end return t"),
	eval("return pcall(error, 'x')"), eval("local ok, e = pcall(redis.call, 'nosuch') return e"),
	eval("local ok, e = pcall(function() redis.call('INCR', 's') end) return e"),
	eval("return redis.sha1hex('')"), eval("return redis.sha1hex('abc')"), eval("return redis.sha1hex()"),
	eval("return redis.REDIS_VERSION"), eval("return redis.REDIS_VERSION_NUM"),
	eval("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}"),
	eval("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}"),
	eval("redis.log(redis.LOG_WARNING, 'hello') return 1"), eval("return redis.log(1)"), eval("return redis.log(9, 'x')"),
	eval("return redis.log('x', 'x')"), eval("return redis.setresp(4)"), eval("return redis.setresp()"),
	eval("return redis.set_repl(9)"), eval("return redis.set_repl()"), eval("redis.set_repl(redis.REPL_ALL) return 1"),
	eval("return redis.breakpoint()"), eval("return redis.debug('x')"),
	eval("return redis.acl_check_cmd('get', 'x')"), eval("return redis.acl_check_cmd('nosuch')"),
	eval("redis.call('SELECT', 1) redis.call('SET', 'indb1', 'v') return redis.call('DBSIZE')"),
	cmd("EXISTS", "indb1"), cmd("SELECT", "1"), cmd("GET", "indb1"), cmd("SELECT", "0"),
}

// scriptErrorSteps are the error texts of EVAL and of redis.call.
var scriptErrorSteps = []step{
	eval("x = 1"), eval("return y"), eval("local t = {} t.x = 1 return t.x"),
	eval("return redis.call('nosuch')"), eval("return redis.call('get')"),
	eval("return redis.call('eval', 'return 1', 0)"), eval("return redis.call('multi')"),
	eval("return redis.pcall('nosuch')"), eval("return redis.call()"), eval("return redis.call({})"),
	eval("return redis.call('get', true)"), eval("return redis.pcall(true)"),
	eval("return redis.call('incr', 'a', 'b')"), eval("error('boom')"), eval("error({err='MY boom'})"),
	eval("error()"), eval("error(nil)"), eval("error(12)"),
	eval("\n\nerror('line three')"), eval("local function f() error('in f') end\nf()"),
	eval("redis.call = 1"), eval("rawset(_G, 'x', 1)"), eval("setmetatable(_G, nil)"),
	eval("string.x = 1"), eval("redis.x = 1"), eval("_G.x = 1"), eval("math.pi = 3"),
	eval("KEYS = 1"), eval("function f() end"),
	cmd("EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"), cmd("EVALSHA", "abc", "0"),
	cmd("EVALSHA_RO", "ffffffffffffffffffffffffffffffffffffffff", "0"),
	evalN("return 1", "-1"), evalN("return 1", "2", "a"), evalN("return 1", "x"),
	evalN("return 1", "99999999999999999999"),
	cmd("EVAL"), cmd("EVAL", "return 1"),
	eval("#!python\nreturn 1"), eval("#!lua flags=bad\nreturn 1"), eval("#!lua\nerror('x')"),
	eval("#!lua foo=bar\nreturn 1"), eval("#!lua"), eval("#!lua flags=\nreturn 1"),
	eval("#!lua flags=no-writes\nreturn redis.call('set','a','b')"),
	eval("#!lua flags=no-writes,allow-oom\nreturn redis.call('get','a')"),
	cmd("EVAL_RO", "return redis.call('set','a','b')", "0"), cmd("EVAL_RO", "#!lua\nreturn 1", "0"),
	cmd("EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get', 'a')", "0"),
	cmd("EVAL_RO", "return redis.call('publish', 'c', 'm')", "0"),
	eval("#!lua flags=no-cluster\nreturn 1"), eval("#!lua flags=allow-cross-slot-keys\nreturn 1"),
	cmd("SCRIPT", "LOAD", "return 'loaded'"),
	cmd("EVALSHA", "7b5a6d9d3f0a0c4b2d8bda3c7e70b1d1f9f4ec0d", "0"),
	cmd("SCRIPT", "LOAD", "#!lua flags=bad\n"),
	cmd("SCRIPT", "EXISTS", "0000", "ffffffffffffffffffffffffffffffffffffffff"),
	cmd("SCRIPT", "FLUSH", "bad"), cmd("SCRIPT", "FLUSH", "SYNC", "x"), cmd("SCRIPT", "KILL"), cmd("SCRIPT"),
	cmd("SCRIPT", "nosuch"), cmd("SCRIPT", "DEBUG", "bad"), cmd("SCRIPT", "DEBUG", "NO"),
	eval("return math.random(0)"), eval("return math.random(2, 1)"), eval("return math.random(1,2,3)"),
	eval("return type(math.random())"), eval("math.randomseed(7) return math.random(1000)"),
	eval("return tostring(math.random(1,1))"),
	// Runtime errors name the variable as Lua 5.1 does (varinfo.go).
	eval("return redis.foo()"),
	eval("local t = {} ; t.x.y = 1"),
	eval("local t ; return t.x"),
	eval("local a = {} ; return a + 1"),
	eval("return KEYS[1] .. nil"),
	eval("local s = \"x\" ; return s:nope()"),
	eval("local t = {} ; return #t.x"),
	eval("local f ; f()"),
	eval("local t = {} ; return t.a.b.c"),
	eval("local up = nil ; local function g() return up.x end ; return g()"),
	eval("return ARGV.x.y"),
	eval("local a = 1 ; local b ; return a + b"),
	eval("local t = {} ; return 1 + t.x"),
	eval("local x = {} ; return \"a\" .. x .. \"b\""),
	eval("return {pcall(function() local q ; return q.z end)}"),
	eval("local t = {} ; t[1].x = 2"),
	eval("local n = nil ; n.y = 3"),
	eval("for i = 1, 2 do local v ; v.k = i end"),
	eval("local t = {} ; t:m()"),
	eval("for k, v in pairs({a=1}) do local z = v.q end"),
	eval("local function f(a, b) return a.x + b end ; return f(nil, 1)"),
	eval("local function f(a, b) return a + b.y end ; return f(1, {})"),
	eval("local t = {} ; local u = t ; return u.p.q"),
	eval("local a, b, c = 1, nil, 3 ; return a .. b .. c"),
	eval("local a = \"x\" ; local b = {} ; return a .. \"y\" .. b"),
	eval("local t = {} ; return -t"),
	eval("local t = {} ; return t < 1"),
	eval("return nil + 1"),
	eval("local t = setmetatable({}, {}) ; return t.x.y"),
	eval("return redis.call(\"GET\", \"x\").y"),
	eval("local s = \"abc\" ; return s.len.x"),
	eval("local function outer() local w ; return function() return w.v end end ; return outer()()"),
	eval("return (1)()"),
	eval("local t = {f = 1} ; return t.f()"),
	eval("local r = {} ; r.a = {} ; return r.a.b.c"),
	eval("return table.concat({{}})"),
	// Not named (gopher-lua's scope ends are wrong once registers are
	// reused): "attempt to index a nil value" for Redis's "local 'e'".
	// do local d ; end ; local e ; return e.f
}

// scriptSandboxSteps are the globals scripts have and lack.
func scriptSandboxSteps() []step {
	var steps []step
	for _, g := range []string{"print", "loadfile", "dofile", "require", "module", "os", "io", "getfenv", "setfenv",
		"coroutine", "newproxy", "gcinfo", "load", "loadstring", "debug", "unpack", "_VERSION", "_G", "xpcall",
		"collectgarbage", "rawequal", "rawget", "rawset", "next", "ipairs", "pairs", "select", "tonumber",
		"tostring", "type", "assert", "error", "pcall", "setmetatable", "getmetatable", "package", "string", "table", "math", "redis",
		"__redis__err__handler", "KEYS", "ARGV"} {
		steps = append(steps, eval("return type("+g+")"))
	}
	for _, f := range []string{"string.gsub", "string.sub", "string.byte", "string.char", "string.dump", "string.gfind",
		"table.getn", "table.setn", "table.maxn", "table.foreach", "math.mod", "math.fmod", "math.ldexp", "math.frexp",
		"math.huge", "math.pow", "redis.call", "redis.register_function", "coroutine.wrap"} {
		steps = append(steps, eval("return type("+f+")"))
	}
	return steps
}

func TestDifferentialScriptConversions(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, scriptConversionSteps)
}

func TestDifferentialScriptErrors(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, scriptErrorSteps)
}

func TestDifferentialScriptSandbox(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, scriptSandboxSteps())
}

// TestDifferentialScriptRESP3 runs the conversions for a RESP3 caller.
func TestDifferentialScriptRESP3(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	a, b := ours.raw(t), ref.raw(t)
	a.do("HELLO", "3")
	b.do("HELLO", "3")
	for _, s := range scriptConversionSteps {
		if got, want := a.do(s.args...), b.do(s.args...); got != want {
			t.Errorf("RESP3 %q:\n ours  %q\n redis %q", s.args, got, want)
		}
	}
}

// scriptFlagSteps are the shebang flags against a server state.
var scriptFlagSteps = []step{
	eval("return redis.call('GET', 'a')"), eval("return redis.call('SET', 'a', 'b')"),
	eval("#!lua\nreturn redis.call('GET', 'a')"), eval("#!lua\nreturn 1"),
	eval("#!lua flags=no-writes\nreturn redis.call('GET', 'a')"),
	eval("#!lua flags=no-writes\nreturn redis.call('SET', 'a', 'b')"),
	eval("#!lua flags=allow-oom\nreturn redis.call('SET', 'a', 'b')"),
	eval("#!lua flags=allow-oom\nreturn redis.call('GET', 'a')"),
	eval("#!lua flags=allow-stale,no-writes\nreturn 1"),
	cmd("EVAL_RO", "return redis.call('GET', 'a')", "0"),
	cmd("EVAL_RO", "#!lua\nreturn 1", "0"),
	cmd("EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"),
	eval("return redis.pcall('SET', 'a', 'b')"),
	eval("local r = redis.pcall('SET', 'a', 'b') return r.err"),
}

// TestDifferentialScriptFlagsOnReplica runs the flags on a read-only
// replica (of a master that is not there).
func TestDifferentialScriptFlagsOnReplica(t *testing.T) {
	args := []string{"--replicaof", "127.0.0.1", "1"}
	ours, ref := startNode(t, args...), startRedis(t, args...)
	runDifferential(t, ours, ref, scriptFlagSteps)
}

// TestDifferentialScriptFlagsOOM runs the flags above maxmemory.
func TestDifferentialScriptFlagsOOM(t *testing.T) {
	args := []string{"--maxmemory", "1"}
	ours, ref := startNode(t, args...), startRedis(t, args...)
	runDifferential(t, ours, ref, scriptFlagSteps)
}
