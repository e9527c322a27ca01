package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CutoverAnnotation asks the operator to finish a spec.bootstrap.fromRedis
// import: it holds the source's writes (CLIENT PAUSE WRITE), makes the
// cluster an exact copy of the source as it is then, and stops copying.
// Set it to "true" once the application no longer writes to the source.
const CutoverAnnotation = "redis.shoal.dev/fromredis-cutover"

// WantsCutover reports whether the cut-over annotation is set to "true".
func (rc *RedisCluster) WantsCutover() bool {
	return rc.Annotations[CutoverAnnotation] == "true"
}

// ConditionFromRedisSynced is True while the cluster holds the source's
// keys as of status.fromRedis.lastSyncedTime (phase Syncing) and once the
// import completed; False during the first pass and the cut-over, or when
// the source cannot be read.
const ConditionFromRedisSynced ConditionType = "FromRedisSynced"

// The reasons of the FromRedisSynced condition.
const (
	ReasonImportCopying     ConditionReason = "Copying"
	ReasonImportSyncing     ConditionReason = "Syncing"
	ReasonImportCuttingOver ConditionReason = "CuttingOver"
	ReasonImportCompleted   ConditionReason = "Completed"
	// ReasonImportFailed: the source or the cluster refused a step (its
	// error is the message); the step is tried again.
	ReasonImportFailed ConditionReason = "ImportFailed"
	// ReasonImportBlocked: the credentials Secret or its key is missing.
	ReasonImportBlocked ConditionReason = "CredentialsNotFound"
)

// BootstrapSpec says where the first data of a new RedisCluster comes from.
// It cannot be changed once set (it may be removed after the cut-over).
//
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="bootstrap is immutable (it may be removed)"
// +kubebuilder:validation:XValidation:rule="!(has(self.fromRedis) && has(self.fromBackup))",message="bootstrap takes one of fromRedis and fromBackup"
type BootstrapSpec struct {
	// FromRedis copies the keys of an existing Redis (standalone) or Redis
	// Cluster into this cluster while the source keeps serving.
	// +optional
	FromRedis *FromRedisSpec `json:"fromRedis,omitempty"`

	// FromBackup loads a backup (a RedisBackup, or a backup's folder in an
	// object store) into the new cluster (rediscluster_backup_types.go).
	// +optional
	FromBackup *FromBackupSpec `json:"fromBackup,omitempty"`
}

// FromRedisMode is the kind of the source: one Redis, or a Redis Cluster.
type FromRedisMode string

// The source kinds of spec.bootstrap.fromRedis.
const (
	FromRedisStandalone FromRedisMode = "Standalone"
	FromRedisCluster    FromRedisMode = "Cluster"
)

// FromRedisMethod is how an import brings the keys across.
type FromRedisMethod string

// The methods of spec.bootstrap.fromRedis.
const (
	// FromRedisReplicate: the operator follows each source node as a
	// replica does (PSYNC): its snapshot, then every write as it happens,
	// each on the master of its keys' slot; a broken link continues with
	// a partial resync. The lag is bytes of the source's stream, and the
	// cut-over waits only for the cluster to apply what the source took
	// before its writes were held.
	FromRedisReplicate FromRedisMethod = "Replicate"
	// FromRedisCopy: passes of SCAN, DUMP and RESTORE, for sources that
	// refuse PSYNC (managed services that disable it); the lag is a pass,
	// and the cut-over makes a last pass over an emptied cluster.
	FromRedisCopy FromRedisMethod = "Copy"
)

// FromRedisSpec is an existing Redis whose keys are copied in.
//
// With method Replicate (the default) the operator is a replica of each
// source node and applies its stream to the cluster. With method Copy it
// copies the source's keys of database 0 in passes (SCAN, then DUMP and
// PTTL on the source, RESTORE REPLACE on the master of each key's slot),
// again and again until the cut-over annotation is set; then it holds the
// source's writes and makes one last pass over an emptied cluster. Either
// way, after the cut-over the cluster holds exactly what the source held
// in its database 0.
//
// +kubebuilder:validation:XValidation:rule="self.mode != 'Standalone' || size(self.addresses) == 1",message="a Standalone source has exactly one address"
type FromRedisSpec struct {
	// Mode is Standalone (one Redis, its database 0) or Cluster (a Redis
	// Cluster: its masters are found from the addresses).
	// +kubebuilder:validation:Enum=Standalone;Cluster
	// +kubebuilder:default=Standalone
	// +optional
	Mode FromRedisMode `json:"mode,omitempty"`

	// Method is Replicate (the operator replicates the source: lag in bytes,
	// a cut-over of about a second) or Copy (passes of SCAN and
	// DUMP/RESTORE, for sources that refuse PSYNC).
	// +kubebuilder:validation:Enum=Replicate;Copy
	// +kubebuilder:default=Replicate
	// +optional
	Method FromRedisMethod `json:"method,omitempty"`

	// Addresses of the source, "host:port": the Redis, or some nodes of the
	// Redis Cluster (the first that answers names the masters).
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=261
	// +kubebuilder:validation:items:Pattern=`^([^:\[\]\s/]+|\[[0-9a-fA-F:.]+\]):[0-9]{1,5}$`
	// +listType=atomic
	Addresses []string `json:"addresses"`

	// CredentialsSecret holds the password (and optionally the ACL user)
	// the operator authenticates to the source with. Unset: no AUTH.
	// +optional
	CredentialsSecret *FromRedisCredentials `json:"credentialsSecret,omitempty"`

	// BatchSize is the SCAN COUNT of one batch (method Copy): how many keys
	// are read from the source and restored in one round trip.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +kubebuilder:default=500
	// +optional
	BatchSize int32 `json:"batchSize,omitempty"`
}

// FromRedisCredentials names the Secret holding the source's credentials.
type FromRedisCredentials struct {
	// Name of the Secret, in the RedisCluster's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// PasswordKey is the key of the password in the Secret's data.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:default=password
	// +optional
	PasswordKey string `json:"passwordKey,omitempty"`

	// UsernameKey is the key of the ACL user name in the Secret's data.
	// Unset: AUTH with the password alone (the default user).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	UsernameKey string `json:"usernameKey,omitempty"`
}

// FromRedisPhase is where an import stands.
type FromRedisPhase string

// The phases of an import.
const (
	// FromRedisWaiting: the cluster is not formed yet.
	FromRedisWaiting FromRedisPhase = "Waiting"
	// FromRedisCopying: a first pass over the source is running (Copy), or
	// the source's snapshot is being loaded (Replicate).
	FromRedisCopying FromRedisPhase = "Copying"
	// FromRedisSyncing: at least one pass finished; passes go on until the
	// cut-over, each refreshing what changed (Copy); or the source's
	// writes are applied as they come (Replicate).
	FromRedisSyncing FromRedisPhase = "Syncing"
	// FromRedisCuttingOver: the source's writes are held and the last pass
	// runs over an emptied cluster.
	FromRedisCuttingOver FromRedisPhase = "CuttingOver"
	// FromRedisCompleted: the last pass finished; nothing is copied any
	// more and the source's writes are released.
	FromRedisCompleted FromRedisPhase = "Completed"
)

// FromRedisStatus is the progress of spec.bootstrap.fromRedis.
type FromRedisStatus struct {
	// Phase: Waiting, Copying, Syncing, CuttingOver or Completed.
	Phase FromRedisPhase `json:"phase"`

	// Pass is the number of the pass running (or the last one), from 1.
	// +optional
	Pass int32 `json:"pass,omitempty"`

	// Sources are the source nodes of this pass and how far SCAN got on
	// each.
	// +listType=atomic
	// +optional
	Sources []FromRedisSourceStatus `json:"sources,omitempty"`

	// Shards are the keys restored on each of this cluster's masters in
	// this pass, by shard index.
	// +listType=atomic
	// +optional
	Shards []FromRedisShardStatus `json:"shards,omitempty"`

	// KeysCopied is the number of keys restored in this pass.
	// +optional
	KeysCopied int64 `json:"keysCopied,omitempty"`

	// PassStarted is when the current pass began.
	// +optional
	PassStarted *metav1.Time `json:"passStarted,omitempty"`

	// LastSyncedTime is when the last finished pass began: every write the
	// source acknowledged before it is in the cluster (keys deleted since
	// may still be there until the cut-over).
	// +optional
	LastSyncedTime *metav1.Time `json:"lastSyncedTime,omitempty"`

	// LagSeconds is how old the cluster's copy may be: the time since
	// LastSyncedTime (0 before the first pass finished, and once
	// Completed; with Replicate, 0 while the cluster holds all of the
	// source's stream).
	// +optional
	LagSeconds int64 `json:"lagSeconds,omitempty"`

	// LagBytes (Replicate) is how much of the source's replication stream
	// the cluster does not hold yet, summed over the source nodes.
	// +optional
	LagBytes int64 `json:"lagBytes,omitempty"`

	// Links (Replicate) is each source node's replication link.
	// +listType=atomic
	// +optional
	Links []FromRedisLinkStatus `json:"links,omitempty"`

	// PausedUntil is when the hold on the source's writes (taken for the
	// cut-over) ends unless renewed.
	// +optional
	PausedUntil *metav1.Time `json:"pausedUntil,omitempty"`

	// CompletedTime is when the cut-over finished.
	// +optional
	CompletedTime *metav1.Time `json:"completedTime,omitempty"`

	// Message says what the import waits for, or its last error.
	// +optional
	Message string `json:"message,omitempty"`
}

// FromRedisSourceStatus is one source node's SCAN progress in a pass.
type FromRedisSourceStatus struct {
	// Address of the source node, host:port.
	Address string `json:"address"`
	// Cursor is the SCAN cursor to continue from ("0" before the start).
	Cursor string `json:"cursor"`
	// Done is true once SCAN returned cursor 0 again.
	// +optional
	Done bool `json:"done,omitempty"`
}

// FromRedisShardStatus is what one shard received in a pass.
type FromRedisShardStatus struct {
	// Shard index.
	Shard int32 `json:"shard"`
	// KeysCopied is the number of keys restored on the shard's master.
	KeysCopied int64 `json:"keysCopied"`
}

// FromRedisLinkStatus is the operator's replication link to one source
// node (method Replicate).
type FromRedisLinkStatus struct {
	// Address of the source node, host:port.
	Address string `json:"address"`
	// Phase: Connecting, Loading (its snapshot) or Streaming.
	Phase string `json:"phase"`
	// ReplicationID and Offset: the source's stream, and how far of it
	// the cluster holds.
	// +optional
	ReplicationID string `json:"replicationID,omitempty"`
	// +optional
	Offset int64 `json:"offset,omitempty"`
	// SourceOffset is the source's master_repl_offset when last read.
	// +optional
	SourceOffset int64 `json:"sourceOffset,omitempty"`
	// KeysLoaded by the last full resynchronisation.
	// +optional
	KeysLoaded int64 `json:"keysLoaded,omitempty"`
	// FullSyncs and PartialSyncs count the resynchronisations.
	// +optional
	FullSyncs int64 `json:"fullSyncs,omitempty"`
	// +optional
	PartialSyncs int64 `json:"partialSyncs,omitempty"`
	// Skipped counts keys and commands of databases other than 0 (a
	// cluster has only database 0).
	// +optional
	Skipped int64 `json:"skipped,omitempty"`
	// LastError is why the link last broke.
	// +optional
	LastError string `json:"lastError,omitempty"`
}
