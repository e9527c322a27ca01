package resp

import (
	"strings"
	"testing"
)

func TestAppendCommandGoldenBytes(t *testing.T) {
	long := strings.Repeat("v", 1234)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"SET", "k", ""}, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"},
		{[]string{"PING"}, "*1\r\n$4\r\nPING\r\n"},
		{[]string{}, "*0\r\n"},
		{[]string{"SET", "a\r\nb", long}, "*3\r\n$3\r\nSET\r\n$4\r\na\r\nb\r\n$1234\r\n" + long + "\r\n"},
	} {
		if got := string(AppendCommand(nil, tc.args)); got != tc.want {
			t.Errorf("AppendCommand(%q) = %q, want %q", tc.args, got, tc.want)
		}
		bs := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			bs[i] = []byte(a)
		}
		if got := string(AppendCommand([]byte("prefix"), bs)); got != "prefix"+tc.want {
			t.Errorf("AppendCommand(prefix, %q) = %q, want %q", tc.args, got, "prefix"+tc.want)
		}
	}
}

func TestAppendCommandDoesNotAllocate(t *testing.T) {
	args := [][]byte{[]byte("SET"), []byte("key"), []byte(strings.Repeat("v", 2000))}
	dst := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { dst = AppendCommand(dst[:0], args) }); n != 0 {
		t.Errorf("AppendCommand into a large enough dst allocated %v times", n)
	}
}
