package server

import (
	"strings"
	"testing"
	"time"
)

// TestScriptLogWritesTheNodeLog: redis.log writes its arguments, joined
// by spaces, to the node's log when the level passes loglevel (Redis's
// luaLogCommand), from a script and from a library's load-time code.
func TestScriptLogWritesTheNodeLog(t *testing.T) {
	n := startNode(t, "--loglevel", "notice")
	r := n.raw(t)
	if got := r.do("EVAL", "redis.log(redis.LOG_WARNING, 'shown-warning', 42, {}, 1.5) redis.log(redis.LOG_NOTICE, 'shown-notice') redis.log(redis.LOG_VERBOSE, 'hidden-verbose') return 1", "0"); got != ":1\r\n" {
		t.Fatalf("EVAL = %q", got)
	}
	if got := r.do("FUNCTION", "LOAD", "#!lua name=loglib\nredis.log(redis.LOG_WARNING, 'shown-at-load')\nredis.register_function('f', function() return 1 end)"); got != "$6\r\nloglib\r\n" {
		t.Fatalf("FUNCTION LOAD = %q", got)
	}
	r.do("CONFIG", "SET", "loglevel", "debug")
	r.do("EVAL", "redis.log(redis.LOG_DEBUG, 'shown-debug') return 1", "0")
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := n.Log()
		if strings.Contains(log, "shown-debug") {
			for _, want := range []string{"shown-warning 42 1.5", "shown-notice", "shown-at-load"} {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %q:\n%s", want, log)
				}
			}
			if strings.Contains(log, "hidden-verbose") {
				t.Errorf("a verbose message was logged at loglevel notice:\n%s", log)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis.log at loglevel debug never reached the log:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
