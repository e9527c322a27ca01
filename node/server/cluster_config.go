package server

import (
	"fmt"
	"strconv"
)

// ClusterConfig is the cluster-mode configuration beyond cluster-enabled,
// cluster-config-file and cluster-node-timeout (which live in Config).
// Names are redis.conf's.
type ClusterConfig struct {
	// Port is cluster-port: the cluster bus port; 0 means port+10000.
	Port int
	// AnnounceIP, AnnouncePort, AnnounceBusPort, AnnounceHostname are
	// cluster-announce-*: what this node tells its peers (0/"" = the real
	// values).
	AnnounceIP       string
	AnnouncePort     int
	AnnounceBusPort  int
	AnnounceHostname string
	// PreferredEndpointType is cluster-preferred-endpoint-type (ip,
	// hostname, unknown-endpoint): what MOVED/ASK and CLUSTER SLOTS name.
	PreferredEndpointType string

	RequireFullCoverage      bool
	AllowReadsWhenDown       bool
	AllowPubsubshardWhenDown bool
	ReplicaValidityFactor    int
	MigrationBarrier         int
	ReplicaNoFailover        bool
	AllowReplicaMigration    bool
	LinkSendbufLimit         int64 // bytes, 0 = unlimited
}

// defaultClusterConfig is Redis 7's defaults.
func defaultClusterConfig() ClusterConfig {
	return ClusterConfig{
		PreferredEndpointType:    "ip",
		RequireFullCoverage:      true,
		AllowPubsubshardWhenDown: true,
		ReplicaValidityFactor:    10,
		MigrationBarrier:         1,
		AllowReplicaMigration:    true,
	}
}

// busPort is the port the cluster bus listens on.
func (c *Config) busPort() int {
	if c.Cluster.Port != 0 {
		return c.Cluster.Port
	}
	return c.Port + 10000
}

// clusterParams are the cluster-* parameters of ClusterConfig. The ones the
// cluster state machine reads are immutable at runtime: the machine takes
// its configuration when it is created.
func clusterParams() []param {
	validity := func(c *Config) *int { return &c.Cluster.ReplicaValidityFactor }
	noFailover := func(c *Config) *bool { return &c.Cluster.ReplicaNoFailover }
	return []param{
		intParam("cluster-port", true, 0, 65535, func(c *Config) *int { return &c.Cluster.Port }),
		stringParam("cluster-announce-ip", true, func(c *Config) *string { return &c.Cluster.AnnounceIP }),
		intParam("cluster-announce-port", true, 0, 65535, func(c *Config) *int { return &c.Cluster.AnnouncePort }),
		intParam("cluster-announce-bus-port", true, 0, 65535, func(c *Config) *int { return &c.Cluster.AnnounceBusPort }),
		stringParam("cluster-announce-hostname", true, func(c *Config) *string { return &c.Cluster.AnnounceHostname }),
		{name: "cluster-preferred-endpoint-type", immutable: true,
			get: func(c *Config) string { return c.Cluster.PreferredEndpointType },
			set: func(c *Config, v string) error {
				switch v {
				case "ip", "hostname", "unknown-endpoint":
					c.Cluster.PreferredEndpointType = v
					return nil
				}
				return fmt.Errorf("argument(s) must be one of the following: ip, hostname, unknown-endpoint")
			}},
		boolParam("cluster-require-full-coverage", true, func(c *Config) *bool { return &c.Cluster.RequireFullCoverage }),
		boolParam("cluster-allow-reads-when-down", false, func(c *Config) *bool { return &c.Cluster.AllowReadsWhenDown }),
		boolParam("cluster-allow-pubsubshard-when-down", false, func(c *Config) *bool { return &c.Cluster.AllowPubsubshardWhenDown }),
		intParam("cluster-replica-validity-factor", true, 0, 1<<31-1, validity),
		intParam("cluster-slave-validity-factor", true, 0, 1<<31-1, validity),
		intParam("cluster-migration-barrier", true, 0, 1<<31-1, func(c *Config) *int { return &c.Cluster.MigrationBarrier }),
		boolParam("cluster-replica-no-failover", true, noFailover),
		boolParam("cluster-slave-no-failover", true, noFailover),
		boolParam("cluster-allow-replica-migration", true, func(c *Config) *bool { return &c.Cluster.AllowReplicaMigration }),
		{name: "cluster-link-sendbuf-limit",
			get: func(c *Config) string { return strconv.FormatInt(c.Cluster.LinkSendbufLimit, 10) },
			set: func(c *Config, v string) error {
				n, ok := ParseMemory(v)
				if !ok {
					return fmt.Errorf("argument must be a memory value")
				}
				c.Cluster.LinkSendbufLimit = n
				return nil
			}},
	}
}
