package cluster

import (
	"errors"
	"math/rand/v2"
	"time"
)

// Timing constants of the specification, named as in Redis.
const (
	// CronInterval is how often the I/O layer must call Tick (clusterCron
	// runs 10 times per second).
	CronInterval = 100 * time.Millisecond

	failReportValidityMult = 2    // CLUSTER_FAIL_REPORT_VALIDITY_MULT
	failUndoTimeMult       = 2    // CLUSTER_FAIL_UNDO_TIME_MULT
	mfTimeout              = 5000 // CLUSTER_MF_TIMEOUT, ms
	mfPauseMult            = 2    // CLUSTER_MF_PAUSE_MULT
	replicaMigrationDelay  = 5000 // CLUSTER_SLAVE_MIGRATION_DELAY, ms
	blacklistTTL           = 60_000
	maxRejoinDelay         = 5000 // CLUSTER_MAX_REJOIN_DELAY, ms
	minRejoinDelay         = 500  // CLUSTER_MIN_REJOIN_DELAY, ms
	writableDelay          = 2000 // CLUSTER_WRITABLE_DELAY, ms
	pingEveryTicks         = 10   // a random node is pinged every 10 crons
	gossipSample           = 5    // nodes sampled to find the oldest pong
)

// KeyCounter lets the state machine ask the keyspace the questions the
// specification makes it ask (may this slot be given away, may this node
// become a replica). It is called synchronously from the machine's methods.
type KeyCounter interface {
	// CountKeysInSlot is the number of keys this node holds in slot.
	CountKeysInSlot(slot int) int
	// DBSize is the number of keys this node holds.
	DBSize() int
}

// Config is the cluster configuration of a node. Start from DefaultConfig.
type Config struct {
	// NodeTimeout is cluster-node-timeout.
	NodeTimeout time.Duration
	// RequireFullCoverage is cluster-require-full-coverage.
	RequireFullCoverage bool
	// AllowReplicaMigration is cluster-allow-replica-migration.
	AllowReplicaMigration bool
	// MigrationBarrier is cluster-migration-barrier.
	MigrationBarrier int
	// ReplicaValidityFactor is cluster-replica-validity-factor (0: replicas
	// always try to fail over, however old their data).
	ReplicaValidityFactor int
	// ReplicaNoFailover is cluster-replica-no-failover.
	ReplicaNoFailover bool
	// ReplPingReplicaPeriod is repl-ping-replica-period (it is part of the
	// replica validity computation).
	ReplPingReplicaPeriod time.Duration
	// PreferredEndpointType is cluster-preferred-endpoint-type: "ip",
	// "hostname" or "unknown-endpoint".
	PreferredEndpointType string

	// AnnounceIP is cluster-announce-ip; "" lets peers and the first MEET
	// decide (as Redis).
	AnnounceIP string
	// Port is the client port (cluster-announce-port or port), BusPort the
	// cluster bus port (cluster-announce-bus-port or port+10000).
	Port, BusPort int
	// Hostname is cluster-announce-hostname.
	Hostname string
	// ClientPort is the port clients are told to use in CLUSTER SLOTS,
	// CLUSTER SHARDS and MOVED/ASK (cluster-announce-client-port, or
	// -client-tls-port with tls-cluster, as Valkey names them); 0 means
	// Port. Port stays what peers replicate from: behind a NodePort the
	// two differ.
	ClientPort int

	// Rand is the only source of randomness (node IDs, gossip sampling,
	// election delays). Seed it from crypto/rand in production and with a
	// constant in tests.
	Rand *rand.Rand
	// Keys answers key counts; nil means the keyspace is empty.
	Keys KeyCounter
}

// DefaultConfig is Redis 7's default cluster configuration for a node
// listening on port (the bus on port+10000).
func DefaultConfig(port int, r *rand.Rand) Config {
	return Config{
		NodeTimeout:           15 * time.Second,
		RequireFullCoverage:   true,
		AllowReplicaMigration: true,
		MigrationBarrier:      1,
		ReplicaValidityFactor: 10,
		ReplPingReplicaPeriod: 10 * time.Second,
		PreferredEndpointType: "ip",
		Port:                  port,
		BusPort:               port + 10000,
		Rand:                  r,
	}
}

func (c *Config) validate() error {
	switch {
	case c.Rand == nil:
		return errors.New("cluster: Config.Rand is required")
	case c.NodeTimeout <= 0:
		return errors.New("cluster: Config.NodeTimeout must be positive")
	case c.ClientPort < 0 || c.ClientPort > 65535:
		return errors.New("cluster: Config.ClientPort out of range")
	case c.Port <= 0 || c.Port > 65535 || c.BusPort <= 0 || c.BusPort > 65535:
		return errors.New("cluster: Config.Port and BusPort must be valid TCP ports")
	case c.PreferredEndpointType != "ip" && c.PreferredEndpointType != "hostname" && c.PreferredEndpointType != "unknown-endpoint":
		return errors.New("cluster: Config.PreferredEndpointType must be ip, hostname or unknown-endpoint")
	}
	return nil
}

// nodeTimeout is the node timeout in milliseconds.
func (c *Config) nodeTimeout() int64 { return c.NodeTimeout.Milliseconds() }
