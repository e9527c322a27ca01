package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Defaults of RedisReplicationSpec (the CRD's +kubebuilder:default markers
// carry the same values).
const (
	DefaultReplicationReplicas     = 3
	DefaultSentinelReplicas        = 3
	DefaultSentinelDownAfterMillis = 5000
	DefaultSentinelFailoverTimeout = 60000
	DefaultSentinelParallelSyncs   = 1
)

// IsPaused reports whether the pause annotation is set to "true".
func (rr *RedisReplication) IsPaused() bool {
	return rr.Annotations[PausedAnnotation] == "true"
}

// AuthSecret returns the Secret and key that hold the password: the existing
// Secret of spec.auth, or the one the operator generates (<name>-auth).
func (rr *RedisReplication) AuthSecret() (ref SecretKeyRef, generated bool) {
	return authSecret(rr.Spec.Auth, rr.Name)
}

// SentinelMasterName is the name the sentinels monitor the master under
// (sentinel monitor <name> ...): the RedisReplication's name, which clients
// pass to their Sentinel support (go-redis FailoverOptions.MasterName).
func (rr *RedisReplication) SentinelMasterName() string {
	return rr.Name
}

// QuorumOrMajority is spec.sentinel.quorum, or a majority of the sentinels.
func (s *SentinelSpec) QuorumOrMajority() int32 {
	if s.Quorum != nil {
		return *s.Quorum
	}
	return s.Replicas/2 + 1
}

// Default fills the unset fields of the spec in place.
func (s *RedisReplicationSpec) Default(defaultImage string) {
	if s.Replicas == 0 {
		s.Replicas = DefaultReplicationReplicas
	}
	if s.Image == "" {
		s.Image = defaultImage
	}
	s.Storage.setDefaults()
	s.Auth.setDefaults()
	if s.PodDisruptionBudget.Enabled == nil {
		s.PodDisruptionBudget.Enabled = ptr.To(true)
	}
	if s.PodDisruptionBudget.MaxUnavailable == nil {
		s.PodDisruptionBudget.MaxUnavailable = ptr.To[int32](DefaultPDBMaxUnavailable)
	}
	if s.Sentinel.Replicas == 0 {
		s.Sentinel.Replicas = DefaultSentinelReplicas
	}
	if s.Sentinel.DownAfterMilliseconds == 0 {
		s.Sentinel.DownAfterMilliseconds = DefaultSentinelDownAfterMillis
	}
	if s.Sentinel.FailoverTimeout == 0 {
		s.Sentinel.FailoverTimeout = DefaultSentinelFailoverTimeout
	}
	if s.Sentinel.ParallelSyncs == 0 {
		s.Sentinel.ParallelSyncs = DefaultSentinelParallelSyncs
	}
}

// SetCondition records a condition for the current generation and reports
// whether anything changed.
func (rr *RedisReplication) SetCondition(t ConditionType, status metav1.ConditionStatus, reason ConditionReason, message string) bool {
	return setCondition(&rr.Status.Conditions, rr.Generation, t, status, reason, message)
}

// Condition returns the condition of type t, or nil.
func (rr *RedisReplication) Condition(t ConditionType) *metav1.Condition {
	return meta.FindStatusCondition(rr.Status.Conditions, string(t))
}

// The condition reasons of a RedisReplication.
const (
	// ReasonSeedingMaster: no sentinel names a master yet; the first pod
	// is made master and the others its replicas.
	ReasonSeedingMaster ConditionReason = "SeedingMaster"
	// ReasonReplicasSyncing: a replica is not linked or in sync yet, or a
	// sentinel has not discovered it yet (a failover that sentinel led
	// would leave the replica behind).
	ReasonReplicasSyncing ConditionReason = "ReplicasSyncing"
	// ReasonSentinelsMissing: fewer sentinels than spec.sentinel.replicas
	// answer and monitor the master.
	ReasonSentinelsMissing ConditionReason = "SentinelsMissing"
	// ReasonNoMaster: the sentinels name no master that is a pod of this
	// RedisReplication, or it does not answer.
	ReasonNoMaster ConditionReason = "NoMaster"
	// ReasonReplicationOK: the master answers, every replica is in sync and
	// every sentinel monitors the master and knows every replica.
	ReasonReplicationOK ConditionReason = "ReplicationOK"
)
