package builders

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/node/server"
)

// configSamples is a valid value for every key of
// v1alpha1.SupportedConfigKeys, as a user would write it.
func configSamples() map[string]v1alpha1.ConfigValue {
	return map[string]v1alpha1.ConfigValue{
		"maxmemory": "100mb", "maxmemory-policy": "allkeys-lru", "maxmemory-samples": "10", "maxclients": "5000",
		"timeout": "300", "tcp-keepalive": "60", "hz": "20", "loglevel": "warning", "appendonly": "no",
		"appendfsync": "always", "save": "900 1 300 10", "repl-backlog-size": "16mb",
		"repl-backlog-ttl": "7200", "repl-timeout": "120", "repl-ping-replica-period": "5", "replica-serve-stale-data": "no", "replica-priority": "50",
		"min-replicas-to-write": "1", "min-replicas-max-lag": "5", "cluster-require-full-coverage": "no",
		"cluster-allow-reads-when-down": "yes", "cluster-allow-pubsubshard-when-down": "no",
		"cluster-replica-validity-factor": "0", "cluster-migration-barrier": "2", "cluster-allow-replica-migration": "no",
		"cluster-replica-no-failover": "yes", "slowlog-log-slower-than": "5000", "slowlog-max-len": "256",
		"hash-max-listpack-entries": "256", "hash-max-listpack-value": "32", "list-max-listpack-size": "-3",
		"set-max-intset-entries": "1024", "set-max-listpack-entries": "64", "set-max-listpack-value": "32",
		"zset-max-listpack-entries": "64", "zset-max-listpack-value": "32",
		"client-output-buffer-limit": "pubsub 64mb 16mb 60", "proto-max-bulk-len": "64mb",
		"event-loop-busy-poll": "0",
	}
}

// TestNodeLoadsEveryConfigKey renders node.conf with every key admission
// accepts and loads it with the data node's own parser: a key the CRD lets
// through but the node refuses would crash-loop every pod.
func TestNodeLoadsEveryConfigKey(t *testing.T) {
	samples := configSamples()
	for _, k := range v1alpha1.SupportedConfigKeys() {
		if _, ok := samples[k]; !ok {
			t.Errorf("no sample value for supported key %s: add one", k)
		}
	}
	rc := cluster(func(rc *v1alpha1.RedisCluster) { rc.Spec.Config = samples })
	path := filepath.Join(t.TempDir(), ConfigFileKey)
	if err := os.WriteFile(path, []byte(NodeConfig(rc)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := server.ParseArgs([]string{path, "--requirepass", "pw", "--masterauth", "pw"})
	if err != nil {
		t.Fatalf("the node refuses the rendered node.conf: %v", err)
	}
	for k, v := range samples {
		got := cfg.Get(k)
		if len(got) != 1 || got[0][1] == "" {
			t.Errorf("CONFIG GET %s after loading %q: %v", k, v, got)
		}
	}
}
