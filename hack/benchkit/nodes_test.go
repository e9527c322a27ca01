package benchkit

import (
	"testing"
	"time"
)

func TestProcStatCPU(t *testing.T) {
	// A command name with a space and a parenthesis, then state, ppid ...
	// utime (14) = 150 ticks, stime (15) = 50 ticks.
	line := "4242 (shoal node) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 8 0 1000 1 1\n"
	got, err := procStatCPU(line)
	if err != nil || got != 2*time.Second {
		t.Fatalf("procStatCPU = %v, %v; want 2s", got, err)
	}
	for _, bad := range []string{"", "4242 (x", "4242 (x) S 1 2", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 u 5 0"} {
		if _, err := procStatCPU(bad); err == nil {
			t.Errorf("procStatCPU(%q) accepted", bad)
		}
	}
}
