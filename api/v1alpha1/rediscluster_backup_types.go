package v1alpha1

import (
	"time"

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

	// PointInTime restores the cluster as it was at a time after the
	// backup: the backup is loaded, then each shard's archived stream
	// (spec.backup.continuous of the backed-up cluster) is replayed up to
	// the last write its archiver had received by then. The backup must
	// have completed before the time, and no slot may have moved between
	// them; a time the archive does not cover is refused with the reason.
	// RedisClusters only.
	// +optional
	PointInTime *PointInTimeSpec `json:"pointInTime,omitempty"`
}

// PointInTimeSpec is where a restore stops: a time, or an offset of each
// shard's replication stream.
//
// +kubebuilder:validation:XValidation:rule="has(self.time) != has(self.offsets)",message="pointInTime takes exactly one of time and offsets"
type PointInTimeSpec struct {
	// Time (RFC 3339, for example 2026-12-06T14:30:00.250Z; to the
	// microsecond).
	// +optional
	Time *metav1.MicroTime `json:"time,omitempty"`

	// Offsets stops each shard of the backup (its number in the
	// manifest) at an offset of its master's replication stream: the
	// last command that ends at or before it is the last replayed. Every
	// shard of the backup needs one, at or after its backup's offset.
	// +kubebuilder:validation:MaxItems=1024
	// +listType=map
	// +listMapKey=shard
	// +optional
	Offsets []ShardOffset `json:"offsets,omitempty"`
}

// ShardOffset is a replication offset of one shard of a backup.
type ShardOffset struct {
	// Shard is the shard's number in the backup's manifest.
	// +kubebuilder:validation:Minimum=0
	Shard int32 `json:"shard"`
	// Offset in the shard's replication stream.
	// +kubebuilder:validation:Minimum=0
	Offset int64 `json:"offset"`
}

// StopOf is where shard's replay stops: at Time, or at its offset (ok
// false when Offsets has none for it).
func (p *PointInTimeSpec) StopOf(shard int) (t time.Time, offset int64, byOffset, ok bool) {
	if p.Time != nil {
		return p.Time.Time, 0, false, true
	}
	for _, o := range p.Offsets {
		if int(o.Shard) == shard {
			return time.Time{}, o.Offset, true, true
		}
	}
	return time.Time{}, 0, true, false
}

// ContinuousBackupSpec ships each master's replication stream (every
// write it propagates) to the destination as it comes, after each
// completed backup, so a new cluster can be restored to a point in time
// (spec.bootstrap.fromBackup.pointInTime). Writes are at risk only for an
// upload interval plus one read: the recovery point objective.
type ContinuousBackupSpec struct {
	// UploadInterval is how often each shard's stream is uploaded as a
	// segment object (100ms to 5m).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('100ms') && duration(self) <= duration('5m')",message="uploadInterval must be between 100ms and 5m"
	// +kubebuilder:default="1s"
	// +optional
	UploadInterval *metav1.Duration `json:"uploadInterval,omitempty"`
}

// Interval is the upload interval, 1s when unset.
func (c *ContinuousBackupSpec) Interval() time.Duration {
	if c.UploadInterval == nil || c.UploadInterval.Duration <= 0 {
		return time.Second
	}
	return c.UploadInterval.Duration
}

// ConditionContinuousBackup (in status.backup.continuous) is True while
// every shard's stream is being archived after the newest completed
// backup; False with the reason (waiting for a first backup, a gap that
// needs a new backup).
const ConditionContinuousBackup ConditionType = "ContinuousBackup"

// The reasons of the ContinuousBackup condition.
const (
	ReasonArchiving ConditionReason = "Archiving"
	// ReasonArchiveWaitingForBackup: no completed backup yet, or a new one
	// is being taken (after a gap or a slot move).
	ReasonArchiveWaitingForBackup ConditionReason = "WaitingForBackup"
	// ReasonArchiveGap: a shard's stream could not be continued (the
	// master offered a full resynchronisation); a new backup is taken.
	ReasonArchiveGap ConditionReason = "Gap"
)

// ClusterBackupStatus is the state of spec.backup.
type ClusterBackupStatus struct {
	// Continuous is the archive of spec.backup.continuous.
	// +optional
	Continuous *ContinuousBackupStatus `json:"continuous,omitempty"`
}

// ContinuousBackupStatus is how far each shard's stream is archived.
type ContinuousBackupStatus struct {
	// Backup is the RedisBackup the archive continues (its folder holds
	// the segments, under wal/<shard>/).
	Backup string `json:"backup"`
	// RestorableUntil is the latest time a restore can stop at: the
	// oldest of the shards' archived times.
	// +optional
	RestorableUntil *metav1.MicroTime `json:"restorableUntil,omitempty"`
	// Shards is each shard's archive.
	// +listType=atomic
	// +optional
	Shards []ArchivedShardStatus `json:"shards,omitempty"`
	// Conditions: ContinuousBackup (True while archiving; False with
	// WaitingForBackup or Gap).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// SetCondition records a condition of the archive for generation.
func (s *ContinuousBackupStatus) SetCondition(generation int64, t ConditionType, status metav1.ConditionStatus, reason ConditionReason, message string) bool {
	return setCondition(&s.Conditions, generation, t, status, reason, message)
}

// ArchivedShardStatus is one shard's archive.
type ArchivedShardStatus struct {
	Shard int32 `json:"shard"`
	// ReplicationID and Offset: the stream archived up to Offset,
	// received by Time.
	ReplicationID string `json:"replicationID,omitempty"`
	Offset        int64  `json:"offset"`
	// +optional
	Time *metav1.MicroTime `json:"time,omitempty"`
	// Segments uploaded since the operator started.
	// +optional
	Segments int64 `json:"segments,omitempty"`
	// Message is the last error or the gap.
	// +optional
	Message string `json:"message,omitempty"`
}

// ReplayedShardStatus is how far a point-in-time restore replayed one
// shard's archived stream.
type ReplayedShardStatus struct {
	Shard int32 `json:"shard"`
	// Offset replayed up to, from the backup's; received by Time.
	FromOffset int64 `json:"fromOffset"`
	Offset     int64 `json:"offset"`
	// +optional
	Time *metav1.MicroTime `json:"time,omitempty"`
	// Commands replayed.
	Commands int64 `json:"commands"`
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
	// PointInTime is the time restored to (spec's), and Replayed how far
	// each shard's archived stream was replayed, in shard order.
	// +optional
	PointInTime *metav1.MicroTime `json:"pointInTime,omitempty"`
	// +listType=atomic
	// +optional
	Replayed []ReplayedShardStatus `json:"replayed,omitempty"`
	// ReplayingShard is the index (in the backup's shards) of the shard
	// whose archive is being replayed, written before the replay starts:
	// found again with that shard not in replayed, the replay was
	// interrupted and is not done twice (the restore is refused).
	// +optional
	ReplayingShard *int32 `json:"replayingShard,omitempty"`
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
//
// +kubebuilder:validation:XValidation:rule="!has(self.continuous) || has(self.destination.s3)",message="continuous archiving needs an s3 destination"
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

	// Continuous archives each master's writes after every completed
	// backup, for point-in-time restores. RedisClusters only.
	// +optional
	Continuous *ContinuousBackupSpec `json:"continuous,omitempty"`
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
