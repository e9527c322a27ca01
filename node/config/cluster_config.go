package config

import "errors"

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
	// AnnounceClientPort and AnnounceClientTLSPort are the node's own
	// cluster-announce-client-port and -client-tls-port (Valkey's names):
	// the port clients are told to use in CLUSTER SLOTS, SHARDS and
	// MOVED/ASK, while peers keep replicating from the announced port
	// (behind a NodePort the two differ). 0: the announced port.
	AnnounceClientPort    int
	AnnounceClientTLSPort int
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

// BusPort is the port the cluster bus listens on: cluster-port, or as in
// Redis the client port plus 10000, where the client port is tls-port
// when tls-cluster is on.
func (c *Config) BusPort() int {
	if c.Cluster.Port != 0 {
		return c.Cluster.Port
	}
	return c.ClusterClientPort() + 10000
}

// ClusterClientPort is the client port the cluster knows this node by
// (CLUSTER NODES, SLOTS, SHARDS, MOVED): tls-port when tls-cluster is on
// (Redis 7.0: myself->port), the plain port otherwise.
func (c *Config) ClusterClientPort() int {
	if c.TLS.Cluster && c.TLS.Port != 0 {
		return c.TLS.Port
	}
	return c.Port
}

// AnnouncedClientPort is the port this node tells clients to use, 0 for
// its announced port: cluster-announce-client-tls-port when tls-cluster is
// on (clients then speak TLS), cluster-announce-client-port otherwise.
func (c *Config) AnnouncedClientPort() int {
	if c.TLS.Cluster && c.TLS.Port != 0 {
		return c.Cluster.AnnounceClientTLSPort
	}
	return c.Cluster.AnnounceClientPort
}

// clusterParams are the cluster-* parameters of ClusterConfig. As in
// Redis, CONFIG SET changes the announce-* ones, the endpoint type and the
// failover knobs at runtime (node/clusternode's ConfigChanged hook hands them
// to the machine); cluster-port is immutable.
func clusterParams() []Param {
	const imm = FlagImmutable
	return []Param{
		intParam("cluster-port", "", imm, 0, 65535, func(c *Config) *int { return &c.Cluster.Port }),
		nullString(stringParam("cluster-announce-ip", "", 0, func(c *Config) *string { return &c.Cluster.AnnounceIP }, nil),
			func(c *Config) *string { return &c.Cluster.AnnounceIP }),
		intParam("cluster-announce-port", "", 0, 0, 65535, func(c *Config) *int { return &c.Cluster.AnnouncePort }),
		intParam("cluster-announce-bus-port", "", 0, 0, 65535, func(c *Config) *int { return &c.Cluster.AnnounceBusPort }),
		nullString(stringParam("cluster-announce-hostname", "", 0, func(c *Config) *string { return &c.Cluster.AnnounceHostname }, validateHostname),
			func(c *Config) *string { return &c.Cluster.AnnounceHostname }),
		intParam("cluster-announce-client-port", "", 0, 0, 65535, func(c *Config) *int { return &c.Cluster.AnnounceClientPort }),
		intParam("cluster-announce-client-tls-port", "", 0, 0, 65535, func(c *Config) *int { return &c.Cluster.AnnounceClientTLSPort }),
		enumParam("cluster-preferred-endpoint-type", "", 0, []string{"ip", "hostname", "unknown-endpoint"},
			func(c *Config) *string { return &c.Cluster.PreferredEndpointType }),
		boolParam("cluster-require-full-coverage", "", 0, func(c *Config) *bool { return &c.Cluster.RequireFullCoverage }),
		boolParam("cluster-allow-reads-when-down", "", 0, func(c *Config) *bool { return &c.Cluster.AllowReadsWhenDown }),
		boolParam("cluster-allow-pubsubshard-when-down", "", 0, func(c *Config) *bool { return &c.Cluster.AllowPubsubshardWhenDown }),
		intParam("cluster-replica-validity-factor", "cluster-slave-validity-factor", 0, 0, intMax,
			func(c *Config) *int { return &c.Cluster.ReplicaValidityFactor }),
		intParam("cluster-migration-barrier", "", 0, 0, intMax, func(c *Config) *int { return &c.Cluster.MigrationBarrier }),
		boolParam("cluster-replica-no-failover", "cluster-slave-no-failover", 0, func(c *Config) *bool { return &c.Cluster.ReplicaNoFailover }),
		boolParam("cluster-allow-replica-migration", "", 0, func(c *Config) *bool { return &c.Cluster.AllowReplicaMigration }),
		numParam("cluster-link-sendbuf-limit", "", 0, numSpec{max: ullongOK, memory: true, unsigned: true},
			func(c *Config) *int64 { return &c.Cluster.LinkSendbufLimit }),
	}
}

// validateHostname is Redis's isValidAnnouncedHostname.
func validateHostname(v string) error {
	if len(v) >= 256 {
		return errors.New("Hostnames must be less than 256 characters")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return errors.New("Hostnames may only contain alphanumeric characters, hyphens or dots")
		}
	}
	return nil
}
