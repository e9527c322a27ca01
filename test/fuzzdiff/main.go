package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shoal-dev/shoal/test/fuzzdiff/gen"
	"github.com/shoal-dev/shoal/test/fuzzdiff/resp"
	"github.com/shoal-dev/shoal/test/fuzzdiff/shape"
)

// ciSeeds are the fixed seeds of -ci, run before one fresh seed. On the
// node of fd9f815 (before issue 12's fixes) they find, in 5000 commands
// each, the SETRANGE crash, its deadlock after a blocked command, the
// KEYS and ZSCAN MATCH globs and the 1 ms blocking timeouts.
var ciSeeds = []uint64{2, 3, 4}

func main() {
	os.Exit(run())
}

func run() int {
	var (
		seed     = flag.Uint64("seed", 0, "run this seed (0: a fresh one, printed)")
		seeds    = flag.String("seeds", "", "comma-separated seeds to run one after another")
		ci       = flag.Bool("ci", false, "run the fixed seeds "+fmt.Sprint(ciSeeds)+" (-n commands each, default 5000) and then one fresh seed until -duration ends")
		n        = flag.Int("n", 0, "commands per seed (0: until -duration ends; 2000 without -duration)")
		duration = flag.Duration("duration", 0, "total time for all seeds, split evenly (0: no limit; then -n must be set)")
		hang     = flag.Duration("hang", 3*time.Second, "a reply of the node later than this (plus 4x Redis's time) is SLOW, and later than ten times that a HANG")
		nodeBin  = flag.String("node", "", "shoal-node binary (default: built from -src)")
		src      = flag.String("src", "", "module root to build shoal-node from (default: the current module)")
		redisBin = flag.String("redis", "redis-server", "reference redis-server (7.0.15)")
		top      = flag.Int("top", 15, "rows of the divergence table")
		verbose  = flag.Bool("v", false, "print every divergence as it happens")
		reset    = flag.Int("reset-every", 250, "re-create the setup keys every N commands (0: never)")
		only     = flag.String("only", "", "comma-separated commands to send, nothing else (\"restore,config|set\")")
		print    = flag.Bool("print", false, "print the -n lines of each seed as a redis-cli script instead of running them")
	)
	flag.Parse()
	list, err := seedList(*seed, *seeds, *ci)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzzdiff:", err)
		return 2
	}
	// perSeed is the number of commands of the i-th seed: with -ci the
	// fixed seeds send a fixed number (so their divergence counts compare
	// from run to run) and the fresh one fills the time left.
	perSeed := func(i int) int {
		switch {
		case *ci && *duration > 0 && i == len(list)-1:
			return 1 << 30
		case *n > 0:
			return *n
		case *ci:
			return 5000
		case *duration == 0:
			return 2000
		}
		return 1 << 30
	}
	tmp, err := os.MkdirTemp("", "fuzzdiff-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzzdiff:", err)
		return 2
	}
	defer os.RemoveAll(tmp)
	o := &options{redisBin: *redisBin, nodeBin: *nodeBin, tmp: tmp, hang: *hang, verbose: *verbose}
	if o.nodeBin == "" {
		if o.nodeBin, err = buildNode(*src, tmp); err != nil {
			fmt.Fprintln(os.Stderr, "fuzzdiff:", err)
			return 2
		}
	}
	if o.cmds, o.env.ConfigNames, o.env.Payloads, err = learn(o); err != nil {
		fmt.Fprintln(os.Stderr, "fuzzdiff: learning command shapes from Redis:", err)
		return 2
	}
	if o.env.NodePayloads, err = dumps(o.nodeBin, tmp, nil); err != nil {
		fmt.Fprintln(os.Stderr, "fuzzdiff: DUMP payloads of the node:", err)
		return 2
	}
	o.env.Now, o.env.ResetEvery = time.Now().Unix(), *reset
	if *only != "" {
		o.env.Only = strings.Split(strings.ToLower(*only), ",")
	}
	if *print {
		for _, s := range list {
			g := gen.New(s, o.cmds, o.env)
			for range perSeed(0) {
				fmt.Println(resp.ShortLine(g.Next().Args, longArg))
			}
		}
		return 0
	}
	leaves := gen.New(0, o.cmds, o.env).Commands()
	if len(leaves) == 0 {
		fmt.Fprintln(os.Stderr, "fuzzdiff: -only names no command that may be sent")
		return 2
	}
	fmt.Printf("fuzzdiff: %d commands from Redis's COMMAND DOCS (%d sent, the rest skipped); seeds %v; hang %v\n",
		len(shape.Leaves(o.cmds)), len(leaves), list, o.hang)

	// Stop the servers of an interrupted run: runSeed's defers run when
	// its loop sees the deadline, which an interrupt moves to now.
	stopAt := time.Now().Add(1 << 40)
	if *duration > 0 {
		stopAt = time.Now().Add(*duration)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	interrupted := false
	var results []seedResult
	for i, s := range list {
		if interrupted {
			break
		}
		deadline := stopAt
		if *duration > 0 {
			deadline = time.Now().Add(time.Until(stopAt) / time.Duration(len(list)-i))
		}
		done := make(chan struct{})
		var res seedResult
		var runErr error
		go func() { res, runErr = o.runSeed(s, perSeed(i), deadline); close(done) }()
		select {
		case <-done:
		case <-sig:
			interrupted = true
			fmt.Println("fuzzdiff: interrupted; stopping the servers")
			o.interrupt()
			<-done
		}
		if runErr != nil {
			fmt.Fprintln(os.Stderr, "fuzzdiff:", runErr)
			return 2
		}
		results = append(results, res)
		printSeed(os.Stdout, res)
		if *verbose {
			printSlowest(os.Stdout, res, 8)
		}
	}
	return report(os.Stdout, results, *top)
}

// seedList is the seeds to run: -seeds, else -ci's, else -seed or a fresh
// one.
func seedList(seed uint64, seeds string, ci bool) ([]uint64, error) {
	fresh := uint64(time.Now().UnixNano()%1_000_000_000) + 1000
	switch {
	case seeds != "":
		var out []uint64
		for _, f := range strings.Split(seeds, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bad seed %q", f)
			}
			out = append(out, v)
		}
		return out, nil
	case ci:
		return append(append([]uint64(nil), ciSeeds...), fresh), nil
	case seed != 0:
		return []uint64{seed}, nil
	}
	return []uint64{fresh}, nil
}

// buildNode builds shoal-node from the module at src (default: the one
// the current directory is in) into dir, with checkptr on: an unsafe
// pointer conversion that leaves its allocation then stops the node (a
// CRASH with the stack) instead of corrupting the heap some time later.
func buildNode(src, dir string) (string, error) {
	out := filepath.Join(dir, "shoal-node")
	cmd := exec.Command("go", "build", "-gcflags=all=-d=checkptr", "-o", out, "./node/cmd/shoal-node")
	if src == "" {
		b, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil || strings.TrimSpace(string(b)) == "" || strings.TrimSpace(string(b)) == os.DevNull {
			return "", fmt.Errorf("not in the shoal module; give -src or -node")
		}
		src = filepath.Dir(strings.TrimSpace(string(b)))
	}
	cmd.Dir = src
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building shoal-node in %s: %w", src, err)
	}
	return out, nil
}

// dumps starts bin, runs the setup on it and returns the DUMP payloads of
// gen.DumpKeys.
func dumps(bin, tmp string, args []string) ([]string, error) {
	srv, err := startServer("dump", bin, tmp, args)
	if err != nil {
		return nil, err
	}
	defer func() { srv.stop(); os.RemoveAll(srv.dir) }()
	c, err := dial(srv.addr)
	if err != nil {
		return nil, err
	}
	defer c.close()
	return dumpKeys(asker(c))
}

// asker sends commands on c; an error reply is an error.
func asker(c *conn) func(args ...string) (resp.Value, error) {
	return func(args ...string) (resp.Value, error) {
		v, err := c.do(args, time.Now().Add(10*time.Second))
		if err == nil && v.IsError() {
			err = fmt.Errorf("%s: %s", strings.Join(args, " "), v.Str)
		}
		return v, err
	}
}

// dumpKeys runs the setup and returns the DUMP payloads of gen.DumpKeys.
func dumpKeys(ask func(args ...string) (resp.Value, error)) ([]string, error) {
	for _, l := range gen.Setup() {
		if _, err := ask(l.Args...); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, k := range gen.DumpKeys {
		v, err := ask("DUMP", k)
		if err != nil {
			return nil, err
		}
		out = append(out, v.Str)
	}
	return out, nil
}

// learn starts a reference Redis and reads COMMAND INFO, COMMAND DOCS and
// CONFIG GET * from it.
func learn(o *options) (cmds []*shape.Command, names, payloads []string, err error) {
	ref, err := startServer("redis-learn", o.redisBin, o.tmp, []string{"--appendonly", "no", "--daemonize", "no", "--logfile", ""})
	if err != nil {
		return nil, nil, nil, err
	}
	defer func() { ref.stop(); os.RemoveAll(ref.dir) }()
	c, err := dial(ref.addr)
	if err != nil {
		return nil, nil, nil, err
	}
	defer c.close()
	ask := asker(c)
	info, err := ask("COMMAND", "INFO")
	if err != nil {
		return nil, nil, nil, err
	}
	docs, err := ask("COMMAND", "DOCS")
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, err := ask("CONFIG", "GET", "*")
	if err != nil {
		return nil, nil, nil, err
	}
	cmds, err = shape.Parse(info, docs)
	if err != nil {
		return nil, nil, nil, err
	}
	if payloads, err = dumpKeys(ask); err != nil {
		return nil, nil, nil, err
	}
	for i := 0; i < len(cfg.Elems); i += 2 {
		names = append(names, cfg.Elems[i].Str)
	}
	slices.Sort(names) // Redis's dict order changes from run to run
	return cmds, names, payloads, nil
}
