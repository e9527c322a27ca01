package nodetest

import (
	"bufio"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

func ping(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return line
}

// TestStartNodeAndRedis starts both programs and finds them answering on
// 127.0.0.1; the cleanup stops them.
func TestStartNodeAndRedis(t *testing.T) {
	for _, o := range []Options{{}, {Binary: RedisServer(t), Args: []string{"--save", ""}}} {
		p := Start(t, o)
		if !strings.HasPrefix(p.Addr, "127.0.0.1:") || p.Port == 0 || p.Dir == "" {
			t.Errorf("started %v in %q", p, p.Dir)
		}
		if got := ping(t, p.Addr); got != "+PONG\r\n" {
			t.Errorf("%v answers PING with %q", p, got)
		}
	}
}

// TestSpawnReportsTheExitAndLog: a process that cannot start exits, and
// its log (this run's part only) says why.
func TestSpawnReportsTheExitAndLog(t *testing.T) {
	dir := t.TempDir()
	var logs []string
	for run := range 2 {
		p := Spawn(t, Options{Dir: dir, Args: []string{"--no-such-option", "x"}})
		select {
		case <-p.Exited():
		case <-time.After(30 * time.Second):
			t.Fatal("the node kept running with a bad option")
		}
		if p.Running() || p.Cmd.ProcessState.Success() {
			t.Errorf("run %d: running %v, state %v", run, p.Running(), p.Cmd.ProcessState)
		}
		logs = append(logs, p.Log())
	}
	if !strings.Contains(logs[0], "no-such-option") || logs[1] != logs[0] {
		t.Errorf("the logs of the two runs are %q and %q, want each naming the bad option once", logs[0], logs[1])
	}
}

// TestFreePortIsNeverHandedOutTwice: a port FreePort returned stays
// claimed for this process's life, so no later call (here or in another
// test process) returns it while the first node may still be binding it.
func TestFreePortIsNeverHandedOutTwice(t *testing.T) {
	seen := map[int]bool{}
	for range 50 {
		p := FreePort(t)
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		if claim(p) {
			t.Fatalf("port %d can be claimed again after FreePort returned it", p)
		}
	}
}
