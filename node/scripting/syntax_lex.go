package scripting

import (
	"strconv"
	"strings"
)

// The lexer of the syntax check (syntax.go), as Lua 5.1's llex.c: the
// same tokens, the same line counting and the same error texts, with the
// text a "near '...'" shows (the token's buffer: a string with its
// quotes and its escapes decoded, cut at a NUL as C's %s cuts it).

// Tokens: a single character is its byte; the others follow.
const (
	tkAnd = 257 + iota
	tkBreak
	tkDo
	tkElse
	tkElseif
	tkEnd
	tkFalse
	tkFor
	tkFunction
	tkIf
	tkIn
	tkLocal
	tkNil
	tkNot
	tkOr
	tkRepeat
	tkReturn
	tkThen
	tkTrue
	tkUntil
	tkWhile
	tkConcat
	tkDots
	tkEq
	tkGe
	tkLe
	tkNe
	tkNumber
	tkName
	tkString
	tkEOS
)

// tokenNames are luaX_tokens: the reserved words, then the other tokens.
var tokenNames = []string{
	"and", "break", "do", "else", "elseif",
	"end", "false", "for", "function", "if",
	"in", "local", "nil", "not", "or", "repeat",
	"return", "then", "true", "until", "while",
	"..", "...", "==", ">=", "<=", "~=",
	"<number>", "<name>", "<string>", "<eof>",
}

var reserved = func() map[string]int {
	m := map[string]int{}
	for i := 0; i <= tkWhile-tkAnd; i++ {
		m[tokenNames[i]] = tkAnd + i
	}
	return m
}()

const eoz = -1 // end of the source (EOZ)

// syntaxError is a Lua 5.1 compile error, raised by panic inside the
// check (Lua's longjmp) and recovered at its entry.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

type lexer struct {
	src      string
	pos      int // index of the byte after current
	current  int // the byte being looked at, or eoz
	line     int // linenumber
	lastline int // line of the last token consumed
	chunk    string
	buf      []byte
	tok      int    // the current token (ls->t)
	ahead    int    // the lookahead token, tkEOS if none
	aheadBuf []byte // the buffer the lookahead left
}

func newLexer(src, chunk string) *lexer {
	ls := &lexer{src: src, chunk: chunk, line: 1, lastline: 1, ahead: tkEOS}
	ls.next()
	return ls
}

func (ls *lexer) next() {
	if ls.pos < len(ls.src) {
		ls.current = int(ls.src[ls.pos])
		ls.pos++
		return
	}
	ls.current = eoz
}

func (ls *lexer) save(c int)   { ls.buf = append(ls.buf, byte(c)) }
func (ls *lexer) saveAndNext() { ls.save(ls.current); ls.next() }

func (ls *lexer) currIsNewline() bool { return ls.current == '\n' || ls.current == '\r' }

// checkNext is check_next, which uses strchr: a NUL byte matches any set.
func (ls *lexer) checkNext(set string) bool {
	if ls.current == eoz || (ls.current != 0 && !strings.ContainsRune(set, rune(ls.current))) {
		return false
	}
	ls.saveAndNext()
	return true
}

// token2str is luaX_token2str.
func token2str(tok int) string {
	if tok < 257 {
		if isCntrl(tok) {
			return "char(" + strconv.Itoa(tok) + ")"
		}
		return string([]byte{byte(tok)})
	}
	return tokenNames[tok-257]
}

// txtToken is the text a "near" shows for tok.
func (ls *lexer) txtToken(tok int) string {
	switch tok {
	case tkName, tkString, tkNumber:
		return cString(ls.buf)
	}
	return token2str(tok)
}

// lexError is luaX_lexerror: "chunk:line: msg near 'tok'" (no near part
// for token 0, as C's "if (token)").
func (ls *lexer) lexError(msg string, tok int) {
	msg = ls.chunk + ":" + strconv.Itoa(ls.line) + ": " + msg
	if tok != 0 {
		msg += " near '" + ls.txtToken(tok) + "'"
	}
	panic(&syntaxError{msg})
}

// syntaxError is luaX_syntaxerror: the error near the current token.
func (ls *lexer) syntaxError(msg string) { ls.lexError(msg, ls.tok) }

func (ls *lexer) incLineNumber() {
	old := ls.current
	ls.next()
	if ls.currIsNewline() && ls.current != old {
		ls.next()
	}
	ls.line++
}

// advance is luaX_next.
func (ls *lexer) advance() {
	ls.lastline = ls.line
	if ls.ahead != tkEOS {
		ls.tok = ls.ahead
		ls.ahead = tkEOS
		ls.buf = append(ls.buf[:0], ls.aheadBuf...)
		return
	}
	ls.tok = ls.llex()
}

// lookahead is luaX_lookahead. Lua's buffer then holds the lookahead's
// text; the parser never reports an error between the two.
func (ls *lexer) lookahead() {
	cur := append([]byte(nil), ls.buf...)
	ls.ahead = ls.llex()
	ls.aheadBuf = append(ls.aheadBuf[:0], ls.buf...)
	ls.buf = cur
}

func (ls *lexer) readNumeral() {
	for {
		ls.saveAndNext()
		if !isDigit(ls.current) && ls.current != '.' {
			break
		}
	}
	if ls.checkNext("Ee") {
		ls.checkNext("+-")
	}
	for isAlnum(ls.current) || ls.current == '_' {
		ls.saveAndNext()
	}
	if !str2dValid(cString(ls.buf)) {
		ls.lexError("malformed number", tkNumber)
	}
}

// skipSep is skip_sep: the level of a long bracket, or -(level)-1 when
// it is not one.
func (ls *lexer) skipSep() int {
	count := 0
	s := ls.current
	ls.saveAndNext()
	for ls.current == '=' {
		ls.saveAndNext()
		count++
	}
	if ls.current == s {
		return count
	}
	return -count - 1
}

func (ls *lexer) readLongString(isString bool, sep int) {
	ls.saveAndNext()
	if ls.currIsNewline() {
		ls.incLineNumber()
	}
	for {
		switch ls.current {
		case eoz:
			if isString {
				ls.lexError("unfinished long string", tkEOS)
			}
			ls.lexError("unfinished long comment", tkEOS)
		case ']':
			if ls.skipSep() == sep {
				ls.saveAndNext()
				return
			}
		case '\n', '\r':
			ls.save('\n')
			ls.incLineNumber()
			if !isString {
				ls.buf = ls.buf[:0]
			}
		default:
			if isString {
				ls.saveAndNext()
			} else {
				ls.next()
			}
		}
	}
}

func (ls *lexer) readString(del int) {
	ls.saveAndNext()
	for ls.current != del {
		switch ls.current {
		case eoz:
			ls.lexError("unfinished string", tkEOS)
		case '\n', '\r':
			ls.lexError("unfinished string", tkString)
		case '\\':
			ls.next()
			c := 0
			switch ls.current {
			case 'a':
				c = '\a'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'v':
				c = '\v'
			case '\n', '\r':
				ls.save('\n')
				ls.incLineNumber()
				continue
			case eoz:
				continue
			default:
				if !isDigit(ls.current) {
					ls.saveAndNext()
				} else {
					for i := 0; i < 3 && isDigit(ls.current); i++ {
						c = 10*c + ls.current - '0'
						ls.next()
					}
					if c > 255 {
						ls.lexError("escape sequence too large", tkString)
					}
					ls.save(c)
				}
				continue
			}
			ls.save(c)
			ls.next()
		default:
			ls.saveAndNext()
		}
	}
	ls.saveAndNext()
}

// llex reads the next token.
func (ls *lexer) llex() int {
	ls.buf = ls.buf[:0]
	for {
		switch c := ls.current; c {
		case '\n', '\r':
			ls.incLineNumber()
		case '-':
			ls.next()
			if ls.current != '-' {
				return '-'
			}
			ls.next()
			if ls.current == '[' {
				sep := ls.skipSep()
				ls.buf = ls.buf[:0]
				if sep >= 0 {
					ls.readLongString(false, sep)
					ls.buf = ls.buf[:0]
					continue
				}
			}
			for !ls.currIsNewline() && ls.current != eoz {
				ls.next()
			}
		case '[':
			sep := ls.skipSep()
			if sep >= 0 {
				ls.readLongString(true, sep)
				return tkString
			}
			if sep == -1 {
				return '['
			}
			ls.lexError("invalid long string delimiter", tkString)
		case '=', '<', '>', '~':
			ls.next()
			if ls.current != '=' {
				return c
			}
			ls.next()
			return twoCharToken(c)
		case '"', '\'':
			ls.readString(c)
			return tkString
		case '.':
			ls.saveAndNext()
			if ls.checkNext(".") {
				if ls.checkNext(".") {
					return tkDots
				}
				return tkConcat
			}
			if !isDigit(ls.current) {
				return '.'
			}
			ls.readNumeral()
			return tkNumber
		case eoz:
			return tkEOS
		default:
			switch {
			case isSpace(c):
				ls.next()
			case isDigit(c):
				ls.readNumeral()
				return tkNumber
			case isAlpha(c) || c == '_':
				for isAlnum(ls.current) || ls.current == '_' {
					ls.saveAndNext()
				}
				if r, ok := reserved[string(ls.buf)]; ok {
					return r
				}
				return tkName
			default:
				ls.next()
				return c
			}
		}
	}
}

// twoCharToken is the token of c followed by '='.
func twoCharToken(c int) int {
	switch c {
	case '=':
		return tkEq
	case '<':
		return tkLe
	case '>':
		return tkGe
	}
	return tkNe
}

// The C locale's ctype (Redis leaves LC_CTYPE as "C").
func isDigit(c int) bool { return c >= '0' && c <= '9' }
func isAlpha(c int) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c int) bool { return isAlpha(c) || isDigit(c) }
func isSpace(c int) bool { return c == ' ' || c >= '\t' && c <= '\r' }
func isCntrl(c int) bool { return c >= 0 && c < 32 || c == 127 }
func isXDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// cString is b as C's %s prints it: up to the first NUL.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// str2dValid is whether luaO_str2d accepts a numeral: glibc's strtod
// must read all of it (decimal, or hexadecimal with an optional binary
// exponent; the numeral starts with a digit or a dot, so no sign, space,
// inf or nan). Its strtoul fallback for an 'x' strtod stopped at never
// reads further than strtod did.
func str2dValid(s string) bool {
	n := strtodLen(s)
	return n > 0 && n == len(s)
}

// strtodLen is how many bytes of s glibc's strtod reads.
func strtodLen(s string) int {
	digits := func(i int, ok func(byte) bool) int {
		for i < len(s) && ok(s[i]) {
			i++
		}
		return i
	}
	isDec := func(c byte) bool { return c >= '0' && c <= '9' }
	exponent := func(i int, marks string) int {
		if i < len(s) && strings.IndexByte(marks, s[i]) >= 0 {
			j := i + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			if k := digits(j, isDec); k > j {
				return k
			}
		}
		return i
	}
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		i := digits(2, isXDigit)
		n := i - 2
		if i < len(s) && s[i] == '.' {
			j := digits(i+1, isXDigit)
			n += j - i - 1
			i = j
		}
		if n > 0 {
			return exponent(i, "pP")
		}
		return 1 // "0"
	}
	i := digits(0, isDec)
	n := i
	if i < len(s) && s[i] == '.' {
		j := digits(i+1, isDec)
		n += j - i - 1
		i = j
	}
	if n == 0 {
		return 0
	}
	return exponent(i, "eE")
}
