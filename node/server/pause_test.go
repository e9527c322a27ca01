package server

import (
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/command"
)

// A cluster Ready that both ends a pause and starts one (a second MFSTART)
// leaves writes paused: the end is applied first.
func TestApplyWritePauseEndsThenPauses(t *testing.T) {
	s := newInProcess(t)
	write := &command.Spec{Flags: command.Write}
	if !s.applyWritePause(time.Now().Add(10*time.Second), false) || !s.pause.blocks(write) {
		t.Fatal("a pause did not hold writes")
	}
	if !s.applyWritePause(time.Now().Add(10*time.Second), true) || !s.pause.blocks(write) {
		t.Fatal("writes run after a Ready that ended the old pause and started a new one")
	}
	if s.applyWritePause(time.Time{}, true) || s.pause.blocks(write) {
		t.Fatal("writes still held after the pause ended")
	}
}
