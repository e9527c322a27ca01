package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/shoal-dev/shoal/node/metrics"
	"github.com/shoal-dev/shoal/node/sentinel"
)

// runSentinel is `shoal-node --sentinel`: Redis Sentinel (node/sentinel)
// with sentinel.conf in Redis's syntax, rewritten with the state, and its
// Prometheus metrics on metrics-port when set.
func runSentinel(args []string) int {
	cfg, err := sentinel.ParseArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if cfg.Dir != "" && cfg.Dir != "." {
		if err := os.Chdir(cfg.Dir); err != nil {
			fmt.Fprintf(os.Stderr, "Can't chdir to '%s': %v\n", cfg.Dir, err)
			return 1
		}
	}
	var logOut io.Writer = os.Stdout
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "Can't open the log file: %v\n", err)
			return 1
		}
		defer f.Close()
		logOut = f
	}
	s, err := sentinel.New(cfg, logOut)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := s.Listen(); err != nil {
		fmt.Fprintf(os.Stderr, "Could not create server TCP listening socket: %v\n", err)
		return 1
	}
	// metrics-port: the Prometheus endpoint (node/metrics), as a data
	// node's.
	ep, err := metrics.ListenSentinel(s)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Could not create server TCP listening socket: %v\n", err)
		s.Stop()
		return 1
	}
	defer ep.Close()
	if cfg.PidFile != "" {
		if abs, err := filepath.Abs(cfg.PidFile); err == nil {
			cfg.PidFile = abs
		}
		if err := writePidFile(cfg.PidFile); err == nil {
			defer os.Remove(cfg.PidFile)
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		select {
		case <-sigs:
			s.Stop()
		case <-s.Done():
		}
	}()
	s.Run()
	return 0
}
