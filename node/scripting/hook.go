package scripting

import (
	"errors"
	"time"
)

// hook is the runtime's instruction hook. gopher-lua has no debug hooks
// but, with a context set, polls its Done before every instruction: Done
// counts instructions and every hookEvery of them lets the engine answer
// other clients once the script runs long (ScriptYield, BUSY), and ends
// a killed script (SCRIPT KILL) by returning a closed channel, which
// makes the VM raise an error. Redis's count hook runs every 100000
// instructions; this one is cheaper to run more often.
type hook struct {
	rt *Runtime
	n  int
	// loadDeadline bounds FUNCTION LOAD's run of a library's code
	// (Redis's 500 ms load timeout); loadTimedOut says it passed.
	loadDeadline time.Time
	loadTimedOut bool
}

// loadTimeout is Redis's LOAD_TIMEOUT_MS.
const loadTimeout = 500 * time.Millisecond

func (h *hook) startLoad() {
	h.n = 0
	h.loadDeadline = time.Now().Add(loadTimeout)
	h.loadTimedOut = false
}

// endLoad ends a load and reports whether it timed out.
func (h *hook) endLoad() bool {
	h.loadDeadline = time.Time{}
	return h.loadTimedOut
}

const hookEvery = 10000

var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (h *hook) start() { h.n = 0 }

// Done is polled by the VM before each instruction.
func (h *hook) Done() <-chan struct{} {
	h.n++
	if h.n < hookEvery {
		return nil
	}
	h.n = 0
	if !h.loadDeadline.IsZero() {
		if h.loadTimedOut || time.Now().After(h.loadDeadline) {
			h.loadTimedOut = true
			h.n = hookEvery
			return closed
		}
		return nil
	}
	run := h.rt.run
	if run == nil {
		return nil
	}
	if !run.st.Killed {
		run.c.ScriptYield(&run.st)
	}
	if run.st.Killed {
		h.n = hookEvery // every instruction from now on: pcall cannot keep it alive
		return closed
	}
	return nil
}

var errKilled = errors.New("Script killed by user with SCRIPT KILL...")

func (h *hook) Err() error                  { return errKilled }
func (h *hook) Deadline() (time.Time, bool) { return time.Time{}, false }
func (h *hook) Value(any) any               { return nil }
