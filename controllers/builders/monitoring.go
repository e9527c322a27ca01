package builders

import (
	"fmt"
	"strings"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The Prometheus Operator's objects for spec.monitoring, built as
// unstructured objects (the operator does not depend on its Go module):
// a PodMonitor scraping every node's metrics port and a PrometheusRule
// with the alerts of AlertRules (ReplicationAlertRules for a
// RedisReplication's data nodes).

// Prometheus Operator kinds (monitoring.coreos.com/v1).
var (
	PodMonitorGVK     = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "PodMonitor"}
	PrometheusRuleGVK = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "PrometheusRule"}
)

// Labels the PodMonitor adds to every node series, and the operator to
// its own (its scrape's namespace label is the operator's namespace).
const (
	MetricLabelCluster          = "rediscluster"
	MetricLabelShard            = "shard"
	MetricLabelClusterNamespace = "rediscluster_namespace"
	// MetricLabelReplication and MetricLabelRole label a RedisReplication's
	// data node series: its name and the node's role (master, replica).
	MetricLabelReplication = "redisreplication"
	MetricLabelRole        = "role"
	// MetricLabelComponent labels a RedisReplication's sentinel series
	// (component="sentinel", from the pod's component label), so that the
	// data node alerts can leave them out.
	MetricLabelComponent = "component"
)

const (
	podMonitorNameTail         = "-nodes"
	sentinelPodMonitorNameTail = "-sentinels"
	prometheusRuleNameTail     = "-alerts"
)

// PodMonitorName and PrometheusRuleName name the monitoring objects.
func PodMonitorName(rc *v1alpha1.RedisCluster) string     { return rc.Name + podMonitorNameTail }
func PrometheusRuleName(rc *v1alpha1.RedisCluster) string { return rc.Name + prometheusRuleNameTail }

// ReplicationPodMonitorName names the PodMonitor of a RedisReplication's
// data nodes.
func ReplicationPodMonitorName(rr *v1alpha1.RedisReplication) string {
	return rr.Name + podMonitorNameTail
}

// metaLabelOf is the service-discovery label of a pod label.
func metaLabelOf(podLabel string) string {
	r := strings.NewReplacer(".", "_", "/", "_", "-", "_")
	return "__meta_kubernetes_pod_label_" + r.Replace(podLabel)
}

// monitoringObject is an unstructured object of kind gvk owned by rc.
func monitoringObject(rc *v1alpha1.RedisCluster, gvk schema.GroupVersionKind, name string) *unstructured.Unstructured {
	return monitoringObjectOf(gvk, objectMeta(rc, name, ClusterLabels(rc)), rc.Spec.Monitoring)
}

// monitoringObjectOf is an unstructured object of kind gvk with meta,
// plus spec.monitoring's labels (m may be nil).
func monitoringObjectOf(gvk schema.GroupVersionKind, meta metav1.ObjectMeta, m *v1alpha1.MonitoringSpec) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	u.SetName(meta.Name)
	u.SetNamespace(meta.Namespace)
	labels := meta.Labels
	if m != nil {
		for k, v := range m.Labels {
			labels[k] = v
		}
	}
	u.SetLabels(labels)
	u.SetOwnerReferences(meta.OwnerReferences)
	return u
}

// metricsContainerPort is the container port of the metrics endpoint.
func metricsContainerPort(p int32) corev1.ContainerPort {
	return corev1.ContainerPort{Name: v1alpha1.MetricsPortName, ContainerPort: p, Protocol: corev1.ProtocolTCP}
}

// nodePorts are the node container's ports: client, bus, and metrics
// when spec.monitoring serves them.
func nodePorts(rc *v1alpha1.RedisCluster) []corev1.ContainerPort {
	ports := []corev1.ContainerPort{
		{Name: RedisPortName, ContainerPort: RedisPort, Protocol: corev1.ProtocolTCP},
		{Name: BusPortName, ContainerPort: BusPort, Protocol: corev1.ProtocolTCP},
	}
	if p := rc.MetricsPort(); p != 0 {
		ports = append(ports, metricsContainerPort(p))
	}
	return ports
}

// PodMonitor scrapes the metrics port of every node of rc and labels the
// series with the cluster and the shard.
func PodMonitor(rc *v1alpha1.RedisCluster) *unstructured.Unstructured {
	return podMonitor(monitoringObject(rc, PodMonitorGVK, PodMonitorName(rc)), rc.Spec.Monitoring, ClusterSelector(rc),
		[][2]string{{LabelCluster, MetricLabelCluster}, {LabelShard, MetricLabelShard}})
}

// ReplicationPodMonitor scrapes the metrics port of every data node of rr
// and labels the series with the RedisReplication and the node's role.
func ReplicationPodMonitor(rr *v1alpha1.RedisReplication) *unstructured.Unstructured {
	u := monitoringObjectOf(PodMonitorGVK, replMeta(rr, ReplicationPodMonitorName(rr), ReplicationLabels(rr, componentNode)), rr.Spec.Monitoring)
	return podMonitor(u, rr.Spec.Monitoring, ReplicationNodeSelector(rr),
		[][2]string{{LabelReplication, MetricLabelReplication}, {LabelRole, MetricLabelRole}})
}

// ReplicationSentinelPodMonitorName names the PodMonitor of a
// RedisReplication's sentinels.
func ReplicationSentinelPodMonitorName(rr *v1alpha1.RedisReplication) string {
	return rr.Name + sentinelPodMonitorNameTail
}

// ReplicationSentinelPodMonitor scrapes the metrics port of every sentinel
// of rr (`shoal-node --sentinel` with metrics-port) and labels the series
// with the RedisReplication and component="sentinel".
func ReplicationSentinelPodMonitor(rr *v1alpha1.RedisReplication) *unstructured.Unstructured {
	u := monitoringObjectOf(PodMonitorGVK, replMeta(rr, ReplicationSentinelPodMonitorName(rr), ReplicationLabels(rr, componentSentinel)), rr.Spec.Monitoring)
	return podMonitor(u, rr.Spec.Monitoring, ReplicationSentinelSelector(rr),
		[][2]string{{LabelReplication, MetricLabelReplication}, {LabelComponent, MetricLabelComponent}})
}

// podMonitor fills u's spec: scrape the metrics port of the pods
// selector selects every m.Interval, copying each pod label of relabel
// onto the series as the label named beside it.
func podMonitor(u *unstructured.Unstructured, m *v1alpha1.MonitoringSpec, selector map[string]string, relabel [][2]string) *unstructured.Unstructured {
	interval := v1alpha1.DefaultScrapeInterval
	if m != nil && m.Interval != "" {
		interval = m.Interval
	}
	match := map[string]any{}
	for k, v := range selector {
		match[k] = v
	}
	relabelings := make([]any, 0, len(relabel))
	for _, r := range relabel {
		relabelings = append(relabelings, map[string]any{"sourceLabels": []any{metaLabelOf(r[0])}, "targetLabel": r[1], "action": "replace"})
	}
	u.Object["spec"] = map[string]any{
		"selector": map[string]any{"matchLabels": match},
		"podMetricsEndpoints": []any{map[string]any{
			"port":        v1alpha1.MetricsPortName,
			"path":        "/metrics",
			"interval":    interval,
			"relabelings": relabelings,
		}},
	}
	return u
}

// AlertRule is one Prometheus alerting rule.
type AlertRule struct {
	Alert       string
	Expr        string
	For         string
	Severity    string
	Summary     string
	Description string
}

// NodeSelector is the PromQL label matcher of rc's node series; operator
// series are matched with OperatorSelector.
func NodeSelector(rc *v1alpha1.RedisCluster) string {
	return fmt.Sprintf(`namespace=%q,%s=%q`, rc.Namespace, MetricLabelCluster, rc.Name)
}

// OperatorSelector matches the operator's series of rc (controllers/metrics.go).
func OperatorSelector(rc *v1alpha1.RedisCluster) string {
	return fmt.Sprintf(`%s=%q,%s=%q`, MetricLabelClusterNamespace, rc.Namespace, MetricLabelCluster, rc.Name)
}

// AlertRules are the alerts of a healthy cluster, on the node metrics
// (node/metrics, redis_exporter's names) and the operator's.
func AlertRules(rc *v1alpha1.RedisCluster) []AlertRule {
	n, o := NodeSelector(rc), OperatorSelector(rc)
	rules := []AlertRule{
		nodeDown("RedisClusterNodeDown", n, "A node of RedisCluster {{ $labels.namespace }}/{{ $labels.rediscluster }}",
			"{{ $labels.pod }} (shard {{ $labels.shard }})"),
		{Alert: "RedisClusterStateNotOK", For: "1m", Severity: "critical",
			Expr:        fmt.Sprintf(`redis_cluster_state{%s} == 0`, n),
			Summary:     "cluster_state is fail on {{ $labels.pod }}",
			Description: "The node sees slots without a reachable master: clients get CLUSTERDOWN."},
		{Alert: "RedisClusterSlotsNotOK", For: "2m", Severity: "warning",
			Expr:        fmt.Sprintf(`redis_cluster_slots_ok{%s} < 16384`, n),
			Summary:     "{{ $labels.pod }} sees {{ $value }} of 16384 slots served",
			Description: "Slots are unassigned, or their master is flagged PFAIL or FAIL."},
	}
	rules = append(rules, nodeAlertRules(n)...)
	rules = append(rules,
		AlertRule{Alert: "ShoalMigrationNotProgressing", For: "15m", Severity: "warning",
			Expr:        fmt.Sprintf(`shoal_rediscluster_migration_slots_remaining{%[1]s} > 0 and increase(shoal_rediscluster_migration_slots_moved_total{%[1]s}[15m]) == 0`, o),
			Summary:     "Slot migration of {{ $labels.rediscluster_namespace }}/{{ $labels.rediscluster }} is stuck",
			Description: "{{ $value }} slots remain to move and none moved in 15 minutes."},
		AlertRule{Alert: "ShoalRolloutNotProgressing", For: "30m", Severity: "warning",
			Expr:        fmt.Sprintf(`shoal_rediscluster_rollout_pods_pending{%[1]s} > 0 and changes(shoal_rediscluster_rollout_pods_pending{%[1]s}[30m]) == 0`, o),
			Summary:     "The rollout of {{ $labels.rediscluster_namespace }}/{{ $labels.rediscluster }} is stuck",
			Description: "{{ $value }} pods wait for a restart and the count has not changed in 30 minutes."},
		AlertRule{Alert: "ShoalReconcileErrors", For: "15m", Severity: "warning",
			Expr:        fmt.Sprintf(`increase(shoal_rediscluster_reconcile_errors_total{%s}[10m]) > 0`, o),
			Summary:     "The operator keeps failing to reconcile {{ $labels.rediscluster_namespace }}/{{ $labels.rediscluster }}",
			Description: "Reconcile errors for 15 minutes; kubectl describe the RedisCluster for its events."},
	)
	if rc.Spec.ReplicasPerMaster > 0 {
		rules = append(rules, masterWithoutReplica(n, fmt.Sprintf(`redis_instance_info{%s,role="master"}`, n),
			"Losing this pod loses its shard's data since the last snapshot, and its slots go down until it is back."))
	}
	return rules
}

// nodeDown fires on a node of sel whose metrics scrape fails; which
// and pod name it in the summary and the description.
func nodeDown(alert, sel, which, pod string) AlertRule {
	return AlertRule{Alert: alert, For: "1m", Severity: "critical",
		Expr:        fmt.Sprintf(`up{%s} == 0`, sel),
		Summary:     which + " does not answer its metrics scrape",
		Description: pod + " has been unreachable for a minute."}
}

// nodeAlertRules are the alerts of any master or replica, whatever its
// topology, on the node series sel matches.
func nodeAlertRules(sel string) []AlertRule {
	return []AlertRule{
		{Alert: "RedisReplicaLinkDown", For: "1m", Severity: "warning",
			Expr:        fmt.Sprintf(`redis_master_link_up{%s} == 0`, sel),
			Summary:     "The replica {{ $labels.pod }} lost its master link",
			Description: "master_link_status is down: the replica serves stale data and cannot take over cleanly."},
		{Alert: "RedisReplicaLagHigh", For: "2m", Severity: "warning",
			Expr:        fmt.Sprintf(`redis_connected_slave_lag_seconds{%s} > 10`, sel),
			Summary:     "A replica of {{ $labels.pod }} is {{ $value }}s behind",
			Description: "The master has had no acknowledgement from replica {{ $labels.slave_ip }} for more than 10 seconds."},
		{Alert: "RedisMemoryNearMax", For: "5m", Severity: "warning",
			Expr:        fmt.Sprintf(`redis_memory_used_bytes{%[1]s} / (redis_memory_max_bytes{%[1]s} > 0) > 0.9`, sel),
			Summary:     "{{ $labels.pod }} uses {{ $value | humanizePercentage }} of maxmemory",
			Description: "Writes will be refused (noeviction) or keys evicted soon."},
		{Alert: "RedisPersistenceWriteErrors", For: "1m", Severity: "critical",
			Expr:        fmt.Sprintf(`redis_aof_last_write_status{%[1]s} == 0 or redis_rdb_last_bgsave_status{%[1]s} == 0 or redis_aof_last_bgrewrite_status{%[1]s} == 0`, sel),
			Summary:     "{{ $labels.pod }} cannot write its AOF or snapshot",
			Description: "The last write of the append-only file or the last snapshot failed: writes may be refused (MISCONF) and a restart may lose data."},
	}
}

// masterWithoutReplica fires on a node of sel that has no replica while
// masters (a PromQL expression of the masters' series, with namespace
// and pod labels) holds it.
func masterWithoutReplica(sel, masters, description string) AlertRule {
	return AlertRule{Alert: "RedisMasterWithoutReplica", For: "5m", Severity: "warning",
		Expr:        fmt.Sprintf(`redis_connected_slaves{%s} == 0 and on(namespace, pod) %s`, sel, masters),
		Summary:     "The master {{ $labels.pod }} has no replica",
		Description: description}
}

// ReplicationSelector is the PromQL label matcher of rr's data node
// series (the labels ReplicationPodMonitor's scrape gives them).
func ReplicationSelector(rr *v1alpha1.RedisReplication) string {
	return fmt.Sprintf(`namespace=%q,%s=%q`, rr.Namespace, MetricLabelReplication, rr.Name)
}

// replicationMasters is the redis_instance_info series of the data nodes
// of sel that say they are masters. ReplicationPodMonitor puts the pod's
// role label (the operator's view) on every series as "role", so
// Prometheus renames the node's own role label of redis_instance_info to
// exported_role; a pod the operator has not labelled yet keeps it as
// role. The alerts count what the nodes say: two masters is a split
// brain the operator's labels would not show.
func replicationMasters(sel string) string {
	return fmt.Sprintf(`(redis_instance_info{%[1]s,exported_role="master"} or redis_instance_info{%[1]s,role="master",exported_role=""})`, sel)
}

// ReplicationAlertRules are the alerts of a healthy master, its replicas
// and their sentinels, on rr's metrics: on the data nodes', the node
// alerts of a RedisCluster without the cluster's own, plus one for the
// number of masters; on the sentinels' (ReplicationSentinelPodMonitor),
// a sentinel down, a master down in a sentinel's view, and too few
// usable sentinels for the quorum or a failover's authorization.
func ReplicationAlertRules(rr *v1alpha1.RedisReplication) []AlertRule {
	s := ReplicationSelector(rr)
	masters := replicationMasters(s)
	by := "namespace, " + MetricLabelReplication
	rules := []AlertRule{
		nodeDown("RedisReplicationNodeDown", fmt.Sprintf(`%s,%s!=%q`, s, MetricLabelComponent, componentSentinel),
			"A data node of RedisReplication {{ $labels.namespace }}/{{ $labels.redisreplication }}", "{{ $labels.pod }}"),
		// count() of nothing is nothing: the up series give a 0 when no
		// node says it is master.
		{Alert: "RedisReplicationMasterCountNotOne", For: "1m", Severity: "critical",
			Expr:        fmt.Sprintf(`(count by (%[1]s) (%[2]s) or count by (%[1]s) (up{%[3]s}) * 0) != 1`, by, masters, s),
			Summary:     "RedisReplication {{ $labels.namespace }}/{{ $labels.redisreplication }} has {{ $value }} masters",
			Description: "With none, writes fail until Sentinel promotes a replica; with more than one, the data nodes disagree (split brain) and writes to the master that is made a replica again are lost."},
	}
	rules = append(rules, nodeAlertRules(s)...)
	if rr.Spec.Replicas > 1 {
		rules = append(rules, masterWithoutReplica(s, masters,
			"Losing this pod loses the data written since the last snapshot, and Sentinel has no replica to promote."))
	}
	return append(rules, sentinelAlertRules(s)...)
}

// sentinelAlertRules are the alerts on the sentinel series of sel
// (node/metrics' redis_sentinel_*, redis_exporter's names).
func sentinelAlertRules(sel string) []AlertRule {
	return []AlertRule{
		{Alert: "RedisSentinelDown", For: "1m", Severity: "warning",
			Expr:        fmt.Sprintf(`up{%s,%s=%q} == 0`, sel, MetricLabelComponent, componentSentinel),
			Summary:     "The sentinel {{ $labels.pod }} does not answer its metrics scrape",
			Description: "One sentinel fewer to see the master fail and to vote for a failover."},
		{Alert: "RedisSentinelMasterDown", For: "1m", Severity: "critical",
			Expr:        fmt.Sprintf(`redis_sentinel_master_status{%s} == 0`, sel),
			Summary:     "The sentinel {{ $labels.pod }} sees master {{ $labels.master_name }} at {{ $labels.master_address }} {{ $labels.master_status }}",
			Description: "The master has not answered this sentinel for down-after-milliseconds (sdown), or enough sentinels agree it is down (odown), and no failover has replaced it for a minute: writes fail."},
		{Alert: "RedisSentinelQuorumAtRisk", For: "2m", Severity: "warning",
			Expr:        fmt.Sprintf(`redis_sentinel_master_ckquorum_status{%s} == 0`, sel),
			Summary:     "The sentinel {{ $labels.pod }} cannot reach the quorum or a majority for master {{ $labels.master_name }}",
			Description: "{{ $labels.message }}: a failure of the master would not be failed over."},
	}
}

// PrometheusRule holds AlertRules as one rule group.
func PrometheusRule(rc *v1alpha1.RedisCluster) *unstructured.Unstructured {
	return prometheusRule(monitoringObject(rc, PrometheusRuleGVK, PrometheusRuleName(rc)), RuleGroup(rc, ""))
}

// ReplicationPrometheusRuleName names the PrometheusRule of a
// RedisReplication.
func ReplicationPrometheusRuleName(rr *v1alpha1.RedisReplication) string {
	return rr.Name + prometheusRuleNameTail
}

// ReplicationPrometheusRule holds ReplicationAlertRules as one rule group.
func ReplicationPrometheusRule(rr *v1alpha1.RedisReplication) *unstructured.Unstructured {
	u := monitoringObjectOf(PrometheusRuleGVK, replMeta(rr, ReplicationPrometheusRuleName(rr), ReplicationLabels(rr, componentNode)), rr.Spec.Monitoring)
	return prometheusRule(u, ReplicationRuleGroup(rr, ""))
}

// prometheusRule fills u's spec with the one rule group.
func prometheusRule(u *unstructured.Unstructured, group map[string]any) *unstructured.Unstructured {
	u.Object["spec"] = map[string]any{"groups": []any{group}}
	return u
}

// RuleGroup is AlertRules as a Prometheus rule group (the PrometheusRule's
// spec.groups item, and a rule file's groups item); forOverride, when
// not "", replaces every rule's for (tests).
func RuleGroup(rc *v1alpha1.RedisCluster, forOverride string) map[string]any {
	return ruleGroup("shoal.rediscluster."+rc.Namespace+"."+rc.Name, AlertRules(rc), MetricLabelCluster, rc.Name, forOverride)
}

// ReplicationRuleGroup is ReplicationAlertRules as a Prometheus rule
// group, as RuleGroup.
func ReplicationRuleGroup(rr *v1alpha1.RedisReplication, forOverride string) map[string]any {
	return ruleGroup("shoal.redisreplication."+rr.Namespace+"."+rr.Name, ReplicationAlertRules(rr), MetricLabelReplication, rr.Name, forOverride)
}

// ruleGroup is rules as the rule group name; every alert is labelled
// with its severity and ownerLabel=owner (the object it watches).
func ruleGroup(name string, rules []AlertRule, ownerLabel, owner, forOverride string) map[string]any {
	var out []any
	for _, r := range rules {
		f := r.For
		if forOverride != "" {
			f = forOverride
		}
		out = append(out, map[string]any{
			"alert":  r.Alert,
			"expr":   r.Expr,
			"for":    f,
			"labels": map[string]any{"severity": r.Severity, ownerLabel: owner},
			"annotations": map[string]any{
				"summary":     r.Summary,
				"description": r.Description,
			},
		})
	}
	return map[string]any{"name": name, "rules": out}
}
