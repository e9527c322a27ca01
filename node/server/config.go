package server

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/node/resp"
)

// Config is the node's configuration (redis.conf names). The server reads
// it under its lock; CONFIG SET changes it through the param table.
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
	MaxMemory          int64
	MaxMemoryPolicy    string
	MaxMemorySamples   int
	MaxClients         int
	Timeout            int // seconds, 0 = never
	TCPKeepalive       int // seconds
	EventLoops         int // epoll loops serving clients (default 1); 0: a goroutine per connection (eventloop.go)
	EventLoopBusyPoll  int // microseconds a busy event loop polls before it sleeps (busypoll.go); 0: never
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
	// Encoding is the *-max-listpack-* / *-max-intset-* parameters: when a
	// small value switches to its big encoding.
	Encoding EncodingConfig
	// Cluster is the rest of the cluster-* parameters (cluster_config.go).
	Cluster ClusterConfig
	// Repl is the replication configuration (repl_config.go).
	Repl ReplConfig
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
		Port:               6379,
		Bind:               []string{"*", "-::*"},
		ProtectedMode:      true,
		Dir:                ".",
		DBFilename:         "dump.rdb",
		AppendFilename:     "appendonly.aof",
		AppendFsync:        "everysec",
		Save:               "3600 1 300 100 60 10000",
		MaxMemoryPolicy:    "noeviction",
		MaxMemorySamples:   5,
		MaxClients:         10000,
		TCPKeepalive:       300,
		EventLoops:         1,
		EventLoopBusyPoll:  50,
		Databases:          16,
		LogLevel:           "notice",
		ProtoMaxBulkLen:    512 << 20,
		ClientOutputLimit:  [3]OutputLimit{{}, {256 << 20, 64 << 20, 60}, {32 << 20, 8 << 20, 60}},
		SlowlogSlowerThan:  10000,
		SlowlogMaxLen:      128,
		Hz:                 10,
		LFULogFactor:       10,
		LFUDecayTime:       1,
		ClusterConfigFile:  "nodes.conf",
		ClusterNodeTimeout: 15000,
		EnableDebugCommand: "no",
		AOFLoadTruncated:   true,
		AppendDirName:      "appendonlydir",
		Cluster:            defaultClusterConfig(),
		Repl:               defaultReplConfig(),
		Encoding:           defaultEncodingConfig(),
	}
}

// param is one configuration parameter.
type param struct {
	name      string
	immutable bool
	get       func(c *Config) string
	set       func(c *Config, v string) error
}

func boolParam(name string, immutable bool, f func(c *Config) *bool) param {
	return param{name: name, immutable: immutable,
		get: func(c *Config) string { return yesNo(*f(c)) },
		set: func(c *Config, v string) error {
			switch strings.ToLower(v) {
			case "yes":
				*f(c) = true
			case "no":
				*f(c) = false
			default:
				return fmt.Errorf("argument must be 'yes' or 'no'")
			}
			return nil
		}}
}

func intParam(name string, immutable bool, min, max int64, f func(c *Config) *int) param {
	return param{name: name, immutable: immutable,
		get: func(c *Config) string { return strconv.Itoa(*f(c)) },
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("argument couldn't be parsed into an integer")
			}
			if n < min || n > max {
				return fmt.Errorf("argument must be between %d and %d inclusive", min, max)
			}
			*f(c) = int(n)
			return nil
		}}
}

func int64Param(name string, min, max int64, f func(c *Config) *int64) param {
	return param{name: name,
		get: func(c *Config) string { return strconv.FormatInt(*f(c), 10) },
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("argument couldn't be parsed into an integer")
			}
			if n < min || n > max {
				return fmt.Errorf("argument must be between %d and %d inclusive", min, max)
			}
			*f(c) = n
			return nil
		}}
}

func memParam(name string, f func(c *Config) *int64) param {
	return param{name: name,
		get: func(c *Config) string { return strconv.FormatInt(*f(c), 10) },
		set: func(c *Config, v string) error {
			n, ok := ParseMemory(v)
			if !ok {
				return fmt.Errorf("argument must be a memory value")
			}
			*f(c) = n
			return nil
		}}
}

func stringParam(name string, immutable bool, f func(c *Config) *string) param {
	return param{name: name, immutable: immutable,
		get: func(c *Config) string { return *f(c) },
		set: func(c *Config, v string) error { *f(c) = v; return nil }}
}

func enumParam(name string, values []string, f func(c *Config) *string) param {
	return param{name: name,
		get: func(c *Config) string { return *f(c) },
		set: func(c *Config, v string) error {
			v = strings.ToLower(v)
			for _, ok := range values {
				if v == ok {
					*f(c) = v
					return nil
				}
			}
			return fmt.Errorf("argument(s) must be one of the following: %s", strings.Join(values, ", "))
		}}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// MaxMemoryPolicies lists the supported maxmemory-policy values.
var maxMemoryPolicies = []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
	"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}

// params is the parameter table, sorted by name.
func params() []param {
	p := []param{
		intParam("port", false, 0, 65535, func(c *Config) *int { return &c.Port }),
		{name: "bind",
			get: func(c *Config) string { return strings.Join(c.Bind, " ") },
			set: func(c *Config, v string) error { c.Bind = strings.Fields(v); return nil }},
		boolParam("protected-mode", false, func(c *Config) *bool { return &c.ProtectedMode }),
		stringParam("requirepass", false, func(c *Config) *string { return &c.RequirePass }),
		{name: "dir",
			get: func(c *Config) string {
				if d, err := os.Getwd(); err == nil {
					return d
				}
				return c.Dir
			},
			set: func(c *Config, v string) error {
				if err := os.Chdir(v); err != nil {
					return err
				}
				c.Dir = v
				return nil
			}},
		stringParam("dbfilename", false, func(c *Config) *string { return &c.DBFilename }),
		boolParam("appendonly", false, func(c *Config) *bool { return &c.AppendOnly }),
		stringParam("appendfilename", true, func(c *Config) *string { return &c.AppendFilename }),
		enumParam("appendfsync", []string{"always", "everysec", "no"}, func(c *Config) *string { return &c.AppendFsync }),
		{name: "save",
			get: func(c *Config) string { return c.Save },
			set: func(c *Config, v string) error {
				f := strings.Fields(v)
				if len(f)%2 != 0 {
					return fmt.Errorf("Invalid save parameters")
				}
				for _, x := range f {
					if n, err := strconv.Atoi(x); err != nil || n < 0 {
						return fmt.Errorf("Invalid save parameters")
					}
				}
				c.Save = strings.Join(f, " ")
				return nil
			}},
		memParam("maxmemory", func(c *Config) *int64 { return &c.MaxMemory }),
		enumParam("maxmemory-policy", maxMemoryPolicies, func(c *Config) *string { return &c.MaxMemoryPolicy }),
		intParam("maxmemory-samples", false, 1, 64, func(c *Config) *int { return &c.MaxMemorySamples }),
		intParam("maxclients", false, 1, 1<<31-1, func(c *Config) *int { return &c.MaxClients }),
		intParam("timeout", false, 0, 1<<31-1, func(c *Config) *int { return &c.Timeout }),
		intParam("tcp-keepalive", false, 0, 1<<31-1, func(c *Config) *int { return &c.TCPKeepalive }),
		intParam("event-loops", true, 0, 64, func(c *Config) *int { return &c.EventLoops }),
		intParam("event-loop-busy-poll", true, 0, 1000, func(c *Config) *int { return &c.EventLoopBusyPoll }),
		intParam("databases", true, 1, 1<<31-1, func(c *Config) *int { return &c.Databases }),
		enumParam("loglevel", []string{"debug", "verbose", "notice", "warning", "nothing"}, func(c *Config) *string { return &c.LogLevel }),
		stringParam("logfile", true, func(c *Config) *string { return &c.LogFile }),
		memParam("proto-max-bulk-len", func(c *Config) *int64 { return &c.ProtoMaxBulkLen }),
		{name: "client-output-buffer-limit",
			get: func(c *Config) string {
				var parts []string
				for i, l := range c.ClientOutputLimit {
					name := outputClassNames[i]
					if i == ClassReplica {
						name = "slave"
					}
					parts = append(parts, fmt.Sprintf("%s %d %d %d", name, l.Hard, l.Soft, l.SoftSeconds))
				}
				return strings.Join(parts, " ")
			},
			set: setOutputLimits},
		int64Param("slowlog-log-slower-than", -1, 1<<62, func(c *Config) *int64 { return &c.SlowlogSlowerThan }),
		intParam("slowlog-max-len", false, 0, 1<<31-1, func(c *Config) *int { return &c.SlowlogMaxLen }),
		intParam("hz", false, 1, 500, func(c *Config) *int { return &c.Hz }),
		intParam("lfu-log-factor", false, 0, 1<<31-1, func(c *Config) *int { return &c.LFULogFactor }),
		intParam("lfu-decay-time", false, 0, 1<<31-1, func(c *Config) *int { return &c.LFUDecayTime }),
		boolParam("cluster-enabled", true, func(c *Config) *bool { return &c.ClusterEnabled }),
		stringParam("cluster-config-file", true, func(c *Config) *string { return &c.ClusterConfigFile }),
		int64Param("cluster-node-timeout", 0, 1<<62, func(c *Config) *int64 { return &c.ClusterNodeTimeout }),
		{name: "enable-debug-command", immutable: true,
			get: func(c *Config) string { return c.EnableDebugCommand },
			set: func(c *Config, v string) error {
				switch v = strings.ToLower(v); v {
				case "yes", "no", "local":
					c.EnableDebugCommand = v
					return nil
				}
				return fmt.Errorf("argument must be one of the following: no, yes, local")
			}},
		boolParam("aof-load-truncated", false, func(c *Config) *bool { return &c.AOFLoadTruncated }),
		stringParam("appenddirname", true, func(c *Config) *string { return &c.AppendDirName }),
		boolParam("daemonize", true, func(c *Config) *bool { return &c.Daemonize }),
		stringParam("pidfile", true, func(c *Config) *string { return &c.PidFile }),
	}
	p = append(p, clusterParams()...)
	p = append(p, replParams()...)
	p = append(p, encodingParams()...)
	sort.Slice(p, func(i, j int) bool { return p[i].name < p[j].name })
	return p
}

func setOutputLimits(c *Config, v string) error {
	f := strings.Fields(v)
	if len(f)%4 != 0 || len(f) == 0 {
		return fmt.Errorf("Wrong number of arguments in buffer limit configuration.")
	}
	limits := c.ClientOutputLimit
	for i := 0; i < len(f); i += 4 {
		class := -1
		switch strings.ToLower(f[i]) {
		case "normal":
			class = ClassNormal
		case "replica", "slave":
			class = ClassReplica
		case "pubsub":
			class = ClassPubSub
		}
		hard, ok1 := ParseMemory(f[i+1])
		soft, ok2 := ParseMemory(f[i+2])
		secs, err := strconv.Atoi(f[i+3])
		if class < 0 || !ok1 || !ok2 || err != nil || hard < 0 || soft < 0 || secs < 0 {
			return fmt.Errorf("Invalid client class specified in buffer limit configuration.")
		}
		limits[class] = OutputLimit{hard, soft, secs}
	}
	c.ClientOutputLimit = limits
	return nil
}

// ParseMemory parses a memory amount as redis.conf does: 1k = 1000,
// 1kb = 1024, and m/mb, g/gb alike.
func ParseMemory(s string) (int64, bool) {
	s = strings.ToLower(s)
	mul := int64(1)
	for _, u := range []struct {
		suffix string
		mul    int64
	}{{"kb", 1024}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s = strings.TrimSuffix(s, u.suffix)
			mul = u.mul
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n * mul, true
}

func findParam(ps []param, name string) *param {
	name = strings.ToLower(name)
	switch name { // aliases, as Redis
	case "slaveof":
		name = "replicaof"
	}
	i := sort.Search(len(ps), func(i int) bool { return ps[i].name >= name })
	if i < len(ps) && ps[i].name == name {
		return &ps[i]
	}
	return nil
}

// Apply sets one parameter from its configuration-file form.
func (c *Config) Apply(name string, args []string) error {
	p := findParam(params(), name)
	if p == nil {
		return fmt.Errorf("Bad directive or wrong number of arguments")
	}
	return p.set(c, strings.Join(args, " "))
}

// Get returns the name/value pairs of the parameters matching a glob
// pattern (CONFIG GET), sorted by name.
func (c *Config) Get(pattern string) [][2]string {
	var out [][2]string
	for _, p := range params() {
		if GlobMatch([]byte(strings.ToLower(pattern)), []byte(p.name), false) {
			out = append(out, [2]string{p.name, p.get(c)})
		}
	}
	return out
}

// LoadConfig parses redis.conf text and command-line style options into c.
// The file is read first, so options override it, as in Redis.
func (c *Config) Load(text string) error {
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		args, ok := resp.SplitArgs([]byte(line), nil)
		if !ok {
			return fmt.Errorf("line %d: unbalanced quotes in configuration line", i+1)
		}
		if len(args) == 0 {
			continue
		}
		name := strings.ToLower(string(args[0]))
		vals := make([]string, 0, len(args)-1)
		for _, a := range args[1:] {
			vals = append(vals, string(a))
		}
		if name == "include" {
			if len(vals) != 1 {
				return fmt.Errorf("line %d: include needs one file", i+1)
			}
			b, err := os.ReadFile(vals[0])
			if err != nil {
				return err
			}
			if err := c.Load(string(b)); err != nil {
				return err
			}
			continue
		}
		if name == "client-output-buffer-limit" {
			// Several lines accumulate, one per class.
			if err := setOutputLimits(c, strings.Join(vals, " ")); err != nil {
				return fmt.Errorf("line %d: %v", i+1, err)
			}
			continue
		}
		if err := c.Apply(name, vals); err != nil {
			return fmt.Errorf("line %d: '%s': %v", i+1, line, err)
		}
	}
	return nil
}

// ParseArgs builds a configuration from command-line arguments as
// redis-server takes them: an optional config file first, then
// "--name value..." options.
func ParseArgs(args []string) (*Config, error) {
	c := DefaultConfig()
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		b, err := os.ReadFile(args[0])
		if err != nil {
			return nil, err
		}
		abs := args[0]
		if !path.IsAbs(abs) {
			if wd, err := os.Getwd(); err == nil {
				abs = path.Join(wd, abs)
			}
		}
		c.File = abs
		if err := c.Load(string(b)); err != nil {
			return nil, fmt.Errorf("%s: %w", args[0], err)
		}
		args = args[1:]
	}
	var lines []string
	for _, a := range args {
		if strings.HasPrefix(a, "--") && len(a) > 2 {
			lines = append(lines, a[2:])
			continue
		}
		if len(lines) == 0 {
			return nil, fmt.Errorf("unexpected argument %q", a)
		}
		lines[len(lines)-1] += " " + quoteArg(a)
	}
	if err := c.Load(strings.Join(lines, "\n")); err != nil {
		return nil, err
	}
	return c, nil
}

// quoteArg quotes a command-line value so SplitArgs reads it back as one
// argument (empty strings included: --save "").
func quoteArg(s string) string {
	return strconv.Quote(s)
}

// Rewrite writes the configuration back to its file (CONFIG REWRITE): the
// parameters that differ from the defaults, one per line.
func (c *Config) Rewrite() error {
	if c.File == "" {
		return fmt.Errorf("The server is running without a config file")
	}
	def := DefaultConfig()
	var b strings.Builder
	b.WriteString("# Generated by CONFIG REWRITE\n")
	for _, p := range params() {
		if p.name == "dir" {
			fmt.Fprintf(&b, "dir %s\n", strconv.Quote(p.get(c)))
			continue
		}
		if v := p.get(c); v != p.get(def) {
			if p.name == "client-output-buffer-limit" {
				f := strings.Fields(v)
				for i := 0; i+3 < len(f); i += 4 {
					fmt.Fprintf(&b, "%s %s %s %s %s\n", p.name, f[i], f[i+1], f[i+2], f[i+3])
				}
				continue
			}
			fmt.Fprintf(&b, "%s %s\n", p.name, strconv.Quote(v))
		}
	}
	tmp := c.File + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, c.File)
}
