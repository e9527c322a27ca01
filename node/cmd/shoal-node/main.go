package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"syscall"

	"github.com/shoal-dev/shoal/node/sentinel"
	"github.com/shoal-dev/shoal/node/server"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "health":
			return runHealth(args[1:], os.Stdout, os.Stderr)
		case "prestop":
			return runPrestop(args[1:], os.Stdout, os.Stderr)
		case "install-file":
			return runInstallFile(args[1:], os.Stderr)
		}
	}
	for _, a := range args {
		switch a {
		case "-v", "--version":
			fmt.Printf("shoal-node v=%s (Redis %s compatible)\n", server.RedisVersion, server.RedisVersion)
			return 0
		case "-h", "--help":
			fmt.Println("Usage: shoal-node [/path/to/redis.conf] [--port 7000] [--name value ...]\n       shoal-node /path/to/sentinel.conf --sentinel [--name value ...]")
			return 0
		}
	}
	if sentinel.IsSentinelMode(args) {
		return runSentinel(args)
	}
	wd, _ := os.Getwd() // before the config's dir moves us: a daemon starts from here
	pipe, child := isDaemonChild()
	var daemon *daemonReporter
	if child {
		daemon = &daemonReporter{w: pipe}
		defer daemon.failed(fmt.Errorf("the background process exited before it was ready"))
	}
	fail := func(format string, a ...any) int {
		err := fmt.Errorf(format, a...)
		fmt.Fprintln(os.Stderr, err)
		daemon.failed(err)
		return 1
	}
	cfg, err := server.ParseArgs(args)
	if err != nil {
		return fail("%v", err)
	}
	if cfg.Daemonize && !child {
		return startDaemon(wd, args, os.Stderr)
	}
	if cfg.Dir != "" && cfg.Dir != "." {
		if err := os.Chdir(cfg.Dir); err != nil {
			return fail("Can't chdir to '%s': %v", cfg.Dir, err)
		}
	}
	srv, err := server.New(cfg, plugins()...)
	if err != nil {
		return fail("%v", err)
	}
	// As Redis: listen first, then load the data set while clients get
	// -LOADING (and the readiness probe a real "loading" state).
	if err := srv.Listen(); err != nil {
		return fail("Could not create server TCP listening socket: %v", err)
	}
	if cfg.Daemonize && cfg.PidFile == "" {
		cfg.PidFile = defaultPidFile // as Redis: a daemon always has a pid file
	}
	if cfg.PidFile != "" {
		if abs, err := filepath.Abs(cfg.PidFile); err == nil {
			cfg.PidFile = abs // removed at exit even if CONFIG SET dir moved us
		}
		if err := writePidFile(cfg.PidFile); err != nil {
			srv.Logf("Failed to write PID file: %v", err)
		} else {
			defer os.Remove(cfg.PidFile)
		}
	}
	daemon.ready()
	done := make(chan struct{})
	var once sync.Once
	exit := func() { once.Do(func() { close(done) }) }
	srv.Exit = exit
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-sigs
		srv.Logf("Received %s scheduling shutdown...", sig)
		// A second signal, as in Redis, ends the process at once.
		go func() {
			<-sigs
			srv.Logf("You insist... exiting now.")
			os.Exit(1)
		}()
		// Within shutdown-timeout even when a command holds the lock.
		finished, err := srv.ShutdownWithin(srv.ShutdownGrace())
		if !finished {
			os.Exit(1)
		}
		if err != nil {
			srv.Logf("Error trying to shut down: %v", err)
		}
		exit()
	}()
	// SHOAL_CPUPROFILE=file profiles the whole run (pprof), for benchmarks.
	if path := os.Getenv("SHOAL_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	// SHOAL_TRACE=file records an execution trace of the whole run (go tool
	// trace): where the event loop's goroutine waited, and for what.
	if path := os.Getenv("SHOAL_TRACE"); path != "" {
		if f, err := os.Create(path); err == nil && trace.Start(f) == nil {
			defer func() { trace.Stop(); f.Close() }()
		}
	}
	// SHOAL_MUTEXPROFILE=file records who holds contended locks (the
	// server lock: what makes other clients wait), written at exit.
	if path := os.Getenv("SHOAL_MUTEXPROFILE"); path != "" {
		runtime.SetMutexProfileFraction(1)
		defer writeProfile("mutex", path)
	}
	// SHOAL_ALLOCPROFILE=file records where memory was allocated (what
	// makes the garbage collector run), written at exit.
	if path := os.Getenv("SHOAL_ALLOCPROFILE"); path != "" {
		defer writeProfile("allocs", path)
	}
	port := cfg.Port // read before clients may CONFIG SET (which replaces *cfg under the server's lock)
	srv.Logf("Server initialized, listening on tcp port %d", port)
	loaded := srv.StartLoading()
	go func() {
		if err := srv.Serve(); err != nil {
			srv.Logf("serve: %v", err)
		}
	}()
	select {
	case err := <-loaded:
		if err != nil {
			return fail("%v", err)
		}
		srv.Logf("Ready to accept connections tcp port %d", port)
		<-done
	case <-done: // SIGTERM or SHUTDOWN while loading
	}
	srv.Logf("shoal-node is now ready to exit, bye bye...")
	return 0
}

// writeProfile writes a runtime profile (SHOAL_MUTEXPROFILE).
func writeProfile(name, path string) {
	if f, err := os.Create(path); err == nil {
		_ = pprof.Lookup(name).WriteTo(f, 0)
		f.Close()
	}
}
