package server

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// LATENCY with the monitor off (latency-monitor-threshold 0, the default)
// and LOLWUT, against Redis in RESP2 and RESP3 (DOCTOR and LOLWUT answer
// verbatim strings).
func TestDifferentialLatencyAndLolwut(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	script := [][]string{
		{"LATENCY", "LATEST"}, {"LATENCY", "HISTORY", "command"}, {"LATENCY", "RESET"},
		{"LATENCY", "RESET", "command", "fork"}, {"LATENCY", "DOCTOR"}, {"LATENCY", "GRAPH", "command"},
		{"LATENCY", "HELP"}, {"LATENCY", "FOO"}, {"LATENCY"}, {"LATENCY", "LATEST", "x"},
		{"LATENCY", "HISTOGRAM", "nosuchcommand"}, {"LATENCY", "HISTOGRAM", "lpush"},
		{"LOLWUT"}, {"LOLWUT", "VERSION", "7"}, {"LOLWUT", "version", "4"}, {"LOLWUT", "VERSION", "-1"},
		{"LOLWUT", "VERSION", "x"}, {"LOLWUT", "VERSION"}, {"LOLWUT", "foo", "bar"},
	}
	for _, proto := range []string{"2", "3"} {
		a, b := ours.raw(t), ref.raw(t)
		a.do("HELLO", proto)
		b.do("HELLO", proto)
		for _, s := range script {
			if got, want := a.do(s...), b.do(s...); got != want {
				t.Errorf("RESP%s %q:\n ours  %q\n redis %q", proto, s, got, want)
			}
		}
	}
}

// LATENCY HISTOGRAM has the shape of Redis's: for each command named that
// ran, calls and a cumulative histogram whose last count is the calls;
// containers bring their subcommands; commands that never ran are left
// out. Durations differ between servers, so the shape is what compares.
func TestLatencyHistogramShape(t *testing.T) {
	for _, n := range []*testNode{startNode(t), startRedis(t)} {
		c := n.client(t)
		ctx := ctxT(t)
		for i := 0; i < 5; i++ {
			c.Set(ctx, "k", "v", 0)
		}
		c.Do(ctx, "CLIENT", "ID")
		res, err := c.Do(ctx, "LATENCY", "HISTOGRAM", "SET", "get", "nosuch", "client").Result()
		if err != nil {
			t.Fatal(err)
		}
		m := res.(map[any]any)
		if len(m) != 2 {
			t.Fatalf("%s: %d entries, want set and client|id: %v", n.Addr, len(m), m)
		}
		set := m["set"].(map[any]any)
		if set["calls"].(int64) != 5 {
			t.Errorf("%s: set calls %v", n.Addr, set["calls"])
		}
		hist := set["histogram_usec"].(map[any]any)
		var last int64
		for _, v := range hist {
			last = max(last, v.(int64))
		}
		if len(hist) == 0 || last != 5 {
			t.Errorf("%s: set histogram %v does not end at 5 calls", n.Addr, hist)
		}
		if _, ok := m["client|id"]; !ok {
			t.Errorf("%s: no client|id in %v", n.Addr, m)
		}
	}
}

// The buckets are Redis's: the reporting levels 1024<<k ns, each with its
// hdr_histogram equivalence range. Redis 7.0.15 answered 33 for a SET and
// 264, 1056, 2113, 4227, 16908, 135266 for DEBUG SLEEP 0 to 0.1.
func TestLatencyHistogramBuckets(t *testing.T) {
	wantTopsUsec := []int64{2, 3, 5, 9, 17, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266}
	for k, want := range wantTopsUsec {
		if got := latencyBucketTop(k) / 1000; got != want {
			t.Errorf("bucket %d: top %d us, want %d", k, got, want)
		}
	}
	var h latencyHistogram
	for _, d := range []time.Duration{0, time.Microsecond, 2 * time.Microsecond, 3 * time.Microsecond, 33 * time.Microsecond, 34 * time.Microsecond, time.Hour} {
		h.add(d)
	}
	// 0, 1 and 2 us are clamped up to 1024 ns or fall within 2047 ns: bucket
	// 0; 3 us = 3000 ns <= 3071: bucket 1; 33 us <= 33791: bucket 5; 34 us:
	// bucket 6; an hour is clamped to 1 s.
	want := map[int]int64{0: 3, 1: 1, 5: 1, 6: 1, 20: 1}
	for k, v := range h.counts {
		if v != want[k] {
			t.Errorf("bucket %d holds %d, want %d (%v)", k, v, want[k], h.counts)
		}
	}
	if h.total() != 7 {
		t.Errorf("total %d, want 7", h.total())
	}
}

// LOLWUT VERSION 5 with at most two rows of squares draws no random
// square: the braille art compares byte for byte. VERSION 6 is random:
// its frame (size, colours, credits) compares.
func TestDifferentialLolwutArt(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	var script []step
	for _, args := range [][]string{
		{"1", "1", "2"}, {"2", "3", "1"}, {"3", "1", "1"}, {"10", "2", "2"}, {"66", "8", "2"}, {"66", "8", "1"}, {"80", "3", "2"},
		{"1000", "200", "2"}, {"5", "0", "-3"}, {"0", "1", "1"}, {"x"}, {"10", "x"}, {"10", "2", "2", "extra"},
		{"40", "7", "2"}, {"33", "5", "1"}, {"7", "9", "2"},
	} {
		script = append(script, cmd(append([]string{"LOLWUT", "VERSION", "5"}, args...)...))
	}
	script = append(script, cmd("LOLWUT", "VERSION", "4294967301", "12", "3", "2"), cmd("LOLWUT", "VERSION", "6", "x"))
	runDifferential(t, ours, ref, script)

	// Rows 3 and on are random: the first two rows of squares (8 lines
	// of braille for 66 columns and 8 squares a row) and the line count.
	a, b := ours.raw(t), ref.raw(t)
	got, want := a.do("LOLWUT", "VERSION", "5"), b.do("LOLWUT", "VERSION", "5")
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	if len(gl) != len(wl) || strings.Join(gl[:8], "\n") != strings.Join(wl[:8], "\n") || gl[len(gl)-2] != wl[len(wl)-2] {
		t.Errorf("LOLWUT VERSION 5:\n ours  %q\n redis %q", got, want)
	}
	// VERSION 6: 9 rows of 30 coloured cells, then the credits.
	cells := func(reply string) []int {
		var n []int
		for _, line := range strings.Split(reply, "\n") {
			n = append(n, strings.Count(line, "\x1b[0m"))
		}
		return n
	}
	got, want = a.do("LOLWUT", "VERSION", "6", "30", "9"), b.do("LOLWUT", "VERSION", "6", "30", "9")
	const credits = "\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15\n\r\n"
	if gc, wc := cells(got), cells(want); fmt.Sprint(gc) != fmt.Sprint(wc) || !strings.HasSuffix(got, credits) || !strings.HasSuffix(want, credits) || strings.Count(fmt.Sprint(wc), "30") != 9 {
		t.Errorf("LOLWUT VERSION 6 (cells a line: ours %v, redis %v):\n ours  %q\n redis %q", gc, wc, got, want)
	}
}
