package cluster

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs of testdata/sim scripts")

// TestSimScripts runs the scripts in testdata/sim, in the style of etcd
// raft's datadriven tests: each case is a command, "----", and the
// expected output, ended by a blank line. Commands:
//
//	new-cluster masters=3 replicas=1 [seed=N] [epochs=false] [drop=0.1]
//	cluster <node> <subcommand> [args...]   a CLUSTER command, redis-cli style reply
//	nodes <node>                            CLUSTER NODES, IDs as names, times as t
//	view                                    "agree" or each node's view
//	run <duration>
//	until <cond> [within=<duration>]        agree | ok | fail:<n> | pfail:<n> |
//	                                        master:<n> | replica:<n>:<master> |
//	                                        addr:<n> (all others see n at its IP)
//	kill <node> | restart <node> [ip=<ip>] | isolate <node>... | heal
//	write <node> <bytes per tick>
//	epochs                                  configEpoch and currentEpoch of every node
//	info <node> <field>...                  CLUSTER INFO fields
func TestSimScripts(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "sim", "*.txt"))
	if len(files) == 0 {
		t.Fatal("no scripts")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { runScript(t, file) })
	}
}

type scriptCase struct {
	cmd, want string
	line      int
}

func parseScript(t *testing.T, text string) []scriptCase {
	var cases []scriptCase
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		c := scriptCase{cmd: l, line: i + 1}
		if i+1 >= len(lines) || lines[i+1] != "----" {
			t.Fatalf("line %d: %q must be followed by ----", i+1, l)
		}
		i += 2
		var out []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			out = append(out, lines[i])
		}
		c.want = strings.Join(out, "\n")
		cases = append(cases, c)
	}
	return cases
}

func runScript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cases := parseScript(t, string(data))
	var s *sim
	var b strings.Builder
	for _, c := range cases {
		got := strings.TrimRight(execScript(t, &s, c), "\n")
		if *rewrite {
			fmt.Fprintf(&b, "%s\n----\n", c.cmd)
			if got != "" {
				b.WriteString(got + "\n")
			}
			b.WriteString("\n")
			continue
		}
		if got != c.want {
			t.Fatalf("%s:%d: %s\n got:\n%s\nwant:\n%s", file, c.line, c.cmd, got, c.want)
		}
	}
	if *rewrite {
		// Keep the leading comment block of the file.
		var head []string
		for _, l := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(l, "#") {
				break
			}
			head = append(head, l)
		}
		out := b.String()
		if len(head) > 0 {
			out = strings.Join(head, "\n") + "\n\n" + out
		}
		if err := os.WriteFile(file, []byte(strings.TrimRight(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func scriptArgs(fields []string) (pos []string, kv map[string]string) {
	kv = map[string]string{}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		} else {
			pos = append(pos, f)
		}
	}
	return pos, kv
}

func execScript(t *testing.T, sp **sim, c scriptCase) string {
	fields := strings.Fields(c.cmd)
	pos, kv := scriptArgs(fields[1:])
	s := *sp
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("line %d: %s: %s", c.line, c.cmd, fmt.Sprintf(format, args...))
	}
	atoi := func(v string, def int) int {
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			fail("%v", err)
		}
		return n
	}
	dur := func(v string, def time.Duration) time.Duration {
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			fail("%v", err)
		}
		return d
	}
	switch fields[0] {
	case "new-cluster":
		s = newSim(t, uint64(atoi(kv["seed"], 1)))
		*sp = s
		if d := kv["drop"]; d != "" {
			s.drop, _ = strconv.ParseFloat(d, 64)
		}
		s.form(atoi(kv["masters"], 3), atoi(kv["replicas"], 0), kv["epochs"] != "false")
		return s.nodesText(s.nodes[0])
	case "cluster":
		n := s.node(pos[0])
		args := make([][]byte, 0, len(pos)-1)
		for _, a := range pos[1:] {
			args = append(args, []byte(s.resolve(a)))
		}
		w := &textWriter{s: s}
		rd, handled := n.m.Command(s.now, args, w)
		if !handled {
			return "(not handled)"
		}
		s.apply(n, rd)
		return w.String()
	case "nodes":
		return s.nodesText(s.node(pos[0]))
	case "view":
		if s.agree() {
			return "agree"
		}
		var out []string
		for _, n := range s.up() {
			out = append(out, n.name+":\n"+s.view(n))
		}
		return strings.Join(out, "\n")
	case "run":
		s.run(dur(pos[0], 0))
		return ""
	case "until":
		cond := s.condition(pos[0], fail)
		s.runUntil(c.cmd, dur(kv["within"], 30*time.Second), cond)
		return "ok"
	case "kill":
		s.kill(s.node(pos[0]))
		return ""
	case "restart":
		s.restart(s.node(pos[0]), kv["ip"])
		return ""
	case "isolate":
		for i, name := range pos {
			s.group[s.node(name)] = 100 + i
		}
		return ""
	case "heal":
		s.group = map[*simNode]int{}
		return ""
	case "write":
		s.node(pos[0]).writeRate = int64(atoi(pos[1], 0))
		return ""
	case "epochs":
		var out []string
		for _, n := range s.up() {
			out = append(out, fmt.Sprintf("%s config=%d current=%d lastVote=%d", n.name, n.m.Myself().ConfigEpoch, n.m.CurrentEpoch(), n.m.LastVoteEpoch()))
		}
		return strings.Join(out, "\n")
	case "info":
		info := s.node(pos[0]).m.ClusterInfo(0)
		var out []string
		for _, f := range pos[1:] {
			for _, l := range strings.Split(info, "\r\n") {
				if strings.HasPrefix(l, f+":") {
					out = append(out, l)
				}
			}
		}
		return strings.Join(out, "\n")
	}
	fail("unknown command")
	return ""
}

// resolve turns a node name into its ID in command arguments ("@n2"), and
// its IP ("ip@n2").
func (s *sim) resolve(a string) string {
	if name, ok := strings.CutPrefix(a, "@"); ok {
		return s.node(name).m.Myself().ID
	}
	if name, ok := strings.CutPrefix(a, "ip@"); ok {
		return s.node(name).ip
	}
	return a
}

func (s *sim) condition(spec string, fail func(string, ...any)) func() bool {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "agree":
		return func() bool { return s.agree() }
	case "ok":
		return func() bool { return s.stateOK() }
	case "fail":
		n := s.node(arg)
		return func() bool { return s.flagged(n, bus.FlagFail) }
	case "pfail":
		n := s.node(arg)
		return func() bool { return s.flagged(n, bus.FlagPFail) || s.flagged(n, bus.FlagFail) }
	case "master":
		n := s.node(arg)
		return func() bool { return s.isMasterEverywhere(n) && s.agree() }
	case "addr":
		n := s.node(arg)
		return func() bool {
			for _, o := range s.up() {
				if i, _ := o.m.Node(n.m.Myself().ID); o != n && i.IP != n.ip {
					return false
				}
			}
			return true
		}
	case "replica":
		name, master, _ := strings.Cut(arg, ":")
		n, mn := s.node(name), s.node(master)
		return func() bool { return s.isReplicaOfEverywhere(n, mn) && s.agree() }
	}
	fail("unknown condition %q", spec)
	return nil
}

// textWriter renders replies as redis-cli does, with node IDs as names.
type textWriter struct {
	s     *sim
	lines []string
	stack []int // remaining items of open aggregates
}

func (w *textWriter) add(s string) {
	w.lines = append(w.lines, strings.Repeat("  ", len(w.stack))+s)
	if len(w.stack) > 0 {
		w.stack[len(w.stack)-1]--
	}
	for len(w.stack) > 0 && w.stack[len(w.stack)-1] == 0 {
		w.stack = w.stack[:len(w.stack)-1]
	}
}

// open starts an aggregate of n items. Its parent loses an item but stays
// on the stack until the aggregate is complete, to keep the indentation.
func (w *textWriter) open(kind string, n, items int) {
	header := fmt.Sprintf("%s(%d)", kind, n)
	n = items
	if n == 0 {
		w.add(header)
		return
	}
	w.lines = append(w.lines, strings.Repeat("  ", len(w.stack))+header)
	if len(w.stack) > 0 {
		w.stack[len(w.stack)-1]--
	}
	w.stack = append(w.stack, n)
}

func (w *textWriter) names(s string) string {
	for _, n := range w.s.nodes {
		if n.m != nil {
			s = strings.ReplaceAll(s, n.m.Myself().ID, n.name)
		}
	}
	return s
}

func (w *textWriter) ArrayLen(n int)      { w.open("array", n, n) }
func (w *textWriter) MapLen(n int)        { w.open("map", n, 2*n) }
func (w *textWriter) BulkString(s string) { w.add(strconv.Quote(w.names(s))) }
func (w *textWriter) Int(n int64)         { w.add(fmt.Sprintf("(integer) %d", n)) }
func (w *textWriter) Null()               { w.add("(nil)") }
func (w *textWriter) OK()                 { w.add("OK") }
func (w *textWriter) Error(msg string)    { w.add("(error) " + w.names(msg)) }
func (w *textWriter) SimpleString(s string) {
	w.add(s)
}
func (w *textWriter) Verbatim(format, s string) {
	for _, l := range strings.Split(strings.TrimRight(s, "\r\n"), "\n") {
		w.add(strings.TrimRight(w.names(l), "\r"))
	}
}
func (w *textWriter) String() string { return strings.Join(w.lines, "\n") }
