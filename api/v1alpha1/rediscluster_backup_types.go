package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FromBackupSpec names the backup a new RedisCluster starts from: a
// RedisBackup of its namespace, or a backup's folder in an object store
// (the RedisBackup may be gone).
//
// The operator forms the cluster empty, checks every shard object's
// SHA-256 against the manifest, then loads each key into the master of its
// slot (RESTORE ... ABSTTL), so the backup restores into any number of
// masters. A shard whose object does not match its checksum is refused,
// before any of its keys is loaded.
//
// +kubebuilder:validation:XValidation:rule="(has(self.backupName) ? 1 : 0) + (has(self.s3) ? 1 : 0) + (has(self.pvc) ? 1 : 0) == 1",message="fromBackup needs exactly one of backupName, s3 and pvc"
// +kubebuilder:validation:XValidation:rule="(has(self.s3) || has(self.pvc)) == has(self.path)",message="fromBackup.path goes with fromBackup.s3 or fromBackup.pvc"
// +kubebuilder:validation:XValidation:rule="!has(self.pvc) || !has(self.pvc.subPath)",message="fromBackup.pvc takes no subPath: fromBackup.path is from the volume's root"
type FromBackupSpec struct {
	// BackupName is a Completed RedisBackup in the cluster's namespace.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	BackupName string `json:"backupName,omitempty"`

	// S3 is the store holding the backup (with Path).
	// +optional
	S3 *S3Destination `json:"s3,omitempty"`

	// PVC is the PersistentVolumeClaim holding the backup (with Path),
	// served by a store as a PVC destination's (see BackupDestination).
	// +optional
	PVC *PVCDestination `json:"pvc,omitempty"`

	// Path is the backup's folder in the bucket or the volume
	// (status.location of the RedisBackup without s3://<bucket>/ or
	// pvc://<claim>/): the folder of manifest.json.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^[^\s]+$`
	// +optional
	Path string `json:"path,omitempty"`

	// Encryption is the key of an encrypted backup. Unset with backupName:
	// the RedisBackup's. A backup encrypted with another key, or an
	// encrypted backup without a key, is refused before anything is loaded.
	// +optional
	Encryption *BackupEncryption `json:"encryption,omitempty"`
}

// ConditionRestored is True once spec.bootstrap.fromBackup is loaded;
// False while it loads, or with the reason it cannot.
const ConditionRestored ConditionType = "Restored"

// The reasons of the Restored condition.
const (
	ReasonRestoreWaiting   ConditionReason = "Waiting"
	ReasonRestoreLoading   ConditionReason = "Loading"
	ReasonRestoreCompleted ConditionReason = "Completed"
	// ReasonRestoreRefused: the backup cannot be loaded (a checksum
	// mismatch, a manifest that cannot be read, a backup not Completed).
	ReasonRestoreRefused ConditionReason = "Refused"
)

// RestorePhase is where a restore stands.
type RestorePhase string

// The phases of a restore.
const (
	RestoreWaiting   RestorePhase = "Waiting"
	RestoreLoading   RestorePhase = "Loading"
	RestoreCompleted RestorePhase = "Completed"
	RestoreFailed    RestorePhase = "Failed"
)

// RestoreStatus is the progress of spec.bootstrap.fromBackup.
type RestoreStatus struct {
	// Phase: Waiting, Loading, Completed or Failed (not retried: the
	// backup is refused; the reason is in message).
	Phase RestorePhase `json:"phase"`
	// Location of the backup loaded.
	// +optional
	Location string `json:"location,omitempty"`
	// ShardsLoaded is how many of the backup's shard objects are loaded;
	// Shards how many it has.
	// +optional
	ShardsLoaded int32 `json:"shardsLoaded,omitempty"`
	// +optional
	Shards int32 `json:"shards,omitempty"`
	// KeysLoaded is the number of keys restored (expired keys are
	// skipped).
	// +optional
	KeysLoaded int64 `json:"keysLoaded,omitempty"`
	// StartTime and CompletionTime of the restore.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// Message says what the restore waits for or why it failed.
	// +optional
	Message string `json:"message,omitempty"`
}

// Labels of the RedisBackups a schedule makes.
const (
	// LabelBackupCluster names the RedisCluster of a scheduled backup.
	LabelBackupCluster = "redis.shoal.dev/backup-cluster"
	// LabelBackupReplication names the RedisReplication of a scheduled
	// backup.
	LabelBackupReplication = "redis.shoal.dev/backup-replication"
	// AnnotationScheduledTime is the run time (RFC 3339) a scheduled
	// backup was made for.
	AnnotationScheduledTime = "redis.shoal.dev/scheduled-time"
)

// ScheduledBackupSpec takes RedisBackups of the cluster on a schedule and
// removes the old ones (their objects first, then the RedisBackup). The
// RedisBackups are named <cluster>-<unix time of the run> and are not
// owned by the RedisCluster: they outlive it, so it can be restored.
type ScheduledBackupSpec struct {
	// Schedule in cron syntax (minute hour day-of-month month
	// day-of-week, UTC) or a descriptor (@daily, @every 6h). A run
	// missed while the operator was down is taken once, late.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Schedule string `json:"schedule"`

	// Destination of the backups.
	Destination BackupDestination `json:"destination"`

	// Source: Master or Replica (see RedisBackupSpec).
	// +kubebuilder:validation:Enum=Master;Replica
	// +kubebuilder:default=Master
	// +optional
	Source BackupSource `json:"source,omitempty"`

	// Compression: None, Gzip or Zstd.
	// +kubebuilder:validation:Enum=None;Gzip;Zstd
	// +kubebuilder:default=None
	// +optional
	Compression BackupCompression `json:"compression,omitempty"`

	// Encryption of the backups' objects (see RedisBackupSpec).
	// +optional
	Encryption *BackupEncryption `json:"encryption,omitempty"`

	// Retention says which completed backups are kept.
	// +kubebuilder:default={}
	// +optional
	Retention BackupRetention `json:"retention,omitempty"`
}

// BackupRetention keeps the newest Count completed backups, none older
// than MaxAge; the newest completed backup is always kept.
type BackupRetention struct {
	// Count of completed backups kept.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +kubebuilder:default=7
	// +optional
	Count int32 `json:"count,omitempty"`

	// MaxAge of a kept backup (for example 168h); unset: no age limit.
	// +kubebuilder:validation:Type=string
	// +optional
	MaxAge *metav1.Duration `json:"maxAge,omitempty"`
}
