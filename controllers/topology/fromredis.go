package topology

import (
	"cmp"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// An import (spec.bootstrap.fromRedis) copies a source Redis's keys into
// the cluster in passes. A pass SCANs every source node from cursor 0 to
// cursor 0 and restores each key it returns on the master of the key's
// slot (RESTORE REPLACE): SCAN returns every key that exists for the whole
// pass, so after a pass every write the source acknowledged before the
// pass began is in the cluster. Passes repeat until the cut-over: the
// source's writes are held (CLIENT PAUSE WRITE, renewed while the pass
// runs), the cluster is emptied (keys deleted on the source since earlier
// passes must not stay) and a last pass runs. If the hold lapsed before
// that pass finished (an operator restart that took too long), a write
// may have slipped past SCAN: the cut-over starts again.

// ImportStep is what an import does next.
type ImportStep string

// The steps of an import.
const (
	// ImportWait: the cluster is not converged; nothing is copied.
	ImportWait ImportStep = "Wait"
	// ImportStartPass: find the source nodes (the masters of a cluster
	// source) and start a pass at cursor 0 on each.
	ImportStartPass ImportStep = "StartPass"
	// ImportCopy: copy one SCAN batch of Sources[Source].
	ImportCopy ImportStep = "Copy"
	// ImportFinishPass: every source reached cursor 0 again.
	ImportFinishPass ImportStep = "FinishPass"
	// ImportBeginCutover: hold the source's writes, empty the cluster and
	// start the last pass.
	ImportBeginCutover ImportStep = "BeginCutover"
	// ImportRenewPause: extend the hold on the source's writes.
	ImportRenewPause ImportStep = "RenewPause"
	// ImportDone: the cut-over finished; nothing more to do.
	ImportDone ImportStep = "Done"
)

// ImportAction is the next step of an import and, for ImportCopy, the
// index of the source in status.sources.
type ImportAction struct {
	Step   ImportStep
	Source int
}

// PlanImport decides the next step of an import from its status (nil
// before the first step), whether the cut-over annotation is set, whether
// the cluster is converged, and the time; renewBefore is how long before
// status.pausedUntil the hold is renewed.
func PlanImport(st *v1alpha1.FromRedisStatus, cutover, converged bool, now time.Time, renewBefore time.Duration) ImportAction {
	if st != nil && st.Phase == v1alpha1.FromRedisCompleted {
		return ImportAction{Step: ImportDone}
	}
	if !converged {
		return ImportAction{Step: ImportWait}
	}
	if st == nil || st.Phase == v1alpha1.FromRedisWaiting || len(st.Sources) == 0 {
		if cutover && (st == nil || st.Phase != v1alpha1.FromRedisCuttingOver) {
			return ImportAction{Step: ImportBeginCutover}
		}
		return ImportAction{Step: ImportStartPass}
	}
	if st.Phase == v1alpha1.FromRedisCuttingOver {
		switch {
		case st.PausedUntil == nil || !now.Before(st.PausedUntil.Time):
			// The hold lapsed: writes may have happened behind SCAN.
			return ImportAction{Step: ImportBeginCutover}
		case st.PausedUntil.Sub(now) < renewBefore:
			return ImportAction{Step: ImportRenewPause}
		}
	} else if cutover {
		return ImportAction{Step: ImportBeginCutover}
	}
	for i, s := range st.Sources {
		if !s.Done {
			return ImportAction{Step: ImportCopy, Source: i}
		}
	}
	return ImportAction{Step: ImportFinishPass}
}

// StartImportPass resets st for a new pass over sources (their cursors at
// 0) in phase; the pass number goes up by one.
func StartImportPass(st *v1alpha1.FromRedisStatus, phase v1alpha1.FromRedisPhase, sources []string, now time.Time) {
	st.Phase = phase
	st.Pass++
	st.Sources = make([]v1alpha1.FromRedisSourceStatus, len(sources))
	for i, a := range sources {
		st.Sources[i] = v1alpha1.FromRedisSourceStatus{Address: a, Cursor: "0"}
	}
	st.Shards = nil
	st.KeysCopied = 0
	t := metav1.NewTime(now)
	st.PassStarted = &t
}

// FinishImportPass records a finished pass: what the source held when it
// began is in the cluster. A cut-over pass completes the import.
func FinishImportPass(st *v1alpha1.FromRedisStatus, now time.Time) {
	st.LastSyncedTime = st.PassStarted
	st.Sources = nil // the next pass finds the source nodes again
	if st.Phase == v1alpha1.FromRedisCuttingOver {
		st.Phase = v1alpha1.FromRedisCompleted
		t := metav1.NewTime(now)
		st.CompletedTime = &t
		st.PausedUntil = nil
		st.LagSeconds = 0
		return
	}
	st.Phase = v1alpha1.FromRedisSyncing
}

// ImportLag is how old the cluster's copy may be: the time since the
// start of the last finished pass, 0 when none finished or once the
// import completed.
func ImportLag(st *v1alpha1.FromRedisStatus, now time.Time) time.Duration {
	if st == nil || st.Phase == v1alpha1.FromRedisCompleted || st.LastSyncedTime == nil {
		return 0
	}
	return max(0, now.Sub(st.LastSyncedTime.Time))
}

// AddImportCopies adds the keys a batch restored, by shard index, to st.
func AddImportCopies(st *v1alpha1.FromRedisStatus, byShard map[int]int64) {
	for shard, n := range byShard {
		found := false
		for i := range st.Shards {
			if int(st.Shards[i].Shard) == shard {
				st.Shards[i].KeysCopied += n
				found = true
			}
		}
		if !found {
			st.Shards = append(st.Shards, v1alpha1.FromRedisShardStatus{Shard: int32(shard), KeysCopied: n})
		}
		st.KeysCopied += n
	}
	slices.SortFunc(st.Shards, func(a, b v1alpha1.FromRedisShardStatus) int { return cmp.Compare(a.Shard, b.Shard) })
}
