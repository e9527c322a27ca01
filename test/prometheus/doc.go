// Package prometheus runs a real Prometheus (Debian's prometheus package)
// against real node processes on 127.0.0.1: the test writes its
// configuration (static targets labelled as the PodMonitor labels the
// pods: namespace, pod, rediscluster, shard) and the rule file the
// operator's PrometheusRule holds (controllers/builders.RuleGroup, with
// short for: durations), starts it as a process, and asks its HTTP API
// whether every query of the chart's Grafana dashboard returns data and
// whether the alerts fire when a node is killed and clear when it is back;
// the same for a RedisReplication's master, replica and sentinels
// (`shoal-node --sentinel` with metrics-port) with its rules
// (controllers/builders.ReplicationRuleGroup).
// It has no non-test code.
package prometheus
