package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RedisReplicationSpec is what the user asks for: Replicas data nodes
// without slots (cluster-enabled no), one master and Replicas-1 replicas of
// it, watched by Sentinel.Replicas sentinels that decide failover as Redis
// Sentinel does. Clients reach the master through the <name>-master Service,
// the read replicas through <name>-replicas, and the sentinels (for
// Sentinel-aware clients: go-redis FailoverClient, redis-py's Sentinel,
// ioredis, Jedis) through <name>-sentinel.
//
// +kubebuilder:validation:XValidation:rule="(has(self.auth) && has(self.auth.existingSecret)) == (has(oldSelf.auth) && has(oldSelf.auth.existingSecret)) && (!has(self.auth) || !has(self.auth.existingSecret) || self.auth.existingSecret == oldSelf.auth.existingSecret)",message="auth.existingSecret is immutable: changing the password source is not supported yet"
// +kubebuilder:validation:XValidation:rule="(has(self.auth) && has(self.auth.defaultUser) && self.auth.defaultUser == 'Disabled') == (has(oldSelf.auth) && has(oldSelf.auth.defaultUser) && oldSelf.auth.defaultUser == 'Disabled')",message="auth.defaultUser is immutable: during a rolling update the replicas and the sentinels would authenticate one way to nodes that expect the other"
// +kubebuilder:validation:XValidation:rule="!has(self.bootstrap) || has(oldSelf.bootstrap)",message="spec.bootstrap is set at creation only"
// +kubebuilder:validation:XValidation:rule="has(self.tls) == has(oldSelf.tls)",message="spec.tls cannot be added or removed after creation: during the rolling update nodes and sentinels with and without TLS could not reach each other"
type RedisReplicationSpec struct {
	// Replicas is the number of data nodes: one master and Replicas-1
	// replicas of it.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=3
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// Image is the node image of the data nodes and the sentinels. Empty
	// means the operator's default node image.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Image string `json:"image,omitempty"`

	// ImagePullPolicy of the node containers.
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	// +optional
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// ImagePullSecrets of the pods.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// Resources of the data node container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// Storage of every data node (as RedisCluster's).
	// +kubebuilder:default={}
	// +optional
	Storage StorageSpec `json:"storage,omitempty"`

	// Config is passed to the data nodes' configuration file and applied
	// live with CONFIG SET when it changes. The keys of RedisCluster's
	// spec.config are accepted, except the cluster-* ones: maxmemory,
	// maxmemory-policy, maxmemory-samples, maxclients, timeout,
	// tcp-keepalive, hz, loglevel, appendonly, appendfsync, save,
	// repl-backlog-size, repl-backlog-ttl, repl-timeout,
	// repl-ping-replica-period, replica-serve-stale-data, replica-priority,
	// min-replicas-to-write, min-replicas-max-lag, slowlog-log-slower-than,
	// slowlog-max-len, hash-max-listpack-entries, hash-max-listpack-value,
	// list-max-listpack-size, set-max-intset-entries,
	// set-max-listpack-entries, set-max-listpack-value,
	// zset-max-listpack-entries, zset-max-listpack-value,
	// client-output-buffer-limit, proto-max-bulk-len, event-loop-busy-poll.
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['maxmemory', 'maxmemory-policy', 'maxmemory-samples', 'maxclients', 'timeout', 'tcp-keepalive', 'hz', 'loglevel', 'appendonly', 'appendfsync', 'save', 'repl-backlog-size', 'repl-backlog-ttl', 'repl-timeout', 'repl-ping-replica-period', 'replica-serve-stale-data', 'replica-priority', 'min-replicas-to-write', 'min-replicas-max-lag', 'slowlog-log-slower-than', 'slowlog-max-len', 'hash-max-listpack-entries', 'hash-max-listpack-value', 'list-max-listpack-size', 'set-max-intset-entries', 'set-max-listpack-entries', 'set-max-listpack-value', 'zset-max-listpack-entries', 'zset-max-listpack-value', 'client-output-buffer-limit', 'proto-max-bulk-len', 'event-loop-busy-poll'])",messageExpression="'config key ' + self.filter(k, !(k in ['maxmemory', 'maxmemory-policy', 'maxmemory-samples', 'maxclients', 'timeout', 'tcp-keepalive', 'hz', 'loglevel', 'appendonly', 'appendfsync', 'save', 'repl-backlog-size', 'repl-backlog-ttl', 'repl-timeout', 'repl-ping-replica-period', 'replica-serve-stale-data', 'replica-priority', 'min-replicas-to-write', 'min-replicas-max-lag', 'slowlog-log-slower-than', 'slowlog-max-len', 'hash-max-listpack-entries', 'hash-max-listpack-value', 'list-max-listpack-size', 'set-max-intset-entries', 'set-max-listpack-entries', 'set-max-listpack-value', 'zset-max-listpack-entries', 'zset-max-listpack-value', 'client-output-buffer-limit', 'proto-max-bulk-len', 'event-loop-busy-poll']))[0] + ' is not supported or is managed by the operator (kubectl explain redisreplications.spec.config lists the supported keys)'"
	// +optional
	Config map[string]ConfigValue `json:"config,omitempty"`

	// Auth selects the password of the default user (as RedisCluster's);
	// the sentinels use it for the data nodes (auth-pass) and require it
	// from their own clients. Unset: a generated password in <name>-auth.
	// With defaultUser Disabled (immutable) the default user is off: the
	// operator, the replicas (masteruser) and the sentinels (sentinel
	// auth-user) authenticate as shoal-operator, shoal-replication and
	// shoal-sentinel with the operator's generated password
	// (<name>-operator), and applications as users of spec.users.
	// +optional
	Auth *AuthSpec `json:"auth,omitempty"`

	// TLS encrypts client, replication and Sentinel traffic with the
	// same certificate sources as RedisCluster's spec.tls
	// (rediscluster_tls_types.go): the data nodes serve TLS only on 6379
	// and replicate over TLS (tls-replication yes), the sentinels serve
	// TLS only on 26379 and reach the data nodes and each other over TLS,
	// and the operator connects with the certificate and CA of the
	// Secret. The certificate is valid for the master, replicas and
	// sentinel Services and every pod of <name>-nodes. Set at creation
	// only. Unset: plain TCP.
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`

	// Users are ACL users kept on every data node, as RedisCluster's
	// spec.users (rediscluster_users_types.go): made equal to the entry
	// with one ACL SETUSER, on nodes that start later too; users removed
	// from the list are deleted (ACL DELUSER). The sentinels have no ACL
	// users: they, the replicas and the operator authenticate as the
	// default user with spec.auth's password.
	// +kubebuilder:validation:MaxItems=64
	// +listType=map
	// +listMapKey=name
	// +optional
	Users []UserSpec `json:"users,omitempty"`

	// Monitoring serves the data nodes' Prometheus metrics (redis_exporter's
	// names) on a container port named "metrics" and makes a PodMonitor
	// <name>-nodes scraping them, as RedisCluster's spec.monitoring
	// (rediscluster_monitoring_types.go), and a PrometheusRule
	// <name>-alerts with the alerts of a master, its replicas and
	// Sentinel (node down, not exactly one master, master without
	// replica, replica link down or lagging, memory near maxmemory,
	// persistence write errors). Turning it on or off restarts the data
	// nodes (rolling update: it is in node.conf).
	// +optional
	Monitoring *MonitoringSpec `json:"monitoring,omitempty"`

	// Sentinel configures the sentinels that watch the master and fail
	// it over.
	// +kubebuilder:default={}
	// +optional
	Sentinel SentinelSpec `json:"sentinel,omitempty"`

	// Scheduling constrains where the pods run. Empty
	// topologySpreadConstraints: the data nodes are spread across hosts
	// and zones, and so are the sentinels.
	// +optional
	Scheduling SchedulingSpec `json:"scheduling,omitempty"`

	// PodTemplate adds labels and annotations to the pods.
	// +optional
	PodTemplate PodTemplateSpec `json:"podTemplate,omitempty"`

	// PodSecurityContext of the pods (as RedisCluster's).
	// +optional
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`

	// SecurityContext of the node containers (as RedisCluster's).
	// +optional
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`

	// PodDisruptionBudget of the data nodes and of the sentinels.
	// +kubebuilder:default={}
	// +optional
	PodDisruptionBudget PodDisruptionBudgetSpec `json:"podDisruptionBudget,omitempty"`

	// Bootstrap brings in the data of a backup of a RedisReplication
	// (set at creation only).
	// +optional
	Bootstrap *ReplicationBootstrapSpec `json:"bootstrap,omitempty"`

	// Backup takes RedisBackups of the replication on a schedule and
	// prunes them, as RedisCluster's spec.backup
	// (rediscluster_backup_types.go). The RedisBackups are named
	// <name>-rr-<unix time of the run>. Continuous archiving
	// (backup.continuous) is for RedisClusters only.
	// +kubebuilder:validation:XValidation:rule="!has(self.continuous)",message="backup.continuous (point-in-time recovery) is for RedisClusters only"
	// +optional
	Backup *ScheduledBackupSpec `json:"backup,omitempty"`
}

// ReplicationBootstrapSpec says where the first data of a new
// RedisReplication comes from.
//
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="bootstrap is immutable (it may be removed)"
type ReplicationBootstrapSpec struct {
	// FromBackup loads a backup of a RedisReplication (a RedisBackup, or
	// a backup's folder in an object store) into the master, every
	// database, before the role labels send clients to it; the replicas
	// receive it by replication. The object's SHA-256 (and, encrypted, its
	// key) is checked before any key is loaded; a backup of a RedisCluster
	// is refused. A point in time is for RedisClusters only.
	// +kubebuilder:validation:XValidation:rule="!has(self.pointInTime)",message="fromBackup.pointInTime is for RedisClusters only"
	// +optional
	FromBackup *FromBackupSpec `json:"fromBackup,omitempty"`
}

// SentinelSpec configures the sentinels: their number, the quorum and the
// timing of failure detection and failover (sentinel.conf's directives of
// the same names).
//
// +kubebuilder:validation:XValidation:rule="!has(self.quorum) || self.quorum <= self.replicas",message="sentinel.quorum must not exceed sentinel.replicas: the master could never be agreed down"
type SentinelSpec struct {
	// Replicas is the number of sentinels. A failover needs a majority of
	// them to elect a leader, so 3 survive the loss of one.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=9
	// +kubebuilder:default=3
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// Quorum is how many sentinels must agree that the master is down
	// (ODOWN) before a failover starts. Unset: a majority of replicas.
	// +kubebuilder:validation:Minimum=1
	// +optional
	Quorum *int32 `json:"quorum,omitempty"`

	// DownAfterMilliseconds is how long the master may not answer before a
	// sentinel flags it down (down-after-milliseconds).
	// +kubebuilder:validation:Minimum=100
	// +kubebuilder:validation:Maximum=3600000
	// +kubebuilder:default=5000
	// +optional
	DownAfterMilliseconds int32 `json:"downAfterMilliseconds,omitempty"`

	// FailoverTimeout in milliseconds (failover-timeout): how long a
	// failover may take before another sentinel may try again.
	// +kubebuilder:validation:Minimum=1000
	// +kubebuilder:validation:Maximum=86400000
	// +kubebuilder:default=60000
	// +optional
	FailoverTimeout int32 `json:"failoverTimeout,omitempty"`

	// ParallelSyncs is how many replicas resynchronize with a new master at
	// the same time after a failover (parallel-syncs).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=1
	// +optional
	ParallelSyncs int32 `json:"parallelSyncs,omitempty"`

	// Resources of the sentinel container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
}

// RedisReplicationStatus is what the operator observed.
type RedisReplicationStatus struct {
	// ObservedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Progressing and Degraded.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Master is the pod the sentinels name as master (SENTINEL
	// GET-MASTER-ADDR-BY-NAME), which <name>-master leads to.
	// +optional
	Master string `json:"master,omitempty"`

	// MasterAddress is the master's address as the sentinels report it
	// (host:port).
	// +optional
	MasterAddress string `json:"masterAddress,omitempty"`

	// Replicas are the data nodes that replicate the master.
	// +listType=atomic
	// +optional
	Replicas []ReplicationReplicaStatus `json:"replicas,omitempty"`

	// ReadyReplicas is the number of replicas linked to the master and in
	// sync (the scale subresource's status).
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// Sentinels is the number of sentinels that answered and monitor the
	// master.
	// +optional
	Sentinels int32 `json:"sentinels,omitempty"`

	// Selector is the label selector of the data node pods (for the scale
	// subresource).
	// +optional
	Selector string `json:"selector,omitempty"`

	// LastSwitchover is the outcome of the last switchover asked for with
	// the switchover annotation.
	// +optional
	LastSwitchover *SwitchoverStatus `json:"lastSwitchover,omitempty"`

	// ManagedUsers are the ACL users the operator made on the data nodes:
	// those of spec.users, and removed ones until every node has deleted
	// them. Only these are ever deleted by the operator.
	// +listType=set
	// +optional
	ManagedUsers []string `json:"managedUsers,omitempty"`

	// Failover is the SENTINEL FAILOVER the operator sent (rolling update or
	// switchover) and waits for: a restarted operator does not send it
	// again while it may still complete.
	// +optional
	Failover *PendingFailover `json:"failover,omitempty"`

	// FromBackup is the progress of spec.bootstrap.fromBackup.
	// +optional
	FromBackup *RestoreStatus `json:"fromBackup,omitempty"`
}

// ReplicationReplicaStatus is one replica as its INFO replication reports
// it.
type ReplicationReplicaStatus struct {
	// Pod running the replica.
	Pod string `json:"pod"`

	// LinkState is master_link_status: "up" or "down".
	// +optional
	LinkState string `json:"linkState,omitempty"`

	// Offset is the replica's replication offset
	// (slave_repl_offset).
	// +optional
	Offset int64 `json:"offset,omitempty"`

	// LagBytes is how far the replica's offset is behind the master's.
	// +optional
	LagBytes int64 `json:"lagBytes,omitempty"`

	// Synced: the link is up and no full synchronization is in progress.
	// +optional
	Synced bool `json:"synced,omitempty"`
}

// RedisReplication is a master, its replicas and the sentinels that fail it
// over: Redis's replication without slots, for applications that need
// SELECT, multi-key commands across any keys or clients without cluster
// support.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.readyReplicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=rdr,categories=shoal
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.spec.replicas`
// +kubebuilder:printcolumn:name="Master",type=string,JSONPath=`.status.master`
// +kubebuilder:printcolumn:name="Sentinels",type=integer,JSONPath=`.status.sentinels`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 40 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1035 label of at most 40 characters (lower case letters, digits and '-', starting with a letter): Services, StatefulSets and pods are named after it"
type RedisReplication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec RedisReplicationSpec `json:"spec"`
	// +optional
	Status RedisReplicationStatus `json:"status,omitempty"`
}

// RedisReplicationList is a list of RedisReplications.
//
// +kubebuilder:object:root=true
type RedisReplicationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RedisReplication `json:"items"`
}
