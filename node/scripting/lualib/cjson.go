package lualib

import (
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// cjsonConfig is one cjson table's settings (Lua CJSON 2.1.0's
// json_config_t), with Redis's defaults.
type cjsonConfig struct {
	sparseConvert        bool
	sparseRatio          int
	sparseSafe           int
	encodeMaxDepth       int
	decodeMaxDepth       int
	encodeInvalidNumbers int // 0 off, 1 on, 2 "null"
	decodeInvalidNumbers bool
	keepBuffer           bool
	precision            int
}

func defaultCjsonConfig() *cjsonConfig {
	return &cjsonConfig{
		sparseRatio:          2,
		sparseSafe:           10,
		encodeMaxDepth:       1000,
		decodeMaxDepth:       1000,
		decodeInvalidNumbers: true,
		keepBuffer:           true,
		precision:            14,
	}
}

// jsonNullValue marks the userdata that stands for JSON null (Lua CJSON's
// NULL lightuserdata).
type jsonNullValue struct{}

// IsNull reports whether v is cjson.null (or a JSON null cjson.decode
// returned): a userdata Redis's Lua-to-RESP conversion treats as an
// unknown type.
func IsNull(v lua.LValue) bool {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return false
	}
	_, ok = ud.Value.(jsonNullValue)
	return ok
}

// newCjsonLib returns a cjson table with its own configuration; null is the
// state's shared null value (all NULL lightuserdata are equal in C Lua).
func newCjsonLib(L *lua.LState, null *lua.LUserData) *lua.LTable {
	cfg := defaultCjsonConfig()
	t := newLib(L, map[string]lua.LGFunction{
		"encode":              func(L *lua.LState) int { return cjsonEncode(L, cfg, null) },
		"decode":              func(L *lua.LState) int { return cjsonDecode(L, cfg, null) },
		"encode_sparse_array": func(L *lua.LState) int { return cjsonCfgSparse(L, cfg) },
		"encode_max_depth": func(L *lua.LState) int {
			cjsonArgInit(L, 1)
			return cjsonIntOption(L, 1, &cfg.encodeMaxDepth, 1, math.MaxInt32)
		},
		"decode_max_depth": func(L *lua.LState) int {
			cjsonArgInit(L, 1)
			return cjsonIntOption(L, 1, &cfg.decodeMaxDepth, 1, math.MaxInt32)
		},
		"encode_number_precision": func(L *lua.LState) int { cjsonArgInit(L, 1); return cjsonIntOption(L, 1, &cfg.precision, 1, 14) },
		"encode_keep_buffer":      func(L *lua.LState) int { return cjsonBoolOption(L, &cfg.keepBuffer) },
		"decode_invalid_numbers":  func(L *lua.LState) int { return cjsonBoolOption(L, &cfg.decodeInvalidNumbers) },
		"encode_invalid_numbers":  func(L *lua.LState) int { return cjsonCfgEncodeInvalid(L, cfg) },
		"new":                     func(L *lua.LState) int { L.Push(newCjsonLib(L, null)); return 1 },
	})
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	t.RawSetString("null", null)
	return t
}

// cjsonArgInit is json_arg_init: at most args arguments.
func cjsonArgInit(L *lua.LState, args int) {
	if L.GetTop() > args {
		argError(L, args+1, "found too many arguments")
	}
	for L.GetTop() < args {
		L.Push(lua.LNil)
	}
}

// checkInteger is luaL_checkinteger: a number truncated toward zero.
func checkInteger(L *lua.LState, n int) int {
	f := checkNumber(L, n)
	return int(int64(f))
}

// cjsonIntOption is json_integer_option with its "expected integer between"
// check (reported on argument 1, as the C code does).
func cjsonIntOption(L *lua.LState, n int, setting *int, min, max int) int {
	if L.Get(n) != lua.LNil {
		v := checkInteger(L, n)
		if v < min || v > max {
			argError(L, 1, "expected integer between "+strconv.Itoa(min)+" and "+strconv.Itoa(max))
		}
		*setting = v
	}
	L.Push(lua.LNumber(*setting))
	return 1
}

// checkOption is luaL_checkoption without a default.
func checkOption(L *lua.LState, n int, options []string) int {
	s, ok := L.Get(n).(lua.LString)
	if !ok {
		if _, isNum := L.Get(n).(lua.LNumber); !isNum {
			typeError(L, n, "string")
		}
		s = lua.LString(L.Get(n).String())
	}
	for i, o := range options {
		if string(s) == o {
			return i
		}
	}
	argError(L, n, "invalid option '"+string(s)+"'")
	return 0
}

// cjsonEnumOption is json_enum_option: a boolean or one of options.
func cjsonEnumOption(L *lua.LState, n int, setting *int, options []string, boolTrue int) int {
	if v := L.Get(n); v != lua.LNil {
		if b, ok := v.(lua.LBool); ok {
			*setting = 0
			if b {
				*setting = boolTrue
			}
		} else {
			*setting = checkOption(L, n, options)
		}
	}
	if *setting == 0 || *setting == boolTrue {
		L.Push(lua.LBool(*setting != 0))
	} else {
		L.Push(lua.LString(options[*setting]))
	}
	return 1
}

func cjsonBoolOption(L *lua.LState, b *bool) int {
	cjsonArgInit(L, 1)
	v := 0
	if *b {
		v = 1
	}
	r := cjsonEnumOption(L, 1, &v, []string{"off", "on"}, 1)
	*b = v != 0
	return r
}

func cjsonCfgEncodeInvalid(L *lua.LState, cfg *cjsonConfig) int {
	cjsonArgInit(L, 1)
	return cjsonEnumOption(L, 1, &cfg.encodeInvalidNumbers, []string{"off", "on", "null"}, 1)
}

func cjsonCfgSparse(L *lua.LState, cfg *cjsonConfig) int {
	cjsonArgInit(L, 3)
	v := 0
	if cfg.sparseConvert {
		v = 1
	}
	cjsonEnumOption(L, 1, &v, []string{"off", "on"}, 1)
	cfg.sparseConvert = v != 0
	cjsonIntOption(L, 2, &cfg.sparseRatio, 0, math.MaxInt32)
	cjsonIntOption(L, 3, &cfg.sparseSafe, 0, math.MaxInt32)
	return 3
}

// ===== encoding =====

// jsonEncoder is one cjson.encode call.
type jsonEncoder struct {
	L    *lua.LState
	cfg  *cjsonConfig
	null *lua.LUserData
	buf  []byte
	// slots counts the Lua stack slots the C encoder would hold (the
	// argument, one per enclosing array, two per enclosing object):
	// lua_checkstack fails past luaCStackMax, whatever encode_max_depth says.
	slots int
}

// luaCStackMax is Lua 5.1's LUAI_MAXCSTACK: the most stack slots a C
// function may use; cjson's nesting checks fail past it.
const luaCStackMax = 8000

func cjsonEncode(L *lua.LState, cfg *cjsonConfig, null *lua.LUserData) int {
	if L.GetTop() != 1 {
		argError(L, 1, "expected 1 argument")
	}
	e := &jsonEncoder{L: L, cfg: cfg, null: null, slots: 1}
	e.appendData(L.Get(1), 0)
	L.Push(lua.LString(e.buf))
	return 1
}

// exception is json_encode_exception: "Cannot serialise <type>: reason".
func (e *jsonEncoder) exception(v lua.LValue, reason string) {
	raise(e.L, "Cannot serialise %s: %s", typeName(v), reason)
}

func (e *jsonEncoder) appendData(v lua.LValue, depth int) {
	switch v := v.(type) {
	case lua.LString:
		e.buf = appendJSONString(e.buf, string(v))
	case lua.LNumber:
		e.appendNumber(v)
	case lua.LBool:
		if v {
			e.buf = append(e.buf, "true"...)
		} else {
			e.buf = append(e.buf, "false"...)
		}
	case *lua.LTable:
		depth++
		if depth > e.cfg.encodeMaxDepth || e.slots+3 > luaCStackMax {
			raise(e.L, "Cannot serialise, excessive nesting (%d)", depth)
		}
		if n := e.arrayLength(v); n > 0 {
			e.appendArray(v, n, depth)
		} else {
			e.appendObject(v, depth)
		}
	case *lua.LNilType:
		e.buf = append(e.buf, "null"...)
	default:
		if IsNull(v) {
			e.buf = append(e.buf, "null"...)
			return
		}
		e.exception(v, "type not supported")
	}
}

// appendNumber is json_append_number: %.14g (the configured precision),
// NaN and Inf refused unless encode_invalid_numbers says otherwise.
func (e *jsonEncoder) appendNumber(n lua.LNumber) {
	f := float64(n)
	bad := math.IsInf(f, 0) || math.IsNaN(f)
	switch e.cfg.encodeInvalidNumbers {
	case 0:
		if bad {
			e.exception(n, "must not be NaN or Inf")
		}
	case 1:
		if math.IsNaN(f) {
			e.buf = append(e.buf, "nan"...)
			return
		}
	default:
		if bad {
			e.buf = append(e.buf, "null"...)
			return
		}
	}
	e.buf = appendFormatG(e.buf, f, e.cfg.precision)
}

// appendFormatG is C's printf("%.<prec>g", f).
func appendFormatG(buf []byte, f float64, prec int) []byte {
	switch {
	case math.IsNaN(f):
		if math.Signbit(f) {
			return append(buf, "-nan"...)
		}
		return append(buf, "nan"...)
	case math.IsInf(f, 1):
		return append(buf, "inf"...)
	case math.IsInf(f, -1):
		return append(buf, "-inf"...)
	}
	return strconv.AppendFloat(buf, f, 'g', prec, 64)
}

// cInt is C's (int)d on x86-64: out-of-range values become INT_MIN.
func cInt(d float64) int32 {
	if d >= -2147483648.0 && d < 2147483648.0 {
		return int32(d)
	}
	return math.MinInt32
}

// arrayLength is lua_array_length: the highest index when every key is an
// integer >= 1, -1 for an object; an excessively sparse array is an error
// (or an object when sparse conversion is on).
func (e *jsonEncoder) arrayLength(t *lua.LTable) int {
	var max int32
	items := 0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n, ok := k.(lua.LNumber)
		if !ok || n == 0 || math.Floor(float64(n)) != float64(n) || n < 1 {
			return -1
		}
		if float64(n) > float64(max) {
			max = cInt(float64(n))
		}
		items++
	}
	cfg := e.cfg
	if cfg.sparseRatio > 0 && int64(max) > int64(items)*int64(cfg.sparseRatio) && int(max) > cfg.sparseSafe {
		if !cfg.sparseConvert {
			e.exception(t, "excessively sparse array")
		}
		return -1
	}
	return int(max)
}

func (e *jsonEncoder) appendArray(t *lua.LTable, n, depth int) {
	e.buf = append(e.buf, '[')
	e.slots++
	defer func() { e.slots-- }()
	for i := 1; i <= n; i++ {
		if i > 1 {
			e.buf = append(e.buf, ',')
		}
		e.appendData(t.RawGetInt(i), depth)
	}
	e.buf = append(e.buf, ']')
}

func (e *jsonEncoder) appendObject(t *lua.LTable, depth int) {
	e.buf = append(e.buf, '{')
	e.slots += 2
	defer func() { e.slots -= 2 }()
	comma := false
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		if comma {
			e.buf = append(e.buf, ',')
		}
		comma = true
		switch k := k.(type) {
		case lua.LNumber:
			e.buf = append(e.buf, '"')
			e.appendNumber(k)
			e.buf = append(e.buf, '"', ':')
		case lua.LString:
			e.buf = appendJSONString(e.buf, string(k))
			e.buf = append(e.buf, ':')
		default:
			e.exception(k, "table key must be a number or string")
		}
		e.appendData(v, depth)
	}
	e.buf = append(e.buf, '}')
}

// appendJSONString is json_append_string with Lua CJSON's char2escape
// table: control characters, '"', '\\' and '/' are escaped, every other
// byte (UTF-8 or not) is copied.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\b':
			buf = append(buf, '\\', 'b')
		case c == '\t':
			buf = append(buf, '\\', 't')
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\f':
			buf = append(buf, '\\', 'f')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c < 0x20 || c == 0x7f:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		case c == '"' || c == '\\' || c == '/':
			buf = append(buf, '\\', c)
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, '"')
}
