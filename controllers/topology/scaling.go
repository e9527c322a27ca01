package topology

import (
	"fmt"
	"time"
)

// ScaleInput is what decides whether a change of spec.masters (the scale
// subresource, moved by a HorizontalPodAutoscaler or KEDA) is acted on now.
type ScaleInput struct {
	// Requested is spec.masters.
	Requested int32
	// Applied is the number of masters acted on so far (status.scaling);
	// 0 when none was recorded (a new cluster, an operator upgrade).
	Applied int32
	// LastScale is when Applied last changed, or slots last moved for
	// it; zero for never.
	LastScale time.Time
	Now       time.Time
	CoolDown  time.Duration
	// MigrationRunning: slots are moving (not a dry-run plan).
	MigrationRunning bool
	// RolloutRunning: pods restart for a rolling update.
	RolloutRunning bool
}

// ScaleDeferral says why a change waits.
type ScaleDeferral string

// The reasons a change of spec.masters waits.
const (
	ScaleNotDeferred        ScaleDeferral = ""
	ScaleDeferredCoolDown   ScaleDeferral = "CoolDown"
	ScaleDeferredMigration  ScaleDeferral = "MigrationRunning"
	ScaleDeferredRollout    ScaleDeferral = "RolloutRunning"
	scaleMessageCoolDownFmt               = "spec.masters %d waits: the last scale (to %d masters) was %s ago, the cool-down is %s (spec.scaling.coolDown)"
)

// ScaleDecision is the number of masters to act on.
type ScaleDecision struct {
	// Masters is what the reconcile acts on: Requested, or Applied while
	// the change waits.
	Masters int32
	// Scaled: Masters differs from a recorded Applied (LastScale becomes
	// Now).
	Scaled bool
	// Settling: the last scale's slots are still moving; LastScale becomes
	// Now, so that the cool-down counts from the end of the move.
	Settling bool
	// Deferred says why Requested waits; Message says it for people.
	Deferred ScaleDeferral
	Message  string
	// RetryAfter is when a cool-down ends (0 otherwise).
	RetryAfter time.Duration
}

// DecideScale refuses flapping: a change of the number of masters is acted
// on only when no slot migration and no rolling update runs, and coolDown
// has passed since the last change finished moving slots (a move longer
// than coolDown would otherwise leave none: an autoscaler reading metrics
// of the cluster before the move ends could scale again at once). A first
// value (nothing applied yet) is taken as it is. A change back to Applied
// while one waits cancels it.
func DecideScale(in ScaleInput) ScaleDecision {
	settling := in.MigrationRunning && !in.LastScale.IsZero()
	if in.Applied == 0 || in.Requested == in.Applied {
		return ScaleDecision{Masters: in.Requested, Settling: settling && in.Applied != 0}
	}
	wait := ScaleDecision{Masters: in.Applied, Settling: settling}
	switch {
	case in.MigrationRunning:
		wait.Deferred = ScaleDeferredMigration
		wait.Message = fmt.Sprintf("spec.masters %d waits until the slot migration in progress ends (%d masters until then)", in.Requested, in.Applied)
		return wait
	case in.RolloutRunning:
		wait.Deferred = ScaleDeferredRollout
		wait.Message = fmt.Sprintf("spec.masters %d waits until the rolling update in progress ends (%d masters until then)", in.Requested, in.Applied)
		return wait
	}
	if !in.LastScale.IsZero() {
		if since := in.Now.Sub(in.LastScale); since < in.CoolDown {
			wait.Deferred = ScaleDeferredCoolDown
			wait.RetryAfter = in.CoolDown - since
			wait.Message = fmt.Sprintf(scaleMessageCoolDownFmt, in.Requested, in.Applied, since.Round(time.Second), in.CoolDown)
			return wait
		}
	}
	return ScaleDecision{Masters: in.Requested, Scaled: true}
}
