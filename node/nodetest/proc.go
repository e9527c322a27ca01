package nodetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Options of a process to start. The zero value starts the node on a free
// 127.0.0.1 port in a fresh directory.
type Options struct {
	// Binary is the program; "" is the node (Binary).
	Binary string
	// Config, when not "", is the first argument: a redis.conf path.
	Config string
	// Args follow the harness's own --port, --bind and --dir.
	Args []string
	// CommandLine, when not nil, is the whole command line instead (a pod's
	// container args): the harness adds nothing, and Port, Host and Dir only
	// say where the process listens and logs.
	CommandLine []string
	// Dir is the process's directory (--dir); "" is a fresh t.TempDir().
	Dir string
	// Port is the client port; 0 is a FreePort.
	Port int
	// Host is the address to bind and to dial; "" is 127.0.0.1.
	Host string
	// Log receives stdout and stderr (appended); "" is Dir/node.log.
	Log string
	// MoreLogs are other files the process logs to (a --logfile), reported
	// with Log.
	MoreLogs []string
	// Env, when not nil, is the process's environment.
	Env []string
	// Ready bounds the wait until the process answers PING; 0 is 10 s.
	Ready time.Duration
	// Grace bounds the wait for the exit after SIGTERM when the test ends
	// (then SIGKILL and a test error); 0 is 10 s.
	Grace time.Duration
	// Owner is the test whose end stops the process; nil is the test that
	// starts it. A process restarted in a subtest names the parent, so that it
	// outlives the subtest.
	Owner testing.TB
}

// Proc is a started process.
type Proc struct {
	Port int
	Addr string // host:port
	Dir  string
	// LogPath is the file of its stdout and stderr.
	LogPath string
	// Cmd is the process: tests signal it (SIGSTOP, SIGKILL) by its PID.
	Cmd *exec.Cmd

	opts      Options
	logOffset int64 // where this run's output starts in LogPath
	exited    chan struct{}
}

// Start runs the process, waits until it answers PING and stops it when
// the test ends; it fails the test, with the log, if the process exits or
// does not answer in time.
func Start(t testing.TB, o Options) *Proc {
	t.Helper()
	p := Spawn(t, o)
	if err := p.WaitReady(); err != nil {
		t.Fatal(err)
	}
	return p
}

// Spawn runs the process without waiting for it to answer (a test that
// expects it to exit on its own waits on Exited); it is stopped when the
// test ends.
func Spawn(t testing.TB, o Options) *Proc {
	t.Helper()
	if o.Binary == "" {
		o.Binary = Binary(t)
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	p, err := Launch(o)
	if err != nil {
		t.Fatal(err)
	}
	owner := o.Owner
	if owner == nil {
		owner = t
	}
	owner.Cleanup(func() { p.cleanup(owner) })
	return p
}

// Launch runs the process and returns at once, for a simulator that starts
// processes off the test's goroutine: the caller waits (WaitReady) and stops
// it (Stop, Kill). Binary and Dir are required.
func Launch(o Options) (*Proc, error) {
	if o.Binary == "" || o.Dir == "" {
		return nil, fmt.Errorf("nodetest.Launch: Binary and Dir are required")
	}
	if o.Port == 0 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		o.Port = port
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Log == "" {
		o.Log = filepath.Join(o.Dir, "node.log")
	}
	if o.Ready == 0 {
		o.Ready = 10 * time.Second
	}
	if o.Grace == 0 {
		o.Grace = 10 * time.Second
	}
	p := &Proc{Port: o.Port, Addr: net.JoinHostPort(o.Host, strconv.Itoa(o.Port)), Dir: o.Dir, LogPath: o.Log, opts: o}
	args := o.CommandLine
	if args == nil {
		if o.Config != "" {
			args = append(args, o.Config)
		}
		args = append(args, "--port", strconv.Itoa(o.Port), "--bind", o.Host, "--dir", o.Dir)
		args = append(args, o.Args...)
	}
	logf, err := os.OpenFile(o.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	if st, err := logf.Stat(); err == nil {
		p.logOffset = st.Size()
	}
	p.Cmd = exec.Command(o.Binary, args...)
	p.Cmd.Stdout, p.Cmd.Stderr = logf, logf
	p.Cmd.Env = o.Env
	if err := p.Cmd.Start(); err != nil {
		return nil, err
	}
	p.exited = make(chan struct{})
	go func() { _ = p.Cmd.Wait(); close(p.exited) }()
	return p, nil
}

// WaitReady waits until the process answers PING (Ready, within
// Options.Ready); if it exits or does not answer in time, it is killed and
// the error carries its log.
func (p *Proc) WaitReady() error {
	if Ready(p.Addr, p.exited, p.opts.Ready) {
		return nil
	}
	p.Kill()
	return fmt.Errorf("%s did not start on %s (%v):\n%s", filepath.Base(p.opts.Binary), p.Addr, p.Cmd.ProcessState, p.Log())
}

// Exited is closed when the process has exited.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and waits up to grace for the exit; it reports
// whether the process exited in time (if not, it is still running).
func (p *Proc) Stop(grace time.Duration) bool {
	if !p.Running() {
		return true
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return true
	case <-time.After(grace):
		return false
	}
}

// Kill sends SIGKILL, as a crash, and waits for the exit.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Kill()
	<-p.exited
}

// Log is what the process logged in this run (Log from where it started,
// then MoreLogs).
func (p *Proc) Log() string {
	var b strings.Builder
	if out, err := os.ReadFile(p.LogPath); err == nil && int64(len(out)) >= p.logOffset {
		b.Write(out[p.logOffset:])
	}
	for _, f := range p.opts.MoreLogs {
		if out, err := os.ReadFile(f); err == nil {
			b.Write(out)
		}
	}
	return b.String()
}

// cleanup stops the process (a test error if SIGTERM does not end it), then
// fails the test on a data race in its log and prints the log of a failed
// test.
func (p *Proc) cleanup(t testing.TB) {
	if !p.Stop(p.opts.Grace) {
		p.Kill()
		t.Errorf("%s %d (port %d) did not exit on SIGTERM", filepath.Base(p.opts.Binary), p.Cmd.Process.Pid, p.Port)
	}
	log := p.Log()
	if strings.Contains(log, "WARNING: DATA RACE") {
		t.Errorf("data race in %s (port %d):\n%s", filepath.Base(p.opts.Binary), p.Port, log)
		return
	}
	if t.Failed() {
		t.Logf("log of %s on port %d:\n%s", filepath.Base(p.opts.Binary), p.Port, Tail(log, 200))
	}
}

// Tail is the last lines of s, for a long log or output in a message.
func Tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func (p *Proc) String() string { return filepath.Base(p.opts.Binary) + " on " + p.Addr }
