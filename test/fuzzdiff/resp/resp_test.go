package resp

import (
	"bufio"
	"strings"
	"testing"
)

func TestReadEncodeRoundTrip(t *testing.T) {
	for _, raw := range []string{
		"+OK\r\n", "-ERR x y\r\n", ":-42\r\n", "$0\r\n\r\n", "$-1\r\n", "*-1\r\n", "$3\r\na\x00b\r\n",
		"*2\r\n$1\r\na\r\n*1\r\n:1\r\n", "_\r\n", "#t\r\n", ",1.5\r\n", "(123456789012345678901\r\n",
		"%1\r\n+k\r\n:1\r\n", "~2\r\n+a\r\n+b\r\n", "=7\r\ntxt:abc\r\n", "!3\r\nERR\r\n", ">2\r\n+m\r\n+c\r\n",
	} {
		v, err := Read(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			t.Errorf("Read(%q): %v", raw, err)
			continue
		}
		if got := Encode(v); got != raw {
			t.Errorf("Encode(Read(%q)) = %q", raw, got)
		}
	}
}

func TestReadRejectsMalformed(t *testing.T) {
	for _, raw := range []string{"", "+OK\n", "$3\r\nab\r\n", "$x\r\n", "?\r\n", "*1\r\n", "$2000000000\r\n"} {
		if _, err := Read(bufio.NewReader(strings.NewReader(raw))); err == nil {
			t.Errorf("Read(%q) accepted a malformed reply", raw)
		}
	}
}

func TestIsError(t *testing.T) {
	if !(Value{Kind: '-'}).IsError() || !(Value{Kind: '!'}).IsError() || (Value{Kind: '+'}).IsError() {
		t.Error("IsError must hold for '-' and '!' only")
	}
}

func TestQuoteArgForRedisCli(t *testing.T) {
	for in, want := range map[string]string{
		"abc": "abc", "": `""`, "a b": `"a b"`, "a\x00b": `"a\x00b"`, `q"`: `"q\""`, `\`: `"\\"`,
		"\r\n": `"\r\n"`, "é": `"\xc3\xa9"`, "a*[b]": "a*[b]", "it's": `"it's"`,
	} {
		if got := QuoteArg(in); got != want {
			t.Errorf("QuoteArg(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestShortLineAbbreviatesLongArguments(t *testing.T) {
	got := ShortLine([]string{"SET", "k", strings.Repeat("x", 100)}, 10)
	if want := "SET k <100 bytes: xxxxxxxxxxxxxxxx...>"; got != want {
		t.Errorf("ShortLine = %q, want %q", got, want)
	}
	if got := CommandLine([]string{"SET", "k v"}); got != `SET "k v"` {
		t.Errorf("CommandLine = %q", got)
	}
}
