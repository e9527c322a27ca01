package server

import (
	"strconv"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/resp"
	"github.com/shoal-dev/shoal/node/scripting"
)

// Benchmarks of one script or function call through the engine, without
// the network: the per-call cost that pipelining exposes (hack/bench-node.sh
// evalsha_1, evalsha_10, fcall_1, fcall_10 at -P 16). Run with
// `go test ./node/server -run '^$' -bench Script -benchmem`.

const (
	benchScript1  = "return redis.call('INCR', KEYS[1])"
	benchScript10 = "local v for i = 1, 10 do v = redis.call('INCR', KEYS[1]) end return v"
	benchLibrary  = "#!lua name=benchlib\n" +
		"redis.register_function('incr1', function(keys, args) return redis.call('INCR', keys[1]) end)\n" +
		"redis.register_function('incr10', function(keys, args) local v for i = 1, 10 do v = redis.call('INCR', keys[1]) end return v end)"
)

// benchScriptCalls runs b.N commands head key tail... on an in-process
// server, the key one of 1000 counters, after setup.
func benchScriptCalls(b *testing.B, setup [][]string, head []string) {
	s := newInProcess(b)
	c := newClient(s, nullConn{})
	c.W = resp.NewWriter(nullConn{})
	c.authenticated = true
	run := func(args [][]byte) []byte {
		s.mu.Lock()
		c.W.Truncate(0)
		c.run(args)
		s.afterCommand()
		out := append([]byte(nil), c.W.Bytes()...)
		s.mu.Unlock()
		return out
	}
	for _, a := range setup {
		if out := run(toArgs(a)); len(out) > 0 && out[0] == '-' {
			b.Fatalf("%v: %s", a, out)
		}
	}
	keys := make([][]byte, 1000)
	for i := range keys {
		keys[i] = []byte("counter:" + strconv.Itoa(i))
	}
	args := toArgs(append(head, ""))
	if out := run(append(args[:len(args)-1:len(args)-1], keys[0])); out[0] != ':' {
		b.Fatalf("%v: %s", head, out)
	}
	b.ReportAllocs()
	b.ResetTimer()
	s.mu.Lock()
	for i := 0; i < b.N; i++ {
		args[len(args)-1] = keys[i%len(keys)]
		c.W.Truncate(0)
		s.clock = time.Now() // as runBatch does
		c.run(args)
		s.afterCommand()
	}
	s.mu.Unlock()
}

func toArgs(words []string) [][]byte {
	args := make([][]byte, len(words))
	for i, w := range words {
		args[i] = []byte(w)
	}
	return args
}

func BenchmarkScriptEvalsha1(b *testing.B) {
	benchScriptCalls(b, [][]string{{"SCRIPT", "LOAD", benchScript1}},
		[]string{"EVALSHA", scripting.SHA1Hex(benchScript1), "1"})
}

func BenchmarkScriptEvalsha10(b *testing.B) {
	benchScriptCalls(b, [][]string{{"SCRIPT", "LOAD", benchScript10}},
		[]string{"EVALSHA", scripting.SHA1Hex(benchScript10), "1"})
}

func BenchmarkScriptFcall1(b *testing.B) {
	benchScriptCalls(b, [][]string{{"FUNCTION", "LOAD", benchLibrary}}, []string{"FCALL", "incr1", "1"})
}

func BenchmarkScriptFcall10(b *testing.B) {
	benchScriptCalls(b, [][]string{{"FUNCTION", "LOAD", benchLibrary}}, []string{"FCALL", "incr10", "1"})
}

// BenchmarkScriptIncr is the plain command the scripts call, for scale.
func BenchmarkScriptIncr(b *testing.B) {
	benchScriptCalls(b, nil, []string{"INCR"})
}
