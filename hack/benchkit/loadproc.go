package benchkit

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// A benchmark's client load runs in a process of its own, as clients do:
// in the benchmark's process the work it measures (a backup's
// compression, a slot move's commands and garbage) would delay the
// clients and count as the nodes' latency. The benchmark starts itself
// again with arguments that make it ServeLoad (StartLoadProcess), and
// reads the samples back when it stops the load.

// LoadProcess is a load run by another process.
type LoadProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   bytes.Buffer
}

// StartLoadProcess runs this program again with args (which must make it
// call ServeLoad).
func StartLoadProcess(args ...string) (*LoadProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	l := &LoadProcess{cmd: exec.Command(self, args...)}
	l.cmd.Stdout, l.cmd.Stderr = &l.out, os.Stderr
	if l.stdin, err = l.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	return l, l.cmd.Start()
}

// Stop ends the load (its stdin closes) and parses its samples.
func (l *LoadProcess) Stop() ([]Sample, error) {
	_ = l.stdin.Close()
	if err := l.cmd.Wait(); err != nil {
		return nil, err
	}
	var out []Sample
	for _, line := range strings.Split(strings.TrimSpace(l.out.String()), "\n") {
		if line == "" {
			continue
		}
		var end, lat int64
		var msg string
		if _, err := fmt.Sscanf(line, "%d %d %q", &end, &lat, &msg); err != nil {
			return nil, fmt.Errorf("sample %q: %w", line, err)
		}
		out = append(out, Sample{End: time.Unix(0, end), Latency: time.Duration(lat), Err: msg})
	}
	return out, nil
}

// ServeLoad is the load process's side: it runs lg until stdin closes,
// then prints a line a call: its end (unix ns), its latency (ns) and its
// error (quoted, "" for none).
func ServeLoad(lg *LoadGen) error {
	lg.Start(context.Background())
	_, _ = io.Copy(io.Discard, os.Stdin)
	lg.Stop()
	w := bufio.NewWriter(os.Stdout)
	for _, s := range lg.Samples() {
		fmt.Fprintf(w, "%d %d %q\n", s.End.UnixNano(), s.Latency.Nanoseconds(), s.Err)
	}
	return w.Flush()
}
