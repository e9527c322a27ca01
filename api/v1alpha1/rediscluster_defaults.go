package v1alpha1

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// PausedAnnotation stops the reconciliation of one RedisCluster while its
// value is "true". Objects already created stay as they are.
const PausedAnnotation = "redis.shoal.dev/paused"

// SwitchoverAnnotation asks the operator to make the named pod (a replica)
// the master of its shard, with a coordinated CLUSTER FAILOVER. The outcome
// is reported in status.lastSwitchover.
const SwitchoverAnnotation = "redis.shoal.dev/switchover"

// Defaults of the spec. The CRD schema carries the same values as
// +kubebuilder:default markers (a test checks they agree); Default applies
// them to objects that did not go through the API server's defaulting.
const (
	DefaultMasters              = 3
	DefaultReplicasPerMaster    = 1
	DefaultNodeTimeout          = 15 * time.Second
	DefaultStorageSize          = "1Gi"
	DefaultAuthSecretKey        = "password"
	DefaultPDBMaxUnavailable    = 1
	DefaultServiceType          = corev1.ServiceTypeClusterIP
	DefaultStorageRetention     = StorageRetentionDelete
	DefaultNodeUserID           = 65532
	DefaultKeysPerBatch         = 1000
	DefaultSlotsInFlight        = 8
	DefaultRebalanceMode        = RebalanceAuto
	DefaultRebalanceThreshold   = 2
	DefaultMaxConcurrentShards  = 1
	generatedAuthSecretNameTail = "-auth"
)

// IsPaused reports whether the pause annotation is set to "true".
func (rc *RedisCluster) IsPaused() bool {
	return rc.Annotations[PausedAnnotation] == "true"
}

// AuthSecret returns the Secret and key that hold the password: the existing
// Secret of spec.auth, or the one the operator generates (<name>-auth).
func (rc *RedisCluster) AuthSecret() (ref SecretKeyRef, generated bool) {
	return authSecret(rc.Spec.Auth, rc.Name)
}

// authSecret is the Secret and key of auth's password, or the generated
// <name>-auth.
func authSecret(auth *AuthSpec, name string) (ref SecretKeyRef, generated bool) {
	if auth != nil && auth.ExistingSecret != nil {
		ref = *auth.ExistingSecret
		if ref.Key == "" {
			ref.Key = DefaultAuthSecretKey
		}
		return ref, false
	}
	return SecretKeyRef{Name: name + generatedAuthSecretNameTail, Key: DefaultAuthSecretKey}, true
}

// Default fills the unset fields of the spec in place. defaultImage is the
// operator's default node image. Security contexts are left alone here: an
// unset one is replaced by DefaultPodSecurityContext and
// DefaultContainerSecurityContext when the pods are built.
func (s *RedisClusterSpec) Default(defaultImage string) {
	if s.Masters == 0 {
		s.Masters = DefaultMasters
	}
	if s.Image == "" {
		s.Image = defaultImage
	}
	if s.NodeTimeout == nil {
		s.NodeTimeout = &metav1.Duration{Duration: DefaultNodeTimeout}
	}
	s.Storage.setDefaults()
	s.Auth.setDefaults()
	if s.Service.Type == "" {
		s.Service.Type = DefaultServiceType
	}
	if s.PodDisruptionBudget.Enabled == nil {
		s.PodDisruptionBudget.Enabled = ptr.To(true)
	}
	if s.PodDisruptionBudget.MaxUnavailable == nil {
		s.PodDisruptionBudget.MaxUnavailable = ptr.To[int32](DefaultPDBMaxUnavailable)
	}
	if s.Migration.KeysPerBatch == nil {
		s.Migration.KeysPerBatch = ptr.To[int32](DefaultKeysPerBatch)
	}
	if s.Migration.SlotsInFlight == nil {
		s.Migration.SlotsInFlight = ptr.To[int32](DefaultSlotsInFlight)
	}
	if s.Scaling.CoolDown == nil {
		d, _ := time.ParseDuration(DefaultScaleCoolDown)
		s.Scaling.CoolDown = &metav1.Duration{Duration: d}
	}
	if s.Rebalance.Mode == "" {
		s.Rebalance.Mode = DefaultRebalanceMode
	}
	if s.Rebalance.ThresholdPercent == nil {
		s.Rebalance.ThresholdPercent = ptr.To[int32](DefaultRebalanceThreshold)
	}
	if s.UpdateStrategy.MaxConcurrentShards == nil {
		s.UpdateStrategy.MaxConcurrentShards = ptr.To[int32](DefaultMaxConcurrentShards)
	}
}

// DefaultPodSecurityContext is the pod security context of the node pods when
// spec.podSecurityContext is unset: non-root, fixed uid/gid so the volume is
// writable (fsGroup), RuntimeDefault seccomp.
func DefaultPodSecurityContext() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot:        ptr.To(true),
		RunAsUser:           ptr.To[int64](DefaultNodeUserID),
		RunAsGroup:          ptr.To[int64](DefaultNodeUserID),
		FSGroup:             ptr.To[int64](DefaultNodeUserID),
		FSGroupChangePolicy: ptr.To(corev1.FSGroupChangeOnRootMismatch),
		SeccompProfile:      &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// DefaultContainerSecurityContext is the security context of the node
// container when spec.securityContext is unset: read-only root filesystem, no
// privilege escalation, no capabilities.
func DefaultContainerSecurityContext() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		ReadOnlyRootFilesystem:   ptr.To(true),
		AllowPrivilegeEscalation: ptr.To(false),
		Privileged:               ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// setDefaults fills the storage defaults both kinds share: the claim's
// size and its retention policy.
func (s *StorageSpec) setDefaults() {
	if s.Size == nil {
		size := resource.MustParse(DefaultStorageSize)
		s.Size = &size
	}
	if s.RetentionPolicy == "" {
		s.RetentionPolicy = DefaultStorageRetention
	}
}

// setDefaults fills the key of an existing password Secret (nil: no auth
// section).
func (a *AuthSpec) setDefaults() {
	if a != nil && a.ExistingSecret != nil && a.ExistingSecret.Key == "" {
		a.ExistingSecret.Key = DefaultAuthSecretKey
	}
}
