package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/config"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// The configuration differential: Debian's redis-server 7.0.15 is the
// specification of every name in CONFIG GET *.

// instanceParams are set per process by the harnesses (ports, paths), so
// their values differ between the two servers by construction.
var instanceParams = map[string]bool{
	"port": true, "dir": true, "logfile": true, "bind": true, "pidfile": true, "unixsocket": true,
	"daemonize": true, "save": true, "appendonly": true, "enable-debug-command": true,
}

// knownConfigDivergences are the names whose replies still differ from
// Redis's, each with the reason. The differential fails on any other.
var knownConfigDivergences = map[string]string{}

// configGetAll is CONFIG GET * as a map.
func configGetAll(t *testing.T, c *redis.Client) map[string]string {
	t.Helper()
	m, err := c.ConfigGet(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// multiArgConfig is how a multi-argument value is written in a config
// file: as its words, or "" when empty.
func configLine(name, value string, multi bool) string {
	if !multi {
		return name + " " + config.QuoteRepr(value)
	}
	if value == "" {
		return name + ` ""`
	}
	return name + " " + value
}

// defaultsConf is a redis.conf with every name (and alias) of Redis's
// CONFIG GET * at the value Redis reports, except the per-process ones.
func defaultsConf(t *testing.T, ref map[string]string) string {
	t.Helper()
	table := config.NewTable()
	names := make([]string, 0, len(ref))
	for name := range ref {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# every Redis 7.0 CONFIG GET * name at Redis's default\n")
	for _, name := range names {
		if instanceParams[name] || ((name == "replicaof" || name == "slaveof") && ref[name] == "") {
			continue
		}
		p := table.Lookup(name)
		multi := p != nil && p.Is(config.FlagMultiArg)
		b.WriteString(configLine(name, ref[name], multi) + "\n")
	}
	return b.String()
}

// startWithFile starts bin with the config file first, then the harness's
// per-process options, and waits until it listens.
func startWithFile(t *testing.T, bin, conf string, extra ...string) *testNode {
	t.Helper()
	return startConfigured(t, bin, conf, append([]string{"--save", "", "--daemonize", "no"}, extra...))
}

// startConfigured starts bin with the config file, a fresh port on
// 127.0.0.1, its own dir and log file, then args; it waits until bin
// listens and stops it by PID at the end.
func startConfigured(t *testing.T, bin, conf string, args []string) *testNode {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "server.log")
	return &testNode{nodetest.Start(t, nodetest.Options{
		Binary: bin, Config: conf, Dir: dir, Log: filepath.Join(dir, "stderr.log"), MoreLogs: []string{log},
		Args: append([]string{"--logfile", log}, args...),
	})}
}

// probeValues are the CONFIG SET values tried on a parameter: its default,
// and values of its type Redis refuses or canonicalises.
func probeValues(p *config.Param, def string) []string {
	if v, ok := probeOverride[p.Name()]; ok {
		return append([]string{def}, v...)
	}
	vals := []string{def}
	switch p.Kind() {
	case config.KindBool:
		vals = append(vals, "maybe", "YES", "")
	case config.KindInt:
		vals = append(vals, "-1", "0", "1", "2147483648", "99999999999999999999", "1.5", "01", "+1", "1k", "")
	case config.KindMemory:
		vals = append(vals, "1xb", "-1", "0", "1gb", "2MB", "1k", "99999999999999999999", "10%", "")
	case config.KindEnum:
		vals = append(vals, "bogus", strings.ToUpper(def), "")
		vals = append(vals, p.Enum()...)
	case config.KindString:
		vals = append(vals, "x", "a/b", "a_b", "")
	}
	if v, ok := specialProbes[p.Name()]; ok {
		vals = append(vals, v...)
	}
	return vals
}

// probeOverride replaces the generated values where Redis would act on
// them for real: a huge maxclients makes Redis resize its event loop to it.
var probeOverride = map[string][]string{
	"maxclients": {"0", "-1", "x", "4294967296", "1.5"},
	"databases":  {"1"},
	"timeout":    {"-1", "x", "2147483648", "1.5"}, // a real timeout would close the test's idle connections
}

var specialProbes = map[string][]string{
	"save":                              {"0 1", "1 2 3", "100 2", "100 2  3 4", "100  2 3", "", "1 -1"},
	"client-output-buffer-limit":        {"foo 1 2 3", "normal 1x 2 3", "normal 1 2", "pubsub 1mb 512kb 10 replica 1gb 2 3", "normal 1 2 -1", ""},
	"oom-score-adj-values":              {"1 2", "1 2 3000", "0 100 200", "0  200 800", ""},
	"notify-keyspace-events":            {"Q", "KEA", "g$lshzxetd", "Kg$lshzxetmdn", "A", "Em", ""},
	"latency-tracking-info-percentiles": {"50 101", "x", "50.5 99.0 0", "", "-1"},
	"shutdown-on-sigint":                {"bogus", "nosave save", "save now", "now force", "default now", "FORCE"},
	"shutdown-on-sigterm":               {"bogus", "nosave save", "save", ""},
	"maxmemory-clients":                 {"200%", "100%", "-5", "1%%", "5%"},
	"unixsocketperm":                    {"777", "8"},
	"hz":                                {"999999", "0", "501"},
	"proc-title-template":               {"{bogus}", "{title}", "", "x{"},
	"cluster-announce-hostname":         {"a.b-c", strings.Repeat("a", 256)},
	"activedefrag":                      {"yes"},
	"tls-port":                          {"6390"},
	"tls-replication":                   {"yes"},
	"dbfilename":                        {"dump.rdb"},
}

// skipSet are the parameters the differential does not CONFIG SET: Redis
// would rebind its listener (port, bind; the node refuses a new address)
// or stop serving the test's connection (requirepass: in
// TestConfigDifferentialCommands).
var skipSet = map[string]bool{"port": true, "bind": true, "requirepass": true}

// TestConfigDifferential loads a redis.conf holding every name of Redis
// 7.0's CONFIG GET * at Redis's default into both servers, then compares
// CONFIG GET of each name, and CONFIG SET of the default and of values
// generated per type (accepted or refused, the error text, the value
// CONFIG GET reports afterwards) with Redis's replies.
func TestConfigDifferential(t *testing.T) {
	bin := nodetest.RedisServer(t)
	probe := startRedis(t)
	ref := configGetAll(t, probe.client(t))
	conf := filepath.Join(t.TempDir(), "defaults.conf")
	if err := os.WriteFile(conf, []byte(defaultsConf(t, ref)), 0o644); err != nil {
		t.Fatal(err)
	}
	redisN := startWithFile(t, bin, conf)
	ours := startWithFile(t, nodetest.Binary(t), conf)
	table := config.NewTable()

	theirs := configGetAll(t, redisN.client(t))
	mine := configGetAll(t, ours.client(t))
	for name := range theirs {
		if _, ok := mine[name]; !ok {
			t.Errorf("CONFIG GET * lacks %s", name)
		}
	}
	rr, or := redisN.raw(t), ours.raw(t)
	differs := map[string]string{}
	names := make([]string, 0, len(theirs))
	for name := range theirs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !instanceParams[name] && mine[name] != theirs[name] {
			differs[name] = "CONFIG GET " + name + ": " + strconv.Quote(mine[name]) + ", Redis " + strconv.Quote(theirs[name])
			continue
		}
		p := table.Lookup(name)
		if p == nil || skipSet[name] || instanceParams[name] {
			continue
		}
		for _, v := range probeValues(p, theirs[name]) {
			if testing.Verbose() {
				t.Logf("CONFIG SET %s %q", name, v)
			}
			want, got := rr.do("CONFIG", "SET", name, v), or.do("CONFIG", "SET", name, v)
			if want != got {
				differs[name] = "CONFIG SET " + name + " " + strconv.Quote(v) + ": " + strconv.Quote(got) + ", Redis " + strconv.Quote(want)
				break
			}
			wantV, gotV := rr.do("CONFIG", "GET", name), or.do("CONFIG", "GET", name)
			if wantV != gotV {
				differs[name] = "after CONFIG SET " + name + " " + strconv.Quote(v) + ": CONFIG GET " + strconv.Quote(gotV) + ", Redis " + strconv.Quote(wantV)
				break
			}
			if strings.HasPrefix(want, "+OK") { // back to the default for the next probe
				rr.do("CONFIG", "SET", name, theirs[name])
				or.do("CONFIG", "SET", name, theirs[name])
			}
		}
	}
	match := 0
	for _, name := range names {
		if differs[name] == "" {
			match++
		}
	}
	t.Logf("%d of %d CONFIG GET * names match Redis exactly (defaults, CONFIG GET, CONFIG SET of %s)", match, len(names), "generated values")
	for _, name := range names {
		d := differs[name]
		if d == "" {
			if why, ok := knownConfigDivergences[name]; ok {
				t.Errorf("%s matches Redis now: drop it from knownConfigDivergences (%s)", name, why)
			}
			continue
		}
		if why, ok := knownConfigDivergences[name]; ok {
			t.Logf("known divergence %s (%s): %s", name, why, d)
			continue
		}
		t.Errorf("%s", d)
	}
}

// TestConfigDifferentialCommands: CONFIG GET by exact name, alias and
// case, several patterns, and CONFIG SET's order of checks (unknown names
// first, then immutable/protected/duplicate, then values, all or nothing)
// answer as Redis.
func TestConfigDifferentialCommands(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, []step{
		cmd("CONFIG", "GET", "HASH-MAX-ZIPLIST-ENTRIES"), cmd("CONFIG", "GET", "slaveof"),
		cmd("CONFIG", "GET", "maxmemory", "MAXMEMORY"), cmd("CONFIG", "GET", "nosuch"),
		unordered("CONFIG", "GET", "hash-max-*"), unordered("CONFIG", "GET", "*ziplist*", "hash-max-ziplist-entries"),
		unordered("CONFIG", "GET", "maxmemory", "maxmemory*"), unordered("CONFIG", "GET", "SLAVE-*"),
		unordered("CONFIG", "GET", "lazyfree-*"), unordered("CONFIG", "GET", "repl-*"), unordered("CONFIG", "GET", "zset-max-*"),
		cmd("CONFIG", "SET", "maxmemory"), cmd("CONFIG", "SET", "maxmemory", "1", "hz"),
		cmd("CONFIG", "SET", "maxmemory", "1mb", "nosuch", "1"), cmd("CONFIG", "GET", "maxmemory"),
		cmd("CONFIG", "SET", "nosuch", "1", "daemonize", "yes"), cmd("CONFIG", "SET", "daemonize", "yes", "nosuch", "1"),
		cmd("CONFIG", "SET", "DAEMONIZE", "yes"), cmd("CONFIG", "SET", "HZ", "-1"),
		cmd("CONFIG", "SET", "Hash-Max-Ziplist-Entries", "-1"),
		cmd("CONFIG", "SET", "maxmemory", "1mb", "maxmemory-policy", "bogus"), cmd("CONFIG", "GET", "maxmemory"),
		cmd("CONFIG", "SET", "maxmemory", "1mb", "MAXMEMORY", "2mb"),
		cmd("CONFIG", "SET", "hash-max-ziplist-entries", "7", "hash-max-listpack-entries", "8"),
		cmd("CONFIG", "SET", "maxmemory", "2mb", "maxmemory-policy", "allkeys-lru", "hz", "20"),
		unordered("CONFIG", "GET", "maxmemory", "maxmemory-policy", "hz"),
		cmd("CONFIG", "SET", "dir", "/"), cmd("CONFIG", "SET", "dbfilename", "x.rdb"),
		cmd("CONFIG", "SET", "save", "100 10 200 20"), cmd("CONFIG", "GET", "save"),
		cmd("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 512kb 10 slave 1gb 1gb 0"),
		cmd("CONFIG", "GET", "client-output-buffer-limit"),
		cmd("CONFIG", "SET", "notify-keyspace-events", "KEA"), cmd("CONFIG", "GET", "notify-keyspace-events"),
		cmd("CONFIG", "SET", "requirepass", ""), cmd("CONFIG", "GET", "requirepass"),
		cmd("CONFIG", "SET", "maxmemory", "0"),
	})
}

// TestConfigProtected: with enable-protected-configs local or yes, a
// loopback client may CONFIG SET dir and dbfilename, as in Redis.
func TestConfigProtected(t *testing.T) {
	for _, mode := range []string{"local", "yes"} {
		dir := t.TempDir()
		ours, ref := startNode(t, "--enable-protected-configs", mode), startRedis(t, "--enable-protected-configs", mode)
		runDifferential(t, ours, ref, []step{
			cmd("CONFIG", "GET", "enable-protected-configs"),
			cmd("CONFIG", "SET", "dbfilename", "x.rdb"), cmd("CONFIG", "GET", "dbfilename"),
			cmd("CONFIG", "SET", "dbfilename", "a/b.rdb"), cmd("CONFIG", "SET", "dir", "/nonexistent/x"),
			cmd("CONFIG", "SET", "dir", dir), cmd("CONFIG", "GET", "dir"),
		})
	}
}

// TestConfigRewriteDifferential: CONFIG REWRITE of the same file after the
// same CONFIG SETs writes what Redis writes (the old lines kept in place,
// the rest appended after the signature), and the node restarted from its
// rewritten file reports the same configuration.
func TestConfigRewriteDifferential(t *testing.T) {
	bin := nodetest.RedisServer(t)
	const original = "# a comment, kept\n" +
		"maxmemory 10mb\n" +
		"hash-max-ziplist-entries 100\n" +
		"slave-read-only yes\n" +
		"timeout 300\n" +
		"timeout 200\n" +
		"save 900 1\n" +
		"save 300 10\n" +
		"client-output-buffer-limit pubsub 1mb 512kb 10\n" +
		"notify-keyspace-events Ex\n" +
		"list-max-ziplist-entries 512\n" +
		"\n\n\n" +
		"appendfsync always\n" +
		"user alice on >pw ~app* +get\n"
	files := [2]string{filepath.Join(t.TempDir(), "redis.conf"), filepath.Join(t.TempDir(), "redis.conf")}
	for _, f := range files {
		if err := os.WriteFile(f, []byte(original), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// No --save on the command line here: the file's save lines count.
	start := func(bin, conf string) *testNode {
		return startWithFileArgs(t, bin, conf)
	}
	nodes := [2]*testNode{start(bin, files[0]), start(nodetest.Binary(t), files[1])}
	sets := [][]string{
		{"maxmemory", "1gb"}, {"hash-max-listpack-entries", "7"}, {"replica-read-only", "no"},
		{"timeout", "0"}, {"save", "100 10"}, {"notify-keyspace-events", "KEA"},
		{"client-output-buffer-limit", "normal 1mb 2mb 3"}, {"loglevel", "warning"},
		{"masterauth", "p w\"x"}, {"maxmemory-clients", "10%"}, {"zset-max-ziplist-value", "1kb"},
		{"appendfsync", "everysec"}, {"lazyfree-lazy-expire", "yes"}, {"oom-score-adj-values", "0 100 900"},
	}
	var before map[string]string
	for i, n := range nodes {
		r := n.raw(t)
		for _, kv := range sets {
			if got := r.do("CONFIG", "SET", kv[0], kv[1]); got != "+OK\r\n" {
				t.Fatalf("server %d: CONFIG SET %s %q: %q", i, kv[0], kv[1], got)
			}
		}
		if got := r.do("ACL", "SETUSER", "bob", "on", "nopass", "%R~b*", "+@read", "(+set ~w*)"); got != "+OK\r\n" {
			t.Fatalf("server %d: ACL SETUSER: %q", i, got)
		}
		if got := r.do("CONFIG", "REWRITE"); got != "+OK\r\n" {
			t.Fatalf("server %d: CONFIG REWRITE: %q", i, got)
		}
		if i == 1 {
			before = configGetAll(t, n.client(t))
		}
	}
	read := func(f string) (head string, tail []string) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h, rest, _ := strings.Cut(string(b), config.RewriteSignature+"\n")
		for _, l := range strings.Split(rest, "\n") {
			switch f := strings.Fields(l); {
			case len(f) == 0, instanceParams[f[0]] && f[0] != "save":
				// per-process values
			default:
				tail = append(tail, l)
			}
		}
		sort.Strings(tail)
		return h, tail
	}
	wantHead, wantTail := read(files[0])
	gotHead, gotTail := read(files[1])
	if gotHead != wantHead {
		t.Errorf("rewritten file, kept part:\n%s\nRedis:\n%s", gotHead, wantHead)
	}
	if strings.Join(gotTail, "\n") != strings.Join(wantTail, "\n") {
		t.Errorf("rewritten file, appended lines:\n%s\nRedis:\n%s", strings.Join(gotTail, "\n"), strings.Join(wantTail, "\n"))
	}
	if !strings.Contains(gotHead, "user alice on #") || !strings.Contains(strings.Join(gotTail, "\n"), "user bob on nopass") {
		t.Errorf("the users are not in the rewritten file:\n%s\n%s", gotHead, strings.Join(gotTail, "\n"))
	}
	// The node restarted from its rewritten file has the same configuration,
	// and the same users as Redis restarted from its own.
	restarted := startWithFileArgs(t, nodetest.Binary(t), files[1])
	after := configGetAll(t, restarted.client(t))
	if got, want := restarted.raw(t).do("ACL", "LIST"), startWithFileArgs(t, bin, files[0]).raw(t).do("ACL", "LIST"); got != want {
		t.Errorf("ACL LIST after restart from the rewritten file:\n ours  %q\n redis %q", got, want)
	}
	for name, v := range before {
		if !instanceParams[name] && after[name] != v {
			t.Errorf("after restart from the rewritten file %s = %q, before %q", name, after[name], v)
		}
	}
}

// startWithFileArgs starts bin with a config file and only the per-process
// options (port, bind, dir, logfile).
func startWithFileArgs(t *testing.T, bin, conf string) *testNode {
	t.Helper()
	return startConfigured(t, bin, conf, nil)
}

// TestConfigMultiArgQuoted: a multi-argument parameter given as one
// quoted argument (--save "3600 1 300 100") is split into its words, on
// the command line and in the file, as Redis 7.0 does.
func TestConfigMultiArgQuoted(t *testing.T) {
	args := []string{"--save", "100 1 200 2", "--client-output-buffer-limit", "normal 1mb 0 0",
		"--oom-score-adj-values", "0 100 900", "--latency-tracking-info-percentiles", "50 99"}
	ours, ref := startNode(t, args...), startRedis(t, args...)
	runDifferential(t, ours, ref, []step{
		cmd("CONFIG", "GET", "save"), cmd("CONFIG", "GET", "client-output-buffer-limit"),
		cmd("CONFIG", "GET", "oom-score-adj-values"), cmd("CONFIG", "GET", "latency-tracking-info-percentiles"),
	})
}

// TestConfigUserLines: redis.conf `user` lines (Redis 7's way to declare
// ACL users without an aclfile) create the users at start-up, as Redis
// does (ACL LIST compared), and a bad rule stops the start with Redis's
// reason.
func TestConfigUserLines(t *testing.T) {
	bin := nodetest.RedisServer(t)
	conf := filepath.Join(t.TempDir(), "redis.conf")
	text := "user alice on >pw ~app:* +get (+set ~w*)\nuser default on nopass ~* &* +@all -flushall\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ours, ref := startWithFileArgs(t, nodetest.Binary(t), conf), startWithFileArgs(t, bin, conf)
	runDifferential(t, ours, ref, []step{
		cmd("ACL", "LIST"), cmd("FLUSHALL"), cmd("AUTH", "alice", "pw"), cmd("GET", "app:1"), cmd("GET", "other"),
		cmd("SET", "w1", "x"), cmd("SET", "app:1", "x"), cmd("ACL", "WHOAMI"),
	})
	bad := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(bad, []byte("user alice on +nosuchcommand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(nodetest.Binary(t), bad, "--port", strconv.Itoa(nodetest.FreePort(t)), "--dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Error loading ACL rule '+nosuchcommand' for the user named 'alice': Unknown command or category name in ACL") {
		t.Fatalf("bad user line: err %v, output:\n%s", err, out)
	}
	// An unclosed selector is refused with the user named (as Redis), not a panic.
	if err := os.WriteFile(bad, []byte("user alice on (+get ~a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(nodetest.Binary(t), bad, "--port", strconv.Itoa(nodetest.FreePort(t)), "--dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Error in user declaration 'alice'") || strings.Contains(string(out), "panic") {
		t.Fatalf("unclosed selector in a user line: err %v, output:\n%s", err, out)
	}
}
