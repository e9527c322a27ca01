package server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

const libCounter = "#!lua name=counter\nredis.register_function('bump', function(keys, args) return redis.call('INCR', keys[1]) end)"

// fcallBump calls bump and fails the test unless it answers want.
func fcallBump(t *testing.T, n *testNode, want int64) {
	t.Helper()
	got, err := n.client(t).Do(ctxT(t), "FCALL", "bump", "1", "c").Int64()
	if err != nil || got != want {
		t.Fatalf("%s: FCALL bump = %d, %v; want %d", n, got, err, want)
	}
}

// TestFunctionsSurviveRestart loads a library, restarts from a snapshot,
// from the AOF, and from an AOF whose base was rewritten: the library is
// there each time.
func TestFunctionsSurviveRestart(t *testing.T) {
	ctx := ctxT(t)
	for _, mode := range []string{"snapshot", "aof", "aof-rewritten"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"--dir", dir}
			if mode != "snapshot" {
				args = append(args, "--appendonly", "yes")
			}
			n := startNode(t, args...)
			c := n.client(t)
			if err := c.Do(ctx, "FUNCTION", "LOAD", libCounter).Err(); err != nil {
				t.Fatal(err)
			}
			fcallBump(t, n, 1)
			switch mode {
			case "snapshot":
				if err := c.Do(ctx, "SAVE").Err(); err != nil {
					t.Fatal(err)
				}
			case "aof-rewritten":
				if err := c.Do(ctx, "BGREWRITEAOF").Err(); err != nil {
					t.Fatal(err)
				}
				deadline := time.Now().Add(20 * time.Second)
				for {
					info, _ := c.Info(ctx, "persistence").Result()
					if containsLine(info, "aof_rewrite_in_progress:0") && containsLine(info, "aof_rewrite_scheduled:0") {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("BGREWRITEAOF never finished")
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			n.Stop(10 * time.Second)
			again := startNode(t, args...)
			fcallBump(t, again, 2)
		})
	}
}

func containsLine(info, line string) bool {
	for _, l := range splitLines(info) {
		if l == line {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			l := s[start:i]
			if len(l) > 0 && l[len(l)-1] == '\r' {
				l = l[:len(l)-1]
			}
			out = append(out, l)
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// TestFunctionsReachReplicas: a replica gets the libraries by its full
// sync and FUNCTION LOAD/DELETE by the stream.
func TestFunctionsReachReplicas(t *testing.T) {
	ctx := ctxT(t)
	master := startNode(t)
	m := master.client(t)
	if err := m.Do(ctx, "FUNCTION", "LOAD", libCounter).Err(); err != nil {
		t.Fatal(err)
	}
	replica := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port))
	r := replica.client(t)
	waitReplicated := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("the replica never %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitReplicated("got the library by its full sync", func() bool {
		v, err := r.Do(ctx, "FUNCTION", "STATS").Result()
		return err == nil && strings.Contains(fmt.Sprint(v), "functions_count:1")
	})
	if err := m.Do(ctx, "FUNCTION", "LOAD", "#!lua name=two\nredis.register_function{function_name='two', callback=function() return 2 end, flags={'no-writes'}}").Err(); err != nil {
		t.Fatal(err)
	}
	waitReplicated("got FUNCTION LOAD", func() bool {
		v, err := r.Do(ctx, "FCALL_RO", "two", "0").Int()
		return err == nil && v == 2
	})
	if err := m.Do(ctx, "FUNCTION", "DELETE", "counter").Err(); err != nil {
		t.Fatal(err)
	}
	waitReplicated("got FUNCTION DELETE", func() bool {
		err := r.Do(ctx, "FCALL", "bump", "0").Err()
		return err != nil && err.Error() == "ERR Function not found"
	})
}
