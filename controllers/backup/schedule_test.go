package backup

import (
	"slices"
	"testing"
	"time"
)

func TestDueTakesTheLatestMissedRunOnce(t *testing.T) {
	s, err := ParseSchedule("0 * * * *") // hourly
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 10, 30, 0, 0, time.UTC)
	if _, ok, next := Due(s, base, base.Add(10*time.Minute)); ok || !next.Equal(base.Add(30*time.Minute)) {
		t.Errorf("before the first run: ok %v, next %v", ok, next)
	}
	due, ok, next := Due(s, base, base.Add(5*time.Hour+time.Minute))
	if !ok || !due.Equal(time.Date(2026, 1, 1, 15, 0, 0, 0, time.UTC)) || !next.Equal(due.Add(time.Hour)) {
		t.Errorf("missed runs: due %v ok %v next %v", due, ok, next)
	}
	if _, ok, _ := Due(s, due, due.Add(time.Minute)); ok {
		t.Error("a run taken is due again")
	}
	if _, err := ParseSchedule("61 * * * *"); err == nil {
		t.Error("minute 61 accepted")
	}
	if _, err := ParseSchedule("@every 6h"); err != nil {
		t.Error(err)
	}
}

func TestPruneKeepsCountAgeAndTheNewestCompleted(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return now.Add(-time.Duration(d) * 24 * time.Hour) }
	bs := []Kept{
		{Name: "d0", Time: day(0)}, // running: never pruned
		{Name: "d1", Time: day(1), Completed: true, Finished: true},
		{Name: "d2", Time: day(2), Finished: true}, // failed, older than a completed one
		{Name: "d3", Time: day(3), Completed: true, Finished: true},
		{Name: "d4", Time: day(4), Completed: true, Finished: true},
		{Name: "d9", Time: day(9), Completed: true, Finished: true},
	}
	got := Prune(bs, 3, 0, now)
	slices.Sort(got)
	if want := []string{"d2", "d9"}; !slices.Equal(got, want) {
		t.Errorf("count 3: prune %q, want %q", got, want)
	}
	got = Prune(bs, 10, 72*time.Hour+time.Minute, now)
	slices.Sort(got)
	if want := []string{"d2", "d4", "d9"}; !slices.Equal(got, want) {
		t.Errorf("max age 3 days: prune %q, want %q", got, want)
	}
	old := []Kept{{Name: "old", Time: day(30), Completed: true, Finished: true}, {Name: "failed", Time: day(1), Finished: true}}
	if got := Prune(old, 1, time.Hour, now); len(got) != 0 {
		t.Errorf("the newest completed backup or a failed one newer than it pruned: %q", got)
	}
}
