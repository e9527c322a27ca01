package server

import (
	"strings"
	"testing"
	"time"
)

// The busy script tests run the same sequence against our node and
// Debian's redis-server, both with busy-reply-threshold 100 ms, and
// compare what the other clients get.

// waitBusy polls PING on r until it answers BUSY.
func waitBusy(t *testing.T, r *rawConn) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := r.do("PING")
		if strings.HasPrefix(got, "-BUSY") {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("never BUSY, PING = %q", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// busyKillSequence is an infinite loop killed by SCRIPT KILL, then a
// writing one that is UNKILLABLE: the replies of each step.
func busyKillSequence(t *testing.T, n *testNode) []string {
	script, other := n.raw(t), n.raw(t)
	var out []string
	script.send(encodeCommand("EVAL", "local i = 0 while true do i = i + 1 end", "0"))
	out = append(out, waitBusy(t, other))
	out = append(out, other.do("SET", "k", "v"), other.do("FUNCTION", "KILL"), other.do("SCRIPT", "LOAD", "return 1"))
	out = append(out, other.do("SCRIPT", "KILL"))
	out = append(out, script.reply())
	out = append(out, other.do("PING"), other.do("SCRIPT", "KILL"))
	// pcall cannot catch the kill.
	script.send(encodeCommand("EVAL", "while true do pcall(function() while true do end end) end", "0"))
	waitBusy(t, other)
	out = append(out, other.do("SCRIPT", "KILL"), script.reply(), other.do("PING"))
	script.send(encodeCommand("EVAL", "redis.call('SET', 'w', '1') while true do end", "0"))
	out = append(out, waitBusy(t, other), other.do("SCRIPT", "KILL"), other.do("SHUTDOWN"))
	return out
}

func TestDifferentialBusyScript(t *testing.T) {
	args := []string{"--busy-reply-threshold", "100"}
	ours, ref := startNode(t, args...), startRedis(t, args...)
	got, want := busyKillSequence(t, ours), busyKillSequence(t, ref)
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("step %d: ours %q, redis %q", i, got[i], want[i])
		}
	}
	// SHUTDOWN NOSAVE ends the node while the writing script loops.
	for _, n := range []*testNode{ours, ref} {
		n.raw(t).send(encodeCommand("SHUTDOWN", "NOSAVE"))
		select {
		case <-n.Exited():
		case <-time.After(20 * time.Second):
			t.Fatalf("%s did not exit on SHUTDOWN NOSAVE", n)
		}
	}
}

// TestBusyScriptWithGoroutinesPerConnection is the kill with event-loops
// 0: every connection on a goroutine of its own.
func TestBusyScriptWithGoroutinesPerConnection(t *testing.T) {
	n := startNode(t, "--busy-reply-threshold", "50", "--event-loops", "0")
	script, other := n.raw(t), n.raw(t)
	script.send(encodeCommand("EVAL", "while true do end", "0"))
	waitBusy(t, other)
	if got := other.do("SCRIPT", "KILL"); got != "+OK\r\n" {
		t.Fatalf("SCRIPT KILL = %q", got)
	}
	if got := script.reply(); !strings.HasPrefix(got, "-ERR Script killed by user with SCRIPT KILL...") {
		t.Fatalf("killed script = %q", got)
	}
	if got := script.do("EVAL", "return 1", "0"); got != ":1\r\n" {
		t.Fatalf("after the kill EVAL = %q", got)
	}
}

// TestBusyScriptOnTheLoopAnswersItsNeighbours: the script runs on the
// event loop that serves the other connections too (event-loops 1), and
// a neighbour whose command was read, or even answered, in the same
// iteration as the EVAL still gets its reply and can SCRIPT KILL.
func TestBusyScriptOnTheLoopAnswersItsNeighbours(t *testing.T) {
	n := startNode(t, "--busy-reply-threshold", "50", "--event-loops", "1")
	script, other := n.raw(t), n.raw(t)
	for i := 0; i < 5; i++ {
		other.send(encodeCommand("PING"))
		script.send(encodeCommand("EVAL", "while true do end", "0"))
		if got := other.reply(); got != "+PONG\r\n" && !strings.HasPrefix(got, "-BUSY") {
			t.Fatalf("round %d: PING = %q", i, got)
		}
		waitBusy(t, other)
		if got := other.do("SCRIPT", "KILL"); got != "+OK\r\n" {
			t.Fatalf("round %d: SCRIPT KILL = %q", i, got)
		}
		if got := script.reply(); !strings.HasPrefix(got, "-ERR Script killed by user") {
			t.Fatalf("round %d: killed script = %q", i, got)
		}
	}
	if got := other.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("after the kills PING = %q", got)
	}
}
