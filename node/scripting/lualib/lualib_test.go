package lualib

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestCjsonObjectKeys checks an object with several keys (whose order the
// differential test cannot compare) against encoding/json's reading.
func TestCjsonObjectKeys(t *testing.T) {
	got := run(t, `return cjson.encode({a = 1, b = {1, 2}, [3] = 'x', c = {d = false}, e = cjson.null})`)
	var v map[string]any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Fatalf("%q: %v", got, err)
	}
	want := map[string]any{"a": 1.0, "b": []any{1.0, 2.0}, "3": "x", "c": map[string]any{"d": false}, "e": nil}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("got %v, want %v", v, want)
	}
}

func TestCmsgpackMapRoundTrip(t *testing.T) {
	got := run(t, `local t = cmsgpack.unpack(cmsgpack.pack({a = 1, b = 'x', [10] = true, n = {1.5, -7}}))
		return t.a .. t.b .. tostring(t[10]) .. t.n[1] .. t.n[2]`)
	if got != "1xtrue1.5-7" {
		t.Errorf("got %q", got)
	}
}

func TestIsNull(t *testing.T) {
	L := newState()
	defer L.Close()
	if err := L.DoString(`x = cjson.decode('[null]')[1] y = cjson.null z = {}`); err != nil {
		t.Fatal(err)
	}
	if !IsNull(L.GetGlobal("x")) || !IsNull(L.GetGlobal("y")) || IsNull(L.GetGlobal("z")) || IsNull(lua.LNil) {
		t.Error("IsNull does not tell cjson.null apart")
	}
}

// TestErrorPosition: errors carry the Lua caller's position, none under a
// direct pcall, as luaL_error from a C function.
func TestErrorPosition(t *testing.T) {
	L := newState()
	defer L.Close()
	fn, err := L.Load(strings.NewReader("\nlocal ok, e = pcall(function() return cjson.decode('[') end)\nlocal ok2, e2 = pcall(cjson.decode, '[')\nreturn e .. '|' .. e2"), "user_script")
	if err != nil {
		t.Fatal(err)
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		t.Fatal(err)
	}
	want := "user_script:2: Expected value but found T_END at character 2|Expected value but found T_END at character 2"
	if got := L.Get(-1).String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
