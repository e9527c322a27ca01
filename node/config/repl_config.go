package config

// ReplConfig is the replication configuration (redis.conf names; the
// slave-* spellings are aliases of the replica-* ones).
type ReplConfig struct {
	// MasterAuth and MasterUser are masterauth / masteruser: what a
	// replica AUTHs with at its master.
	MasterAuth string
	MasterUser string
	// ReplicaOf is replicaof / slaveof "host port" from the configuration
	// file ("" = a master).
	ReplicaOf string
	// ReadOnly is replica-read-only.
	ReadOnly bool
	// ServeStaleData is replica-serve-stale-data.
	ServeStaleData bool
	// Priority is replica-priority (0 = never promoted).
	Priority int
	// BacklogSize is repl-backlog-size in bytes.
	BacklogSize int64
	// BacklogTTL is repl-backlog-ttl in seconds: how long a master keeps
	// its backlog with no replica (freeIdleBacklog; 0 = for good).
	BacklogTTL int
	// Timeout is repl-timeout in seconds.
	Timeout int
	// PingPeriod is repl-ping-replica-period in seconds.
	PingPeriod int
	// MinReplicasToWrite and MinReplicasMaxLag are min-replicas-to-write
	// and min-replicas-max-lag (seconds).
	MinReplicasToWrite int
	MinReplicasMaxLag  int
	// AnnounceIP and AnnouncePort are replica-announce-ip/-port.
	AnnounceIP   string
	AnnouncePort int
	// Announced is replica-announced.
	Announced bool
	// LazyFlush is replica-lazy-flush.
	LazyFlush bool
	// DisklessSync, DisklessSyncDelay, DisklessSyncMaxReplicas and
	// DisklessLoad are accepted with no effect: a full sync always streams
	// a snapshot of its own to each replica over the socket.
	DisklessSync            bool
	DisklessSyncDelay       int
	DisklessSyncMaxReplicas int
	DisklessLoad            string
	// DisableTCPNoDelay is repl-disable-tcp-nodelay: TCP_NODELAY off on a
	// replica's connection (node/replication cmdPsync).
	DisableTCPNoDelay bool
}

// minBacklogSize is the least backlog CONFIG SET repl-backlog-size gives
// (Redis's CONFIG_REPL_BACKLOG_MIN_SIZE).
const minBacklogSize = 16 << 10

// defaultReplConfig is Redis 7's defaults.
func defaultReplConfig() ReplConfig {
	return ReplConfig{
		ReadOnly:          true,
		ServeStaleData:    true,
		Priority:          100,
		BacklogSize:       1 << 20,
		BacklogTTL:        3600,
		Timeout:           60,
		PingPeriod:        10,
		MinReplicasMaxLag: 10,
		Announced:         true,
		DisklessSync:      true,
		DisklessSyncDelay: 5,
		DisklessLoad:      "disabled",
	}
}

// replParams are the replication parameters of ReplConfig, each under its
// replica-* name and its slave-* alias, as Redis 7 lists both. replicaof
// is in config_special.go.
func replParams() []Param {
	nullStr := func(name, alias string, f func(c *Config) *string) Param {
		return nullString(stringParam(name, alias, 0, f, nil), f)
	}
	return []Param{
		nullStr("masterauth", "", func(c *Config) *string { return &c.Repl.MasterAuth }),
		nullStr("masteruser", "", func(c *Config) *string { return &c.Repl.MasterUser }),
		boolParam("replica-read-only", "slave-read-only", 0, func(c *Config) *bool { return &c.Repl.ReadOnly }),
		boolParam("replica-serve-stale-data", "slave-serve-stale-data", 0, func(c *Config) *bool { return &c.Repl.ServeStaleData }),
		intParam("replica-priority", "slave-priority", 0, 0, intMax, func(c *Config) *int { return &c.Repl.Priority }),
		withApply(numParam("repl-backlog-size", "", 0, memory(1, longMax), func(c *Config) *int64 { return &c.Repl.BacklogSize }),
			func(_, next *Config) error {
				next.Repl.BacklogSize = max(next.Repl.BacklogSize, minBacklogSize)
				return nil
			}),
		intParam("repl-backlog-ttl", "", 0, 0, longMax, func(c *Config) *int { return &c.Repl.BacklogTTL }),
		intParam("repl-timeout", "", 0, 1, intMax, func(c *Config) *int { return &c.Repl.Timeout }),
		intParam("repl-ping-replica-period", "repl-ping-slave-period", 0, 1, intMax, func(c *Config) *int { return &c.Repl.PingPeriod }),
		intParam("min-replicas-to-write", "min-slaves-to-write", 0, 0, intMax, func(c *Config) *int { return &c.Repl.MinReplicasToWrite }),
		intParam("min-replicas-max-lag", "min-slaves-max-lag", 0, 0, intMax, func(c *Config) *int { return &c.Repl.MinReplicasMaxLag }),
		nullStr("replica-announce-ip", "slave-announce-ip", func(c *Config) *string { return &c.Repl.AnnounceIP }),
		intParam("replica-announce-port", "slave-announce-port", 0, 0, 65535, func(c *Config) *int { return &c.Repl.AnnouncePort }),
		boolParam("replica-announced", "", 0, func(c *Config) *bool { return &c.Repl.Announced }),
		noEffect(boolParam("replica-lazy-flush", "slave-lazy-flush", 0, func(c *Config) *bool { return &c.Repl.LazyFlush }),
			"a replica's flush before loading its master's snapshot takes no visible time either way (values are freed by the Go collector)"),
		noEffect(boolParam("repl-diskless-sync", "", 0, func(c *Config) *bool { return &c.Repl.DisklessSync }),
			"a full sync always streams the snapshot over the socket (diskless), never through a file"),
		noEffect(intParam("repl-diskless-sync-delay", "", 0, 0, intMax, func(c *Config) *int { return &c.Repl.DisklessSyncDelay }),
			"a full sync starts at once: each replica gets its own snapshot stream, so waiting for more replicas to share one would save nothing"),
		noEffect(intParam("repl-diskless-sync-max-replicas", "", 0, 0, intMax, func(c *Config) *int { return &c.Repl.DisklessSyncMaxReplicas }),
			"each replica's full sync gets its own snapshot stream, so there is no shared transfer to start early"),
		noEffect(enumParam("repl-diskless-load", "", 0, []string{"disabled", "on-empty-db", "swapdb"}, func(c *Config) *string { return &c.Repl.DisklessLoad }),
			"a replica always loads the snapshot from the socket into memory (as on-empty-db) without a temp file"),
		boolParam("repl-disable-tcp-nodelay", "", 0, func(c *Config) *bool { return &c.Repl.DisableTCPNoDelay }),
	}
}
