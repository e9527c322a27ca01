package eventloop

import (
	"testing"
	"time"
)

func TestBusyPollWorthOnlyWhileMostGapsAreShort(t *testing.T) {
	b := busyPoll{budget: 50 * time.Microsecond}
	if b.worth() {
		t.Fatal("worth with no history")
	}
	for i := 0; i < 15; i++ {
		b.record(10 * time.Microsecond)
	}
	if b.worth() {
		t.Fatal("worth after 15 short gaps of 32")
	}
	b.record(49 * time.Microsecond)
	if !b.worth() {
		t.Fatal("not worth after 16 short gaps of 32")
	}
	// Long gaps push the short ones out: below half, no polling.
	for i := 0; i < 16; i++ {
		b.record(time.Millisecond)
	}
	if !b.worth() {
		t.Fatal("not worth with 16 short gaps still among the last 32")
	}
	b.record(50 * time.Microsecond) // not shorter than the budget
	if b.worth() {
		t.Fatal("worth after the 16 short gaps were half pushed out")
	}

	// A preempted poll clears the history: polling stops until 16 short
	// gaps again.
	for i := 0; i < 32; i++ {
		b.spun(10*time.Microsecond, true)
	}
	if !b.worth() || b.hits.Load() != 32 {
		t.Fatalf("after 32 hits: worth %v, hits %d", b.worth(), b.hits.Load())
	}
	b.spun(b.budget+preemptionSlack+time.Microsecond, true)
	if b.worth() || b.preempted.Load() != 1 {
		t.Fatalf("after a preempted poll: worth %v, preempted %d", b.worth(), b.preempted.Load())
	}
	for i := 0; i < 15; i++ {
		b.spun(10*time.Microsecond, true)
	}
	if b.worth() {
		t.Fatal("worth after a preemption and only 15 short gaps")
	}
	b.spun(b.budget, false) // ran out of budget: a miss, and no gap recorded
	if b.misses.Load() != 1 || b.worth() {
		t.Fatalf("after a miss: misses %d, worth %v", b.misses.Load(), b.worth())
	}

	off := busyPoll{}
	for i := 0; i < 32; i++ {
		off.record(0)
	}
	if off.worth() {
		t.Fatal("a zero budget polls")
	}
}
