package main

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Scheduling policies of -mover-sched (sched(7)).
const (
	schedNormal = 0 // SCHED_OTHER
	schedIdle   = 5 // SCHED_IDLE
)

// moverPolicy maps -mover-sched to a policy.
func moverPolicy(name string) (uint32, error) {
	switch name {
	case "normal":
		return schedNormal, nil
	case "idle":
		return schedIdle, nil
	}
	return 0, fmt.Errorf("-mover-sched %q: want normal or idle", name)
}

// setSched gives every thread of this process the policy (threads started
// later inherit it, and so does a process started meanwhile: redis-cli).
// Under SCHED_IDLE the mover takes only the CPU the nodes and the load
// leave, as a mover on another machine would (the operator's pod,
// redis-cli on an admin host); on this one it otherwise preempts them.
func setSched(policy uint32) error {
	for range 2 { // threads started during the first pass
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			attr := &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: policy}
			if err := unix.SchedSetAttr(tid, attr, 0); err != nil && err != unix.ESRCH {
				return fmt.Errorf("sched_setattr of thread %d: %w", tid, err)
			}
		}
	}
	return nil
}
