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
			if want := tt.in.MigrationRunning && tt.in.Applied != 0 && !tt.in.LastScale.IsZero(); d.Settling != want {
				t.Errorf("Settling = %v, want %v (only while a recorded scale's slots move)", d.Settling, want)
			}
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

// TestCoolDownCountsFromTheEndOfTheMove: a scale whose slots move for 20
// minutes with a 5 minute cool-down: a change asked for right after the
// move ends waits the cool-down out (counted from the end of the move, not
// from the start of the scale), then goes on.
func TestCoolDownCountsFromTheEndOfTheMove(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	cool := 5 * time.Minute
	in := ScaleInput{Requested: 4, Applied: 3, Now: t0, CoolDown: cool}
	d := DecideScale(in)
	if !d.Scaled || d.Masters != 4 {
		t.Fatalf("first scale: %+v", d)
	}
	in.Applied, in.LastScale = 4, t0
	end := t0.Add(20 * time.Minute)
	for now := t0.Add(time.Minute); !now.After(end); now = now.Add(time.Minute) {
		in.Now, in.MigrationRunning = now, true
		in.Requested = 3 // the autoscaler changes its mind while slots move
		d = DecideScale(in)
		if d.Deferred != ScaleDeferredMigration || !d.Settling {
			t.Fatalf("at %s while slots move: %+v", now.Sub(t0), d)
		}
		in.LastScale = now // what the reconciler records when Settling
	}
	in.MigrationRunning = false
	in.Now = end.Add(time.Minute)
	if d = DecideScale(in); d.Deferred != ScaleDeferredCoolDown || d.RetryAfter != 4*time.Minute {
		t.Fatalf("a minute after the move: %+v; want the cool-down, 4m left", d)
	}
	in.Now = end.Add(cool)
	if d = DecideScale(in); !d.Scaled || d.Masters != 3 {
		t.Fatalf("the cool-down after the move over: %+v", d)
	}
}
