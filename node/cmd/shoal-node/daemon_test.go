package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// readPid reads a pid file.
func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func processAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// sessionID is the session of a process (field 6 of /proc/<pid>/stat).
func sessionID(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// pid (comm) state ppid pgrp session ...; comm may hold spaces.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 4 {
		return 0, errors.New("unexpected /proc stat: " + string(b))
	}
	return strconv.Atoi(f[3])
}

// TestDaemonize: with daemonize yes the command returns 0 once the node
// listens in the background (its own session, another pid), the pid file
// holds the daemon's pid, and SHUTDOWN ends it and removes the pid file, as
// redis-server.
func TestDaemonize(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "node.pid")
	port := nodetest.FreePort(t)
	// A node that ignored daemonize would never return: bound the wait.
	ctx, cancel := context.WithTimeout(t.Context(), testWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodetest.Binary(t), "--daemonize", "yes", "--pidfile", pidfile, "--port", strconv.Itoa(port),
		"--bind", "127.0.0.1", "--dir", dir, "--save", "", "--logfile", filepath.Join(dir, "node.log"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("shoal-node --daemonize yes: %v\n%s", err, out)
	}
	pid, err := readPid(pidfile)
	if err != nil {
		t.Fatalf("pid file after the foreground process returned: %v", err)
	}
	t.Cleanup(func() {
		if processAlive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if pid == cmd.Process.Pid || !processAlive(pid) {
		t.Fatalf("pid file holds %d (foreground %d, alive %v)", pid, cmd.Process.Pid, processAlive(pid))
	}
	if sid, err := sessionID(pid); err != nil || sid != pid {
		t.Errorf("daemon session %d, err %v: want its own session (%d)", sid, err, pid)
	}
	c := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	// The foreground process returned after the daemon listened: no wait.
	if got, err := c.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING the daemon: %q %v", got, err)
	}
	if got := c.ConfigGet(ctx, "daemonize").Val()["daemonize"]; got != "yes" {
		t.Errorf("CONFIG GET daemonize = %q", got)
	}
	if got := c.ConfigGet(ctx, "pidfile").Val()["pidfile"]; got != pidfile {
		t.Errorf("CONFIG GET pidfile = %q, want %q", got, pidfile)
	}
	_ = c.Shutdown(ctx).Err() // the connection closes
	waitFor(t, "daemon gone and pid file removed", func() error {
		if processAlive(pid) {
			return errors.New("daemon still running")
		}
		if _, err := os.Stat(pidfile); !errors.Is(err, os.ErrNotExist) {
			return errors.New("pid file still there")
		}
		return nil
	})
}

// TestDaemonizeFailure: a daemon that cannot start reports why, and the
// command exits 1, as redis-server does when it cannot listen.
func TestDaemonizeFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "node.pid")
	ctx, cancel := context.WithTimeout(t.Context(), testWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodetest.Binary(t), "--daemonize", "yes", "--pidfile", pidfile, "--port", strconv.Itoa(port),
		"--bind", "127.0.0.1", "--dir", dir, "--save", "")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("daemon on a busy port: %v, want exit 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "Could not create server TCP listening socket") {
		t.Errorf("output %q does not say why", out)
	}
	if _, err := os.Stat(pidfile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file left behind: %v", err)
	}
}

// TestPidFileForeground: a pidfile is written without daemonize too, and
// removed when the node shuts down.
func TestPidFileForeground(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "fg.pid")
	p := nodetest.Spawn(t, nodetest.Options{Dir: dir, Args: []string{"--pidfile", pidfile, "--save", ""}})
	cmd, exited := p.Cmd, p.Exited()
	waitFor(t, "pid file", func() error {
		pid, err := readPid(pidfile)
		if err == nil && pid != cmd.Process.Pid {
			return errors.New("pid file holds " + strconv.Itoa(pid))
		}
		return err
	})
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(testWait):
		t.Fatal("node did not exit on SIGTERM")
	}
	if _, err := os.Stat(pidfile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file not removed at shutdown: %v", err)
	}
}
