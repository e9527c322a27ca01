package config

import (
	"errors"
	"sort"
	"strings"
)

// params is the parameter table: every name of Redis 7.0's CONFIG GET *
// (with its alias), plus the node's own (event-loops, event-loop-busy-poll, metrics-port,
// cluster-announce-client-port, cluster-announce-client-tls-port,
// set-max-listpack-*), sorted by name. Types, ranges, flags and defaults
// are Redis 7.0.15's.
func params() []Param {
	maxMemory := numSpec{min: 0, max: ullongOK, memory: true, unsigned: true}
	p := []Param{
		withApply(intParam("port", "", 0, 0, 65535, func(c *Config) *int { return &c.Port }), refuseRebind),
		withApply(bindParam(), refuseRebind),
		boolParam("protected-mode", "", 0, func(c *Config) *bool { return &c.ProtectedMode }),
		nullString(stringParam("requirepass", "", 0, func(c *Config) *string { return &c.RequirePass }, nil),
			func(c *Config) *string { return &c.RequirePass }),
		dirParam(),
		stringParam("dbfilename", "", FlagProtected, func(c *Config) *string { return &c.DBFilename },
			baseName("dbfilename can't be a path, just a filename", "")),
		boolParam("appendonly", "", 0, func(c *Config) *bool { return &c.AppendOnly }),
		stringParam("appendfilename", "", FlagImmutable, func(c *Config) *string { return &c.AppendFilename },
			baseName("appendfilename can't be a path, just a filename", "appendfilename can't be empty")),
		stringParam("appenddirname", "", FlagImmutable, func(c *Config) *string { return &c.AppendDirName },
			baseName("appenddirname can't be a path, just a dirname", "appenddirname can't be empty")),
		enumParam("appendfsync", "", 0, []string{"everysec", "always", "no"}, func(c *Config) *string { return &c.AppendFsync }),
		saveParam(),
		boolParam("rdbcompression", "", 0, func(c *Config) *bool { return &c.RDBCompression }),
		numParam("maxmemory", "", 0, maxMemory, func(c *Config) *int64 { return &c.MaxMemory }),
		enumParam("maxmemory-policy", "", 0, maxMemoryPolicies, func(c *Config) *string { return &c.MaxMemoryPolicy }),
		intParam("maxmemory-samples", "", 0, 1, intMax, func(c *Config) *int { return &c.MaxMemorySamples }),
		numParam("maxclients", "", 0, sizes(1, uintMax), func(c *Config) *int { return &c.MaxClients }),
		intParam("timeout", "", 0, 0, intMax, func(c *Config) *int { return &c.Timeout }),
		intParam("tcp-keepalive", "", 0, 0, intMax, func(c *Config) *int { return &c.TCPKeepalive }),
		intParam("event-loops", "", FlagImmutable, 0, 64, func(c *Config) *int { return &c.EventLoops }),
		intParam("event-loop-busy-poll", "", FlagImmutable, 0, 1000, func(c *Config) *int { return &c.EventLoopBusyPoll }),
		intParam("metrics-port", "", FlagImmutable, 0, 65535, func(c *Config) *int { return &c.MetricsPort }),
		intParam("databases", "", FlagImmutable, 1, intMax, func(c *Config) *int { return &c.Databases }),
		enumParam("loglevel", "", 0, []string{"debug", "verbose", "notice", "warning"}, func(c *Config) *string { return &c.LogLevel }),
		stringParam("logfile", "", FlagImmutable, func(c *Config) *string { return &c.LogFile }, nil),
		numParam("proto-max-bulk-len", "", 0, memory(1<<20, longMax), func(c *Config) *int64 { return &c.ProtoMaxBulkLen }),
		outputLimitParam(),
		numParam("slowlog-log-slower-than", "", 0, ints(-1, longMax), func(c *Config) *int64 { return &c.SlowlogSlowerThan }),
		numParam("latency-monitor-threshold", "", 0, ints(0, longMax), func(c *Config) *int64 { return &c.LatencyMonitorThreshold }),
		boolParam("latency-tracking", "", 0, func(c *Config) *bool { return &c.LatencyTracking }),
		stringParam("aclfile", "", FlagImmutable, func(c *Config) *string { return &c.ACLFile }, nil),
		numParam("slowlog-max-len", "", 0, sizes(0, longMax), func(c *Config) *int { return &c.SlowlogMaxLen }),
		hzParam(),
		intParam("lfu-log-factor", "", 0, 0, intMax, func(c *Config) *int { return &c.LFULogFactor }),
		intParam("lfu-decay-time", "", 0, 0, intMax, func(c *Config) *int { return &c.LFUDecayTime }),
		boolParam("cluster-enabled", "", FlagImmutable, func(c *Config) *bool { return &c.ClusterEnabled }),
		stringParam("cluster-config-file", "", FlagImmutable, func(c *Config) *string { return &c.ClusterConfigFile }, nil),
		numParam("cluster-node-timeout", "", 0, ints(0, longMax), func(c *Config) *int64 { return &c.ClusterNodeTimeout }),
		enumParam("enable-debug-command", "", FlagImmutable, []string{"no", "yes", "local"}, func(c *Config) *string { return &c.EnableDebugCommand }),
		enumParam("enable-protected-configs", "", FlagImmutable, []string{"no", "yes", "local"}, func(c *Config) *string { return &c.EnableProtectedConfigs }),
		boolParam("aof-load-truncated", "", 0, func(c *Config) *bool { return &c.AOFLoadTruncated }),
		boolParam("daemonize", "", FlagImmutable, func(c *Config) *bool { return &c.Daemonize }),
		nullString(stringParam("pidfile", "", FlagImmutable, func(c *Config) *string { return &c.PidFile }, nil),
			func(c *Config) *string { return &c.PidFile }),
		noEffect(intParam("shutdown-timeout", "", 0, 0, intMax, func(c *Config) *int { return &c.ShutdownTimeout }),
			"SHUTDOWN does not wait for lagging replicas yet (it saves and exits at once); the node uses it to bound how long SIGTERM waits for a running command"),
		noEffect(shutdownOnSignalParam("shutdown-on-sigint", func(c *Config) *string { return &c.ShutdownOnSigint }),
			"SIGINT shuts down as 'default' (save when save points are set)"),
		noEffect(shutdownOnSignalParam("shutdown-on-sigterm", func(c *Config) *string { return &c.ShutdownOnSigterm }),
			"SIGTERM shuts down as 'default' (save when save points are set)"),
		boolParam("stop-writes-on-bgsave-error", "", 0, func(c *Config) *bool { return &c.Inert.StopWritesOnBgsaveError }),
		numParam("acllog-max-len", "", 0, sizes(0, longMax), func(c *Config) *int { return &c.ACLLogMaxLen }),
		notifyParam(),
		latencyPercentilesParam(),
		oomScoreAdjValuesParam(),
		replicaofParam(),
	}
	p = append(p, clusterParams()...)
	p = append(p, replParams()...)
	p = append(p, encodingParams()...)
	p = append(p, inertParams()...)
	p = append(p, tlsParams()...)
	sort.Slice(p, func(i, j int) bool { return p[i].name < p[j].name })
	return p
}

// maxMemoryPolicies lists the maxmemory-policy values in Redis's order.
var maxMemoryPolicies = []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
	"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}

func withApply(p Param, apply func(old, next *Config) error) Param {
	p.apply = apply
	return p
}

// refuseRebind is the apply of port and bind: Redis moves its listener;
// the node does not rebind at runtime, so a new address is refused with
// the error Redis gives when it cannot listen there (a restart takes it).
func refuseRebind(old, next *Config) error {
	switch {
	case old.Port != next.Port:
		return errors.New("Unable to listen on this port. Check server logs.")
	case strings.Join(old.Bind, " ") != strings.Join(next.Bind, " "):
		return errors.New("Failed to bind to specified addresses.")
	}
	return nil
}

func noEffect(p Param, why string) Param {
	p.noEffect = why
	return p
}

// baseName validates a file name that must not be a path (Redis's
// pathIsBaseName), and, if empty is set, must not be empty.
func baseName(isPath, empty string) func(string) error {
	return func(v string) error {
		if v == "" && empty != "" {
			return errors.New(empty)
		}
		if strings.ContainsAny(v, "/\\") {
			return errors.New(isPath)
		}
		return nil
	}
}
