package lualib

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// jsonToken is Lua CJSON's json_token_type_t; the names are the ones its
// parse errors print.
type jsonToken int

const (
	tObjBegin jsonToken = iota
	tObjEnd
	tArrBegin
	tArrEnd
	tString
	tNumber
	tBoolean
	tNull
	tColon
	tComma
	tEnd
	tWhitespace
	tError
	tUnknown
)

var jsonTokenNames = [...]string{
	"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
	"T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END",
	"T_WHITESPACE", "T_ERROR", "T_UNKNOWN",
}

// jsonCharToken is ch2token of json_create_config.
func jsonCharToken(c byte) jsonToken {
	switch c {
	case '{':
		return tObjBegin
	case '}':
		return tObjEnd
	case '[':
		return tArrBegin
	case ']':
		return tArrEnd
	case ',':
		return tComma
	case ':':
		return tColon
	case 0:
		return tEnd
	case ' ', '\t', '\n', '\r':
		return tWhitespace
	case 'f', 'i', 'I', 'n', 'N', 't', '"', '+', '-',
		'0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return tUnknown
	}
	return tError
}

// jsonTok is one token: its type, where it starts, and its value.
type jsonTok struct {
	typ   jsonToken
	index int
	str   string // T_STRING's value, T_ERROR's message
	num   float64
	b     bool
}

// jsonDecoder is one cjson.decode call. The C parser reads a
// NUL-terminated string: at() returns 0 at the end and at an embedded NUL
// alike, so both end the input as in Redis.
type jsonDecoder struct {
	L     *lua.LState
	cfg   *cjsonConfig
	null  *lua.LUserData
	data  string
	pos   int
	depth int
	slots int
	tmp   []byte
}

func (d *jsonDecoder) at(i int) byte {
	if i < len(d.data) {
		return d.data[i]
	}
	return 0
}

func cjsonDecode(L *lua.LState, cfg *cjsonConfig, null *lua.LUserData) int {
	if L.GetTop() != 1 {
		argError(L, 1, "expected 1 argument")
	}
	s := checkString(L, 1)
	if len(s) >= 2 && (s[0] == 0 || s[1] == 0) {
		raise(L, "JSON parser does not support UTF-16 or UTF-32")
	}
	d := &jsonDecoder{L: L, cfg: cfg, null: null, data: s, slots: 1}
	var tok jsonTok
	d.nextToken(&tok)
	v := d.processValue(&tok)
	d.nextToken(&tok)
	if tok.typ != tEnd {
		d.throwParseError("the end", &tok)
	}
	L.Push(v)
	return 1
}

// checkString is luaL_checklstring: strings, and numbers converted.
func checkString(L *lua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return numberToString(float64(v))
	}
	typeError(L, n, "string")
	return ""
}

// numberToString is lua_tostring of a number: "%.14g".
func numberToString(f float64) string {
	return string(appendFormatG(nil, f, 14))
}

func (d *jsonDecoder) setError(tok *jsonTok, msg string) {
	tok.typ = tError
	tok.index = d.pos
	tok.str = msg
}

// nextToken is json_next_token.
func (d *jsonDecoder) nextToken(tok *jsonTok) {
	tok.typ = jsonCharToken(d.at(d.pos))
	for tok.typ == tWhitespace {
		d.pos++
		tok.typ = jsonCharToken(d.at(d.pos))
	}
	tok.index = d.pos
	switch tok.typ {
	case tError:
		d.setError(tok, "invalid token")
		return
	case tEnd:
		return
	case tUnknown:
	default:
		d.pos++
		return
	}
	ch := d.at(d.pos)
	rest := d.data[d.pos:]
	switch {
	case ch == '"':
		d.nextString(tok)
	case ch == '-' || ('0' <= ch && ch <= '9'):
		if !d.cfg.decodeInvalidNumbers && d.isInvalidNumber() {
			d.setError(tok, "invalid number")
			return
		}
		d.nextNumber(tok)
	case strings.HasPrefix(rest, "true"):
		tok.typ, tok.b = tBoolean, true
		d.pos += 4
	case strings.HasPrefix(rest, "false"):
		tok.typ, tok.b = tBoolean, false
		d.pos += 5
	case strings.HasPrefix(rest, "null"):
		tok.typ = tNull
		d.pos += 4
	case d.cfg.decodeInvalidNumbers && d.isInvalidNumber():
		d.nextNumber(tok)
	default:
		d.setError(tok, "invalid token")
	}
}

// isInvalidNumber is json_is_invalid_number: '+', hex, leading zeros,
// inf and nan (which strtod still parses).
func (d *jsonDecoder) isInvalidNumber() bool {
	i := d.pos
	if d.at(i) == '+' {
		return true
	}
	if d.at(i) == '-' {
		i++
	}
	if c := d.at(i); c == '0' {
		c2 := d.at(i + 1)
		return c2|0x20 == 'x' || ('0' <= c2 && c2 <= '9')
	} else if c <= '9' {
		return false
	}
	return hasPrefixFold(d.data[min(i, len(d.data)):], "inf") || hasPrefixFold(d.data[min(i, len(d.data)):], "nan")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func (d *jsonDecoder) nextNumber(tok *jsonTok) {
	tok.typ = tNumber
	f, n := strtod(d.data[d.pos:])
	if n == 0 {
		d.setError(tok, "invalid number")
		return
	}
	tok.num = f
	d.pos += n
}

// nextString is json_next_string_token.
func (d *jsonDecoder) nextString(tok *jsonTok) {
	d.pos++ // opening quote
	d.tmp = d.tmp[:0]
	for {
		ch := d.at(d.pos)
		if ch == '"' {
			break
		}
		if ch == 0 {
			d.setError(tok, "unexpected end of string")
			return
		}
		if ch == '\\' {
			var esc byte
			switch d.at(d.pos + 1) {
			case '"':
				esc = '"'
			case '\\':
				esc = '\\'
			case '/':
				esc = '/'
			case 'b':
				esc = '\b'
			case 'f':
				esc = '\f'
			case 'n':
				esc = '\n'
			case 'r':
				esc = '\r'
			case 't':
				esc = '\t'
			case 'u':
				if d.appendUnicodeEscape() {
					continue
				}
				d.setError(tok, "invalid unicode escape code")
				return
			default:
				d.setError(tok, "invalid escape code")
				return
			}
			ch = esc
			d.pos++
		}
		d.tmp = append(d.tmp, ch)
		d.pos++
	}
	d.pos++ // closing quote
	tok.typ = tString
	tok.str = string(d.tmp)
}

// decodeHex4 is decode_hex4: four hex digits at i, -1 if any is not.
func (d *jsonDecoder) decodeHex4(i int) int {
	v := 0
	for k := 0; k < 4; k++ {
		c := d.at(i + k)
		var x int
		switch {
		case '0' <= c && c <= '9':
			x = int(c - '0')
		case 'a' <= c|0x20 && c|0x20 <= 'f':
			x = int(c|0x20-'a') + 10
		default:
			return -1
		}
		v = v<<4 | x
	}
	return v
}

// appendUnicodeEscape is json_append_unicode_escape: \uXXXX (or a UTF-16
// surrogate pair) to UTF-8.
func (d *jsonDecoder) appendUnicodeEscape() bool {
	escLen := 6
	cp := d.decodeHex4(d.pos + 2)
	if cp < 0 {
		return false
	}
	if cp&0xF800 == 0xD800 {
		if cp&0x400 != 0 {
			return false
		}
		if d.at(d.pos+escLen) != '\\' || d.at(d.pos+escLen+1) != 'u' {
			return false
		}
		low := d.decodeHex4(d.pos + 2 + escLen)
		if low < 0 || low&0xFC00 != 0xDC00 {
			return false
		}
		cp = ((cp&0x3FF)<<10 | low&0x3FF) + 0x10000
		escLen = 12
	}
	switch {
	case cp <= 0x7F:
		d.tmp = append(d.tmp, byte(cp))
	case cp <= 0x7FF:
		d.tmp = append(d.tmp, byte(cp>>6|0xC0), byte(cp&0x3F|0x80))
	case cp <= 0xFFFF:
		d.tmp = append(d.tmp, byte(cp>>12|0xE0), byte(cp>>6&0x3F|0x80), byte(cp&0x3F|0x80))
	default:
		d.tmp = append(d.tmp, byte(cp>>18|0xF0), byte(cp>>12&0x3F|0x80), byte(cp>>6&0x3F|0x80), byte(cp&0x3F|0x80))
	}
	d.pos += escLen
	return true
}

// throwParseError is json_throw_parse_error.
func (d *jsonDecoder) throwParseError(exp string, tok *jsonTok) {
	found := jsonTokenNames[tok.typ]
	if tok.typ == tError {
		found = tok.str
	}
	raise(d.L, "Expected %s but found %s at character %d", exp, found, tok.index+1)
}

// descend is json_decode_descend: decode_max_depth, and the C stack
// limit the parser's lua_checkstack meets first when the setting is high.
func (d *jsonDecoder) descend(slots int) {
	d.depth++
	if d.depth <= d.cfg.decodeMaxDepth && d.slots+slots <= luaCStackMax {
		return
	}
	raise(d.L, "Found too many nested data structures (%d) at character %d", d.depth, d.pos)
}

func (d *jsonDecoder) processValue(tok *jsonTok) lua.LValue {
	switch tok.typ {
	case tString:
		return lua.LString(tok.str)
	case tNumber:
		return lua.LNumber(tok.num)
	case tBoolean:
		return lua.LBool(tok.b)
	case tObjBegin:
		return d.parseObject()
	case tArrBegin:
		return d.parseArray()
	case tNull:
		return d.null
	}
	d.throwParseError("value", tok)
	return nil
}

func (d *jsonDecoder) parseArray() lua.LValue {
	d.descend(2)
	t := d.L.NewTable()
	d.slots++
	var tok jsonTok
	d.nextToken(&tok)
	if tok.typ != tArrEnd {
		for i := 1; ; i++ {
			t.RawSetInt(i, d.processValue(&tok))
			if d.endOrComma(&tok, tArrEnd, "comma or array end") {
				break
			}
		}
	}
	d.slots--
	d.depth--
	return t
}

// endOrComma reads the token after a member: true at the container's end,
// false after a comma (tok is then the next member's first token).
func (d *jsonDecoder) endOrComma(tok *jsonTok, end jsonToken, expected string) bool {
	d.nextToken(tok)
	if tok.typ == end {
		return true
	}
	if tok.typ != tComma {
		d.throwParseError(expected, tok)
	}
	d.nextToken(tok)
	return false
}

func (d *jsonDecoder) parseObject() lua.LValue {
	d.descend(3)
	t := d.L.NewTable()
	d.slots += 2
	var tok jsonTok
	d.nextToken(&tok)
	if tok.typ != tObjEnd {
		for {
			if tok.typ != tString {
				d.throwParseError("object key string", &tok)
			}
			key := tok.str
			d.nextToken(&tok)
			if tok.typ != tColon {
				d.throwParseError("colon", &tok)
			}
			d.nextToken(&tok)
			t.RawSetString(key, d.processValue(&tok))
			if d.endOrComma(&tok, tObjEnd, "comma or object end") {
				break
			}
		}
	}
	d.slots -= 2
	d.depth--
	return t
}

// strtod is C's strtod on a NUL-terminated string (glibc's grammar:
// decimal, hexadecimal with an optional binary exponent, inf, infinity,
// nan, nan(...)); it returns the value and how many bytes it read, 0 when
// there is no number. Overflow gives ±Inf as strtod's HUGE_VAL.
func strtod(s string) (float64, int) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	sign := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	rest := s[i:]
	switch {
	case hasPrefixFold(rest, "infinity"):
		return sign(posInf), i + 8
	case hasPrefixFold(rest, "inf"):
		return sign(posInf), i + 3
	case hasPrefixFold(rest, "nan"):
		n := i + 3
		if n < len(s) && s[n] == '(' {
			j := n + 1
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
				j++
			}
			if j < len(s) && s[j] == ')' {
				n = j + 1
			}
		}
		return sign(nan), n
	}
	if len(rest) >= 3 && rest[0] == '0' && rest[1]|0x20 == 'x' && (isHex(rest[2]) || (rest[2] == '.' && len(rest) > 3 && isHex(rest[3]))) {
		j := 2
		for j < len(rest) && isHex(rest[j]) {
			j++
		}
		if j < len(rest) && rest[j] == '.' {
			j++
			for j < len(rest) && isHex(rest[j]) {
				j++
			}
		}
		mant := rest[:j]
		exp := "p0"
		if e := expLen(rest[j:], 'p'); e > 0 {
			exp = rest[j : j+e]
			j += e
		}
		f, _ := strconv.ParseFloat(mant+exp, 64)
		return sign(f), i + j
	}
	j := 0
	digits := 0
	for j < len(rest) && isDigit(rest[j]) {
		j++
		digits++
	}
	if j < len(rest) && rest[j] == '.' {
		j++
		for j < len(rest) && isDigit(rest[j]) {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0
	}
	j += expLen(rest[j:], 'e')
	f, _ := strconv.ParseFloat(rest[:j], 64)
	return sign(f), i + j
}

// expLen is the length of an exponent ("e+12", "p-3") at the start of s,
// 0 when there is none.
func expLen(s string, mark byte) int {
	if len(s) < 2 || s[0]|0x20 != mark {
		return 0
	}
	j := 1
	if s[j] == '+' || s[j] == '-' {
		j++
	}
	k := j
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	if k == j {
		return 0
	}
	return k
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'f') }
func isAlnum(c byte) bool { return isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'z') }
