package server

import (
	"fmt"
	"strconv"
	"strings"
)

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
	// BacklogTTL is repl-backlog-ttl in seconds.
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
	// DisklessLoad are accepted for compatibility: a full sync always
	// streams the snapshot over the socket.
	DisklessSync            bool
	DisklessSyncDelay       int
	DisklessSyncMaxReplicas int
	DisklessLoad            string
	DisableTCPNoDelay       bool
}

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
// replica-* name and its slave-* alias, as Redis 7 lists both.
func replParams() []param {
	ro := func(c *Config) *bool { return &c.Repl.ReadOnly }
	stale := func(c *Config) *bool { return &c.Repl.ServeStaleData }
	prio := func(c *Config) *int { return &c.Repl.Priority }
	minW := func(c *Config) *int { return &c.Repl.MinReplicasToWrite }
	minLag := func(c *Config) *int { return &c.Repl.MinReplicasMaxLag }
	ping := func(c *Config) *int { return &c.Repl.PingPeriod }
	aip := func(c *Config) *string { return &c.Repl.AnnounceIP }
	aport := func(c *Config) *int { return &c.Repl.AnnouncePort }
	announced := func(c *Config) *bool { return &c.Repl.Announced }
	lazy := func(c *Config) *bool { return &c.Repl.LazyFlush }
	const maxInt = 1<<31 - 1
	return []param{
		stringParam("masterauth", false, func(c *Config) *string { return &c.Repl.MasterAuth }),
		stringParam("masteruser", false, func(c *Config) *string { return &c.Repl.MasterUser }),
		{name: "replicaof", immutable: true,
			get: func(c *Config) string { return c.Repl.ReplicaOf },
			set: func(c *Config, v string) error {
				f := strings.Fields(v)
				if len(f) != 2 {
					return fmt.Errorf("wrong number of arguments")
				}
				if strings.EqualFold(f[0], "no") && strings.EqualFold(f[1], "one") {
					c.Repl.ReplicaOf = ""
					return nil
				}
				if n, err := strconv.Atoi(f[1]); err != nil || n < 0 || n > 65535 {
					return fmt.Errorf("Invalid master port")
				}
				c.Repl.ReplicaOf = f[0] + " " + f[1]
				return nil
			}},
		boolParam("replica-read-only", false, ro),
		boolParam("slave-read-only", false, ro),
		boolParam("replica-serve-stale-data", false, stale),
		boolParam("slave-serve-stale-data", false, stale),
		intParam("replica-priority", false, 0, maxInt, prio),
		intParam("slave-priority", false, 0, maxInt, prio),
		memParam("repl-backlog-size", func(c *Config) *int64 { return &c.Repl.BacklogSize }),
		intParam("repl-backlog-ttl", false, 0, maxInt, func(c *Config) *int { return &c.Repl.BacklogTTL }),
		intParam("repl-timeout", false, 1, maxInt, func(c *Config) *int { return &c.Repl.Timeout }),
		intParam("repl-ping-replica-period", false, 1, maxInt, ping),
		intParam("repl-ping-slave-period", false, 1, maxInt, ping),
		intParam("min-replicas-to-write", false, 0, maxInt, minW),
		intParam("min-slaves-to-write", false, 0, maxInt, minW),
		intParam("min-replicas-max-lag", false, 0, maxInt, minLag),
		intParam("min-slaves-max-lag", false, 0, maxInt, minLag),
		stringParam("replica-announce-ip", false, aip),
		stringParam("slave-announce-ip", false, aip),
		intParam("replica-announce-port", false, 0, 65535, aport),
		intParam("slave-announce-port", false, 0, 65535, aport),
		boolParam("replica-announced", false, announced),
		boolParam("slave-announced", false, announced),
		boolParam("replica-lazy-flush", false, lazy),
		boolParam("slave-lazy-flush", false, lazy),
		boolParam("repl-diskless-sync", false, func(c *Config) *bool { return &c.Repl.DisklessSync }),
		intParam("repl-diskless-sync-delay", false, 0, maxInt, func(c *Config) *int { return &c.Repl.DisklessSyncDelay }),
		intParam("repl-diskless-sync-max-replicas", false, 0, maxInt, func(c *Config) *int { return &c.Repl.DisklessSyncMaxReplicas }),
		enumParam("repl-diskless-load", []string{"disabled", "on-empty-db", "swapdb"}, func(c *Config) *string { return &c.Repl.DisklessLoad }),
		boolParam("repl-disable-tcp-nodelay", false, func(c *Config) *bool { return &c.Repl.DisableTCPNoDelay }),
	}
}
