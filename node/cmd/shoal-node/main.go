package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"

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
		}
	}
	for _, a := range args {
		switch a {
		case "-v", "--version":
			fmt.Printf("shoal-node v=%s (Redis %s compatible)\n", server.RedisVersion, server.RedisVersion)
			return 0
		case "-h", "--help":
			fmt.Println("Usage: shoal-node [/path/to/redis.conf] [--port 7000] [--name value ...]")
			return 0
		}
	}
	cfg, err := server.ParseArgs(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "*** FATAL CONFIG FILE ERROR ***\n%v\n", err)
		return 1
	}
	if cfg.Dir != "" && cfg.Dir != "." {
		if err := os.Chdir(cfg.Dir); err != nil {
			fmt.Fprintf(os.Stderr, "Can't chdir to '%s': %v\n", cfg.Dir, err)
			return 1
		}
	}
	srv, err := server.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := srv.StartPersistence(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := srv.Listen(); err != nil {
		fmt.Fprintf(os.Stderr, "Could not create server TCP listening socket: %v\n", err)
		return 1
	}
	if cfg.PidFile != "" {
		_ = os.WriteFile(cfg.PidFile, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644)
		defer os.Remove(cfg.PidFile)
	}
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
	srv.Logf("Server initialized, ready to accept connections tcp port %d", cfg.Port)
	go func() {
		if err := srv.Serve(); err != nil {
			srv.Logf("serve: %v", err)
		}
	}()
	<-done
	srv.Logf("shoal-node is now ready to exit, bye bye...")
	return 0
}
