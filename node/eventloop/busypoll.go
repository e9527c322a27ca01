package eventloop

import (
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"
)

// busyPoll decides whether an event loop with nothing ready polls a
// little longer before it sleeps in epoll_wait. A sleeping loop must be
// woken by the kernel for the next request, and the client that sends it
// pays for the wake-up; under a steady stream of requests from many
// clients the next one usually arrives within microseconds, and polling
// for it costs less than the sleep and the wake-up together.
//
// Polling only pays when requests do arrive that soon, so the loop keeps
// a history of its last 32 idle gaps (the time from finding nothing ready
// to the next ready event) and polls only while at least half of them were
// shorter than the budget. A lightly loaded node therefore never polls: a
// client that sends a request every millisecond costs no polling at all.
// Nor does a node whose CPU is contended: a poll that was preempted stops
// polling until the history is mostly short gaps again (spun).
// config: event-loop-busy-poll (microseconds, 0 disables).
type busyPoll struct {
	budget  time.Duration
	history uint32 // the last 32 idle gaps, newest in bit 0: 1 = shorter than budget

	// INFO stats event_loop_busy_poll_hits / _misses / _preempted: polls
	// that found a ready event, that ran out of budget and slept, that
	// were preempted (spun).
	hits, misses, preempted atomic.Uint64
}

// busyPollBudget is the polling budget for event-loop-busy-poll usec:
// none when the node cannot spare a CPU for it. With one P the loop's
// polling would only delay the node's other goroutines, and under a cgroup
// CPU limit below two CPUs every microsecond polled is taken from the quota
// the commands need (and may get the node throttled).
func busyPollBudget(usec int) time.Duration {
	if usec <= 0 || runtime.GOMAXPROCS(0) < 2 {
		return 0
	}
	if cpus, ok := cgroupCPULimit(); ok && cpus < 2 {
		return 0
	}
	return time.Duration(usec) * time.Microsecond
}

// worth reports whether the loop should poll before it sleeps.
func (b *busyPoll) worth() bool {
	return b.budget > 0 && bits.OnesCount32(b.history) >= 16
}

// preemptionSlack is how far past its budget a poll may end before the
// loop counts itself preempted: far more than a pass of Gosched and eight
// polls, far less than a scheduler time slice.
const preemptionSlack = 200 * time.Microsecond

// spun records a poll that took took and found an event (hit) or ran out
// of budget. One that ended far past its budget was preempted: the CPU is
// contended (other nodes on the same cores, the clients themselves), and
// polling would take it from whoever waits for it. The history is then
// cleared, so polling stops until at least 16 of the last 32 idle gaps
// have been short again.
func (b *busyPoll) spun(took time.Duration, hit bool) {
	switch {
	case took > b.budget+preemptionSlack:
		b.history = 0
		b.preempted.Add(1)
	case hit:
		b.record(took)
		b.hits.Add(1)
	default:
		b.misses.Add(1)
	}
}

// record adds an idle gap to the history.
func (b *busyPoll) record(gap time.Duration) {
	b.history <<= 1
	if gap < b.budget {
		b.history |= 1
	}
}
