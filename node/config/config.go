package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/resp"
	"github.com/shoal-dev/shoal/node/tlsconf"
)

// Config is the node's configuration (redis.conf names). The server reads
// it under its lock; CONFIG SET changes it through the parameter table.
type Config struct {
	Port               int
	Bind               []string
	ProtectedMode      bool
	RequirePass        string
	Dir                string
	DBFilename         string
	AppendOnly         bool
	AppendFilename     string
	AppendFsync        string
	Save               string
	RDBCompression     bool  // rdbcompression: LZF for strings of more than 20 bytes in snapshots
	MaxMemory          int64 // unsigned in Redis: -1 is ULLONG_MAX, no limit
	MaxMemoryPolicy    string
	MaxMemorySamples   int
	MaxClients         int
	Timeout            int // seconds, 0 = never
	TCPKeepalive       int // seconds
	EventLoops         int // epoll loops serving clients (default 1); 0: a goroutine per connection (eventloop.go)
	EventLoopBusyPoll  int // microseconds a busy event loop polls before it sleeps (node/eventloop); 0: never
	Databases          int
	LogLevel           string
	LogFile            string
	ProtoMaxBulkLen    int64
	ClientOutputLimit  [3]OutputLimit // normal, replica, pubsub
	SlowlogSlowerThan  int64          // microseconds, <0 disables
	SlowlogMaxLen      int
	Hz                 int
	LFULogFactor       int
	LFUDecayTime       int
	ClusterEnabled     bool
	ClusterConfigFile  string
	ClusterNodeTimeout int64
	Daemonize          bool
	EnableDebugCommand string
	AOFLoadTruncated   bool
	AppendDirName      string
	PidFile            string
	// ShutdownTimeout is shutdown-timeout (seconds).
	ShutdownTimeout int
	// ShutdownOnSigint and ShutdownOnSigterm are shutdown-on-sigint/-sigterm:
	// "default" or flags among save, nosave, now, force.
	ShutdownOnSigint  string
	ShutdownOnSigterm string
	// EnableProtectedConfigs is enable-protected-configs (no, yes, local):
	// who may CONFIG SET dir and dbfilename.
	EnableProtectedConfigs string
	// NotifyKeyspaceEvents is notify-keyspace-events as flags
	// (config_notify.go), read by the engine at every event
	// (node/server/notify.go).
	NotifyKeyspaceEvents int
	// ACLLogMaxLen is acllog-max-len.
	ACLLogMaxLen int
	// Users are the config file's `user <name> [rule ...]` lines, applied
	// in order at start-up as Redis's ACLLoadConfiguredUsers does.
	Users [][]string
	// LatencyTrackingPercentiles is latency-tracking-info-percentiles.
	LatencyTrackingPercentiles []float64
	// LatencyTracking is latency-tracking: per-command latency histograms
	// (LATENCY HISTOGRAM, INFO latencystats).
	LatencyTracking bool
	// LatencyMonitorThreshold is latency-monitor-threshold (ms; 0: the
	// latency monitor records no events).
	LatencyMonitorThreshold int64
	// ACLFile is aclfile: the users file ACL LOAD and ACL SAVE use, loaded
	// at start-up.
	ACLFile string
	// OOMScoreAdjValues is oom-score-adj-values (master, replica, child).
	OOMScoreAdjValues [3]int
	// MetricsPort is metrics-port, the node's own: the port of its
	// Prometheus metrics endpoint (node/metrics) on the bind addresses; 0
	// (the default) serves none.
	MetricsPort int
	// Inert holds the parameters accepted with no effect (config_inert.go).
	Inert InertConfig
	// Encoding is the *-max-listpack-* / *-max-intset-* parameters: when a
	// small value switches to its big encoding.
	Encoding EncodingConfig
	// Cluster is the rest of the cluster-* parameters (cluster_config.go).
	Cluster ClusterConfig
	// Repl is the replication configuration (repl_config.go).
	Repl ReplConfig
	// TLS is the tls-* configuration (tls_config.go).
	TLS TLSConfig
	// File is the config file CONFIG REWRITE writes, or "".
	File string
}

// OutputLimit is one class of client-output-buffer-limit.
type OutputLimit struct {
	Hard, Soft  int64
	SoftSeconds int
}

// Client classes of client-output-buffer-limit.
const (
	ClassNormal = iota
	ClassReplica
	ClassPubSub
)

var outputClassNames = [3]string{"normal", "replica", "pubsub"}

// DefaultConfig is Redis 7's defaults.
func DefaultConfig() *Config {
	return &Config{
		Port:                       6379,
		Bind:                       []string{"*", "-::*"},
		ProtectedMode:              true,
		Dir:                        ".",
		DBFilename:                 "dump.rdb",
		AppendFilename:             "appendonly.aof",
		AppendFsync:                "everysec",
		Save:                       "3600 1 300 100 60 10000",
		RDBCompression:             true,
		MaxMemoryPolicy:            "noeviction",
		MaxMemorySamples:           5,
		MaxClients:                 10000,
		TCPKeepalive:               300,
		EventLoops:                 1,
		EventLoopBusyPoll:          50,
		Databases:                  16,
		LogLevel:                   "notice",
		ProtoMaxBulkLen:            512 << 20,
		ClientOutputLimit:          [3]OutputLimit{{}, {256 << 20, 64 << 20, 60}, {32 << 20, 8 << 20, 60}},
		SlowlogSlowerThan:          10000,
		SlowlogMaxLen:              128,
		Hz:                         10,
		LFULogFactor:               10,
		LFUDecayTime:               1,
		ClusterConfigFile:          "nodes.conf",
		ClusterNodeTimeout:         15000,
		EnableDebugCommand:         "no",
		AOFLoadTruncated:           true,
		AppendDirName:              "appendonlydir",
		ShutdownTimeout:            10,
		ShutdownOnSigint:           "default",
		ShutdownOnSigterm:          "default",
		ACLLogMaxLen:               128,
		EnableProtectedConfigs:     "no",
		LatencyTrackingPercentiles: []float64{50, 99, 99.9},
		LatencyTracking:            true,
		OOMScoreAdjValues:          [3]int{0, 200, 800},
		Inert:                      defaultInertConfig(),
		Cluster:                    defaultClusterConfig(),
		Repl:                       defaultReplConfig(),
		TLS:                        TLSConfig{Settings: tlsconf.Default()},
		Encoding:                   defaultEncodingConfig(),
	}
}

// ConfigError is a configuration line Redis would refuse at start-up. Its
// text is Redis's "*** FATAL CONFIG FILE ERROR ***" report.
type ConfigError struct {
	Line   int    // 1-based, in the text that held it (0: not about a line)
	Text   string // the line, trimmed
	Reason string
}

func (e *ConfigError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("\n*** FATAL CONFIG FILE ERROR (Redis %s) ***\n%s", command.RedisVersion, e.Reason)
	}
	return fmt.Sprintf("\n*** FATAL CONFIG FILE ERROR (Redis %s) ***\nReading the configuration file, at line %d\n>>> '%s'\n%s",
		command.RedisVersion, e.Line, e.Text, e.Reason)
}

// loader reads redis.conf text into a Config as Redis's
// loadServerConfigFromString does.
type loader struct {
	c     *Config
	table *Table
	// saveLoaded: a save line was read; the first one replaces the
	// default rules, the next ones add to them.
	saveLoaded bool
}

// deprecatedDirective are names Redis 7.0 still accepts (and ignores)
// with exactly one argument.
var deprecatedDirective = map[string]bool{
	"list-max-ziplist-entries": true, "list-max-ziplist-value": true, "lua-replicate-commands": true,
}

func (l *loader) load(text string) error {
	for i, line := range strings.Split(text, "\n") {
		line = strings.Trim(line, " \t\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		fail := func(reason string) error { return &ConfigError{Line: i + 1, Text: line, Reason: reason} }
		argv, ok := resp.SplitArgs([]byte(line), nil)
		if !ok {
			return fail("Unbalanced quotes in configuration line")
		}
		if len(argv) == 0 {
			continue
		}
		name := strings.ToLower(string(argv[0]))
		args := make([]string, 0, len(argv)-1)
		for _, a := range argv[1:] {
			args = append(args, string(a))
		}
		if p := l.table.lookup(name); p != nil {
			if !p.is(FlagMultiArg) && len(args) != 1 {
				return fail("wrong number of arguments")
			}
			if p.is(FlagMultiArg) && len(args) == 1 && args[0] != "" {
				// One quoted argument holds the words: save "3600 1 300 100".
				words, ok := resp.SplitArgs([]byte(args[0]), nil)
				if !ok {
					return fail("Unbalanced quotes in configuration line")
				}
				args = args[:0]
				for _, w := range words {
					args = append(args, string(w))
				}
			}
			var err error
			if p.name == "save" {
				err = l.c.appendSaveRules(args, !l.saveLoaded)
				l.saveLoaded = true
			} else {
				err = p.set(l.c, args)
			}
			if err != nil {
				return fail(err.Error())
			}
			continue
		}
		if deprecatedDirective[name] && len(args) == 1 {
			continue
		}
		if name == "user" && len(args) >= 1 {
			l.c.Users = append(l.c.Users, args)
			continue
		}
		if name == "include" && len(args) == 1 {
			if err := l.include(args[0]); err != nil {
				return err
			}
			continue
		}
		return fail("Bad directive or wrong number of arguments")
	}
	return nil
}

// include loads another file; a pattern (conf.d/*.conf) loads every file
// it matches, in order, and none when nothing matches, as Redis 7.
func (l *loader) include(path string) error {
	files := []string{path}
	if strings.ContainsAny(path, "*?[") {
		files, _ = filepath.Glob(path)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return &ConfigError{Reason: fmt.Sprintf("Fatal error, can't open config file '%s': %s", f, ErrnoText(err))}
		}
		if err := l.load(string(b)); err != nil {
			return err
		}
	}
	return nil
}

// check is the sanity checks Redis makes after loading the whole text.
func (l *loader) check() error {
	if l.c.LogFile != "" {
		f, err := os.OpenFile(l.c.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return &ConfigError{Reason: "Can't open the log file: " + ErrnoText(err)}
		}
		f.Close()
	}
	if l.c.ClusterEnabled && l.c.Repl.ReplicaOf != "" {
		return &ConfigError{Reason: "replicaof directive not allowed in cluster mode"}
	}
	return nil
}

// Apply sets one parameter from its configuration-file form.
func (c *Config) Apply(name string, args []string) error {
	l := &loader{c: c, table: newParamTable(params()), saveLoaded: true}
	p := l.table.lookup(name)
	if p == nil {
		return fmt.Errorf("Bad directive or wrong number of arguments")
	}
	return p.set(c, args)
}

// Load parses redis.conf text into c.
func (c *Config) Load(text string) error {
	l := &loader{c: c, table: newParamTable(params())}
	if err := l.load(text); err != nil {
		return err
	}
	return l.check()
}

// Get returns the name/value pairs of the parameters matching a glob
// pattern (CONFIG GET), sorted by name.
func (c *Config) Get(pattern string) [][2]string {
	return configGet(newParamTable(params()), c, []string{pattern})
}

// configGet is CONFIG GET: a pattern without glob characters names one
// parameter (or alias), in any case, and is answered under the name as
// given; a glob pattern matches names and aliases case-insensitively.
// Each name is answered once.
func configGet(t *Table, c *Config, patterns []string) [][2]string {
	var out [][2]string
	seen := map[string]bool{}
	add := func(name string, p *Param) {
		if k := strings.ToLower(name); !seen[k] {
			seen[k] = true
			out = append(out, [2]string{name, p.get(c)})
		}
	}
	for _, pat := range patterns {
		if !strings.ContainsAny(pat, "[*?") {
			if p := t.lookup(pat); p != nil {
				add(pat, p)
			}
			continue
		}
		for _, name := range t.names {
			if command.GlobMatch([]byte(pat), []byte(name), true) {
				add(name, t.byName[name])
			}
		}
	}
	return out
}

// ParseArgs builds a configuration from command-line arguments as
// redis-server takes them: an optional config file first, then
// "--name value..." options, appended to the file's text as lines.
func ParseArgs(args []string) (*Config, error) {
	c := DefaultConfig()
	var text string
	if len(args) > 0 && args[0] == "-" { // the configuration on stdin
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return nil, &ConfigError{Reason: "Reading config from stdin: " + err.Error()}
		}
		text = string(b)
		args = args[1:]
	} else if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		b, err := os.ReadFile(args[0])
		if err != nil {
			return nil, &ConfigError{Reason: fmt.Sprintf("Fatal error, can't open config file '%s': %s", args[0], ErrnoText(err))}
		}
		abs, err := filepath.Abs(args[0])
		if err != nil {
			abs = args[0]
		}
		c.File = abs
		text = string(b)
		args = args[1:]
	}
	options, err := commandLineOptions(args)
	if err != nil {
		return nil, err
	}
	if err := c.Load(text + "\n" + options); err != nil {
		return nil, err
	}
	return c, nil
}

// commandLineOptions turns "--name value..." arguments into config lines
// as redis-server's main does: "--port 6380" in one argument is a line of
// its own, a value is quoted, and a "--save" with no value is save "".
func commandLineOptions(args []string) (string, error) {
	var b strings.Builder
	hasValue := true // the last option has its value
	for j, a := range args {
		if hasValue && strings.HasPrefix(a, "--") {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(a[2:])
			b.WriteByte(' ')
			words, _ := resp.SplitArgs([]byte(a), nil)
			hasValue = len(words) != 1
			if !hasValue && strings.EqualFold(a, "--save") &&
				(j == len(args)-1 || strings.HasPrefix(args[j+1], "--")) {
				b.WriteString(`""`)
				hasValue = true
			}
			continue
		}
		if b.Len() == 0 {
			return "", &ConfigError{Reason: fmt.Sprintf("Invalid option %q: options start with --", a)}
		}
		b.WriteString(QuoteRepr(a))
		b.WriteByte(' ')
		hasValue = true
	}
	return b.String(), nil
}
