// Package builders computes the Kubernetes objects a RedisCluster should have:
// the auth Secret, the ConfigMap with the node configuration, the headless and
// client Services, one StatefulSet and one PodDisruptionBudget per shard.
//
// Every function is pure: it takes a RedisCluster whose spec went through
// v1alpha1.RedisClusterSpec.Default and returns an object with its owner
// reference set. This package must not call the API server or the nodes, and
// must not read the clock or randomness (a generated password is passed in).
package builders
