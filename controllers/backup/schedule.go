package backup

import (
	"fmt"
	"slices"
	"time"

	"github.com/robfig/cron/v3"
)

// ParseSchedule parses a five-field cron expression (minute hour
// day-of-month month day-of-week) or a descriptor (@hourly, @daily,
// @every 1h).
func ParseSchedule(spec string) (cron.Schedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return s, nil
}

// maxMissed bounds the walk over missed run times.
const maxMissed = 100000

// Due returns the latest run time of s after last and at or before now
// (missed runs are not made up one by one: only the latest is taken), and
// the next run time after now.
func Due(s cron.Schedule, last, now time.Time) (due time.Time, ok bool, next time.Time) {
	t := s.Next(last)
	for i := 0; !t.After(now) && i < maxMissed; i++ {
		due, ok = t, true
		t = s.Next(t)
	}
	return due, ok, t
}

// Kept is one backup of a schedule, for the retention policy.
type Kept struct {
	Name string
	// Time is the backup's scheduled time.
	Time time.Time
	// Completed: a backup that holds data. Failed ones count for nothing
	// and are pruned once newer backups exist.
	Completed bool
	// Finished: Completed or Failed (a running backup is never pruned).
	Finished bool
}

// Prune returns the backups to remove: completed backups beyond the
// newest count, and completed backups older than maxAge (0: no age
// limit) — but never the newest completed one, so a schedule always
// keeps something to restore — and failed backups older than the newest
// completed one.
func Prune(backups []Kept, count int, maxAge time.Duration, now time.Time) []string {
	bs := slices.Clone(backups)
	slices.SortFunc(bs, func(a, b Kept) int { return b.Time.Compare(a.Time) }) // newest first
	var out []string
	completed := 0
	var newestCompleted time.Time
	for _, b := range bs {
		if !b.Finished {
			continue
		}
		if !b.Completed {
			if !newestCompleted.IsZero() {
				out = append(out, b.Name)
			}
			continue
		}
		completed++
		if completed == 1 {
			newestCompleted = b.Time
			continue
		}
		if completed > count || maxAge > 0 && now.Sub(b.Time) > maxAge {
			out = append(out, b.Name)
		}
	}
	return out
}
