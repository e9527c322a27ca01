package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ScalingSpec keeps the scale subresource (a HorizontalPodAutoscaler or
// KEDA on spec.masters) from flapping: a change of spec.masters is never
// acted on while a slot migration or a rolling update runs, and, when
// coolDown is set, only after coolDown has passed since the last one. A
// deferred change is not rejected: the ScaleDeferred condition and an
// event say why it waits, and it is acted on as soon as it may.
type ScalingSpec struct {
	// CoolDown is the least time between the end of a change of the
	// number of masters (its slots moved) and the next change the
	// operator acts on. The default, 0s, waits only for the
	// migration or rolling update in progress: a change made by hand is
	// acted on at once, and a HorizontalPodAutoscaler already holds back
	// scale-downs by its own behavior.scaleDown.stabilizationWindowSeconds
	// (300s by default). Set it (for example 5m) for autoscalers without
	// such a window.
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s') && duration(self) <= duration('24h')",message="scaling.coolDown must be between 0s and 24h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:default="0s"
	// +optional
	CoolDown *metav1.Duration `json:"coolDown,omitempty"`
}

// ScalingStatus is the number of masters the operator acts on, and when
// it last changed.
type ScalingStatus struct {
	// Masters is the spec.masters the operator acts on; a newer value
	// waits while ScaleDeferred is True.
	Masters int32 `json:"masters"`
	// LastScaleTime is when Masters last changed or, later, the last time
	// slots were seen moving: coolDown counts from the end of a scale's
	// slot move.
	// +optional
	LastScaleTime *metav1.Time `json:"lastScaleTime,omitempty"`
}

// ConditionScaleDeferred is True while a change of spec.masters waits
// (cool-down, slot migration or rolling update in progress).
const ConditionScaleDeferred ConditionType = "ScaleDeferred"

// The reasons of ConditionScaleDeferred.
const (
	// ReasonScaleCoolDown: the last scale was less than coolDown ago.
	ReasonScaleCoolDown ConditionReason = "CoolDown"
	// ReasonScaleMigrationRunning: slots are moving.
	ReasonScaleMigrationRunning ConditionReason = "MigrationRunning"
	// ReasonScaleRolloutRunning: pods restart for a rolling update.
	ReasonScaleRolloutRunning ConditionReason = "RolloutRunning"
)

// DefaultScaleCoolDown is spec.scaling.coolDown's default.
const DefaultScaleCoolDown = "0s"
