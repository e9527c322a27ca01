package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// daemonize yes, as redis-server: the node runs in the background, detached
// from the terminal and its session. A Go process cannot fork, so the
// foreground process re-executes itself as a new session leader (setsid)
// with the same arguments and waits on a pipe until the child reports that
// it listens (the parent exits 0) or that it failed (the parent prints the
// reason and exits 1). Output of the child goes to /dev/null, as Redis's
// (use logfile to keep the log).

// daemonChildEnv marks the re-executed child; its pipe to the parent is
// file descriptor 3.
const daemonChildEnv = "SHOAL_DAEMON_CHILD"

// defaultPidFile is where Redis writes its pid when daemonized without a
// pidfile.
const defaultPidFile = "/var/run/redis.pid"

// isDaemonChild reports whether this process is the daemon started by
// startDaemon, and returns its pipe to the parent.
func isDaemonChild() (io.WriteCloser, bool) {
	if os.Getenv(daemonChildEnv) != "1" {
		return nil, false
	}
	os.Unsetenv(daemonChildEnv)
	return os.NewFile(3, "daemon-ready"), true
}

// startDaemon starts the background copy of this process in dir with args
// and waits for its report. It returns the exit code of the foreground
// process.
func startDaemon(dir string, args []string, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "daemonize: %v\n", err)
		return 1
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "daemonize: %v\n", err)
		return 1
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintf(stderr, "daemonize: %v\n", err)
		return 1
	}
	defer null.Close()
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), daemonChildEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		r.Close()
		fmt.Fprintf(stderr, "daemonize: %v\n", err)
		return 1
	}
	w.Close() // the child holds the write end now
	defer r.Close()
	code, msg := readDaemonReport(r)
	if code != 0 {
		fmt.Fprintln(stderr, msg)
	}
	_ = cmd.Process.Release() // the daemon outlives us; init reaps it
	return code
}

// readDaemonReport reads the child's one-line report: "ok", or the reason
// it failed. A pipe closed without a report means the child died.
func readDaemonReport(r io.Reader) (int, string) {
	b, err := io.ReadAll(bufio.NewReader(r))
	report := strings.TrimSpace(string(b))
	switch {
	case report == "ok":
		return 0, ""
	case report != "":
		return 1, report
	case err != nil:
		return 1, "daemonize: " + err.Error()
	}
	return 1, "daemonize: the background process exited before it was ready"
}

// daemonReporter is the child's side: it reports once and closes the pipe.
type daemonReporter struct{ w io.WriteCloser }

func (d *daemonReporter) ready() { d.report("ok") }

func (d *daemonReporter) failed(err error) { d.report(err.Error()) }

func (d *daemonReporter) report(s string) {
	if d == nil || d.w == nil {
		return
	}
	_, _ = io.WriteString(d.w, s+"\n")
	_ = d.w.Close()
	d.w = nil
}

// writePidFile writes the pid file; Redis only warns when it cannot.
func writePidFile(path string) error {
	if path == "" {
		return errors.New("no pidfile")
	}
	return os.WriteFile(path, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644)
}
