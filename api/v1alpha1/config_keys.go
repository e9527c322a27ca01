package v1alpha1

// ManagedConfigKeys are the node configuration directives the operator sets
// itself; spec.config refuses them. The CEL rules on RedisClusterSpec.Config
// carry the same list (TestConfigKeysMatchCRD keeps them in step).
func ManagedConfigKeys() []string {
	return []string{
		"port", "bind", "cluster-enabled", "cluster-config-file", "cluster-node-timeout", "cluster-port",
		"cluster-announce-ip", "cluster-announce-port", "cluster-announce-bus-port", "cluster-announce-hostname",
		"dir", "dbfilename", "appendfilename", "appenddirname", "requirepass", "masterauth", "masteruser",
		"replicaof", "slaveof", "daemonize", "pidfile", "logfile", "protected-mode", "aclfile", "include",
		"unixsocket", "unixsocketperm", "supervised", "rename-command",
	}
}

// SupportedConfigKeys are the directives spec.config accepts: every one is
// understood by the data node (a test renders each into node.conf and loads
// it with the node's own parser) and has its Redis effect there. Keys the
// node accepts with no effect (replica-lazy-flush, repl-diskless-sync,
// repl-diskless-sync-delay: its full syncs are always diskless, one snapshot
// stream per replica) are not offered.
func SupportedConfigKeys() []string {
	return []string{
		"maxmemory", "maxmemory-policy", "maxmemory-samples", "maxclients", "timeout", "tcp-keepalive", "hz",
		"loglevel", "appendonly", "appendfsync", "save", "repl-backlog-size",
		"repl-backlog-ttl", "repl-timeout", "repl-ping-replica-period", "replica-serve-stale-data", "replica-priority", "min-replicas-to-write",
		"min-replicas-max-lag", "cluster-require-full-coverage", "cluster-allow-reads-when-down",
		"cluster-allow-pubsubshard-when-down", "cluster-replica-validity-factor", "cluster-migration-barrier",
		"cluster-allow-replica-migration", "cluster-replica-no-failover", "slowlog-log-slower-than",
		"slowlog-max-len", "hash-max-listpack-entries", "hash-max-listpack-value", "list-max-listpack-size",
		"set-max-intset-entries", "set-max-listpack-entries", "set-max-listpack-value",
		"zset-max-listpack-entries", "zset-max-listpack-value", "client-output-buffer-limit", "proto-max-bulk-len",
		"event-loop-busy-poll",
	}
}
