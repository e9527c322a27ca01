package main

import (
	"fmt"
	"os"
	"time"

	"github.com/shoal-dev/shoal/test/fuzzdiff/gen"
)

// minimise looks for the shortest tail of the lines since the last restart
// that, sent to a fresh node (after the setup, or on an empty node), makes
// it fail the same way on the last line: the failing line alone, then the
// last 2, 4, 8... lines. It sets f.repro, f.withSetup and f.reproduced;
// when nothing shorter reproduces it, f.repro is every line since the
// restart.
func (o *options) minimise(f *finding, history []gen.Line) {
	f.repro, f.withSetup = history, true
	if len(history) == 0 {
		return
	}
	try := func(tail []gen.Line, withSetup bool) bool {
		kind, at := o.replay(tail, withSetup)
		return kind == f.kind && at == len(tail)-1
	}
	if try(history[len(history)-1:], false) {
		f.repro, f.withSetup, f.reproduced = history[len(history)-1:], false, true
		return
	}
	for k := 1; ; k *= 2 {
		if k > len(history) {
			k = len(history)
		}
		tail := history[len(history)-k:]
		if try(tail, true) {
			f.repro, f.reproduced = tail, true
			return
		}
		if k == len(history) {
			return
		}
	}
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
	defer func() { c.close() }()
	if withSetup {
		for _, l := range gen.Setup() {
			if _, err := c.do(l.Args, time.Now().Add(o.hang)); err != nil {
				return "", -1
			}
		}
	}
	for i, l := range lines {
		_, err := c.do(l.Args, time.Now().Add(o.hang))
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
		if c, err = dial(node.addr); err != nil {
			return "", -1
		}
	}
	return "", -1
}
