package scripting

import (
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
		v, isErr := replyToLua(L, []byte(c.reply))
		if n, ok := v.(lua.LNumber); !ok || float64(n) != c.want || isErr {
			t.Errorf("%q: %v (error %v), want %v", c.reply, v, isErr, c.want)
		}
	}
}
