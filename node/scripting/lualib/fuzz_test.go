package lualib

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// fuzzCall calls the library function lib.fn with data as its only
// argument on st: any Lua error is fine, a Go panic fails the fuzz run.
func fuzzCall(t *testing.T, L *lua.LState, lib, fn string, args ...lua.LValue) {
	f := L.GetGlobal(lib).(*lua.LTable).RawGetString(fn)
	if err := L.CallByParam(lua.P{Fn: f, NRet: lua.MultRet, Protect: true}, args...); err != nil {
		if strings.Contains(err.Error(), "runtime error") || strings.Contains(err.Error(), "goroutine") {
			t.Fatalf("%s.%s: Go panic: %v", lib, fn, err)
		}
	}
	L.SetTop(0)
}

func FuzzCjsonDecode(f *testing.F) {
	for _, s := range []string{`[1,2,{"a":null}]`, `"\ud83d\ude00"`, `0x1p3`, `{"a":`, `nan(1)`, "[\x00]", `-Infinity`, `1e999`} {
		f.Add(s)
	}
	L := newState()
	defer L.Close()
	f.Fuzz(func(t *testing.T, data string) {
		fuzzCall(t, L, "cjson", "decode", lua.LString(data))
		// whatever decodes encodes again (or refuses with a Lua error)
		if err := L.CallByParam(lua.P{Fn: L.GetGlobal("cjson").(*lua.LTable).RawGetString("decode"), NRet: 1, Protect: true}, lua.LString(data)); err == nil {
			v := L.Get(-1)
			L.SetTop(0)
			fuzzCall(t, L, "cjson", "encode", v)
		}
	})
}

func FuzzCmsgpackUnpack(f *testing.F) {
	for _, s := range []string{"\x93\x01\xc0\x03", "\xdd\xff\xff\xff\xff", "\xdb\xff\xff\xff\xff", "\x81\xc0\x01", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", "\x91\x91\x91\x91"} {
		f.Add(s, int64(0), int64(0))
	}
	L := newState()
	defer L.Close()
	f.Fuzz(func(t *testing.T, data string, limit, offset int64) {
		fuzzCall(t, L, "cmsgpack", "unpack", lua.LString(data))
		fuzzCall(t, L, "cmsgpack", "unpack_one", lua.LString(data), lua.LNumber(offset))
		fuzzCall(t, L, "cmsgpack", "unpack_limit", lua.LString(data), lua.LNumber(limit), lua.LNumber(offset))
	})
}

func FuzzStruct(f *testing.F) {
	f.Add("!4 b i c0 s >d <f", "\x03abc\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", int64(1))
	L := newState()
	defer L.Close()
	f.Fuzz(func(t *testing.T, format, data string, pos int64) {
		fuzzCall(t, L, "struct", "unpack", lua.LString(format), lua.LString(data), lua.LNumber(pos))
		fuzzCall(t, L, "struct", "size", lua.LString(format))
		fuzzCall(t, L, "struct", "pack", lua.LString(format), lua.LNumber(pos), lua.LString(data), lua.LNumber(-pos))
	})
}
