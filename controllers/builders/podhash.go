package builders

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// AnnotationPodTemplateHash is the hash of the pod template a pod was made
// from. The StatefulSets roll OnDelete, so the operator finds the pods to
// restart by comparing this annotation with the one of the current template
// (envtest has no StatefulSet controller and no revision labels to rely on).
const AnnotationPodTemplateHash = "redis.shoal.dev/pod-template-hash"

// liveConfigKeys are the spec.config keys the data node accepts in CONFIG
// SET and acts on at runtime (node/server's parameter table, minus the
// parameters it declares immutable). A change of one of them is set on every
// node with CONFIG SET; any other key needs a restart (a rolling update).
func liveConfigKeys() []string {
	return []string{
		"appendfsync", "appendonly",
		"client-output-buffer-limit",
		"cluster-allow-pubsubshard-when-down", "cluster-allow-reads-when-down",
		"cluster-allow-replica-migration", "cluster-migration-barrier", "cluster-replica-no-failover",
		"cluster-replica-validity-factor", "cluster-require-full-coverage",
		"hash-max-listpack-entries", "hash-max-listpack-value", "hz",
		"list-max-listpack-size", "loglevel",
		"maxclients", "maxmemory", "maxmemory-policy", "maxmemory-samples",
		"min-replicas-max-lag", "min-replicas-to-write",
		"proto-max-bulk-len",
		"repl-backlog-size", "repl-backlog-ttl",
		"repl-ping-replica-period", "repl-timeout",
		"replica-priority", "replica-serve-stale-data",
		"save", "set-max-intset-entries", "set-max-listpack-entries", "set-max-listpack-value",
		"slowlog-log-slower-than", "slowlog-max-len",
		"tcp-keepalive", "timeout",
		"zset-max-listpack-entries", "zset-max-listpack-value",
	}
}

// IsLiveConfig reports whether a config key changes live (CONFIG SET)
// rather than by a restart.
func IsLiveConfig(key string) bool { return slices.Contains(liveConfigKeys(), key) }

// LiveConfig is the value every node must have, by CONFIG SET, of each live
// key: spec.config merged over the operator's defaults, live keys only.
func LiveConfig(rc *v1alpha1.RedisCluster) map[string]string {
	return liveConfigOf(rc.Spec.Config)
}

// liveConfigOf is the live keys of config merged over the defaults.
func liveConfigOf(config map[string]v1alpha1.ConfigValue) map[string]string {
	out := map[string]string{}
	for k, v := range configDefaults() {
		if IsLiveConfig(k) {
			out[k] = v
		}
	}
	for k, v := range config {
		if IsLiveConfig(k) {
			out[k] = string(v)
		}
	}
	return out
}

// RestartConfigHash hashes node.conf without the live keys: what a pod must
// be restarted for. It goes on the pod template (AnnotationConfigHash), so a
// change of a live key alone does not roll the pods; the ConfigMap still
// carries every key, so a restarted node starts with the live ones too.
func RestartConfigHash(rc *v1alpha1.RedisCluster) string {
	c := rc.DeepCopy()
	c.Spec.Config = maps.Clone(c.Spec.Config)
	maps.DeleteFunc(c.Spec.Config, func(k string, _ v1alpha1.ConfigValue) bool { return IsLiveConfig(k) })
	return ConfigHash(NodeConfig(c))
}

// PodTemplateHash is a short hash of a pod template, its own
// AnnotationPodTemplateHash left out.
func PodTemplateHash(t corev1.PodTemplateSpec) string {
	t = *t.DeepCopy()
	delete(t.Annotations, AnnotationPodTemplateHash)
	b, err := json.Marshal(t)
	if err != nil {
		// A PodTemplateSpec always marshals; a panic here is a bug.
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
