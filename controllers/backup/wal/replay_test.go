package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/node/cluster"
)

// recordingTarget is a cluster of masters that owns slots in equal
// ranges and records what it is sent.
type recordingTarget struct {
	masters int
	got     [][]string // per master, the commands as text
	deleted [][]int
}

func newRecordingTarget(masters int) *recordingTarget {
	return &recordingTarget{masters: masters, got: make([][]string, masters)}
}

func (r *recordingTarget) Masters() int { return r.masters }
func (r *recordingTarget) Owner(key []byte) int {
	return cluster.KeyHashSlot(key) * r.masters / cluster.Slots
}
func (r *recordingTarget) Exec(_ context.Context, perMaster [][][]any) error {
	for i, cmds := range perMaster {
		for _, c := range cmds {
			r.got[i] = append(r.got[i], strings.TrimSuffix(strings.TrimPrefix(fmt.Sprint(c), "["), "]"))
		}
	}
	return nil
}
func (r *recordingTarget) DeleteSlots(_ context.Context, slots []int) error {
	for i := range r.got {
		r.got[i] = append(r.got[i], "(flush)")
	}
	r.deleted = append(r.deleted, slots)
	return nil
}

func resp(cmds ...string) []byte {
	var b bytes.Buffer
	for _, c := range cmds {
		f := strings.Fields(c)
		fmt.Fprintf(&b, "*%d\r\n", len(f))
		for _, a := range f {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	return b.Bytes()
}

// putSegments stores one segment per group of commands, each group's
// checkpoint at its time (ms), from offset base.
func putSegments(t *testing.T, store backup.Objects, folder string, base int64, groups [][]string, times []int64) {
	t.Helper()
	off := base
	for i, g := range groups {
		data := resp(g...)
		s := &Segment{ReplID: strings.Repeat("a", 40), From: off, To: off + int64(len(data)), Data: data,
			Checkpoints: []Checkpoint{{Offset: off + int64(len(data)), UnixMilli: times[i]}}}
		b := s.Encode()
		if err := store.Put(context.Background(), Key(folder, 0, s.From, s.To), bytes.NewReader(b), int64(len(b)), ""); err != nil {
			t.Fatal(err)
		}
		off = s.To
	}
}

// TestReplayRoutesAndFlushes: commands go to the master of their slot in
// a cluster of another shape, a transaction on one slot stays one,
// PING/SELECT 0/REPLCONF are dropped, a FLUSHALL deletes the shard's slots
// only (after what came before it), and nothing after the cut is applied.
func TestReplayRoutesAndFlushes(t *testing.T) {
	ctx := context.Background()
	store, err := backup.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	putSegments(t, store, "b/", 7, [][]string{
		{"SELECT 0", "PING", "SET a 1", "SET b 2"},
		{"MULTI", "INCR {t}x", "INCR {t}y", "EXEC", "REPLCONF GETACK *"},
		{"SET c 3", "FLUSHALL", "SET a 4"},
		{"SET late 5"},
	}, []int64{1000, 2000, 3000, 4000})
	p, err := PlanShard(ctx, store, "b/", 0, 7, time.UnixMilli(3500))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Chain) != 4 || p.CutTime != time.UnixMilli(3000) || p.Archived != time.UnixMilli(4000) {
		t.Errorf("plan %+v", p)
	}
	target := newRecordingTarget(3)
	n, err := Replay(ctx, store, "b/", p, []int{1, 2, 3}, target)
	if err != nil {
		t.Fatal(err)
	}
	// a: slot 15495 (master 2), b: 3300 (0), c: 7365 (1), {t}: 15206 (2).
	want := [][]string{
		{"SET b 2", "(flush)"},
		{"SET c 3", "(flush)"},
		{"SET a 1", "MULTI", "INCR {t}x", "INCR {t}y", "EXEC", "(flush)", "SET a 4"},
	}
	if fmt.Sprint(target.got) != fmt.Sprint(want) || n != 8 || fmt.Sprint(target.deleted) != "[[1 2 3]]" {
		t.Errorf("replayed %d: %q, deleted %v; want %q", n, target.got, target.deleted, want)
	}

	if _, err := PlanShard(ctx, store, "b/", 0, 7, time.UnixMilli(4001)); !isNotCovered(err, "archived up to") {
		t.Errorf("a time after the archive: %v", err)
	}
	p, err = PlanShard(ctx, store, "b/", 0, 7, time.UnixMilli(999))
	if err != nil || p.Cut != 7 {
		t.Errorf("a time before the first checkpoint: %+v %v", p, err)
	}
}

func isNotCovered(err error, msg string) bool {
	var nc *NotCoveredError
	return errors.As(err, &nc) && strings.Contains(nc.Msg, msg)
}

// TestPlanRefusesSlotMovesAndCorruption: a RESTORE-ASKING before the cut
// (a slot moved in) refuses the time, not an earlier one; a corrupt
// segment refuses the replay.
func TestPlanRefusesSlotMovesAndCorruption(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := backup.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	putSegments(t, store, "m/", 0, [][]string{{"SET a 1"}, {"RESTORE-ASKING k 0 payload"}, {"SET b 1"}}, []int64{10, 20, 30})
	if _, err := PlanShard(ctx, store, "m/", 0, 0, time.UnixMilli(25)); !isNotCovered(err, "a slot moved into shard 0") {
		t.Errorf("a time after a slot move: %v", err)
	}
	if p, err := PlanShard(ctx, store, "m/", 0, 0, time.UnixMilli(15)); err != nil || p.CutTime != time.UnixMilli(10) {
		t.Errorf("a time before the slot move: %+v %v", p, err)
	}

	putSegments(t, store, "c/", 0, [][]string{{"SET a 1"}, {"SET b 2"}}, []int64{10, 20})
	keys, _ := store.List(ctx, Dir("c/", 0))
	rd, _ := store.Get(ctx, keys[1])
	var b bytes.Buffer
	_, _ = b.ReadFrom(rd)
	rd.Close()
	bad := b.Bytes()
	bad[len(bad)-3] = 'X'
	if err := store.Put(ctx, keys[1], bytes.NewReader(bad), int64(len(bad)), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := PlanShard(ctx, store, "c/", 0, 0, time.UnixMilli(20)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a corrupt segment: %v", err)
	}
}

// TestPlanShardToOffset: a replay to an offset stops after the last
// command that ends at or before it (one cut in the middle of a command
// leaves that command out); an offset before the backup's, or past the
// archive, is not covered.
func TestPlanShardToOffset(t *testing.T) {
	ctx := context.Background()
	store, err := backup.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	putSegments(t, store, "o/", 7, [][]string{{"SET a 1", "SET b 2"}, {"SET c 3"}}, []int64{1000, 2000})
	setA := int64(len(resp("SET a 1")))
	for _, tc := range []struct {
		off  int64
		want string
	}{
		{7, "[[] [] []]"},
		{7 + setA - 1, "[[] [] []]"},
		{7 + setA, "[[] [] [SET a 1]]"},
		{7 + setA + 3, "[[] [] [SET a 1]]"},
	} {
		p, err := PlanShardToOffset(ctx, store, "o/", 0, 7, tc.off)
		if err != nil || p.Cut != tc.off {
			t.Fatalf("offset %d: plan %+v, %v", tc.off, p, err)
		}
		target := newRecordingTarget(3)
		if _, err := Replay(ctx, store, "o/", p, []int{1, 2, 3}, target); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(target.got) != tc.want {
			t.Errorf("offset %d: replayed %q, want %s", tc.off, target.got, tc.want)
		}
	}
	end := 7 + int64(len(resp("SET a 1", "SET b 2"))+len(resp("SET c 3")))
	if p, err := PlanShardToOffset(ctx, store, "o/", 0, 7, end); err != nil || p.CutTime != time.UnixMilli(2000) {
		t.Errorf("the archive's end: %+v %v", p, err)
	}
	if _, err := PlanShardToOffset(ctx, store, "o/", 0, 7, end+1); !isNotCovered(err, "archived up to") {
		t.Errorf("an offset past the archive: %v", err)
	}
	if _, err := PlanShardToOffset(ctx, store, "o/", 0, 7, 6); !isNotCovered(err, "backup is at offset 7") {
		t.Errorf("an offset before the backup: %v", err)
	}
}
