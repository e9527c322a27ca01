package topology

import (
	"testing"
	"time"
)

func TestDecideScale(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	cool := 5 * time.Minute
	tests := []struct {
		name     string
		in       ScaleInput
		masters  int32
		scaled   bool
		deferred ScaleDeferral
		retry    time.Duration
	}{
		{"first value is taken", ScaleInput{Requested: 5, Now: t0, CoolDown: cool, MigrationRunning: true}, 5, false, ScaleNotDeferred, 0},
		{"no change", ScaleInput{Requested: 3, Applied: 3, LastScale: t0, Now: t0, CoolDown: cool, MigrationRunning: true}, 3, false, ScaleNotDeferred, 0},
		{"never scaled: no cool-down", ScaleInput{Requested: 4, Applied: 3, Now: t0, CoolDown: cool}, 4, true, ScaleNotDeferred, 0},
		{"cool-down over", ScaleInput{Requested: 4, Applied: 3, LastScale: t0.Add(-cool), Now: t0, CoolDown: cool}, 4, true, ScaleNotDeferred, 0},
		{"within cool-down", ScaleInput{Requested: 4, Applied: 3, LastScale: t0.Add(-time.Minute), Now: t0, CoolDown: cool}, 3, false, ScaleDeferredCoolDown, 4 * time.Minute},
		{"scale in within cool-down", ScaleInput{Requested: 3, Applied: 6, LastScale: t0.Add(-time.Second), Now: t0, CoolDown: cool}, 6, false, ScaleDeferredCoolDown, cool - time.Second},
		{"cool-down 0", ScaleInput{Requested: 4, Applied: 3, LastScale: t0, Now: t0}, 4, true, ScaleNotDeferred, 0},
		{"migration running", ScaleInput{Requested: 4, Applied: 3, LastScale: t0.Add(-time.Hour), Now: t0, CoolDown: cool, MigrationRunning: true}, 3, false, ScaleDeferredMigration, 0},
		{"rollout running", ScaleInput{Requested: 4, Applied: 3, LastScale: t0.Add(-time.Hour), Now: t0, CoolDown: cool, RolloutRunning: true}, 3, false, ScaleDeferredRollout, 0},
		{"migration before cool-down", ScaleInput{Requested: 4, Applied: 3, LastScale: t0, Now: t0, CoolDown: cool, MigrationRunning: true}, 3, false, ScaleDeferredMigration, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DecideScale(tt.in)
			if d.Masters != tt.masters || d.Scaled != tt.scaled || d.Deferred != tt.deferred || d.RetryAfter != tt.retry {
				t.Errorf("DecideScale = %+v; want masters %d scaled %v deferred %q retry %v", d, tt.masters, tt.scaled, tt.deferred, tt.retry)
			}
			if (d.Deferred != ScaleNotDeferred) != (d.Message != "") {
				t.Errorf("a deferral has a message and only a deferral: %+v", d)
			}
		})
	}
}

// TestDecideScaleRefusesFlapping: an autoscaler moving spec.masters up and
// down every 30 s is followed at most once per cool-down.
func TestDecideScaleRefusesFlapping(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	applied, last := int32(3), time.Time{}
	changes := 0
	for i := range 40 { // 20 minutes
		now := t0.Add(time.Duration(i) * 30 * time.Second)
		req := int32(3 + i%2)
		d := DecideScale(ScaleInput{Requested: req, Applied: applied, LastScale: last, Now: now, CoolDown: 5 * time.Minute})
		if d.Scaled {
			changes++
			last = now
		}
		applied = d.Masters
	}
	if changes > 5 || changes < 3 {
		t.Fatalf("%d changes in 20 minutes with a 5 minute cool-down; want 3 to 5", changes)
	}
}
