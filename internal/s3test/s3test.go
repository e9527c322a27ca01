package s3test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/testenv"
)

// BinaryVar names the environment variable holding the server's path.
const BinaryVar = "SHOAL_S3SERVER"

// Server is a running store.
type Server struct {
	// Endpoint is host:port.
	Endpoint string
	cmd      *exec.Cmd
}

// Binary is the server's path, or the test is Unavailable.
func Binary(t testing.TB) string {
	t.Helper()
	p := os.Getenv(BinaryVar)
	if p == "" {
		testenv.Unavailable(t, "%s is not set (make s3server installs the S3 server into bin/)", BinaryVar)
	}
	if _, err := os.Stat(p); err != nil {
		testenv.Unavailable(t, "S3 server %s: %v (make s3server)", p, err)
	}
	return p
}

// Start runs the server listening on host (an address of this machine;
// "127.0.0.1" in tests, the host's address reachable from pods in the
// e2e) with its data in a temporary folder, and stops it at the end of
// the test. bucket, when set, is created.
func Start(t testing.TB, host, bucket string) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort(host)
		if err != nil {
			t.Fatal(err)
		}
		s, err := start(bin, net.JoinHostPort(host, strconv.Itoa(port)), filepath.Join(dir, fmt.Sprintf("s3-%d.db", attempt)), bucket)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err
	}
	t.Fatalf("S3 server did not start: %v", lastErr)
	return nil
}

// StartProcess is Start without a testing.TB (the e2e suite's
// BeforeSuite); the caller calls Stop.
func StartProcess(bin, host, dir, bucket string) (*Server, error) {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort(host)
		if err != nil {
			return nil, err
		}
		s, err := start(bin, net.JoinHostPort(host, strconv.Itoa(port)), filepath.Join(dir, fmt.Sprintf("s3-%d.db", attempt)), bucket)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(bin, addr, db, bucket string) (*Server, error) {
	args := []string{"-backend", "bolt", "-bolt.db", db, "-host", addr, "-quiet"}
	if bucket != "" {
		args = append(args, "-initialbucket", bucket)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s := &Server{Endpoint: addr, cmd: cmd}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("S3 server on %s exited: %v", addr, err)
		default:
		}
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			go func() { <-exited }()
			return s, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-exited
	return nil, fmt.Errorf("S3 server on %s did not answer within 20s", addr)
}

// Stop ends the server's process (by its PID).
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
}
