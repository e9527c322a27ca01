package scripting

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/node/resp"
	lua "github.com/yuin/gopher-lua"
)

// Conversions between RESP and Lua, as Redis 7.0's script_lua.c.

// replyToLua converts the RESP reply a command wrote (RESP2 or RESP3) to
// the Lua value redis.call returns (redisProtocolToLuaType). isErr
// reports a top-level error reply. The reply is the engine's own output,
// so a malformed one is a bug: it converts to false.
func replyToLua(L *lua.LState, nb *numbers, b []byte) (v lua.LValue, isErr bool) {
	p := replyParser{L: L, nb: nb, b: b}
	isErr = len(b) > 0 && b[0] == '-'
	v = p.value()
	if v == nil {
		v = lua.LNil
	}
	return v, isErr
}

type replyParser struct {
	L   *lua.LState
	nb  *numbers
	b   []byte
	pos int
}

// line returns the rest of the current line after its type byte.
func (p *replyParser) line() string {
	i := bytes.IndexByte(p.b[p.pos:], '\r')
	if i < 0 {
		p.pos = len(p.b)
		return ""
	}
	s := string(p.b[p.pos+1 : p.pos+i])
	p.pos += i + 2
	return s
}

// integer reads an integer line without making a string of it (the
// reply of most commands scripts call).
func (p *replyParser) integer() int64 {
	i := bytes.IndexByte(p.b[p.pos:], '\r')
	if i < 0 {
		p.pos = len(p.b)
		return 0
	}
	line := p.b[p.pos+1 : p.pos+i]
	p.pos += i + 2
	digits := line
	neg := len(digits) > 0 && digits[0] == '-'
	if neg {
		digits = digits[1:]
	}
	var n int64
	for _, d := range digits {
		if d < '0' || d > '9' || n > (math.MaxInt64-9)/10 {
			v, _ := strconv.ParseInt(string(line), 10, 64)
			return v
		}
		n = n*10 + int64(d-'0')
	}
	if neg {
		return -n
	}
	return n
}

func (p *replyParser) count() int {
	n, _ := strconv.Atoi(p.line())
	return n
}

// bulk reads a length-prefixed payload; ok is false for a null.
func (p *replyParser) bulk() (string, bool) {
	n := p.count()
	if n < 0 || p.pos+n > len(p.b) {
		return "", false
	}
	s := string(p.b[p.pos : p.pos+n])
	p.pos += n + 2
	return s, true
}

// value parses one reply; nil (Go) means Lua nil (RESP3 null).
func (p *replyParser) value() lua.LValue {
	if p.pos >= len(p.b) {
		return lua.LFalse
	}
	L := p.L
	switch p.b[p.pos] {
	case ':':
		return p.nb.box(lua.LNumber(p.integer()))
	case '$':
		if s, ok := p.bulk(); ok {
			return lua.LString(s)
		}
		return lua.LFalse
	case '+':
		t := L.CreateTable(0, 1)
		t.RawSetString("ok", lua.LString(p.line()))
		return t
	case '-':
		return errorTable(L, "-"+p.line())
	case '*':
		n := p.count()
		if n < 0 {
			return lua.LFalse
		}
		t := L.CreateTable(n, 0)
		for i := 1; i <= n; i++ {
			v := p.value()
			if v == nil {
				// lua_settable with a nil value: the slot stays empty.
				continue
			}
			t.RawSetInt(i, v)
		}
		return t
	case '%':
		n := p.count()
		inner := L.CreateTable(0, n)
		for i := 0; i < n; i++ {
			k, v := p.value(), p.value()
			if k != nil && k != lua.LNil && v != nil {
				inner.RawSet(k, v)
			}
		}
		t := L.CreateTable(0, 1)
		t.RawSetString("map", inner)
		return t
	case '~':
		n := p.count()
		inner := L.CreateTable(0, n)
		for i := 0; i < n; i++ {
			if k := p.value(); k != nil && k != lua.LNil {
				inner.RawSet(k, lua.LTrue)
			}
		}
		t := L.CreateTable(0, 1)
		t.RawSetString("set", inner)
		return t
	case '_':
		p.line()
		return nil
	case '#':
		return lua.LBool(p.line() == "t")
	case ',':
		f := parseDouble(p.line())
		t := L.CreateTable(0, 1)
		t.RawSetString("double", lua.LNumber(f))
		return t
	case '(':
		t := L.CreateTable(0, 1)
		t.RawSetString("big_number", lua.LString(p.line()))
		return t
	case '=':
		s, _ := p.bulk()
		format, str := "", s
		if len(s) >= 4 {
			format, str = s[:3], s[4:]
		}
		inner := L.CreateTable(0, 2)
		inner.RawSetString("string", lua.LString(str))
		inner.RawSetString("format", lua.LString(format))
		t := L.CreateTable(0, 1)
		t.RawSetString("verbatim_string", inner)
		return t
	case '|':
		n := p.count()
		for i := 0; i < 2*n; i++ {
			p.value()
		}
		return p.value()
	case '>':
		n := p.count()
		t := L.CreateTable(n, 0)
		for i := 1; i <= n; i++ {
			if v := p.value(); v != nil {
				t.RawSetInt(i, v)
			}
		}
		return t
	}
	p.pos = len(p.b)
	return lua.LFalse
}

// parseDouble reads a RESP3 double (inf, -inf, nan included).
func parseDouble(s string) float64 {
	switch s {
	case "inf":
		return math.Inf(1)
	case "-inf":
		return math.Inf(-1)
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// errorTable is luaPushErrorBuff: the {err="CODE msg"} table of an error.
// A message "-CODE msg" keeps its code; one without a leading '-' gets
// ERR; the message loses its trailing CR/LF.
func errorTable(L *lua.LState, msg string) *lua.LTable {
	t := L.CreateTable(0, 1)
	t.RawSetString("err", lua.LString(errorText(msg)))
	return t
}

// errorText is the "CODE msg" text of luaPushErrorBuff.
func errorText(msg string) string {
	code := "ERR"
	if strings.HasPrefix(msg, "-") {
		if i := strings.IndexByte(msg, ' '); i < 0 {
			msg = msg[1:]
		} else {
			code, msg = msg[1:i], msg[i+1:]
		}
	}
	return code + " " + strings.Trim(msg, "\r\n")
}

// writeReply converts a script's return value to the caller's reply
// (luaReplyToRedisReply). proto is the script's RESP (redis.setresp):
// booleans convert as RESP2 or RESP3 by it.
func writeReply(w *resp.Writer, v lua.LValue, proto int, depth int) {
	if depth > maxReplyDepth {
		w.Error("ERR reached lua stack limit")
		return
	}
	switch x := v.(type) {
	case lua.LString:
		w.BulkString(string(x))
	case lua.LBool:
		if proto == 2 {
			if x {
				w.Int(1)
			} else {
				w.Null()
			}
		} else {
			w.Bool(bool(x))
		}
	case lua.LNumber:
		w.Int(luaToInt(float64(x)))
	case *lua.LTable:
		writeTable(w, x, proto, depth)
	default:
		w.Null()
	}
}

// maxReplyDepth bounds the nesting of a returned table (Redis stops at
// the Lua C stack limit).
const maxReplyDepth = 1000

// luaToInt is C's (long long) cast of a double as x86-64 does it: the
// value truncated, and 0x8000000000000000 when it does not fit (NaN too).
func luaToInt(f float64) int64 {
	if f != f || f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
		return math.MinInt64
	}
	return int64(f)
}

func writeTable(w *resp.Writer, t *lua.LTable, proto, depth int) {
	if e, ok := t.RawGetString("err").(lua.LString); ok {
		w.Error(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(e)))
		return
	}
	if s, ok := t.RawGetString("ok").(lua.LString); ok {
		w.SimpleString(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s)))
		return
	}
	if d, ok := t.RawGetString("double").(lua.LNumber); ok {
		w.Double(float64(d))
		return
	}
	if s, ok := t.RawGetString("big_number").(lua.LString); ok {
		w.BigNumber(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s)))
		return
	}
	if vt, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		f, ok1 := vt.RawGetString("format").(lua.LString)
		s, ok2 := vt.RawGetString("string").(lua.LString)
		if ok1 && ok2 {
			w.Verbatim(string(f), string(s))
			return
		}
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		n := 0
		m.ForEach(func(lua.LValue, lua.LValue) { n++ })
		w.MapLen(n)
		m.ForEach(func(k, v lua.LValue) {
			writeReply(w, k, proto, depth+1)
			writeReply(w, v, proto, depth+1)
		})
		return
	}
	if s, ok := t.RawGetString("set").(*lua.LTable); ok {
		n := 0
		s.ForEach(func(lua.LValue, lua.LValue) { n++ })
		w.SetLen(n)
		s.ForEach(func(k, _ lua.LValue) { writeReply(w, k, proto, depth+1) })
		return
	}
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	w.ArrayLen(n)
	for i := 1; i <= n; i++ {
		writeReply(w, t.RawGetInt(i), proto, depth+1)
	}
}

// argString converts a redis.call argument (luaArgsToRedisArgv): strings
// as they are, numbers as "%.17g"; ok is false for other types.
func argString(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return formatG17(float64(x)), true
	}
	return "", false
}

// formatG17 is C's "%.17g".
func formatG17(f float64) string { return formatG(f, 17) }

// formatG is C's "%.<prec>g" as glibc prints it (inf, -inf, nan, -nan).
func formatG(f float64, prec int) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f != f:
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', prec, 64)
}

// appendG17 appends formatG17(f), integers without a string.
func appendG17(b []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 && !(f == 0 && math.Signbit(f)) {
		return strconv.AppendInt(b, int64(f), 10)
	}
	return append(b, formatG17(f)...)
}
