package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RedisBackupSpec asks for one backup of a RedisCluster: every shard's
// snapshot, taken while no slot moves, streamed to object storage with a
// manifest that lists the shards, their slot ranges and checksums. Or of a
// RedisReplication: one snapshot (every database) of its master or of an
// in-sync replica, with the replication ID and offset it is consistent
// with.
//
// +kubebuilder:validation:XValidation:rule="has(self.cluster) != has(self.replication)",message="a RedisBackup names exactly one of cluster and replication"
// +kubebuilder:validation:XValidation:rule="has(self.cluster) == has(oldSelf.cluster) && has(self.replication) == has(oldSelf.replication)",message="cluster and replication are immutable"
type RedisBackupSpec struct {
	// Cluster is the name of the RedisCluster to back up, in the
	// RedisBackup's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="cluster is immutable"
	// +optional
	Cluster string `json:"cluster,omitempty"`

	// Replication is the name of the RedisReplication to back up, in the
	// RedisBackup's namespace (instead of cluster).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="replication is immutable"
	// +optional
	Replication string `json:"replication,omitempty"`

	// Destination is where the backup's objects are written.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="destination is immutable"
	Destination BackupDestination `json:"destination"`

	// Source is which node of each shard (of the RedisReplication) sends
	// its snapshot: Master, or Replica (an in-sync replica, sparing the
	// master the fork-free but not free work of encoding the snapshot;
	// the master when there is no replica in sync).
	// +kubebuilder:validation:Enum=Master;Replica
	// +kubebuilder:default=Master
	// +optional
	Source BackupSource `json:"source,omitempty"`

	// Compression of the shards' snapshots: None, Gzip or Zstd.
	// +kubebuilder:validation:Enum=None;Gzip;Zstd
	// +kubebuilder:default=None
	// +optional
	Compression BackupCompression `json:"compression,omitempty"`

	// Encryption encrypts the shards' objects at rest with a key from a
	// Secret. Unset: the objects are stored as written (compressed or not).
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="encryption is immutable"
	// +optional
	Encryption *BackupEncryption `json:"encryption,omitempty"`
}

// BackupEncryption encrypts a backup's shard objects with AES-256-GCM in
// chunks (the format: controllers/backup/sealed). The manifest records the
// algorithm and the key's ID (a hash, not the key), so a restore with
// another key is refused before anything is loaded.
type BackupEncryption struct {
	// KeySecret holds the 32-byte key: raw, or in base64 (as
	// `openssl rand -base64 32` prints) or hex.
	KeySecret BackupKeySecret `json:"keySecret"`
}

// BackupKeySecret is a key of a Secret in the namespace of the backup (or
// of the restored RedisCluster).
type BackupKeySecret struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Key in the Secret's data.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:default=key
	// +optional
	Key string `json:"key,omitempty"`
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

// BackupDestination is where a backup's objects go: an S3-compatible
// object store, or a PersistentVolumeClaim of the backup's namespace.
//
// +kubebuilder:validation:XValidation:rule="has(self.s3) != has(self.pvc)",message="a destination is exactly one of s3 and pvc"
type BackupDestination struct {
	// S3 is an S3-compatible object store.
	// +optional
	S3 *S3Destination `json:"s3,omitempty"`

	// PVC is a PersistentVolumeClaim the backup's objects are written to,
	// as files. The operator cannot mount it itself: it runs a store
	// (a Deployment of one pod of the operator's image, named
	// shoal-store-<claimName>, with a ClusterIP Service and a Secret
	// holding the token it requires) that mounts the claim and serves
	// its files to the operator alone.
	// +optional
	PVC *PVCDestination `json:"pvc,omitempty"`
}

// PVCDestination is a PersistentVolumeClaim and a folder in it. A
// backup's objects are under <subPath>/<namespace>/<cluster>/<backup
// name>/ from the volume's root.
type PVCDestination struct {
	// ClaimName is the PersistentVolumeClaim, in the namespace of the
	// backup (or of the restored resource). At most 51 characters: the
	// store's Service is shoal-store-<claimName>, a DNS label.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=51
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	ClaimName string `json:"claimName"`

	// SubPath is the folder of the backups in the volume; empty for its
	// root.
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^([^/\s.][^/\s]*(/[^/\s.][^/\s]*)*)?$`
	// +optional
	SubPath string `json:"subPath,omitempty"`
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
	// ReasonBackupWaitingForReplication: the RedisReplication does not
	// exist, has no master, or its Secrets are missing.
	ReasonBackupWaitingForReplication ConditionReason = "WaitingForReplication"
	// ReasonBackupSlotsMoving: slots are moving (a migration runs, or a
	// node has slots MIGRATING or IMPORTING): the backup waits, as a
	// snapshot per shard would miss keys or hold them twice.
	ReasonBackupSlotsMoving ConditionReason = "SlotsMoving"
	// ReasonBackupWaitingForStore: the store of a PVC destination (its
	// pod) is not ready yet.
	ReasonBackupWaitingForStore ConditionReason = "WaitingForStore"
	// ReasonBackupCredentials: the credentials Secret or a key is missing,
	// or the encryption key's Secret or key (or the key is not 32 bytes).
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

	// Location is the backup's folder: s3://<bucket>/<key prefix>/, or
	// pvc://<claim>/<folder>/ (the folder from the volume's root).
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
	// slot map at the time of the backup. A RedisReplication's backup has
	// one, shard 0, without slots.
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
	// NodeID of the master of the shard's slots at the time (none for a
	// RedisReplication: its nodes are not in cluster mode).
	// +optional
	NodeID string `json:"nodeID,omitempty"`
	// Pod that sent the snapshot (the master or a replica).
	Pod string `json:"pod"`
	// Slots the shard served, ranges "first-last" or single slots (none
	// for a RedisReplication).
	// +listType=atomic
	// +optional
	Slots []string `json:"slots,omitempty"`
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

// RedisBackup is one backup of a RedisCluster or a RedisReplication to
// object storage.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rdb,categories=shoal
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.cluster`
// +kubebuilder:printcolumn:name="Replication",type=string,JSONPath=`.spec.replication`
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
