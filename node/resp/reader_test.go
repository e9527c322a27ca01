package resp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// chunkReader returns at most n bytes per Read, to exercise partial reads.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := c.n
	if n > len(p) {
		n = len(p)
	}
	if n > len(c.data) {
		n = len(c.data)
	}
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func readAll(t *testing.T, input string, chunk int) ([][]string, error) {
	t.Helper()
	r := NewReader(&chunkReader{data: []byte(input), n: chunk})
	var out [][]string
	for {
		args, err := r.ReadCommand()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		var cmd []string
		for _, a := range args {
			cmd = append(cmd, string(a))
		}
		out = append(out, cmd)
	}
}

func TestReaderRequests(t *testing.T) {
	cases := []struct {
		name  string
		input string
		want  [][]string
		err   string
	}{
		{"multibulk", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", [][]string{{"GET", "k"}}, ""},
		{"pipelined", "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", [][]string{{"PING"}, {"PING"}}, ""},
		{"empty bulk", "*2\r\n$3\r\nSET\r\n$0\r\n\r\n", [][]string{{"SET", ""}}, ""},
		{"binary bulk", "*1\r\n$4\r\na\r\nb\r\n", [][]string{{"a\r\nb"}}, ""},
		{"zero multibulk is skipped", "*0\r\n*1\r\n$1\r\nx\r\n", [][]string{{"x"}}, ""},
		{"negative multibulk is skipped", "*-1\r\n*1\r\n$1\r\nx\r\n", [][]string{{"x"}}, ""},
		{"inline", "PING\r\n", [][]string{{"PING"}}, ""},
		{"inline LF only", "set a b\n", [][]string{{"set", "a", "b"}}, ""},
		{"inline empty lines skipped", "\r\n\r\nPING\r\n", [][]string{{"PING"}}, ""},
		{"inline quotes", `set "a b" 'c d'` + "\r\n", [][]string{{"set", "a b", "c d"}}, ""},
		{"inline escapes", `set k "\x41\n\"q\"\\"` + "\r\n", [][]string{{"set", "k", "A\n\"q\"\\"}}, ""},
		{"inline single quote escape", `echo 'it\'s'` + "\r\n", [][]string{{"echo", "it's"}}, ""},
		{"inline unbalanced", `set "a b` + "\r\n", nil, "Protocol error: unbalanced quotes in request"},
		{"inline closing quote needs space", `set "a"b` + "\r\n", nil, "Protocol error: unbalanced quotes in request"},
		{"invalid multibulk length", "*abc\r\n", nil, "Protocol error: invalid multibulk length"},
		{"multibulk too big", "*4294967296\r\n", nil, "Protocol error: invalid multibulk length"},
		{"expected dollar", "*1\r\n:1\r\n", nil, "Protocol error: expected '$', got ':'"},
		{"invalid bulk length", "*1\r\n$-2\r\n", nil, "Protocol error: invalid bulk length"},
		{"bulk length not a number", "*1\r\n$x\r\n", nil, "Protocol error: invalid bulk length"},
		{"bulk longer than max", "*1\r\n$536870913\r\n", nil, "Protocol error: invalid bulk length"},
		{"leading plus is invalid", "*+1\r\n", nil, "Protocol error: invalid multibulk length"},
	}
	for _, tc := range cases {
		for _, chunk := range []int{1, 3, 1 << 20} {
			got, err := readAll(t, tc.input, chunk)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err || !IsProtocolError(err) {
					t.Errorf("%s (chunk %d): err = %v, want %q", tc.name, chunk, err, tc.err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s (chunk %d): %v", tc.name, chunk, err)
				continue
			}
			if !equalCmds(got, tc.want) {
				t.Errorf("%s (chunk %d): got %q, want %q", tc.name, chunk, got, tc.want)
			}
		}
	}
}

func equalCmds(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") || len(a[i]) != len(b[i]) {
			return false
		}
	}
	return true
}

func TestReaderTooBigInline(t *testing.T) {
	_, err := readAll(t, strings.Repeat("a", InlineMaxSize+10), 4096)
	if err == nil || err.Error() != "Protocol error: too big inline request" {
		t.Fatalf("err = %v", err)
	}
	_, err = readAll(t, "*"+strings.Repeat("1", InlineMaxSize+10), 4096)
	if err == nil || err.Error() != "Protocol error: too big mbulk count string" {
		t.Fatalf("err = %v", err)
	}
}

func TestReaderUnauthenticatedLimits(t *testing.T) {
	r := NewReader(strings.NewReader("*11\r\n"))
	r.Unauthenticated = true
	if _, err := r.ReadCommand(); err == nil || err.Error() != "Protocol error: unauthenticated multibulk length" {
		t.Fatalf("err = %v", err)
	}
	r = NewReader(strings.NewReader("*1\r\n$16385\r\n"))
	r.Unauthenticated = true
	if _, err := r.ReadCommand(); err == nil || err.Error() != "Protocol error: unauthenticated bulk length" {
		t.Fatalf("err = %v", err)
	}
}

func TestReaderBigArgument(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	in := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + itoa(len(big)) + "\r\n" + big + "\r\n*1\r\n$4\r\nPING\r\n"
	got, err := readAll(t, in, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0][2] != big || got[1][0] != "PING" {
		t.Fatalf("big argument not read back")
	}
}

func itoa(n int) string {
	var b []byte
	if n == 0 {
		return "0"
	}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestReaderNoAllocsSteadyState(t *testing.T) {
	cmd := []byte("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
	batch := bytes.Repeat(cmd, 16)
	src := &loopReader{data: batch}
	r := NewReader(src)
	for i := 0; i < 100; i++ { // warm up the buffers
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ReadCommand allocates %.1f times per command", allocs)
	}
}

// loopReader returns data forever.
type loopReader struct{ data []byte }

func (l *loopReader) Read(p []byte) (int, error) { return copy(p, l.data), nil }

func BenchmarkReaderPipelined(b *testing.B) {
	cmd := []byte("*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000001\r\n$3\r\nxxx\r\n")
	r := NewReader(&loopReader{data: bytes.Repeat(cmd, 16)})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := r.ReadCommand(); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzReader feeds arbitrary bytes to the parser in arbitrary chunks: it
// must never panic or loop, and every command it returns must round-trip
// through the multibulk encoding.
func FuzzReader(f *testing.F) {
	seeds := []string{
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"PING\r\n",
		`set "a\x41" 'b\'c'` + "\n",
		"*-1\r\n*0\r\n",
		"*1\r\n$-1\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n",
		"*2147483647\r\n$1\r\n",
		"\x00\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint8(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		n := int(chunk)%64 + 1
		r := NewReader(&chunkReader{data: data, n: n})
		r.MaxBulkLen = 1 << 20
		consumed := 0
		for i := 0; i < len(data)+2; i++ {
			args, err := r.ReadCommand()
			if err != nil {
				if !errors.Is(err, io.EOF) && !IsProtocolError(err) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				return
			}
			if len(args) == 0 {
				t.Fatal("empty command returned")
			}
			back, err := NewReader(bytes.NewReader(AppendCommand(nil, args))).ReadCommand()
			if err != nil || len(back) != len(args) {
				t.Fatalf("round trip failed: %v", err)
			}
			for j := range back {
				if !bytes.Equal(back[j], args[j]) {
					t.Fatalf("round trip changed argument %d", j)
				}
			}
			consumed++
		}
		t.Fatalf("more commands than input bytes (%d)", consumed)
	})
}
