package scripting

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/yuin/gopher-lua/parse"
)

// syntaxErrorCases are broken chunks and Lua 5.1's error for each, as
// redis-server 7.0.15 words it after "Error compiling script (new
// function): " (node/server's TestDifferentialScriptSyntaxErrors sends
// them to both servers).
var syntaxErrorCases = []struct{ src, want string }{
	{"x error", "user_script:1: '=' expected near 'error'"},
	{"return 1 +", "user_script:1: unexpected symbol near '<eof>'"},
	{"function f()", "user_script:1: 'end' expected near '<eof>'"},
	{"local x = \"abc", "user_script:1: unfinished string near '<eof>'"},
	{"local x = 'abc", "user_script:1: unfinished string near '<eof>'"},
	{"local = 1", "user_script:1: '<name>' expected near '='"},
	{"return )", "user_script:1: unexpected symbol near ')'"},
	{"f(", "user_script:1: unexpected symbol near '<eof>'"},
	{"x", "user_script:1: '=' expected near '<eof>'"},
	{"x.y", "user_script:1: '=' expected near '<eof>'"},
	{"if x then", "user_script:1: 'end' expected near '<eof>'"},
	{"if x end", "user_script:1: 'then' expected near 'end'"},
	{"for i = 1 do end", "user_script:1: ',' expected near 'do'"},
	{"for i in do end", "user_script:1: unexpected symbol near 'do'"},
	{"for 1 do end", "user_script:1: '<name>' expected near '1'"},
	{"local function 1() end", "user_script:1: '<name>' expected near '1'"},
	{"return 1 2", "user_script:1: '<eof>' expected near '2'"},
	{"break", "user_script:1: no loop to break near '<eof>'"},
	{"local function f() return ... end", "user_script:1: cannot use '...' outside a vararg function near '...'"},
	{"local t = {1, 2", "user_script:1: '}' expected near '<eof>'"},
	{"local t = {a = }", "user_script:1: unexpected symbol near '}'"},
	{"return [[abc", "user_script:1: unfinished long string near '<eof>'"},
	{"return 1e", "user_script:1: malformed number near '1e'"},
	{"return 0x", "user_script:1: malformed number near '0x'"},
	{"return \"\\9999\"", "user_script:1: escape sequence too large near '\"'"},
	{"while true do", "user_script:1: 'end' expected near '<eof>'"},
	{"repeat x = 1", "user_script:1: 'until' expected near '<eof>'"},
	{"x = 1 1", "user_script:1: unexpected symbol near '1'"},
	{"return a.1", "user_script:1: '<eof>' expected near '.1'"},
	{"return a:b", "user_script:1: function arguments expected near '<eof>'"},
	{"return #", "user_script:1: unexpected symbol near '<eof>'"},
	{"return 1 ==", "user_script:1: unexpected symbol near '<eof>'"},
	{"a, b", "user_script:1: '=' expected near '<eof>'"},
	{"a, b =", "user_script:1: unexpected symbol near '<eof>'"},
	{"local a, = 1", "user_script:1: '<name>' expected near '='"},
	{"return function(a, 1) end", "user_script:1: <name> or '...' expected near '1'"},
	{"return function(a,", "user_script:1: <name> or '...' expected near '<eof>'"},
	{"return 'abc\\", "user_script:1: unfinished string near '<eof>'"},
	{"return ~", "user_script:1: unexpected symbol near '~'"},
	{"x = @", "user_script:1: unexpected symbol near '@'"},
	{"goto x", "user_script:1: '=' expected near 'x'"},
	{"return 1 end", "user_script:1: '<eof>' expected near 'end'"},
	{"end", "user_script:1: '<eof>' expected near 'end'"},
	{"do end end", "user_script:1: '<eof>' expected near 'end'"},
	{"return (1", "user_script:1: ')' expected near '<eof>'"},
	{"return {[1 = 2}", "user_script:1: ']' expected near '='"},
	{"elseif", "user_script:1: '<eof>' expected near 'elseif'"},
	{"local x <const> = 1", "user_script:1: unexpected symbol near '<'"},
	{"return 3 // 2", "user_script:1: unexpected symbol near '/'"},
	{"return 1 & 2", "user_script:1: '<eof>' expected near '&'"},
	{"f\n(1)", "user_script:2: ambiguous syntax (function call x new statement) near '('"},
	{"::lbl::", "user_script:1: unexpected symbol near ':'"},
	{"return nil.x", "user_script:1: '<eof>' expected near '.'"},
	{"x = [==[ abc ]=]", "user_script:1: unfinished long string near '<eof>'"},
	{"--[[ unfinished comment", "user_script:1: unfinished long comment near '<eof>'"},
	{"return 1..2", "user_script:1: malformed number near '1..2'"},
	{"return \"a\" .. ", "user_script:1: unexpected symbol near '<eof>'"},
	{"for i = 1, 2, do end", "user_script:1: unexpected symbol near 'do'"},
	{"function a.b:c.d() end", "user_script:1: '(' expected near '.'"},
	{"function () end", "user_script:1: '<name>' expected near '('"},
	{"local function() end", "user_script:1: '<name>' expected near '('"},
	{"return {,}", "user_script:1: unexpected symbol near ','"},
	{"return {1,,2}", "user_script:1: unexpected symbol near ','"},
	{"return {;}", "user_script:1: unexpected symbol near ';'"},
	{"(f)", "user_script:1: syntax error near '<eof>'"},
	{"a[1] = ", "user_script:1: unexpected symbol near '<eof>'"},
	{"return not", "user_script:1: unexpected symbol near '<eof>'"},
	{"return - ", "user_script:1: unexpected symbol near '<eof>'"},
	{"if then end", "user_script:1: unexpected symbol near 'then'"},
	{"return 1 \n + \n", "user_script:3: unexpected symbol near '<eof>'"},
	{"function f()\n  return 1\n", "user_script:3: 'end' expected (to close 'function' at line 1) near '<eof>'"},
	{"if x then\n\nelse\n", "user_script:4: 'end' expected (to close 'if' at line 1) near '<eof>'"},
	{"while true do\n x = 1\n", "user_script:3: 'end' expected (to close 'while' at line 1) near '<eof>'"},
	{"do\n", "user_script:2: 'end' expected (to close 'do' at line 1) near '<eof>'"},
	{"repeat\n\n", "user_script:3: 'until' expected (to close 'repeat' at line 1) near '<eof>'"},
	{"for i=1,2 do\n", "user_script:2: 'end' expected (to close 'for' at line 1) near '<eof>'"},
	{"f(1,\n2", "user_script:2: ')' expected (to close '(' at line 1) near '<eof>'"},
	{"local t = {\n1,\n2\n", "user_script:4: '}' expected (to close '{' at line 1) near '<eof>'"},
	{"return (1\n+2", "user_script:2: ')' expected (to close '(' at line 1) near '<eof>'"},
	{"x = [[a\nb]] y", "user_script:2: '=' expected near '<eof>'"},
	{"x = 'a\\0b' y", "user_script:1: '=' expected near '<eof>'"},
	{"x = \x01", "user_script:1: unexpected symbol near 'char(1)'"},
	{"x = \x7f", "user_script:1: unexpected symbol near 'char(127)'"},
	{"\xc3\xa9 = 1", "user_script:1: unexpected symbol near '\xc3'"},
	{"\x00", "user_script:1: unexpected symbol"},
	{"x = .\x00", "user_script:1: unexpected symbol near '..'"},
	{"return 0x1.8", "user_script:1: '<eof>' expected near '.8'"},
	{"return 0x.8", "user_script:1: malformed number near '0x'"},
	{"return 0x1p", "user_script:1: malformed number near '0x1p'"},
	{"return 1e+", "user_script:1: malformed number near '1e+'"},
	{"return 1_000", "user_script:1: malformed number near '1_000'"},
	{"return 0x1_0", "user_script:1: malformed number near '0x1_0'"},
	{"return 1.5.3", "user_script:1: malformed number near '1.5.3'"},
	{"x = [=", "user_script:1: invalid long string delimiter near '[='"},
	{"x = [==x", "user_script:1: invalid long string delimiter near '[=='"},
	{"return \"\\256\"", "user_script:1: escape sequence too large near '\"'"},
	{"return '\\300'", "user_script:1: escape sequence too large near '''"},
	{"a, f() = 1", "user_script:1: syntax error near '='"},
	{"a.b, (c) = 1", "user_script:1: syntax error near '='"},
	{"while 1 do local function g() break end end", "user_script:1: no loop to break near 'end'"},
	{"return 1; x = 2", "user_script:1: '<eof>' expected near 'x'"},
	{"x = 1;;", "user_script:1: unexpected symbol near ';'"},
	{";", "user_script:1: unexpected symbol near ';'"},
	{"t = {1 2}", "user_script:1: '}' expected near '2'"},
	{"t = {a b}", "user_script:1: '}' expected near 'b'"},
	{"t = {a = 1 b = 2}", "user_script:1: '}' expected near 'b'"},
	{"--[==[ long\ncomment ]==] x", "user_script:2: '=' expected near '<eof>'"},
	{"-- comment\nx", "user_script:2: '=' expected near '<eof>'"},
	{"x = 'a\nb'", "user_script:1: unfinished string near ''a'"},
	{"\n\nx", "user_script:3: '=' expected near '<eof>'"},
	{"\n\n\nx", "user_script:4: '=' expected near '<eof>'"},
	{"\n\nx", "user_script:3: '=' expected near '<eof>'"},
	{"return nil ()", "user_script:1: '<eof>' expected near '('"},
	{"return 'a' 'b'", "user_script:1: '<eof>' expected near ''b''"},
	{"return function() end ()", "user_script:1: '<eof>' expected near '('"},
	{"local a <close> = 1", "user_script:1: unexpected symbol near '<'"},
	{"return a // b", "user_script:1: unexpected symbol near '/'"},
	{"return ~a", "user_script:1: unexpected symbol near '~'"},
	{"return a ~ b", "user_script:1: '<eof>' expected near '~'"},
	{"return a >> 1", "user_script:1: unexpected symbol near '>'"},
	{"x = 1 // comment", "user_script:1: unexpected symbol near '/'"},
	{"return 1 ... 2", "user_script:1: '<eof>' expected near '...'"},
	{"function f(...,a) end", "user_script:1: ')' expected near ','"},
	{"function f(a,) end", "user_script:1: <name> or '...' expected near ')'"},
	{"function f(,) end", "user_script:1: <name> or '...' expected near ','"},
	{"function a:b:c() end", "user_script:1: '(' expected near ':'"},
	{"function a.b:c() end x = 1 1", "user_script:1: unexpected symbol near '1'"},
	{"if x then return 1 x = 2 end", "user_script:1: 'end' expected near 'x'"},
	{"do return end x", "user_script:1: '=' expected near '<eof>'"},
	{"do break end", "user_script:1: no loop to break near 'end'"},
	{"local x = 1 local y = x.", "user_script:1: '<name>' expected near '<eof>'"},
	{"return a[", "user_script:1: unexpected symbol near '<eof>'"},
	{"return a[1", "user_script:1: ']' expected near '<eof>'"},
	{"return a[]", "user_script:1: unexpected symbol near ']'"},
	{"return {[1]}", "user_script:1: '=' expected near '}'"},
	{"return {[1]=}", "user_script:1: unexpected symbol near '}'"},
	{"return {=1}", "user_script:1: unexpected symbol near '='"},
	{"\n\n\nreturn )", "user_script:4: unexpected symbol near ')'"},
	{"x = \"abc", "user_script:1: unfinished string near '<eof>'"},
	{"x = \"abc\ny\"", "user_script:1: unfinished string near '\"abc'"},
	{locals(201), "user_script:1: main function has more than 200 local variables"},
	{"local function f() " + locals(201) + " end", "user_script:1: function at line 1 has more than 200 local variables"},
	{"return " + strings.Repeat("(", 199) + "1" + strings.Repeat(")", 199), "user_script:1: chunk has too many syntax levels"},
	{"x = " + strings.Repeat("{", 200) + strings.Repeat("}", 200), "user_script:1: chunk has too many syntax levels"},
}

// validChunks are chunks Lua 5.1 compiles (redis-server 7.0.15 runs
// them), near the rules of the check.
var validChunks = []string{
	"return ...",
	"return \"\\z\"",
	"return \"\\x41\"",
	"local function f(...) local t = {...} return arg end return f(1)",
	"return 1 .. 2",
	"return f{}.x",
	"return f\"x\"",
	"return (\"x\"):rep(2)",
	"a.b.c = 1",
	"return 0xe+1",
	"return 1e+5",
	"return 08",
	"return 3 .. 4",
	"return '\\65\\066'",
	"return ------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------1",
	"return -------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------1",
	"return --------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------1",
	"x = {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}",
	"(a).b = 1",
	"f().x = 1",
	"a:b().c = 1",
	"x = function(...) return ... end",
	"x = function(a, ...) return arg end",
	"for a, b, c in pairs({}) do break end",
	"repeat break until true",
	"return;",
	"return 1;",
	"if a then elseif b then else end",
	"local t = {a = 1, [2] = 3; 4, b}",
	"local t = {a}",
	"t = {f = function() end}",
	"x = a.b.c:d'x'{1}",
	"x = #a + -b ^ 2 .. 'x' == not c and d or e",
	"x = 1 < 2 < 3",
	"--[[ a ]] return 1",
	"--[ not long\nreturn 1",
	"f{} ()",
	"x = 'abc\\q'",
	"x = \"\\x41\\z\"",
	"return ...",
	"function f(a, b, ...) end",
	"function a.b.c() end",
	"repeat local x = 1 until x",
	locals(199), locals(200),
	"return " + strings.Repeat("(", 197) + "1" + strings.Repeat(")", 197),
	"x = " + strings.Repeat("{", 100) + strings.Repeat("}", 100),
	"local t = {} for i = 1, 10 do t[#t+1] = i end return t",
	"local ok, err = pcall(function() error({err='x'}) end) return err",
	"return redis.call('INCR', KEYS[1])",
	"local v for i = 1, 10 do v = redis.call('INCR', KEYS[1]) end return v",
	"local a = {n = 1, ['k'] = 2, [3] = 3, 4; 5,} return a.n + a['k']",
	"local s = [==[\nlong ]] string ]==] return #s",
	"return 1 --[[ block ]] + 2 -- line\n",
	"local function f(a, b, ...) return select('#', ...) end return f(1, 2, 3)",
	"local o = {} function o.m(self) return self end function o:n() return self end return o:n() == o",
	"while false do break end repeat local x = 1 until x == 1 for k, v in pairs({}) do end",
	"if KEYS[1] then return 1 elseif ARGV[1] then return 2 else return 3 end",
	"return not nil and -1 or #'abc' .. 'x' ^ 2",
	"do local x = 1; x = x + 1; return x end",
	"return 0x10, 1e3, .5, 3., 1E-2, 0xA",
	"local t = {f = function(...) return ... end} return t.f(1)",
	"local s = 'a\\\nb' return s",
}

func locals(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = "a" + strconv.Itoa(i)
	}
	return "local " + strings.Join(names, ",")
}

func TestCheckSyntaxLua51Errors(t *testing.T) {
	for _, c := range syntaxErrorCases {
		err := checkSyntax(c.src, "user_script")
		if err == nil || err.Error() != c.want {
			t.Errorf("%.80q:\n got  %v\n want %s", c.src, err, c.want)
		}
	}
}

// TestCheckSyntaxValid checks the chunks Lua 5.1 compiles pass the check
// (gopher-lua compiling them too, where it does).
func TestCheckSyntaxValid(t *testing.T) {
	for _, src := range validChunks {
		if err := checkSyntax(src, "user_script"); err != nil {
			t.Errorf("%.80q: %v", src, err)
		}
	}
	for _, src := range testScripts() {
		if _, err := parse.Parse(strings.NewReader(src), "x"); err != nil {
			continue
		}
		if err := checkSyntax(src, "user_script"); err != nil {
			t.Errorf("gopher-lua compiles %.80q but the check says %v", src, err)
		}
	}
}

func FuzzCheckSyntax(f *testing.F) {
	for _, c := range syntaxErrorCases {
		f.Add(c.src)
	}
	for _, src := range validChunks {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		err := checkSyntax(src, "user_script")
		if err != nil && !strings.HasPrefix(err.Error(), "user_script:") {
			t.Fatalf("%q: %v", src, err)
		}
	})
}

// testScripts are real libraries' scripts (go-redsync, redis-py's Lock,
// a token bucket), and the .lua files under $LUA_CORPUS when it is set
// (say, BullMQ's commands directory from npm).
func testScripts() []string {
	scripts := []string{
		`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`,
		`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`,
		`local token = redis.call('get', KEYS[1])
if not token or token ~= ARGV[1] then
    return 0
end
local expiration = redis.call('pttl', KEYS[1])
if not expiration then
    expiration = 0
end
if expiration < 0 then
    return 0
end
local newttl = ARGV[2]
if ARGV[3] == "0" then
    newttl = ARGV[2] + expiration
end
redis.call('pexpire', KEYS[1], newttl)
return 1`,
		`local tokens_key = KEYS[1]
local timestamp_key = KEYS[2]
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local requested = tonumber(ARGV[4])
local fill_time = capacity/rate
local ttl = math.floor(fill_time*2)
local last_tokens = tonumber(redis.call("get", tokens_key))
if last_tokens == nil then
  last_tokens = capacity
end
local delta = math.max(0, now-(tonumber(redis.call("get", timestamp_key)) or 0))
local filled_tokens = math.min(capacity, last_tokens+(delta*rate))
local allowed = filled_tokens >= requested
local new_tokens = filled_tokens
if allowed then
  new_tokens = filled_tokens - requested
end
redis.call("setex", tokens_key, ttl, new_tokens)
redis.call("setex", timestamp_key, ttl, now)
return { allowed and 1 or 0, new_tokens }`,
	}
	if dir := os.Getenv("LUA_CORPUS"); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "*.lua"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil {
				scripts = append(scripts, string(b))
			}
		}
	}
	return scripts
}
