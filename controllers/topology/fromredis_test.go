package topology

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

func TestPlanImport(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }
	src := func(done ...bool) []v1alpha1.FromRedisSourceStatus {
		var out []v1alpha1.FromRedisSourceStatus
		for _, d := range done {
			out = append(out, v1alpha1.FromRedisSourceStatus{Address: "a:1", Cursor: "0", Done: d})
		}
		return out
	}
	cases := []struct {
		name      string
		st        *v1alpha1.FromRedisStatus
		cutover   bool
		converged bool
		want      ImportAction
	}{
		{"nothing before the cluster converged", nil, false, false, ImportAction{Step: ImportWait}},
		{"a first pass starts", nil, false, true, ImportAction{Step: ImportStartPass}},
		{"a cut-over asked for at once is the first pass", nil, true, true, ImportAction{Step: ImportBeginCutover}},
		{"copy from the first source not done",
			&v1alpha1.FromRedisStatus{Phase: v1alpha1.FromRedisCopying, Sources: src(true, false, false)}, false, true,
			ImportAction{Step: ImportCopy, Source: 1}},
		{"every source done finishes the pass",
			&v1alpha1.FromRedisStatus{Phase: v1alpha1.FromRedisCopying, Sources: src(true, true)}, false, true,
			ImportAction{Step: ImportFinishPass}},
		{"the cut-over annotation interrupts a pass",
			&v1alpha1.FromRedisStatus{Phase: v1alpha1.FromRedisSyncing, Sources: src(false)}, true, true,
			ImportAction{Step: ImportBeginCutover}},
		{"a cut-over pass copies while the hold lasts",
			&v1alpha1.FromRedisStatus{Phase: v1alpha1.FromRedisCuttingOver, Sources: src(false), PausedUntil: at(25 * time.Second)}, true, true,
			ImportAction{Step: ImportCopy}},
		{"the hold is renewed before it ends",
			&v1alpha1.FromRedisStatus{Phase: v1alpha1.FromRedisCuttingOver, Sources: src(false), PausedUntil: at(5 * time.Second)}, true, true,
			ImportAction{Step: ImportRenewPause}},
		{"a lapsed hold starts the cut-over again (a write may have passed SCAN)",
			&v1alpha1.FromRedisStatus{Phase: v1alpha1.FromRedisCuttingOver, Sources: src(true, false), PausedUntil: at(-time.Second)}, true, true,
			ImportAction{Step: ImportBeginCutover}},
		{"a lapsed hold with every source done still starts again",
			&v1alpha1.FromRedisStatus{Phase: v1alpha1.FromRedisCuttingOver, Sources: src(true), PausedUntil: at(0)}, true, true,
			ImportAction{Step: ImportBeginCutover}},
		{"removing the annotation does not stop a cut-over",
			&v1alpha1.FromRedisStatus{Phase: v1alpha1.FromRedisCuttingOver, Sources: src(true), PausedUntil: at(25 * time.Second)}, false, true,
			ImportAction{Step: ImportFinishPass}},
		{"completed is final",
			&v1alpha1.FromRedisStatus{Phase: v1alpha1.FromRedisCompleted}, true, false,
			ImportAction{Step: ImportDone}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := PlanImport(c.st, c.cutover, c.converged, now, 20*time.Second); got != c.want {
				t.Fatalf("PlanImport = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestImportPassesAndLag(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := &v1alpha1.FromRedisStatus{Phase: v1alpha1.FromRedisWaiting}
	StartImportPass(st, v1alpha1.FromRedisCopying, []string{"a:1", "b:2"}, t0)
	if st.Pass != 1 || len(st.Sources) != 2 || st.Sources[1].Cursor != "0" || st.Sources[1].Done {
		t.Fatalf("after the start: %+v", st)
	}
	if ImportLag(st, t0.Add(time.Hour)) != 0 {
		t.Fatal("no lag is reported before a pass finished")
	}
	AddImportCopies(st, map[int]int64{2: 5, 0: 3})
	AddImportCopies(st, map[int]int64{2: 1})
	if st.KeysCopied != 9 || len(st.Shards) != 2 || st.Shards[0].Shard != 0 || st.Shards[1].KeysCopied != 6 {
		t.Fatalf("copies: %+v", st)
	}
	FinishImportPass(st, t0.Add(10*time.Second))
	if st.Phase != v1alpha1.FromRedisSyncing || !st.LastSyncedTime.Time.Equal(t0) {
		t.Fatalf("after the first pass: %+v", st)
	}
	if a := PlanImport(st, false, true, t0, time.Second); a.Step != ImportStartPass {
		t.Fatalf("after a pass: %+v, want the next pass", a)
	}
	if got := ImportLag(st, t0.Add(30*time.Second)); got != 30*time.Second {
		t.Fatalf("lag = %v, want 30s: the copy is as old as the start of the last finished pass", got)
	}
	StartImportPass(st, v1alpha1.FromRedisCuttingOver, []string{"a:1"}, t0.Add(40*time.Second))
	if st.Pass != 2 || st.KeysCopied != 0 || st.Shards != nil {
		t.Fatalf("a new pass counts from zero: %+v", st)
	}
	FinishImportPass(st, t0.Add(50*time.Second))
	if st.Phase != v1alpha1.FromRedisCompleted || st.CompletedTime == nil || st.PausedUntil != nil || ImportLag(st, t0.Add(time.Hour)) != 0 {
		t.Fatalf("after the cut-over pass: %+v", st)
	}
}
