package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shoal-dev/shoal/test/fuzzdiff/compare"
	"github.com/shoal-dev/shoal/test/fuzzdiff/gen"
	"github.com/shoal-dev/shoal/test/fuzzdiff/resp"
	"github.com/shoal-dev/shoal/test/fuzzdiff/shape"
)

// options are the settings of a run shared by every seed.
type options struct {
	redisBin, nodeBin string
	tmp               string
	hang              time.Duration
	verbose           bool
	cmds              []*shape.Command
	env               gen.Env
	stopped           atomic.Bool // set by an interrupt: every seed ends after its current line
}

func (o *options) interrupt() { o.stopped.Store(true) }

// divergence is one reply of ours that differs from Redis's.
type divergence struct {
	seed    uint64
	index   int
	command string // lower-case name, "container|sub"
	kind    string
	line    []string
	ours    string
	ref     string
	setup   bool
}

// finding is a CRASH or a HANG, with what reproduces it.
type finding struct {
	kind       string // "CRASH" or "HANG"
	seed       uint64
	index      int
	line       []string
	detail     string
	repro      []gen.Line // the lines to send after the setup (if withSetup)
	withSetup  bool
	reproduced bool
}

// seedResult is what one seed's run found.
type seedResult struct {
	seed        uint64
	sent        int
	elapsed     time.Duration
	findings    []finding
	divergences []divergence
	slow        int                      // replies later than the hang deadline (outcome.slow)
	notes       []string                 // reference-server trouble, reconnects, slow replies
	time        map[string]time.Duration // wall time per command name
}

// pair is a fresh Redis and a fresh node with two connections to each:
// rc and oc for the lines, rc2 and oc2 for async lines.
type pair struct {
	ref, ours *proc
	rc, oc    *conn
	rc2, oc2  *conn
}

func (o *options) startPair() (*pair, error) {
	ref, err := startServer("redis", o.redisBin, o.tmp, []string{"--appendonly", "no", "--daemonize", "no", "--logfile", ""})
	if err != nil {
		return nil, err
	}
	ours, err := startServer("shoal-node", o.nodeBin, o.tmp, nil)
	if err != nil {
		ref.stop()
		return nil, err
	}
	p := &pair{ref: ref, ours: ours}
	if err := p.connect(); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *pair) connect() error {
	p.closeConns()
	var err1, err2, err3, err4 error
	p.rc, err1 = dial(p.ref.addr)
	p.oc, err2 = dial(p.ours.addr)
	p.rc2, err3 = dial(p.ref.addr)
	p.oc2, err4 = dial(p.ours.addr)
	return errors.Join(err1, err2, err3, err4)
}

func (p *pair) closeConns() {
	for _, c := range []*conn{p.rc, p.oc, p.rc2, p.oc2} {
		c.close()
	}
}

func (p *pair) stop() {
	p.closeConns()
	p.ref.stop()
	p.ours.stop()
	os.RemoveAll(p.ref.dir)
	os.RemoveAll(p.ours.dir)
}

// outcome of one line on the pair.
type outcome struct {
	ours, ref       resp.Value
	oursErr, refErr error
	hang            bool
	crash           bool
	// slow is set when the node's reply came after the hang deadline but
	// within slowFactor times it: a slow reply (a loaded machine, a
	// large value), not a frozen node. oursTime and refTime are the
	// servers' reply times then.
	slow              bool
	oursTime, refTime time.Duration
}

// slowFactor: a reply later than the hang deadline is waited for up to
// this many times the deadline before it counts as a HANG.
const slowFactor = 10

// send sends the line to both servers at once on the first connections
// and waits for Redis, then for the node until hang plus four times
// Redis's time has passed.
func (p *pair) send(args []string, hang time.Duration) outcome {
	return p.exchange(p.rc, p.oc, args, hang)
}

// sendAsync sends the line on the second connections and waits until each
// server has run it (see started); await reads the replies.
func (p *pair) sendAsync(args []string) {
	p.rc2.write(args)
	p.oc2.write(args)
	deadline := time.Now().Add(2 * time.Second)
	started(p.rc, p.rc2, deadline)
	started(p.oc, p.oc2, deadline)
}

func (p *pair) await(hang time.Duration) outcome {
	return p.exchange(p.rc2, p.oc2, nil, hang)
}

// exchange sends args (unless nil) on rc and oc and reads one reply from
// each, the node's by the hang deadline.
func (p *pair) exchange(rc, oc *conn, args []string, hang time.Duration) outcome {
	start := time.Now()
	type reply struct {
		v   resp.Value
		err error
	}
	ch := make(chan reply, 1)
	go func() {
		v, err := oc.do(args, start.Add(time.Hour))
		ch <- reply{v, err}
	}()
	var o outcome
	o.ref, o.refErr = rc.do(args, start.Add(60*time.Second))
	o.refTime = time.Since(start)
	wait := hang + 4*o.refTime
	select {
	case r := <-ch:
		o.ours, o.oursErr = r.v, r.err
	case <-time.After(time.Until(start.Add(wait))):
		select {
		case r := <-ch:
			o.ours, o.oursErr = r.v, r.err
			o.slow, o.oursTime = true, time.Since(start)
		case <-time.After(time.Until(start.Add(slowFactor * wait))):
			o.hang = true
			oc.close()
			<-ch
			return o
		}
	}
	if o.oursErr != nil && p.ours.waitDead(time.Second) {
		o.crash = true
	}
	return o
}

// runSeed sends up to n generated lines (or until the deadline) to a
// fresh pair, restarting it after each CRASH or HANG.
func (o *options) runSeed(seed uint64, n int, deadline time.Time) (seedResult, error) {
	res := seedResult{seed: seed, time: map[string]time.Duration{}}
	start := time.Now()
	g := gen.New(seed, o.cmds, o.env)
	p, err := o.startPair()
	if err != nil {
		return res, err
	}
	defer func() { p.stop() }()
	var history []gen.Line
	var tx txState
	// async is a line sent on the second connections whose replies are
	// still to be read, and its index.
	var async *gen.Line
	asyncIndex := 0
	// check handles the outcome of line l (sent as the index-th line):
	// a finding, or false when the servers must be restarted.
	check := func(index int, l gen.Line, out outcome) (*finding, bool) {
		if f := o.failure(p, seed, index, l, out); f != nil {
			return f, false
		}
		if out.slow {
			res.slow++
			res.notes = append(res.notes, fmt.Sprintf("#%d %s: SLOW, the node replied in %v (Redis in %v)",
				index, resp.ShortLine(l.Args, 60), out.oursTime.Round(time.Millisecond), out.refTime.Round(time.Millisecond)))
		}
		if out.refErr != nil || out.oursErr != nil {
			if out.refErr == nil {
				res.divergences = append(res.divergences, divergence{seed: seed, index: index, command: lineName(l),
					kind: compare.Closed, line: l.Args, ours: out.oursErr.Error(), ref: short(out.ref), setup: l.Setup})
			}
			res.notes = append(res.notes, connNote(index, l, out))
			async = nil // its connections are gone
			if p.ref.dead() {
				return nil, false
			}
			tx = txState{}
			return nil, p.connect() == nil
		}
		d := o.diverge(&tx, seed, index, l, out)
		if d == nil || l.Loose {
			return nil, true
		}
		if o.verbose {
			fmt.Printf("seed %d #%d %s [%s]\n  ours  %s\n  redis %s\n", seed, d.index, resp.ShortLine(d.line, 80), d.kind, d.ours, d.ref)
		}
		res.divergences = append(res.divergences, *d)
		var resync []gen.Line
		switch {
		case queued(out.ours) != queued(out.ref):
			// One server is inside MULTI, the other not: end it on both,
			// or every later line would diverge the same way.
			resync = []gen.Line{{Args: []string{"DISCARD"}, Setup: true}}
			tx = txState{}
		case !tx.open && l.Cmd != nil && l.Cmd.Flags["write"]:
			// A write that diverged may have left its keys different:
			// set them up again on both, so one divergence does not
			// become many.
			resync = gen.ResetKeys(l.Args[len(l.Cmd.Words):])
		}
		for _, r := range resync {
			history = append(history, r)
			p.send(r.Args, o.hang)
		}
		return nil, true
	}
	runLines := func(lines []gen.Line) (*finding, bool) {
		for _, l := range lines {
			res.sent++
			history = append(history, l)
			if l.Async {
				async, asyncIndex = &l, res.sent
				p.sendAsync(l.Args)
				continue
			}
			t0 := time.Now()
			out := p.send(l.Args, o.hang)
			res.time[lineName(l)] += time.Since(t0)
			f, ok := check(res.sent, l, out)
			if a := async; a != nil && ok {
				async = nil
				f, ok = check(asyncIndex, *a, p.await(o.hang))
			}
			async = nil
			if !ok {
				return f, false
			}
		}
		return nil, true
	}
	restart := func() error {
		p.stop()
		var err error
		if p, err = o.startPair(); err != nil {
			return err
		}
		history, tx = nil, txState{}
		return nil
	}
	setup := func() error {
		f, ok := runLines(gen.Setup())
		if f != nil || !ok {
			return fmt.Errorf("seed %d: the setup failed on a fresh pair (%v)", seed, f)
		}
		history = nil
		return nil
	}
	if err := setup(); err != nil {
		return res, err
	}
	for res.sent < n && time.Now().Before(deadline) && !o.stopped.Load() {
		f, ok := runLines([]gen.Line{g.Next()})
		if f != nil {
			fmt.Printf("seed %d #%d %s: %s\n", seed, f.index, f.kind, resp.ShortLine(f.line, 80))
			o.minimise(f, history)
			res.findings = append(res.findings, *f)
		}
		if !ok {
			if err := restart(); err != nil {
				return res, err
			}
			if err := setup(); err != nil {
				return res, err
			}
		}
	}
	res.elapsed = time.Since(start)
	return res, nil
}

func connNote(i int, l gen.Line, out outcome) string {
	return fmt.Sprintf("#%d %s: connection lost (redis: %v, node: %v)", i, resp.ShortLine(l.Args, 60), out.refErr, out.oursErr)
}

// failure turns a crash or hang of ours into a finding.
func (o *options) failure(p *pair, seed uint64, i int, l gen.Line, out outcome) *finding {
	switch {
	case out.crash:
		return &finding{kind: "CRASH", seed: seed, index: i, line: l.Args, detail: p.ours.panicText(30)}
	case out.hang:
		detail := "no reply within " + o.hang.String() + " (Redis: " + short(out.ref) + ")"
		if cc, err := dial(p.ours.addr); err == nil {
			if v, err := cc.do([]string{"PING"}, time.Now().Add(2*time.Second)); err == nil {
				detail += "; PING on another connection: " + short(v)
			} else {
				detail += "; PING on another connection: no reply (whole node stuck)"
			}
			cc.close()
		}
		if !p.ours.stop() {
			detail += "; SIGTERM did not end it within 5s"
		}
		return &finding{kind: "HANG", seed: seed, index: i, line: l.Args, detail: detail}
	}
	return nil
}

// txState follows MULTI on the Redis side, so EXEC's reply is compared
// element by element in each queued command's mode.
type txState struct {
	open   bool
	queued []compare.Mode
}

func (o *options) diverge(tx *txState, seed uint64, i int, l gen.Line, out outcome) *divergence {
	name := lineName(l)
	mode := compare.ModeForLine(l.Cmd, l.Args)
	var kind string
	switch {
	case name == "exec" && tx.open:
		kind = compare.CompareExec(tx.queued, out.ours, out.ref)
	default:
		kind = compare.Compare(mode, out.ours, out.ref)
	}
	switch {
	case name == "multi" && out.ref.Kind == '+':
		*tx = txState{open: true}
	case name == "exec" || name == "discard" || name == "reset":
		*tx = txState{}
	case tx.open && out.ref.Kind == '+' && out.ref.Str == "QUEUED":
		tx.queued = append(tx.queued, mode)
	}
	if kind == "" {
		return nil
	}
	return &divergence{seed: seed, index: i, command: name, kind: kind, line: l.Args,
		ours: short(out.ours), ref: short(out.ref), setup: l.Setup}
}

func queued(v resp.Value) bool { return v.Kind == '+' && v.Str == "QUEUED" }

func lineName(l gen.Line) string {
	if l.Cmd != nil {
		return l.Cmd.Name
	}
	if len(l.Args) == 0 {
		return ""
	}
	return strings.ToLower(l.Args[0])
}

func short(v resp.Value) string {
	if len(v.Str) > 160 {
		v.Str = v.Str[:160]
	}
	s := resp.Encode(v)
	if len(s) > 160 {
		s = s[:160] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return fmt.Sprintf("%q", s)
}
