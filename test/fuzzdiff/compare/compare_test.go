package compare

import (
	"bufio"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/test/fuzzdiff/resp"
	"github.com/shoal-dev/shoal/test/fuzzdiff/shape"
)

func val(t *testing.T, raw string) resp.Value {
	t.Helper()
	v, err := resp.Read(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	return v
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mode      Mode
		ours, ref string
		want      string
	}{
		{"same bulk", Exact, "$1\r\na\r\n", "$1\r\na\r\n", ""},
		{"other bulk", Exact, "$1\r\na\r\n", "$1\r\nb\r\n", Reply},
		{"order matters when exact", Exact, "*2\r\n+a\r\n+b\r\n", "*2\r\n+b\r\n+a\r\n", Reply},
		{"unordered members", Unordered, "*2\r\n+a\r\n+b\r\n", "*2\r\n+b\r\n+a\r\n", ""},
		{"unordered but other members", Unordered, "*2\r\n+a\r\n+c\r\n", "*2\r\n+b\r\n+a\r\n", Reply},
		{"hgetall pairs reordered", UnorderedPairs, "*4\r\n+f\r\n+1\r\n+g\r\n+2\r\n", "*4\r\n+g\r\n+2\r\n+f\r\n+1\r\n", ""},
		{"hgetall values swapped", UnorderedPairs, "*4\r\n+f\r\n+2\r\n+g\r\n+1\r\n", "*4\r\n+g\r\n+2\r\n+f\r\n+1\r\n", Reply},
		{"random same shape", Shape, "*2\r\n+a\r\n+a\r\n", "*2\r\n+b\r\n+c\r\n", ""},
		{"random other length", Shape, "*1\r\n+a\r\n", "*2\r\n+b\r\n+c\r\n", Reply},
		{"random null vs bulk", Shape, "$-1\r\n", "$1\r\nb\r\n", Reply},
		{"ttl one second off", NearSecond, ":99\r\n", ":100\r\n", ""},
		{"ttl two seconds off", NearSecond, ":98\r\n", ":100\r\n", Reply},
		{"pttl near", NearMilli, ":99000\r\n", ":100000\r\n", ""},
		{"scan both done", Scan, "*2\r\n$1\r\n0\r\n*2\r\n+b\r\n+a\r\n", "*2\r\n$1\r\n0\r\n*2\r\n+a\r\n+b\r\n", ""},
		{"scan both done, other keys", Scan, "*2\r\n$1\r\n0\r\n*1\r\n+b\r\n", "*2\r\n$1\r\n0\r\n*2\r\n+a\r\n+b\r\n", Reply},
		{"scan cursors differ", Scan, "*2\r\n$1\r\n0\r\n*1\r\n+b\r\n", "*2\r\n$2\r\n13\r\n*0\r\n", ""},
		{"same error", Exact, "-ERR x\r\n", "-ERR x\r\n", ""},
		{"error text", Exact, "-ERR x\r\n", "-ERR y\r\n", ErrorText},
		{"error code", Exact, "-ERR x\r\n", "-WRONGTYPE y\r\n", ErrorCode},
		{"error vs reply", Exact, "-ERR x\r\n", "+OK\r\n", ErrorVsReply},
		{"reply vs error", Exact, "+OK\r\n", "-ERR x\r\n", ReplyVsError},
		{"errors are compared even for random replies", Shape, "-ERR x\r\n", "$1\r\na\r\n", ErrorVsReply},
		{"unknown command", Exact, "-ERR unknown command 'XADD', with args beginning with: \r\n", "+1-0\r\n", Unknown},
		{"unknown command vs an error", Exact, "-ERR unknown command 'XADD'\r\n", "-WRONGTYPE x\r\n", Unknown},
		{"unknown subcommand", Exact, "-ERR unknown subcommand 'X'. Try CLIENT HELP.\r\n", "-ERR syntax error\r\n", UnknownSub},
		{"background save still running", Background, "+Background saving started\r\n", "-ERR Background save already in progress\r\n", ""},
		{"background save refused for another reason", Background, "+Background saving started\r\n", "-ERR syntax error\r\n", ReplyVsError},
		{"background save still running", Background, "+Background saving started\r\n", "-ERR Background save already in progress\r\n", ""},
		{"background save scheduled", Background, "+Background saving started\r\n", "+Background saving scheduled\r\n", ""},
		{"background save refused for another reason", Background, "+Background saving started\r\n", "-ERR syntax error\r\n", ReplyVsError},
		{"resp3 map reordered", Unordered, "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", "%2\r\n+b\r\n:2\r\n+a\r\n:1\r\n", ""},
	} {
		if got := Compare(tc.mode, val(t, tc.ours), val(t, tc.ref)); got != tc.want {
			t.Errorf("%s: Compare = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCompareExecUsesEachQueuedMode(t *testing.T) {
	queued := []Mode{Unordered, Shape}
	ours := val(t, "*2\r\n*2\r\n+a\r\n+b\r\n$1\r\nx\r\n")
	ref := val(t, "*2\r\n*2\r\n+b\r\n+a\r\n$1\r\ny\r\n")
	if k := CompareExec(queued, ours, ref); k != "" {
		t.Errorf("EXEC of SMEMBERS and SRANDMEMBER: %q, want a match", k)
	}
	if k := CompareExec([]Mode{Exact, Exact}, ours, ref); k != Reply {
		t.Errorf("EXEC compared exactly: %q, want %q", k, Reply)
	}
	if k := CompareExec(queued, val(t, "-EXECABORT x\r\n"), ref); k != ErrorVsReply {
		t.Errorf("EXECABORT vs replies: %q", k)
	}
}

func TestModeForLineScanFromAnotherCursor(t *testing.T) {
	scan := &shape.Command{Name: "scan", Tips: map[string]bool{"nondeterministic_output": true}}
	sscan := &shape.Command{Name: "sscan", Tips: map[string]bool{"nondeterministic_output": true}}
	for _, tc := range []struct {
		c    *shape.Command
		args []string
		want Mode
	}{
		{scan, []string{"SCAN", "0"}, Scan},
		{scan, []string{"SCAN", "-2"}, Kind},
		{sscan, []string{"SSCAN", "set", "0", "COUNT", "5"}, Scan},
		{sscan, []string{"SSCAN", "set", "17"}, Kind},
	} {
		if got := ModeForLine(tc.c, tc.args); got != tc.want {
			t.Errorf("ModeForLine(%q) = %d, want %d", tc.args, got, tc.want)
		}
	}
}

func TestModeFor(t *testing.T) {
	tips := func(name string, ts ...string) *shape.Command {
		c := &shape.Command{Name: name, Tips: map[string]bool{}}
		for _, tp := range ts {
			c.Tips[tp] = true
		}
		return c
	}
	for _, tc := range []struct {
		c    *shape.Command
		want Mode
	}{
		{tips("get"), Exact},
		{tips("smembers", "nondeterministic_output_order"), Unordered},
		{tips("srandmember", "nondeterministic_output"), Shape},
		{tips("ttl", "nondeterministic_output"), NearSecond},
		{tips("scan", "nondeterministic_output"), Scan},
		{tips("hgetall", "nondeterministic_output_order"), UnorderedPairs},
		{nil, Exact},
	} {
		name := "nil"
		if tc.c != nil {
			name = tc.c.Name
		}
		if got := ModeFor(tc.c); got != tc.want {
			t.Errorf("ModeFor(%s) = %d, want %d", name, got, tc.want)
		}
	}
}
