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
