package builders

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
)

// configDefaults are directives the user may override through spec.config.
func configDefaults() map[string]string {
	return map[string]string{"appendonly": "yes"}
}

// NodeConfig renders node.conf (redis.conf syntax) for the spec: first the
// directives the operator owns, then spec.config merged over its defaults,
// sorted by key so that the same spec always gives the same bytes. The data
// directory, the password and the announced IP are not in the file: they are
// passed on the command line (NodeArgs), from the pod's volumes and
// environment. cluster-config-file is relative to the data directory.
func NodeConfig(rc *v1alpha1.RedisCluster) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# node.conf of RedisCluster %s/%s, written by %s: do not edit.\n", rc.Namespace, rc.Name, managedByValue)
	owned := [][2]string{
		{"port", fmt.Sprint(RedisPort)},
		{"cluster-enabled", "yes"},
		{"cluster-port", fmt.Sprint(BusPort)},
		{"cluster-config-file", NodesConfFile},
		{"cluster-node-timeout", fmt.Sprint(rc.Spec.NodeTimeout.Milliseconds())},
	}
	if port := rc.MetricsPort(); port != 0 {
		owned = append(owned, [2]string{"metrics-port", fmt.Sprint(port)})
	}
	owned = append(owned, tlsDirectives(rc.Spec.TLS, true)...)
	writeDirectives(&b, owned, rc.Spec.Config)
	return b.String()
}

// writeDirectives writes the operator's own directives, then config merged
// over configDefaults, sorted by key.
func writeDirectives(b *strings.Builder, owned [][2]string, config map[string]v1alpha1.ConfigValue) {
	for _, kv := range owned {
		writeDirective(b, kv[0], kv[1])
	}
	merged := configDefaults()
	for k, v := range config {
		merged[k] = string(v)
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		writeDirective(b, k, merged[k])
	}
}

func writeDirective(b *strings.Builder, key, value string) {
	if value == "" {
		value = `""`
	}
	fmt.Fprintf(b, "%s %s\n", key, value)
}

// ConfigHash is a short hash of node.conf, recorded on the pod template so
// that pods started with an older configuration can be found.
func ConfigHash(conf string) string {
	sum := sha256.Sum256([]byte(conf))
	return hex.EncodeToString(sum[:8])
}

// ConfigMap holds node.conf.
func ConfigMap(rc *v1alpha1.RedisCluster) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: objectMeta(rc, ConfigMapName(rc), ClusterLabels(rc)),
		Data:       map[string]string{ConfigFileKey: NodeConfig(rc)},
	}
}

// AuthSecret is the Secret the operator generates when spec.auth is unset.
// The password comes from the caller (the only source of randomness).
func AuthSecret(rc *v1alpha1.RedisCluster, password string) *corev1.Secret {
	ref, _ := rc.AuthSecret()
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: objectMeta(rc, ref.Name, ClusterLabels(rc)),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{ref.Key: []byte(password)},
	}
}
