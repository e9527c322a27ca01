package main

import (
	"fmt"
	"os"
	"time"

	"github.com/shoal-dev/shoal/test/fuzzdiff/gen"
)

// minimise looks for a short list of the lines since the last restart
// that, sent to a fresh node (on an empty node, else after the setup),
// makes it fail the same way on its last line: the shortest tail of 1, 2,
// 4, 8... lines that does, then (for a tail of at most 40 lines) without
// each earlier line that is not needed. It sets f.repro, f.withSetup and
// f.reproduced; when nothing reproduces it, f.repro is every line since
// the restart.
func (o *options) minimise(f *finding, history []gen.Line) {
	f.repro, f.withSetup = history, true
	try := func(lines []gen.Line, withSetup bool) bool {
		kind, at := o.replay(lines, withSetup)
		return kind == f.kind && at == len(lines)-1
	}
	for k := 1; len(history) > 0; k *= 2 {
		k = min(k, len(history))
		tail := history[len(history)-k:]
		for _, withSetup := range []bool{false, true} {
			if try(tail, withSetup) {
				f.repro, f.withSetup, f.reproduced = tail, withSetup, true
				if len(tail) <= 40 {
					f.repro = o.dropUnneeded(tail, withSetup, try)
				}
				return
			}
		}
		if k == len(history) {
			return
		}
	}
}

// dropUnneeded removes, one at a time from the first, every line but the
// last whose removal still reproduces the failure.
func (o *options) dropUnneeded(lines []gen.Line, withSetup bool, try func([]gen.Line, bool) bool) []gen.Line {
	for i := 0; i < len(lines)-1; {
		shorter := append(append([]gen.Line(nil), lines[:i]...), lines[i+1:]...)
		if try(shorter, withSetup) {
			lines = shorter
			continue
		}
		i++
	}
	return lines
}

// replay sends the lines to a fresh node alone and reports the first
// failure ("CRASH", "HANG" or "") and the index of the line it came at.
func (o *options) replay(lines []gen.Line, withSetup bool) (string, int) {
	node, err := startServer("replay", o.nodeBin, o.tmp, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		return "", -1
	}
	defer func() { node.kill(); os.RemoveAll(node.dir) }()
	c, err := dial(node.addr)
	if err != nil {
		return "", -1
	}
	c2, err := dial(node.addr)
	if err != nil {
		c.close()
		return "", -1
	}
	defer func() { c.close(); c2.close() }()
	if withSetup {
		for _, l := range gen.Setup() {
			if _, err := c.do(l.Args, time.Now().Add(o.hang)); err != nil {
				return "", -1
			}
		}
	}
	async := false
	for i, l := range lines {
		if l.Async {
			c2.write(l.Args)
			started(c, c2, time.Now().Add(2*time.Second))
			async = true
			continue
		}
		_, err := c.do(l.Args, time.Now().Add(o.hang))
		if err == nil && async {
			_, err = c2.do(nil, time.Now().Add(o.hang))
		}
		async = false
		if err == nil {
			continue
		}
		if node.waitDead(time.Second) {
			return "CRASH", i
		}
		if isTimeout(err) {
			return "HANG", i
		}
		c.close()
		c2.close()
		if c, err = dial(node.addr); err != nil {
			return "", -1
		}
		if c2, err = dial(node.addr); err != nil {
			return "", -1
		}
	}
	return "", -1
}
