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

// The buckets are Redis's hdr_histogram(1, 1e9, 2). Redis 7.0.15, for
// three SETs, answered LATENCY HISTOGRAM 8:1, 16:2, 132:3 and INFO
// latencystats p50=9.023,p99=73.215,p99.9=73.215; 8, 9 and 73 us are
// durations that give exactly those.
func TestLatencyHistogramBuckets(t *testing.T) {
	var h latencyHist
	for _, d := range []time.Duration{8 * time.Microsecond, 9 * time.Microsecond, 73 * time.Microsecond} {
		h.record(d)
	}
	usec, cum := h.cdf()
	if fmt.Sprint(usec, cum) != "[8 16 132] [1 2 3]" {
		t.Errorf("cdf %v %v, want [8 16 132] [1 2 3]", usec, cum)
	}
	var b strings.Builder
	writeLatencyPercentiles(&b, "set", &h, []float64{50, 99, 99.9})
	if want := "latency_percentiles_usec_set:p50=9.023,p99=73.215,p99.9=73.215\r\n"; b.String() != want {
		t.Errorf("latencystats %q, want %q", b.String(), want)
	}
	// Below 1024 ns is clamped up, an hour down to 1 s; the reporting
	// levels' tops are Redis's (1031 ns, 264191 ns, 1082130431 ns).
	var e latencyHist
	for _, d := range []time.Duration{0, time.Microsecond, 260 * time.Microsecond, time.Hour} {
		e.record(d)
	}
	usec, cum = e.cdf()
	if fmt.Sprint(usec, cum) != "[1 264 1082130] [2 3 4]" {
		t.Errorf("cdf %v %v", usec, cum)
	}
	if e.valueAtPercentile(0) != 1024 || e.valueAtPercentile(100) != 1002438655 {
		t.Errorf("p0 %d p100 %d", e.valueAtPercentile(0), e.valueAtPercentile(100))
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
