package main

import (
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

func TestSummaryTakesMediansPerMover(t *testing.T) {
	run := func(ours, cli time.Duration, oursP99 time.Duration) []result {
		return []result{
			{mode: "ours", took: ours, p99Before: 100 * time.Microsecond, p99During: oursP99},
			{mode: "redis-cli", took: cli, p99Before: 100 * time.Microsecond, p99During: 150 * time.Microsecond},
		}
	}
	got := summary([][]result{
		run(10*time.Second, 30*time.Second, 180*time.Microsecond),
		run(20*time.Second, 30*time.Second, 250*time.Microsecond),
		run(12*time.Second, 36*time.Second, 190*time.Microsecond),
	})
	for _, want := range []string{
		"medians of 3 runs",
		"ours       time 12.0s (10.0s, 20.0s, 12.0s), p99 during/before 1.90x (1.80x, 2.50x, 1.90x)",
		"redis-cli  time 30.0s (30.0s, 30.0s, 36.0s), p99 during/before 1.50x",
		"ratio ours/redis-cli time: 3.00x faster (3.00x, 1.50x, 3.00x)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
