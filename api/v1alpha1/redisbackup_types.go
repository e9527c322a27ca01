package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RedisBackupSpec asks for one backup of a RedisCluster: every shard's
// snapshot, taken while no slot moves, streamed to object storage with a
// manifest that lists the shards, their slot ranges and checksums.
type RedisBackupSpec struct {
	// Cluster is the name of the RedisCluster to back up, in the
	// RedisBackup's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="cluster is immutable"
	Cluster string `json:"cluster"`

	// Destination is where the backup's objects are written.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="destination is immutable"
	Destination BackupDestination `json:"destination"`

	// Source is which node of each shard sends its snapshot: Master, or
	// Replica (an in-sync replica, sparing the master the fork-free but
	// not free work of encoding the snapshot; the master when the shard
	// has no replica in sync).
	// +kubebuilder:validation:Enum=Master;Replica
	// +kubebuilder:default=Master
	// +optional
	Source BackupSource `json:"source,omitempty"`

	// Compression of the shards' snapshots: None, Gzip or Zstd.
	// +kubebuilder:validation:Enum=None;Gzip;Zstd
	// +kubebuilder:default=None
	// +optional
	Compression BackupCompression `json:"compression,omitempty"`
}

// BackupSource is which node of a shard a backup reads.
type BackupSource string

// The sources of a backup.
const (
	BackupFromMaster  BackupSource = "Master"
	BackupFromReplica BackupSource = "Replica"
)

// BackupCompression is how a shard's snapshot is compressed in the store.
type BackupCompression string

// The compressions of a backup.
const (
	CompressionNone BackupCompression = "None"
	CompressionGzip BackupCompression = "Gzip"
	CompressionZstd BackupCompression = "Zstd"
)

// BackupDestination is an object store location.
type BackupDestination struct {
	// S3 is an S3-compatible object store.
	S3 S3Destination `json:"s3"`
}

// S3Destination is a bucket of an S3-compatible object store and a prefix
// in it. A backup's objects are under
// <prefix>/<namespace>/<cluster>/<backup name>/.
type S3Destination struct {
	// Endpoint is the store's host[:port], without a scheme (for example
	// s3.eu-west-1.amazonaws.com or minio.storage:9000).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=261
	// +kubebuilder:validation:Pattern=`^[^/\s:]+(:[0-9]{1,5})?$`
	Endpoint string `json:"endpoint"`

	// Bucket name.
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`
	Bucket string `json:"bucket"`

	// Prefix of the objects' keys in the bucket; empty for none.
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^([^/\s]+(/[^/\s]+)*)?$`
	// +optional
	Prefix string `json:"prefix,omitempty"`

	// Region of the bucket; empty lets the client ask the store.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Region string `json:"region,omitempty"`

	// Insecure talks plain HTTP instead of HTTPS (a store inside the
	// cluster or on the test host only).
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// CredentialsSecret holds the access key of the store.
	CredentialsSecret S3Credentials `json:"credentialsSecret"`
}

// S3Credentials names a Secret (in the RedisBackup's or the
// RedisCluster's namespace) and its keys holding an access key.
type S3Credentials struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// AccessKeyIDKey is the key of the access key ID in the Secret.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:default=accessKeyID
	// +optional
	AccessKeyIDKey string `json:"accessKeyIDKey,omitempty"`

	// SecretAccessKeyKey is the key of the secret access key.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:default=secretAccessKey
	// +optional
	SecretAccessKeyKey string `json:"secretAccessKeyKey,omitempty"`
}

// BackupPhase is where a backup stands.
type BackupPhase string

// The phases of a backup.
const (
	// BackupPending: not started; or waiting (the Ready condition says
	// for what: the cluster, its credentials, slots that move).
	BackupPending BackupPhase = "Pending"
	// BackupRunning: the shards' snapshots are being streamed.
	BackupRunning BackupPhase = "Running"
	// BackupCompleted: every shard and the manifest are in the store.
	BackupCompleted BackupPhase = "Completed"
	// BackupFailed: a shard failed (status.reason says why); a failed
	// backup is not retried: make a new RedisBackup.
	BackupFailed BackupPhase = "Failed"
)

// The condition of a RedisBackup: Completed, with the reasons below.
const (
	ConditionBackupCompleted ConditionType = "Completed"

	// ReasonBackupWaitingForCluster: the RedisCluster does not exist or
	// is not Ready.
	ReasonBackupWaitingForCluster ConditionReason = "WaitingForCluster"
	// ReasonBackupSlotsMoving: slots are moving (a migration runs, or a
	// node has slots MIGRATING or IMPORTING): the backup waits, as a
	// snapshot per shard would miss keys or hold them twice.
	ReasonBackupSlotsMoving ConditionReason = "SlotsMoving"
	// ReasonBackupCredentials: the credentials Secret or a key is missing.
	ReasonBackupCredentials ConditionReason = "CredentialsNotFound"
	// ReasonBackupRunning: snapshots are being streamed.
	ReasonBackupRunning ConditionReason = "Running"
	// ReasonBackupSucceeded: the backup is complete.
	ReasonBackupSucceeded ConditionReason = "Succeeded"
	// ReasonBackupFailed: a shard's snapshot or an upload failed.
	ReasonBackupFailed ConditionReason = "Failed"
)

// RedisBackupStatus is what the backup holds and where.
type RedisBackupStatus struct {
	// Phase: Pending, Running, Completed or Failed.
	// +optional
	Phase BackupPhase `json:"phase,omitempty"`

	// Conditions: Completed (False while pending or running, with the
	// reason it waits).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Location is the backup's folder: s3://<bucket>/<key prefix>/.
	// +optional
	Location string `json:"location,omitempty"`

	// Manifest is the object key of the manifest (manifest.json), which
	// a restore reads.
	// +optional
	Manifest string `json:"manifest,omitempty"`

	// StartTime is when the snapshots started; CompletionTime when the
	// manifest was written (or the backup failed).
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// Size is the sum of the shards' object sizes, in bytes.
	// +optional
	Size int64 `json:"size,omitempty"`

	// Shards are the shards' snapshots, by shard index: together, the
	// slot map at the time of the backup.
	// +listType=atomic
	// +optional
	Shards []BackupShardStatus `json:"shards,omitempty"`

	// Reason says why the backup failed.
	// +optional
	Reason string `json:"reason,omitempty"`
}

// BackupShardStatus is one shard's snapshot in the store.
type BackupShardStatus struct {
	// Shard index (the StatefulSet <cluster>-<shard>).
	Shard int32 `json:"shard"`
	// NodeID of the master of the shard's slots at the time.
	NodeID string `json:"nodeID"`
	// Pod that sent the snapshot (the master or a replica).
	Pod string `json:"pod"`
	// Slots the shard served, ranges "first-last" or single slots.
	// +listType=atomic
	Slots []string `json:"slots"`
	// Object is the key of the snapshot's object in the bucket.
	Object string `json:"object"`
	// Size of the object in bytes (compressed, when compressed);
	// RDBSize of the RDB snapshot itself.
	Size    int64 `json:"size"`
	RDBSize int64 `json:"rdbSize"`
	// SHA256 is the hex digest of the object's bytes, checked before a
	// restore loads any of it.
	SHA256 string `json:"sha256"`
	// ReplicationID and ReplicationOffset are the sending node's
	// replication ID and offset the snapshot is consistent with.
	ReplicationID     string `json:"replicationID"`
	ReplicationOffset int64  `json:"replicationOffset"`
	// DurationMillis is how long the shard's snapshot took to stream.
	DurationMillis int64 `json:"durationMillis"`
}

// RedisBackup is one backup of a RedisCluster to object storage.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rdb,categories=shoal
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.cluster`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Size",type=integer,JSONPath=`.status.size`
// +kubebuilder:printcolumn:name="Started",type=date,JSONPath=`.status.startTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RedisBackup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec RedisBackupSpec `json:"spec"`
	// +optional
	Status RedisBackupStatus `json:"status,omitempty"`
}

// RedisBackupList is a list of RedisBackups.
//
// +kubebuilder:object:root=true
type RedisBackupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RedisBackup `json:"items"`
}

// SetCondition sets a condition of the backup.
func (b *RedisBackup) SetCondition(t ConditionType, s metav1.ConditionStatus, reason ConditionReason, msg string) bool {
	return meta.SetStatusCondition(&b.Status.Conditions, metav1.Condition{
		Type: string(t), Status: s, Reason: string(reason), Message: msg, ObservedGeneration: b.Generation,
	})
}
