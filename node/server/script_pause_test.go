package server

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

// scriptPauseCases are script calls sent during CLIENT PAUSE WRITE: a
// script's or function's flags decide whether it waits (Redis's
// getCommandFlags), not EVAL's and FCALL's own.
var scriptPauseCases = [][]string{
	{"EVAL_RO", "return 1", "0"},
	{"EVAL", "#!lua flags=no-writes\nreturn 2", "0"},
	{"FCALL", "readonly", "0"},
	{"FCALL_RO", "readonly", "0"},
	{"EVAL", "return 3", "0"},        // no shebang: EVAL's flags (may-replicate)
	{"EVAL", "#!lua\nreturn 4", "0"}, // a shebang without no-writes: a write
	{"FCALL", "writer", "0"},
	{"FCALL_RO", "writer", "0"}, // a write function is paused, then refused
}

// scriptPauseReplies sends each case on its own connection during a
// write pause and returns, per case, the reply given at once or
// "(paused)" followed by the reply given once the pause ended.
func scriptPauseReplies(t *testing.T, n *testNode) []string {
	admin := n.raw(t)
	lib := "#!lua name=pauselib\n" +
		"redis.register_function{function_name='readonly', callback=function() return 'r' end, flags={'no-writes'}}\n" +
		"redis.register_function('writer', function() return 'w' end)"
	if got := admin.do("FUNCTION", "LOAD", "REPLACE", lib); got != "$8\r\npauselib\r\n" {
		t.Fatalf("FUNCTION LOAD = %q", got)
	}
	if got := admin.do("CLIENT", "PAUSE", "20000", "WRITE"); got != "+OK\r\n" {
		t.Fatalf("CLIENT PAUSE = %q", got)
	}
	out := make([]string, len(scriptPauseCases))
	var paused []*rawConn
	var pausedAt []int
	for i, args := range scriptPauseCases {
		r := n.raw(t)
		r.send(encodeCommand(args...))
		_ = r.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		var b strings.Builder
		if err := readRaw(r.rd, &b); err != nil {
			if b.Len() > 0 {
				t.Fatalf("%q: partial reply %q: %v", args, b.String(), err)
			}
			paused, pausedAt = append(paused, r), append(pausedAt, i)
			continue
		}
		out[i] = b.String()
	}
	if got := admin.do("CLIENT", "UNPAUSE"); got != "+OK\r\n" {
		t.Fatalf("CLIENT UNPAUSE = %q", got)
	}
	for k, r := range paused {
		r.rd = bufio.NewReader(r.c)
		out[pausedAt[k]] = "(paused) " + r.reply()
	}
	return out
}

func TestDifferentialNoWritesScriptsRunDuringWritePause(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	got, want := scriptPauseReplies(t, ours), scriptPauseReplies(t, ref)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%q: ours %q, redis %q", scriptPauseCases[i], got[i], want[i])
		}
	}
	// The differential is the spec; these pin it should both change.
	if strings.HasPrefix(want[1], "(paused)") || !strings.HasPrefix(want[4], "(paused)") {
		t.Errorf("redis-server: no-writes %q, plain EVAL %q", want[1], want[4])
	}
}
