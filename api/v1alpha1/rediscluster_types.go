package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RedisClusterSpec is what the user asks for: a Redis Cluster of Masters
// shards, each a master with ReplicasPerMaster replicas.
//
// Size limits: Redis Cluster needs at least 3 masters, because a node is only
// marked FAIL (and a replica only elected) when a majority of masters agree,
// and with fewer than 3 masters losing one master loses the majority. The
// Redis Cluster specification suggests at most 1000 nodes in total, so
// masters x (1 + replicasPerMaster) is capped at 1000.
//
// +kubebuilder:validation:XValidation:rule="self.masters * (1 + self.replicasPerMaster) <= 1000",message="masters x (1 + replicasPerMaster) must not exceed 1000 nodes, the Redis Cluster size limit"
// +kubebuilder:validation:XValidation:rule="!has(self.rebalance) || !has(self.rebalance.weights) || size(self.rebalance.weights) == self.masters",message="rebalance.weights must have one entry per master (spec.masters)"
// +kubebuilder:validation:XValidation:rule="(has(self.auth) && has(self.auth.existingSecret)) == (has(oldSelf.auth) && has(oldSelf.auth.existingSecret)) && (!has(self.auth) || !has(self.auth.existingSecret) || self.auth.existingSecret == oldSelf.auth.existingSecret)",message="auth.existingSecret is immutable: changing the password source is not supported yet"
type RedisClusterSpec struct {
	// Masters is the number of shards (master nodes). Each master owns a part
	// of the 16384 hash slots. At least 3: a Redis Cluster needs a majority of
	// masters to detect failures and elect replicas.
	// +kubebuilder:validation:Minimum=3
	// +kubebuilder:validation:Maximum=1000
	// +kubebuilder:default=3
	// +optional
	Masters int32 `json:"masters"`

	// ReplicasPerMaster is the number of replicas of every master.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	// +kubebuilder:default=1
	// +optional
	ReplicasPerMaster int32 `json:"replicasPerMaster"`

	// Image is the data node image. Empty means the operator's default node
	// image (its --default-node-image flag).
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Image string `json:"image,omitempty"`

	// ImagePullPolicy of the data node container.
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	// +optional
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// ImagePullSecrets for the data node pods.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// Resources of the data node container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// Storage of every node: a PersistentVolumeClaim per pod, or an emptyDir
	// when ephemeral (tests only: data and node identity are lost when a pod
	// is deleted).
	// +kubebuilder:default={}
	// +optional
	Storage StorageSpec `json:"storage,omitempty"`

	// NodeTimeout is the cluster-node-timeout: how long a node may be
	// unreachable before it is flagged PFAIL.
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('10m')",message="nodeTimeout must be between 1s and 10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:default="15s"
	// +optional
	NodeTimeout *metav1.Duration `json:"nodeTimeout,omitempty"`

	// Config is passed through to the node configuration file (redis.conf
	// syntax: one "key value" line per entry). Only keys on an allow-list are
	// accepted; keys the operator manages (port, cluster-enabled, dir, ...)
	// are refused.
	//
	// Supported keys (SupportedConfigKeys):
	// maxmemory, maxmemory-policy, maxmemory-samples, maxclients, timeout,
	// tcp-keepalive, hz, loglevel, appendonly, appendfsync, save,
	// repl-backlog-size, repl-backlog-ttl, repl-timeout, repl-ping-replica-period,
	// replica-serve-stale-data, replica-priority, min-replicas-to-write,
	// min-replicas-max-lag, cluster-require-full-coverage,
	// cluster-allow-reads-when-down, cluster-allow-pubsubshard-when-down,
	// cluster-replica-validity-factor, cluster-migration-barrier,
	// cluster-allow-replica-migration, cluster-replica-no-failover,
	// slowlog-log-slower-than, slowlog-max-len, hash-max-listpack-entries,
	// hash-max-listpack-value, list-max-listpack-size, set-max-intset-entries,
	// set-max-listpack-entries, set-max-listpack-value,
	// zset-max-listpack-entries, zset-max-listpack-value,
	// client-output-buffer-limit, proto-max-bulk-len, event-loop-busy-poll
	// (microseconds the node's event loop polls before it sleeps while
	// requests arrive that fast; 0 turns it off; the node's own, not Redis's).
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k in ['port', 'bind', 'cluster-enabled', 'cluster-config-file', 'cluster-node-timeout', 'cluster-port', 'cluster-announce-ip', 'cluster-announce-port', 'cluster-announce-bus-port', 'cluster-announce-hostname', 'dir', 'dbfilename', 'appendfilename', 'appenddirname', 'requirepass', 'masterauth', 'masteruser', 'replicaof', 'slaveof', 'daemonize', 'pidfile', 'logfile', 'protected-mode', 'aclfile', 'include', 'unixsocket', 'unixsocketperm', 'supervised', 'rename-command'])",messageExpression="'config key ' + self.filter(k, k in ['port', 'bind', 'cluster-enabled', 'cluster-config-file', 'cluster-node-timeout', 'cluster-port', 'cluster-announce-ip', 'cluster-announce-port', 'cluster-announce-bus-port', 'cluster-announce-hostname', 'dir', 'dbfilename', 'appendfilename', 'appenddirname', 'requirepass', 'masterauth', 'masteruser', 'replicaof', 'slaveof', 'daemonize', 'pidfile', 'logfile', 'protected-mode', 'aclfile', 'include', 'unixsocket', 'unixsocketperm', 'supervised', 'rename-command'])[0] + ' is managed by the operator and cannot be set'"
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['port', 'bind', 'cluster-enabled', 'cluster-config-file', 'cluster-node-timeout', 'cluster-port', 'cluster-announce-ip', 'cluster-announce-port', 'cluster-announce-bus-port', 'cluster-announce-hostname', 'dir', 'dbfilename', 'appendfilename', 'appenddirname', 'requirepass', 'masterauth', 'masteruser', 'replicaof', 'slaveof', 'daemonize', 'pidfile', 'logfile', 'protected-mode', 'aclfile', 'include', 'unixsocket', 'unixsocketperm', 'supervised', 'rename-command', 'maxmemory', 'maxmemory-policy', 'maxmemory-samples', 'maxclients', 'timeout', 'tcp-keepalive', 'hz', 'loglevel', 'appendonly', 'appendfsync', 'save', 'repl-backlog-size', 'repl-backlog-ttl', 'repl-timeout', 'repl-ping-replica-period', 'replica-serve-stale-data', 'replica-priority', 'min-replicas-to-write', 'min-replicas-max-lag', 'cluster-require-full-coverage', 'cluster-allow-reads-when-down', 'cluster-allow-pubsubshard-when-down', 'cluster-replica-validity-factor', 'cluster-migration-barrier', 'cluster-allow-replica-migration', 'cluster-replica-no-failover', 'slowlog-log-slower-than', 'slowlog-max-len', 'hash-max-listpack-entries', 'hash-max-listpack-value', 'list-max-listpack-size', 'set-max-intset-entries', 'set-max-listpack-entries', 'set-max-listpack-value', 'zset-max-listpack-entries', 'zset-max-listpack-value', 'client-output-buffer-limit', 'proto-max-bulk-len', 'event-loop-busy-poll'])",messageExpression="'config key ' + self.filter(k, !(k in ['port', 'bind', 'cluster-enabled', 'cluster-config-file', 'cluster-node-timeout', 'cluster-port', 'cluster-announce-ip', 'cluster-announce-port', 'cluster-announce-bus-port', 'cluster-announce-hostname', 'dir', 'dbfilename', 'appendfilename', 'appenddirname', 'requirepass', 'masterauth', 'masteruser', 'replicaof', 'slaveof', 'daemonize', 'pidfile', 'logfile', 'protected-mode', 'aclfile', 'include', 'unixsocket', 'unixsocketperm', 'supervised', 'rename-command', 'maxmemory', 'maxmemory-policy', 'maxmemory-samples', 'maxclients', 'timeout', 'tcp-keepalive', 'hz', 'loglevel', 'appendonly', 'appendfsync', 'save', 'repl-backlog-size', 'repl-backlog-ttl', 'repl-timeout', 'repl-ping-replica-period', 'replica-serve-stale-data', 'replica-priority', 'min-replicas-to-write', 'min-replicas-max-lag', 'cluster-require-full-coverage', 'cluster-allow-reads-when-down', 'cluster-allow-pubsubshard-when-down', 'cluster-replica-validity-factor', 'cluster-migration-barrier', 'cluster-allow-replica-migration', 'cluster-replica-no-failover', 'slowlog-log-slower-than', 'slowlog-max-len', 'hash-max-listpack-entries', 'hash-max-listpack-value', 'list-max-listpack-size', 'set-max-intset-entries', 'set-max-listpack-entries', 'set-max-listpack-value', 'zset-max-listpack-entries', 'zset-max-listpack-value', 'client-output-buffer-limit', 'proto-max-bulk-len', 'event-loop-busy-poll']))[0] + ' is not supported (kubectl explain redisclusters.spec.config lists the supported keys)'"
	// +optional
	Config map[string]ConfigValue `json:"config,omitempty"`

	// Auth selects the password of the default user and whether that
	// user is on. Unset means the operator generates a random password in
	// a Secret named <cluster>-auth and the default user is on.
	// auth.existingSecret is immutable.
	// +optional
	Auth *AuthSpec `json:"auth,omitempty"`

	// TLS encrypts client, replication and cluster-bus traffic
	// (rediscluster_tls_types.go). Unset: plain TCP.
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`

	// Scheduling constrains where the node pods run. When
	// topologySpreadConstraints is empty the operator spreads the pods of
	// every shard (its master and replicas) across hosts and zones.
	// +optional
	Scheduling SchedulingSpec `json:"scheduling,omitempty"`

	// Placement keeps a master and its replicas in different failure
	// domains and spreads the masters; unset, the pods of each shard are
	// only spread softly (see scheduling).
	// +optional
	Placement *PlacementSpec `json:"placement,omitempty"`

	// PodTemplate adds labels and annotations to the node pods.
	// +optional
	PodTemplate PodTemplateSpec `json:"podTemplate,omitempty"`

	// PriorityClassName of the node pods.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// PodSecurityContext of the node pods. Unset means non-root (uid and gid
	// 65532, fsGroup 65532) with the RuntimeDefault seccomp profile.
	// +optional
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`

	// SecurityContext of the node container. Unset means a read-only root
	// filesystem, no privilege escalation and all capabilities dropped.
	// +optional
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`

	// Service configures the client Service.
	// +kubebuilder:default={}
	// +optional
	Service ServiceSpec `json:"service,omitempty"`

	// PodDisruptionBudget configures the PodDisruptionBudget made for every
	// shard.
	// +kubebuilder:default={}
	// +optional
	PodDisruptionBudget PodDisruptionBudgetSpec `json:"podDisruptionBudget,omitempty"`

	// Migration tunes how hash slots move between shards when masters are
	// added or removed and when the cluster is rebalanced.
	// +kubebuilder:default={}
	// +optional
	Migration MigrationSpec `json:"migration,omitempty"`

	// Rebalance says when slots are moved toward the distribution the
	// weights ask for (even by default).
	// +kubebuilder:default={}
	// +optional
	Rebalance RebalanceSpec `json:"rebalance,omitempty"`

	// UpdateStrategy says how pods are restarted when the image, resources
	// or configuration that needs a restart change: shard by shard,
	// replicas first, then a CLUSTER FAILOVER to an updated replica, then
	// the old master.
	// +kubebuilder:default={}
	// +optional
	UpdateStrategy UpdateStrategySpec `json:"updateStrategy,omitempty"`

	// Functions are Redis Functions libraries (Lua code starting with
	// "#!lua name=<library>") kept in ConfigMaps of the RedisCluster's
	// namespace. The operator loads each with FUNCTION LOAD REPLACE into
	// every master, including masters that join later (scale out, a
	// replaced pod); replicas receive them by replication, as Redis copies
	// functions to its replicas. status.functions says how many nodes have
	// each library's current code. A change to a ConfigMap is picked up at
	// the next reconcile (at most a minute later). Removing an entry does
	// not delete the library from the nodes (FUNCTION DELETE does).
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(f, self.exists_one(g, g.configMapRef.name == f.configMapRef.name && g.configMapRef.key == f.configMapRef.key))",message="functions: each ConfigMap key may be listed once"
	// +listType=atomic
	// +optional
	Functions []FunctionLibrarySource `json:"functions,omitempty"`

	// Users are ACL users the operator keeps on every node (see UserSpec;
	// rediscluster_users_types.go). Users removed from this list are
	// deleted from the nodes (ACL DELUSER); users the operator did not
	// make are left alone.
	// +kubebuilder:validation:MaxItems=64
	// +listType=map
	// +listMapKey=name
	// +optional
	Users []UserSpec `json:"users,omitempty"`

	// NetworkPolicy is the opt-in NetworkPolicy of the node pods (see
	// NetworkPolicySpec; rediscluster_networkpolicy_types.go).
	// +optional
	NetworkPolicy *NetworkPolicySpec `json:"networkPolicy,omitempty"`
	// Bootstrap brings in the data of an existing Redis or Redis Cluster
	// (rediscluster_bootstrap_types.go).
	// +optional
	Bootstrap *BootstrapSpec `json:"bootstrap,omitempty"`
	// Backup takes RedisBackups on a schedule and prunes them
	// (rediscluster_backup_types.go).
	// +optional
	Backup *ScheduledBackupSpec `json:"backup,omitempty"`
	// Monitoring serves Prometheus metrics from every node and makes the
	// Prometheus Operator's PodMonitor and PrometheusRule
	// (rediscluster_monitoring_types.go).
	// +optional
	Monitoring *MonitoringSpec `json:"monitoring,omitempty"`
	// ExternalAccess exposes every node outside the Kubernetes cluster
	// through a Service per pod (rediscluster_external_types.go).
	// +optional
	ExternalAccess *ExternalAccessSpec `json:"externalAccess,omitempty"`
	// Scaling keeps changes of spec.masters (the scale subresource) from
	// flapping (rediscluster_scaling_types.go).
	// +kubebuilder:default={}
	// +optional
	Scaling ScalingSpec `json:"scaling,omitempty"`
}

// FunctionLibrarySource is where one Redis Functions library's code is.
type FunctionLibrarySource struct {
	// ConfigMapRef names the ConfigMap and the key holding the library's
	// code.
	ConfigMapRef ConfigMapKeyRef `json:"configMapRef"`
}

// ConfigMapKeyRef names one key of a ConfigMap in the same namespace.
type ConfigMapKeyRef struct {
	// Name of the ConfigMap.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// Key in the ConfigMap's data.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// MigrationSpec tunes slot moves (the MIGRATING/IMPORTING protocol of the
// Redis Cluster specification: SETSLOT IMPORTING on the target, MIGRATING on
// the source, GETKEYSINSLOT + MIGRATE in batches, SETSLOT NODE on the target
// and the source; the other masters learn it from the target's broadcast).
type MigrationSpec struct {
	// KeysPerBatch is how many keys one MIGRATE command moves.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	// +kubebuilder:default=1000
	// +optional
	KeysPerBatch *int32 `json:"keysPerBatch,omitempty"`

	// SlotsInFlight is how many slots are moved at the same time.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=64
	// +kubebuilder:default=8
	// +optional
	SlotsInFlight *int32 `json:"slotsInFlight,omitempty"`

	// MaxLatencyImpact paces slot moves for the clients: the operator
	// keeps each MIGRATE near half of this by resizing its batches from
	// the durations it observes (between redis-cli's 10 keys and
	// keysPerBatch), and lets one MIGRATE at a time touch a node
	// (slotsInFlight still bounds the slots in flight). A MIGRATE's time
	// is what its clients wait on Redis's nodes (it holds the event loop)
	// and measures how busy the nodes are on ours (which serialize and
	// delete in short steps). Unset: fixed batches of keysPerBatch, the
	// fastest move; 3ms with slotsInFlight 16 kept the p99 of a loaded
	// cluster under twice its level at over twice redis-cli's speed in
	// the medians of make bench-reshard (README; single runs vary).
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('100us') && duration(self) <= duration('10s')",message="migration.maxLatencyImpact must be between 100us and 10s"
	// +optional
	MaxLatencyImpact *metav1.Duration `json:"maxLatencyImpact,omitempty"`
}

// RebalanceMode says what the operator does with an uneven slot
// distribution.
// +kubebuilder:validation:Enum=Auto;DryRun;Disabled
type RebalanceMode string

const (
	// RebalanceAuto moves slots toward the target distribution.
	RebalanceAuto RebalanceMode = "Auto"
	// RebalanceDryRun writes the moves it would make to status.migration
	// and moves nothing. Scaling masters in and out still moves slots.
	RebalanceDryRun RebalanceMode = "DryRun"
	// RebalanceDisabled never rebalances. Scaling masters in and out still
	// moves slots.
	RebalanceDisabled RebalanceMode = "Disabled"
)

// RebalanceSpec says when slots are moved toward the target distribution.
//
// +kubebuilder:validation:XValidation:rule="!has(self.weights) || self.weights.exists(w, w > 0)",message="rebalance.weights needs at least one positive weight"
type RebalanceSpec struct {
	// Mode of rebalancing: Auto, DryRun or Disabled.
	// +kubebuilder:default=Auto
	// +optional
	Mode RebalanceMode `json:"mode,omitempty"`

	// ThresholdPercent: a shard whose slot count is within this percentage
	// of its target is left alone (redis-cli --cluster-threshold), so a
	// nearly even cluster does not churn.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=2
	// +optional
	ThresholdPercent *int32 `json:"thresholdPercent,omitempty"`

	// Weights of the shards, by shard index: a shard's target share of the
	// slots is its weight over the sum. Empty means every shard weighs 1.
	// When set it must have one entry per master. A weight of 0 empties a
	// shard.
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:Minimum=0
	// +kubebuilder:validation:items:Maximum=1000
	// +optional
	Weights []int32 `json:"weights,omitempty"`
}

// UpdateStrategySpec says how pods are restarted for a change.
type UpdateStrategySpec struct {
	// MaxConcurrentShards is how many shards restart pods at the same time.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=1
	// +optional
	MaxConcurrentShards *int32 `json:"maxConcurrentShards,omitempty"`
}

// ConfigValue is the value of one node configuration directive. It must fit on
// one line: a line break would let a value smuggle in other directives.
// +kubebuilder:validation:MaxLength=1024
// +kubebuilder:validation:Pattern=`^[^\r\n]*$`
type ConfigValue string

// StorageRetentionPolicy says what happens to the PersistentVolumeClaims when
// the RedisCluster is deleted.
// +kubebuilder:validation:Enum=Delete;Retain
type StorageRetentionPolicy string

const (
	// StorageRetentionDelete deletes the claims with the RedisCluster.
	StorageRetentionDelete StorageRetentionPolicy = "Delete"
	// StorageRetentionRetain keeps the claims after the RedisCluster is gone.
	StorageRetentionRetain StorageRetentionPolicy = "Retain"
)

// StorageSpec is the storage of every node: its data files and nodes.conf
// (the node's identity).
//
// +kubebuilder:validation:XValidation:rule="(has(self.ephemeral) && self.ephemeral) == (has(oldSelf.ephemeral) && oldSelf.ephemeral)",message="storage.ephemeral is immutable"
// +kubebuilder:validation:XValidation:rule="has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)",message="storage.storageClassName is immutable"
// +kubebuilder:validation:XValidation:rule="has(self.size) == has(oldSelf.size) && (!has(self.size) || self.size == oldSelf.size)",message="storage.size is immutable: volume expansion is not supported yet"
// +kubebuilder:validation:XValidation:rule="!has(self.size) || quantity(string(self.size)).compareTo(quantity('1Mi')) >= 0",message="storage.size must be at least 1Mi"
type StorageSpec struct {
	// Size of every node's volume (the sizeLimit of the emptyDir when
	// ephemeral). Immutable.
	// +kubebuilder:default="1Gi"
	// +optional
	Size *resource.Quantity `json:"size,omitempty"`

	// StorageClassName of the claims; unset means the cluster default.
	// Immutable.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// Ephemeral uses an emptyDir instead of a PersistentVolumeClaim. Meant for
	// tests: a deleted pod comes back empty with a new node ID. Immutable.
	// +kubebuilder:default=false
	// +optional
	Ephemeral bool `json:"ephemeral"`

	// RetentionPolicy says whether the claims are deleted with the
	// RedisCluster (Delete) or kept (Retain). Claims of pods removed by
	// scaling a shard in are always deleted: a node coming back with a
	// stale nodes.conf would rejoin with a forgotten identity.
	// +kubebuilder:default=Delete
	// +optional
	RetentionPolicy StorageRetentionPolicy `json:"retentionPolicy,omitempty"`
}

// AuthSpec selects the default user's password and state.
type AuthSpec struct {
	// ExistingSecret is a Secret in the RedisCluster's namespace that holds
	// the password under Key. Unset means the operator generates one in a
	// Secret named <cluster>-auth.
	// +optional
	ExistingSecret *SecretKeyRef `json:"existingSecret,omitempty"`

	// DefaultUser turns the default user (clients that send AUTH with a
	// password only, or no AUTH) on or off. Disabled: the default user is
	// off with no password and no rights from the moment a node starts;
	// clients authenticate as users of spec.users, replicas as
	// shoal-replication, the operator and the pods' probes as
	// shoal-operator. A change restarts the pods shard by shard (a rolling
	// update). Unset means Enabled.
	// +optional
	DefaultUser DefaultUserMode `json:"defaultUser,omitempty"`
}

// SecretKeyRef names one key of a Secret in the same namespace.
type SecretKeyRef struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Key in the Secret's data.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:default=password
	// +optional
	Key string `json:"key,omitempty"`
}

// SchedulingSpec constrains where the node pods run.
type SchedulingSpec struct {
	// Affinity of the node pods.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// Tolerations of the node pods.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// NodeSelector of the node pods.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// TopologySpreadConstraints of the node pods. Empty means: spread the
	// pods of each shard across hosts and zones (ScheduleAnyway), so that a
	// master and its replicas do not share a failure domain when there is a
	// choice.
	// +optional
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
}

// PodTemplateSpec adds metadata to the node pods. Labels the operator uses to
// select its pods cannot be set.
type PodTemplateSpec struct {
	// Labels added to the node pods.
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.startsWith('redis.shoal.dev/') || k in ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component', 'app.kubernetes.io/managed-by'])",message="podTemplate.labels cannot set redis.shoal.dev/* or the app.kubernetes.io name, instance, component and managed-by labels: the operator selects its pods by them"
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// Annotations added to the node pods.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ServiceSpec configures the client Service. Cluster clients use it only to
// find a first node: they then connect to the addresses the nodes announce.
type ServiceSpec struct {
	// Type of the client Service.
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	// +kubebuilder:default=ClusterIP
	// +optional
	Type corev1.ServiceType `json:"type,omitempty"`

	// Annotations of the client Service.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// PodDisruptionBudgetSpec configures the PodDisruptionBudget of every shard.
type PodDisruptionBudgetSpec struct {
	// Enabled makes a PodDisruptionBudget per shard.
	// +kubebuilder:default=true
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// MaxUnavailable pods of one shard during voluntary disruptions.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=1
	// +optional
	MaxUnavailable *int32 `json:"maxUnavailable,omitempty"`
}

// RedisClusterStatus is what the operator observed.
type RedisClusterStatus struct {
	// ObservedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Progressing and Degraded.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ReadyMasters is the number of masters that are ready and own slots.
	// +optional
	ReadyMasters int32 `json:"readyMasters,omitempty"`

	// ReadyReplicas is the number of replicas that are ready and linked to
	// their master.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// SlotsAssigned is cluster_slots_assigned of CLUSTER INFO (16384 when
	// every hash slot is served).
	// +optional
	SlotsAssigned int32 `json:"slotsAssigned,omitempty"`

	// ClusterState is cluster_state of CLUSTER INFO: "ok" or "fail". Empty
	// until the cluster is formed.
	// +optional
	ClusterState string `json:"clusterState,omitempty"`

	// Shards is the observed view of every shard.
	// +listType=map
	// +listMapKey=name
	// +optional
	Shards []ShardStatus `json:"shards,omitempty"`

	// Selector is the label selector of the node pods (for the scale
	// subresource).
	// +optional
	Selector string `json:"selector,omitempty"`

	// Migration is the slot move in progress (or, with rebalance mode
	// DryRun, the one the operator would make): the plan and how far it
	// got. It lives in status so that a restarted operator resumes it.
	// +optional
	Migration *MigrationStatus `json:"migration,omitempty"`

	// Rollout is the rolling restart in progress.
	// +optional
	Rollout *RolloutStatus `json:"rollout,omitempty"`

	// LastSwitchover is the outcome of the last switchover asked for with
	// the switchover annotation.
	// +optional
	LastSwitchover *SwitchoverStatus `json:"lastSwitchover,omitempty"`

	// Failovers are the CLUSTER FAILOVERs the operator sent (for a rolling
	// update, a switchover or a replica scale-down) and waits for: a
	// restarted operator does not send them again while they may still
	// complete.
	// +listType=atomic
	// +optional
	Failovers []PendingFailover `json:"failovers,omitempty"`

	// Functions is, for every library of spec.functions, its current code's
	// hash and how many nodes have that code loaded.
	// +listType=atomic
	// +optional
	Functions []FunctionLibraryStatus `json:"functions,omitempty"`

	// ManagedUsers are the ACL users the operator made on the nodes: those
	// of spec.users, and removed ones until every node has deleted them.
	// Only these are ever deleted by the operator.
	// +listType=set
	// +optional
	ManagedUsers []string `json:"managedUsers,omitempty"`
	// FromRedis is the progress of spec.bootstrap.fromRedis.
	// +optional
	FromRedis *FromRedisStatus `json:"fromRedis,omitempty"`
	// ExternalEndpoints are the endpoints clients outside the Kubernetes
	// cluster reach each node at (spec.externalAccess).
	// +listType=map
	// +listMapKey=pod
	// +optional
	ExternalEndpoints []ExternalEndpoint `json:"externalEndpoints,omitempty"`
	// Scaling is the number of masters acted on and when it last changed
	// (spec.scaling).
	// +optional
	Scaling *ScalingStatus `json:"scaling,omitempty"`
	// FromBackup is the progress of spec.bootstrap.fromBackup
	// (rediscluster_backup_types.go).
	// +optional
	FromBackup *RestoreStatus `json:"fromBackup,omitempty"`

	// Backup is the state of spec.backup: the continuous archive.
	// +optional
	Backup *ClusterBackupStatus `json:"backup,omitempty"`
}

// FunctionLibraryStatus is where one library of spec.functions is loaded.
type FunctionLibraryStatus struct {
	// Name of the library (the "name=" of its "#!lua" line); empty when
	// the code could not be read.
	// +optional
	Name string `json:"name,omitempty"`

	// Source is the ConfigMap and key, "configmap/key".
	Source string `json:"source"`

	// SHA256 of the code in the ConfigMap (hex), the version the nodes
	// should have.
	// +optional
	SHA256 string `json:"sha256,omitempty"`

	// LoadedNodes is how many nodes (masters and replicas) have this code
	// loaded.
	LoadedNodes int32 `json:"loadedNodes"`

	// Nodes is how many nodes were asked (those that answered FUNCTION
	// LIST).
	Nodes int32 `json:"nodes"`

	// Missing are the pods that do not have this code yet (at most 10).
	// +listType=atomic
	// +optional
	Missing []string `json:"missing,omitempty"`

	// Error is why the library is not loaded: the ConfigMap or key is
	// missing, the code has no valid "#!lua name=" line, two sources name
	// the same library, or FUNCTION LOAD's error (a syntax error).
	// +optional
	Error string `json:"error,omitempty"`
}

// MigrationReason says why slots move.
type MigrationReason string

// The reasons of a slot migration.
const (
	MigrationScaleOut  MigrationReason = "ScaleOut"
	MigrationScaleIn   MigrationReason = "ScaleIn"
	MigrationRebalance MigrationReason = "Rebalance"
)

// MigrationStatus is a planned slot migration and its progress.
type MigrationStatus struct {
	// Reason of the migration: ScaleOut, ScaleIn or Rebalance.
	Reason MigrationReason `json:"reason"`

	// DryRun is true when the plan is only reported (rebalance mode
	// DryRun): nothing moves.
	// +optional
	DryRun bool `json:"dryRun,omitempty"`

	// Moves is the plan: which slots go from which shard to which.
	// +listType=atomic
	// +optional
	Moves []SlotMove `json:"moves,omitempty"`

	// TotalSlots is the number of slots the plan moves.
	TotalSlots int32 `json:"totalSlots"`

	// MovedSlots is how many of them have moved.
	// +optional
	MovedSlots int32 `json:"movedSlots,omitempty"`

	// StartTime is when the migration was planned.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
}

// SlotMove is the part of a plan that moves slots from one shard to
// another. Shards are named by index, not by node ID: a failover during the
// move changes the node, not the shard.
type SlotMove struct {
	// FromShard is the index of the shard that gives the slots.
	FromShard int32 `json:"fromShard"`
	// ToShard is the index of the shard that receives them.
	ToShard int32 `json:"toShard"`
	// Slots are ranges "first-last" or single slots, as CLUSTER NODES
	// prints them.
	// +listType=atomic
	Slots []string `json:"slots"`
}

// RolloutStatus is a rolling restart in progress.
type RolloutStatus struct {
	// UpdatedPods is the number of node pods running the current template.
	UpdatedPods int32 `json:"updatedPods"`
	// TotalPods is the number of node pods.
	TotalPods int32 `json:"totalPods"`
	// Shards being restarted now, by StatefulSet name.
	// +listType=atomic
	// +optional
	Shards []string `json:"shards,omitempty"`
	// Message says what the rollout waits for.
	// +optional
	Message string `json:"message,omitempty"`
}

// PendingFailover is a coordinated CLUSTER FAILOVER sent to a replica pod.
type PendingFailover struct {
	// Pod the CLUSTER FAILOVER was sent to.
	Pod string `json:"pod"`
	// Reason: RollingUpdate, Switchover, ScaleDown or Placement.
	Reason string `json:"reason"`
	// Time the command was sent.
	Time metav1.Time `json:"time"`
}

// SwitchoverStatus is the outcome of a switchover.
type SwitchoverStatus struct {
	// Pod that was asked to become master (the annotation's value).
	Pod string `json:"pod"`
	// Phase: InProgress, Succeeded or Failed.
	Phase string `json:"phase"`
	// Message explains the phase.
	// +optional
	Message string `json:"message,omitempty"`
	// Time of the last phase change.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
}

// ShardStatus is the observed state of one shard (one StatefulSet).
type ShardStatus struct {
	// Name of the shard's StatefulSet.
	Name string `json:"name"`

	// Master of the shard, when one is known.
	// +optional
	Master *MasterStatus `json:"master,omitempty"`

	// Replicas of the shard's master.
	// +optional
	Replicas []ReplicaStatus `json:"replicas,omitempty"`
}

// MasterStatus is one master as seen in CLUSTER NODES.
type MasterStatus struct {
	// Pod running the master.
	Pod string `json:"pod"`

	// NodeID is the 40-character node ID.
	// +optional
	NodeID string `json:"nodeID,omitempty"`

	// Slots the master serves, as ranges "first-last" or single slots.
	// +optional
	Slots []string `json:"slots,omitempty"`

	MemberPlacement `json:",inline"`
}

// ReplicaStatus is one replica as seen in CLUSTER NODES and INFO
// replication.
type ReplicaStatus struct {
	// Pod running the replica.
	Pod string `json:"pod"`

	// NodeID is the 40-character node ID.
	// +optional
	NodeID string `json:"nodeID,omitempty"`

	// LinkState of the replica's link to its master: "connected" or
	// "disconnected".
	// +optional
	LinkState string `json:"linkState,omitempty"`

	// LagBytes is how far the replica's replication offset is behind its
	// master's.
	// +optional
	LagBytes int64 `json:"lagBytes,omitempty"`

	MemberPlacement `json:",inline"`
}

// RedisCluster is a Redis Cluster of shoal data nodes: Masters shards, each
// one StatefulSet of a master and its replicas.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.masters,statuspath=.status.readyMasters,selectorpath=.status.selector
// +kubebuilder:resource:shortName=rdc,categories=shoal
// +kubebuilder:printcolumn:name="Masters",type=integer,JSONPath=`.spec.masters`
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.spec.replicasPerMaster`,description="Replicas per master"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.clusterState`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 40 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1035 label of at most 40 characters (lower case letters, digits and '-', starting with a letter): Services, StatefulSets and pods are named after it"
type RedisCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec RedisClusterSpec `json:"spec"`
	// +optional
	Status RedisClusterStatus `json:"status,omitempty"`
}

// RedisClusterList is a list of RedisClusters.
//
// +kubebuilder:object:root=true
type RedisClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RedisCluster `json:"items"`
}
