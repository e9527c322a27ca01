package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/controllers/backup/wal"
	"github.com/shoal-dev/shoal/controllers/nodeadmin"
)

// checkPointInTime says whether the backup's archive restores the point
// in time, before anything is loaded: the backup completed by its time (or
// every shard has an offset), and every shard's archived stream reaches
// it, is whole (every segment's SHA-256) and has no slot move before it. A
// refusal is for good; waiting is tried again.
func checkPointInTime(ctx context.Context, store backup.Objects, folder string, m *backup.Manifest, pit *v1alpha1.PointInTimeSpec) (refused, waiting string) {
	if pit.Time != nil && pit.Time.Before(&metav1.MicroTime{Time: m.CompletionTime}) {
		return fmt.Sprintf("the backup completed at %s, after the point in time %s: restore from an earlier backup",
			m.CompletionTime.UTC().Format(time.RFC3339Nano), pit.Time.UTC().Format(time.RFC3339Nano)), ""
	}
	for _, sh := range m.Shards {
		if _, err := planShard(ctx, store, folder, sh, pit); err != nil {
			refused, waiting := pitrProblem(sh.Shard, err)
			if refused != "" {
				refused += "; nothing was loaded"
			}
			return refused, waiting
		}
	}
	return "", ""
}

// planShard plans the replay of a backup's shard to the point in time.
func planShard(ctx context.Context, store backup.Objects, folder string, sh backup.ManifestShard, pit *v1alpha1.PointInTimeSpec) (wal.Plan, error) {
	t, off, byOffset, ok := pit.StopOf(sh.Shard)
	switch {
	case !ok:
		return wal.Plan{}, &wal.NotCoveredError{Msg: fmt.Sprintf("pointInTime.offsets has no offset for shard %d of the backup", sh.Shard)}
	case byOffset:
		return wal.PlanShardToOffset(ctx, store, folder, sh.Shard, sh.ReplicationOffset, off)
	}
	return wal.PlanShard(ctx, store, folder, sh.Shard, sh.ReplicationOffset, t)
}

// pitrProblem sorts an error of the archive: a time not covered or a
// corrupt segment is refused, anything else (the store) waits.
func pitrProblem(shard int, err error) (refused, waiting string) {
	var nc *wal.NotCoveredError
	if errors.As(err, &nc) {
		// The archive after a backup ends soon after the next backup
		// completes: later times are restored from that one.
		return fmt.Sprintf("point in time: %v (restore from the newest backup completed before the time)", err), ""
	}
	if errors.Is(err, wal.ErrCorrupt) || errors.Is(err, backup.ErrNotFound) {
		return fmt.Sprintf("point in time: %v", err), ""
	}
	return "", fmt.Sprintf("point in time, shard %d: %v", shard, err)
}

// replayNext replays the archived stream of the next shard (in the
// manifest's order) up to the point in time, once every shard's snapshot
// is loaded. Replaying a stream twice is not idempotent (INCR), so the
// shard is recorded in status.replayingShard (recordNow writes the status
// at once) before its replay starts: a replay found interrupted (an
// operator restart, a status write lost) refuses the restore.
func replayNext(ctx context.Context, store backup.Objects, folder string, m *backup.Manifest, pit *v1alpha1.PointInTimeSpec, status *v1alpha1.RestoreStatus,
	open func() (*nodeadmin.ImportTarget, error), recordNow func() error) (restoreStep, error) {
	j := len(status.Replayed)
	if j >= len(m.Shards) {
		status.Phase = v1alpha1.RestoreCompleted
		return restoreStep{}, nil
	}
	sh := m.Shards[j]
	if status.ReplayingShard != nil && int(*status.ReplayingShard) == j {
		return restoreStep{refused: fmt.Sprintf("the replay of shard %d's archive was interrupted: some of its commands may be applied, and applying them again could double them; restore into a new cluster", sh.Shard)}, nil
	}
	plan, err := planShard(ctx, store, folder, sh, pit)
	if err != nil {
		refused, waiting := pitrProblem(sh.Shard, err)
		return restoreStep{refused: refused, waiting: waiting}, nil
	}
	slots, err := backup.ShardSlots(sh)
	if err != nil {
		return restoreStep{refused: err.Error()}, nil
	}
	target, err := open()
	if err != nil {
		return restoreStep{waiting: err.Error()}, nil
	}
	jj := int32(j)
	status.ReplayingShard = &jj
	if err := recordNow(); err != nil {
		status.ReplayingShard = nil
		return restoreStep{waiting: "recording the replay's start: " + err.Error()}, nil
	}
	n, err := wal.Replay(ctx, store, folder, plan, slots, target)
	if err != nil {
		// Some commands may be applied: the restore cannot go on.
		return restoreStep{refused: fmt.Sprintf("replaying shard %d's archive: %v", sh.Shard, err)}, nil
	}
	rs := v1alpha1.ReplayedShardStatus{Shard: int32(sh.Shard), FromOffset: plan.Base, Offset: plan.Cut, Commands: n}
	if !plan.CutTime.IsZero() {
		ct := metav1.NewMicroTime(plan.CutTime)
		rs.Time = &ct
	}
	status.Replayed, status.ReplayingShard = append(status.Replayed, rs), nil
	if len(status.Replayed) == len(m.Shards) {
		status.Phase = v1alpha1.RestoreCompleted
	}
	return restoreStep{replayed: &rs}, nil
}

// replaysArchive reports whether the cluster is restored to a point in
// time and not done: the operator's user then needs the rights to apply
// the archived streams (users.ImportRules), as for an import.
func replaysArchive(st *state) bool {
	spec := restoreSpec(st.desired)
	if spec == nil || spec.PointInTime == nil {
		return false
	}
	fs := st.rc.Status.FromBackup
	return fs == nil || fs.Phase != v1alpha1.RestoreCompleted
}

// writeStatusNow writes st's status at once (a step that must be on
// record before it acts) and makes what was written the base of the
// reconcile's own status write. A copy is written: the response replaces
// the written object's status, and the steps hold pointers into st.rc's.
func (r *RedisClusterReconciler) writeStatusNow(ctx context.Context, st *state) error {
	written := st.rc.DeepCopy()
	if err := r.patchStatus(ctx, st.before, written); err != nil {
		return err
	}
	st.before = written
	return nil
}
