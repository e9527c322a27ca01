package scripting

import (
	"runtime"
	"testing"

	"github.com/shoal-dev/shoal/node/command"
	lua "github.com/yuin/gopher-lua"
)

func TestShebangFlags(t *testing.T) {
	for _, c := range []struct {
		body  string
		flags Flags
		n     int
		msg   string
	}{
		{"return 1", command.ScriptEvalCompat, 0, ""},
		{"#!lua\nreturn 1", 0, 5, ""},
		{"#!lua flags=no-writes,allow-oom\n", command.ScriptNoWrites | command.ScriptAllowOOM, 31, ""},
		{"#!lua flags=\n", 0, 12, ""},
		{"#!lua", 0, 0, "Invalid script shebang"},
		{"#!py\n", 0, 0, "Unexpected engine in script shebang: #!py"},
		{"#!lua flags=bad\n", 0, 0, "Unexpected flag in script shebang: bad"},
		{"#!lua x=y\n", 0, 0, "Unknown lua shebang option: x=y"},
	} {
		flags, n, msg := ShebangFlags(c.body)
		if flags != c.flags || n != c.n || msg != c.msg {
			t.Errorf("%q: %v %d %q, want %v %d %q", c.body, flags, n, msg, c.flags, c.n, c.msg)
		}
	}
}

func TestErrorTextAndNumbers(t *testing.T) {
	for in, want := range map[string]string{"-WRONGTYPE x y": "WRONGTYPE x y", "plain": "ERR plain", "-NOCODE": "ERR NOCODE", "-ERR a\r\n": "ERR a"} {
		if got := errorText(in); got != want {
			t.Errorf("errorText(%q) = %q, want %q", in, got, want)
		}
	}
	for f, want := range map[float64]string{1: "1", 0.1: "0.10000000000000001", 1e20: "1e+20", -2.5: "-2.5"} {
		if got := formatG17(f); got != want {
			t.Errorf("formatG17(%v) = %q, want %q", f, got, want)
		}
	}
	if got := luaToInt(3.99); got != 3 {
		t.Errorf("luaToInt(3.99) = %d", got)
	}
}

// TestDumpRoundTrip restores what Dump wrote and refuses a damaged
// payload.
func TestDumpRoundTrip(t *testing.T) {
	rt := New()
	code := "#!lua name=lib\nredis.register_function('f', function() return 1 end)"
	if _, msg := rt.LoadLibrary(code, false); msg != "" {
		t.Fatal(msg)
	}
	p := rt.Dump()
	other := New()
	if msg := other.Restore(p, "append"); msg != "" {
		t.Fatal(msg)
	}
	if other.Function("f") == nil || other.Libraries()[0].Code != code {
		t.Fatal("restored library differs")
	}
	if msg := other.Restore(p, "append"); msg != "Library lib already exists" {
		t.Fatalf("append over itself = %q", msg)
	}
	p[0] ^= 1
	if msg := other.Restore(p, "flush"); msg != errDumpPayload.Error() || other.Function("f") == nil {
		t.Fatalf("damaged payload = %q", msg)
	}
	if s, err := lzfDecompress([]byte{2, 'a', 'b', 'c', 0x20, 2}, 6); err != nil || s != "abcabc" {
		t.Fatalf("lzf = %q, %v", s, err)
	}
}

// TestIntegerReplyToLua: an integer reply becomes a Lua number
// (luaRedisGenericCommand's conversion), at both ends of int64 too.
func TestIntegerReplyToLua(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	for _, c := range []struct {
		reply string
		want  float64
	}{
		{":0\r\n", 0}, {":42\r\n", 42}, {":-7\r\n", -7},
		{":9223372036854775807\r\n", 9223372036854775807},
		{":-9223372036854775808\r\n", -9223372036854775808},
	} {
		v, isErr := replyToLua(L, newNumbers(), []byte(c.reply))
		if n, ok := v.(lua.LNumber); !ok || float64(n) != c.want || isErr {
			t.Errorf("%q: %v (error %v), want %v", c.reply, v, isErr, c.want)
		}
	}
}

// TestRefillKeepsOnlyUntouchedTables: EVAL refills the last KEYS/ARGV
// table only when it holds exactly 1..n; any other shape a script left
// (a hole, an extra index or field, a metatable, another length) gets a
// new table, and the refilled one holds the new values.
func TestRefillKeepsOnlyUntouchedTables(t *testing.T) {
	rt := New()
	v := [][]byte{[]byte("a"), []byte("b")}
	for _, c := range []struct {
		name  string
		touch func(*lua.LTable)
		kept  bool
	}{
		{"untouched", func(*lua.LTable) {}, true},
		{"same value rewritten", func(tb *lua.LTable) { tb.RawSetInt(1, lua.LString("x")) }, true},
		{"hole", func(tb *lua.LTable) { tb.RawSetInt(1, lua.LNil) }, false},
		{"extra index", func(tb *lua.LTable) { tb.RawSetInt(3, lua.LString("c")) }, false},
		{"far index", func(tb *lua.LTable) { tb.RawSetInt(100, lua.LString("c")) }, false},
		{"field", func(tb *lua.LTable) { tb.RawSetString("f", lua.LTrue) }, false},
		{"field removed again", func(tb *lua.LTable) {
			tb.RawSetString("f", lua.LTrue)
			tb.RawSetString("f", lua.LNil)
		}, true},
		{"metatable", func(tb *lua.LTable) { tb.Metatable = rt.L.NewTable() }, false},
		{"shorter", func(tb *lua.LTable) { tb.RawSetInt(2, lua.LNil) }, false},
	} {
		tb := rt.array(v)
		c.touch(tb)
		got := rt.refill(tb, v)
		if (got == tb) != c.kept {
			t.Errorf("%s: kept %v, want %v", c.name, got == tb, c.kept)
		}
		n := 0
		got.ForEach(func(lua.LValue, lua.LValue) { n++ })
		if n != 2 || got.RawGetInt(1).String() != "a" || got.RawGetInt(2).String() != "b" {
			t.Errorf("%s: refilled table holds %d entries, %v %v", c.name, n, got.RawGetInt(1), got.RawGetInt(2))
		}
	}
	empty := rt.array(nil)
	if rt.refill(empty, nil) != empty {
		t.Error("an untouched empty table is not kept")
	}
	empty.RawSetString("f", lua.LTrue)
	if rt.refill(empty, nil) == empty {
		t.Error("an empty table with a field is kept")
	}
}

// TestNumbersBox: boxed numbers read back as the numbers boxed, across
// blocks and garbage collections, and compare equal to plain LNumbers.
func TestNumbersBox(t *testing.T) {
	nb := newNumbers()
	var kept []lua.LValue
	var want []float64
	for i := -300; i < 3*numberBlock+300; i++ {
		f := float64(i)
		if i%7 == 0 {
			f += 0.5
		}
		kept = append(kept, nb.box(lua.LNumber(f)))
		want = append(want, f)
		if i%100 == 0 {
			runtime.GC()
		}
	}
	for i, v := range kept {
		n, ok := v.(lua.LNumber)
		if !ok || float64(n) != want[i] || v != lua.LValue(lua.LNumber(want[i])) {
			t.Fatalf("box(%v) = %v", want[i], v)
		}
	}
}

// TestParamsOnlyIndexed: a function whose keys and args are only indexed
// gets refilled tables; any other use of them (stored, passed, returned,
// captured, compared, assigned into, varargs) makes FCALL build new ones.
func TestParamsOnlyIndexed(t *testing.T) {
	for body, want := range map[string]bool{
		"function(keys, args) return redis.call('INCR', keys[1]) end":                                    true,
		"function(keys, args) local v for i = 1, 10 do v = redis.call('INCR', keys[1]) end return v end": true,
		"function(keys, args) return #keys + #args end":                                                  true,
		"function(keys, args) return {#keys, keys[1] or 'none', args[2] or 'none', keys[#keys]} end":     true,
		"function(keys, args) return redis.call('SET', keys[1], args[1] .. args[2]) end":                 true,
		"function() return 1 end":                                                                              true,
		"function(k) return k[1] end":                                                                          true,
		"function(keys, args) keys = {} return keys end":                                                       false,
		"function(keys, args) return keys end":                                                                 false,
		"function(keys, args) return 1, args end":                                                              false,
		"function(keys, args) kept = keys end":                                                                 false,
		"function(keys, args) return redis.call('GET', unpack(keys)) end":                                      false,
		"function(keys, args) keys[1] = 'x' return keys[1] end":                                                false,
		"function(keys, args) args.x = 1 end":                                                                  false,
		"function(keys, args) return (function() return keys[1] end)() end":                                    false,
		"function(keys, args) local t = {keys} return 1 end":                                                   false,
		"function(keys, args) local t = {x = args} return 1 end":                                               false,
		"function(keys, args) local k = keys return k[1] end":                                                  false,
		"function(keys, ...) return keys[1] end":                                                               false,
		"function(keys, args) for i, k in ipairs(keys) do end end":                                             false,
		"function(keys, args) return keys:len() end":                                                           false,
		"function(keys, args) return keys == args end":                                                         false,
		"function(keys, args) local t = {} return t[keys] end":                                                 false,
		"function(keys, args) if args then return 1 end end":                                                   false,
		"function(keys, args) return not keys end":                                                             false,
		"function(keys, args) return coroutine.wrap(function() return args end)() end":                         false,
		"function(keys, args) return pcall(redis.call, 'GET', keys) end":                                       false,
		"function(keys, args) local a = args or {} return a[1] end":                                            false,
		"function(keys, args) for i = 1, #keys do redis.call('DEL', keys[i]) end return #keys end":             true,
		"function(keys, args) local n = tonumber(args[1]) if n > 1 then return keys[2] end return keys[1] end": true,
	} {
		rt := New()
		code := "#!lua name=lib\nlocal kept\nredis.register_function('f', " + body + ")"
		if _, msg := rt.LoadLibrary(code, false); msg != "" {
			t.Fatalf("%s: %s", body, msg)
		}
		if got := rt.Function("f").reuseArgs; got != want {
			t.Errorf("%s: reuseArgs %v, want %v", body, got, want)
		}
	}
}

// TestBindGlobals: the benchmark's script reads no global (KEYS is a
// constant Eval sets) and redis.call is a constant; a field read that a
// jump leads to stays.
func TestBindGlobals(t *testing.T) {
	rt := New()
	var s *Script
	count := func(body string) (globals, fields int) {
		var msg string
		_, s, msg = rt.CreateScript(body)
		if msg != "" {
			t.Fatal(msg)
		}
		for _, inst := range s.fn.Proto.Code {
			switch int(inst >> 26) {
			case lua.OP_GETGLOBAL:
				globals++
			case lua.OP_GETTABLEKS:
				fields++
			}
		}
		return globals, fields
	}
	if g, f := count("return redis.call('INCR', KEYS[1])"); g != 0 || f != 0 || len(s.args) != 1 || s.args[0].argv {
		t.Errorf("redis.call: %d global reads, %d field reads, KEYS slots %v, want 0, 0, one", g, f, s.args)
	}
	if g, _ := count("local function f() return ARGV[1] end return {KEYS[1], f(), KEYS[2]}"); g != 0 || len(s.args) != 2 {
		t.Errorf("KEYS and ARGV: %d global reads, slots %v, want 0 and two (one per function)", g, s.args)
	}
	// y.call is where both branches join: y may hold x.
	if g, f := count("local x = {call = 6} local y if x then y = x else y = redis end return y.call"); g != 0 || f != 1 {
		t.Errorf("y.call after if/else: %d global reads, %d field reads, want 0, 1", g, f)
	}
	// A loop's body starts at the global's load: only that load is a
	// jump target (FORLOOP's, TFORLOOP's), so the field read is bound.
	for _, body := range []string{
		"local v for i = 1, 10 do v = redis.call('INCR', KEYS[1]) end return v",
		"local v for _, k in ipairs(KEYS) do v = redis.call('INCR', k) end return v",
		"local i, v = 0 while i < 10 do v = redis.call('INCR', KEYS[1]) i = i + 1 end return v",
		"local i, v = 0 repeat v = redis.call('INCR', KEYS[1]) i = i + 1 until i == 10 return v",
	} {
		if g, f := count(body); g != 0 || f != 0 {
			t.Errorf("%s: %d global reads, %d field reads, want 0, 0", body, g, f)
		}
	}
	if g, _ := count("return nosuch"); g != 1 {
		t.Errorf("an unknown global: %d reads, want 1", g)
	}
}
