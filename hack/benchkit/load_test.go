package benchkit

import (
	"testing"
	"time"
)

// TestStatsOf: only the samples that ended in the window count; errors
// count as calls but not in the percentiles; the rate is over the window.
func TestStatsOf(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var samples []Sample
	for i := range 200 {
		samples = append(samples, Sample{End: t0.Add(time.Duration(i) * 10 * time.Millisecond), Latency: time.Duration(i+1) * time.Millisecond})
	}
	samples[150].Err = "boom"
	// The window [0.5 s, 1.5 s): samples 50 to 149, latencies 51 to 150 ms.
	s := StatsOf(samples, t0.Add(500*time.Millisecond), t0.Add(1500*time.Millisecond))
	if s.Ops != 100 || s.Errors != 0 || s.P50 != 101*time.Millisecond || s.P99 != 150*time.Millisecond || s.Rate != 100 {
		t.Errorf("window without the error: %+v", s)
	}
	s = StatsOf(samples, t0.Add(1500*time.Millisecond), t0.Add(2*time.Second))
	if s.Ops != 50 || s.Errors != 1 || s.FirstErr != "boom" || s.P99 != 200*time.Millisecond {
		t.Errorf("window with the error: %+v", s)
	}
	if s := StatsOf(samples, t0.Add(time.Hour), t0.Add(2*time.Hour)); s.Ops != 0 || s.P99 != 0 {
		t.Errorf("empty window: %+v", s)
	}
}
