package v1alpha1

// MonitoringSpec turns on the nodes' Prometheus metrics and the objects
// the Prometheus Operator reads (monitoring.coreos.com/v1): a PodMonitor
// for the data pods and a PrometheusRule with the alerts. The PodMonitor
// and the PrometheusRule are made only when their CRDs are installed; the
// metrics endpoint is served either way.
type MonitoringSpec struct {
	// Enabled serves every node's metrics (redis_exporter's names) on
	// Port, as a container port named "metrics". Turning it on or off
	// restarts the pods shard by shard (it is in node.conf).
	// +optional
	Enabled bool `json:"enabled,omitempty"`

	// Port of the metrics endpoint in the pods (9121 is redis_exporter's).
	// +kubebuilder:validation:Minimum=1024
	// +kubebuilder:validation:Maximum=65535
	// +kubebuilder:validation:XValidation:rule="self != 6379 && self != 16379 && self != 26379",message="monitoring.port must differ from the client (6379), bus (16379) and sentinel (26379) ports"
	// +kubebuilder:default=9121
	// +optional
	Port int32 `json:"port,omitempty"`

	// PodMonitor makes a PodMonitor <cluster>-nodes scraping every node.
	// +kubebuilder:default=true
	// +optional
	PodMonitor *bool `json:"podMonitor,omitempty"`

	// PrometheusRule makes a PrometheusRule <cluster>-alerts with the
	// alerts of a healthy cluster (cluster_state, a master without a
	// replica, replica link down or lagging, memory near maxmemory, write
	// errors, a node down, slot migration or rollout not progressing); a
	// RedisReplication's <name>-alerts has the alerts of its data nodes
	// (redisreplication_types.go).
	// +kubebuilder:default=true
	// +optional
	PrometheusRule *bool `json:"prometheusRule,omitempty"`

	// Interval between two scrapes (a Prometheus duration).
	// +kubebuilder:validation:Pattern=`^(0|(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$`
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:default="30s"
	// +optional
	Interval string `json:"interval,omitempty"`

	// Labels added to the PodMonitor and the PrometheusRule, for the
	// selectors of the Prometheus that should read them (for example
	// release: kube-prometheus-stack).
	// +kubebuilder:validation:MaxProperties=32
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// Monitoring defaults.
const (
	DefaultMetricsPort    = 9121
	DefaultScrapeInterval = "30s"
	MetricsPortName       = "metrics"
)

// MetricsEnabled reports whether the nodes serve metrics.
func (rc *RedisCluster) MetricsEnabled() bool { return rc.Spec.Monitoring.metricsEnabled() }

// MetricsPort is the nodes' metrics port (0 when off).
func (rc *RedisCluster) MetricsPort() int32 { return rc.Spec.Monitoring.metricsPort() }

// WantsPodMonitor and WantsPrometheusRule report whether those objects
// should exist (when their CRDs do).
func (rc *RedisCluster) WantsPodMonitor() bool { return rc.Spec.Monitoring.wantsPodMonitor() }

func (rc *RedisCluster) WantsPrometheusRule() bool { return rc.Spec.Monitoring.wantsPrometheusRule() }

// MetricsPort is the data nodes' metrics port (0 when off).
func (rr *RedisReplication) MetricsPort() int32 { return rr.Spec.Monitoring.metricsPort() }

// WantsPodMonitor and WantsPrometheusRule report whether the data nodes'
// PodMonitor and PrometheusRule should exist (when their CRDs do).
func (rr *RedisReplication) WantsPodMonitor() bool { return rr.Spec.Monitoring.wantsPodMonitor() }

func (rr *RedisReplication) WantsPrometheusRule() bool {
	return rr.Spec.Monitoring.wantsPrometheusRule()
}

func (m *MonitoringSpec) wantsPrometheusRule() bool {
	return m.metricsEnabled() && (m.PrometheusRule == nil || *m.PrometheusRule)
}

func (m *MonitoringSpec) metricsEnabled() bool { return m != nil && m.Enabled }

func (m *MonitoringSpec) metricsPort() int32 {
	if !m.metricsEnabled() {
		return 0
	}
	if m.Port != 0 {
		return m.Port
	}
	return DefaultMetricsPort
}

func (m *MonitoringSpec) wantsPodMonitor() bool {
	return m.metricsEnabled() && (m.PodMonitor == nil || *m.PodMonitor)
}
