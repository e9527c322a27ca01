package wal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/controllers/importlink"
)

// Target is the cluster a replay writes to (a nodeadmin.ImportTarget).
type Target interface {
	Masters() int
	// Owner is the master of key's slot.
	Owner(key []byte) int
	// Exec sends perMaster[i] to master i, in order.
	Exec(ctx context.Context, perMaster [][][]any) error
	// DeleteSlots deletes every key of the slots, wherever they are.
	DeleteSlots(ctx context.Context, slots []int) error
}

// Plan is one shard's replay up to a time.
type Plan struct {
	Shard int
	Chain []Span
	// Base is the base backup's offset; Cut the offset replayed up to
	// (the last checkpoint at or before the time), received at CutTime
	// (zero when Cut is Base).
	Base, Cut int64
	CutTime   time.Time
	// Archived is how far the archive goes (its last checkpoint's time).
	Archived time.Time
}

// NotCoveredError says why the archive cannot restore the time asked
// for: it does not reach it yet, or a slot moved before it.
type NotCoveredError struct{ Msg string }

func (e *NotCoveredError) Error() string { return e.Msg }

// PlanShard reads (and checks) the segments of shard from base up to the
// first checkpoint after t, and finds the cut for t. A time after the last
// checkpoint, or after a slot moved into the shard (a RESTORE-ASKING in
// its stream: its history mixes with another shard's), is a
// *NotCoveredError; a corrupt segment is ErrCorrupt.
func PlanShard(ctx context.Context, store backup.Objects, folder string, shard int, base int64, t time.Time) (Plan, error) {
	return planShard(ctx, store, folder, shard, base, func(s *Segment) bool {
		return s.Checkpoints[len(s.Checkpoints)-1].UnixMilli <= t.UnixMilli()
	}, func(cps []Checkpoint) (int64, time.Time, string) {
		cut, at, ok := Cut(cps, base, t)
		if !ok {
			return 0, time.Time{}, fmtTime(t)
		}
		return cut, at, ""
	}, fmtTime(t))
}

// PlanShardToOffset is PlanShard for a replication offset: the replay
// stops after the last command that ends at or before off.
func PlanShardToOffset(ctx context.Context, store backup.Objects, folder string, shard int, base, off int64) (Plan, error) {
	what := fmt.Sprintf("offset %d", off)
	if off < base {
		return Plan{Shard: shard, Base: base}, &NotCoveredError{fmt.Sprintf("shard %d's backup is at offset %d, after %s", shard, base, what)}
	}
	return planShard(ctx, store, folder, shard, base, func(s *Segment) bool {
		return s.Checkpoints[len(s.Checkpoints)-1].Offset < off
	}, func(cps []Checkpoint) (int64, time.Time, string) {
		if off > max(base, lastOffset(cps)) {
			return 0, time.Time{}, what
		}
		var at time.Time
		for _, c := range cps {
			if c.Offset <= off {
				at = c.Time()
			}
		}
		return off, at, ""
	}, what)
}

// planShard reads the chain while more says so, then asks cut where to
// stop (notYet, when the archive does not reach it: what it was asked).
func planShard(ctx context.Context, store backup.Objects, folder string, shard int, base int64, more func(*Segment) bool,
	cut func([]Checkpoint) (int64, time.Time, string), what string) (Plan, error) {
	keys, err := store.List(ctx, Dir(folder, shard))
	if err != nil {
		return Plan{}, err
	}
	chain, _ := Chain(keys, base)
	p := Plan{Shard: shard, Chain: chain, Base: base}
	var cps []Checkpoint
	sr := &segmentReader{ctx: ctx, store: store, chain: chain, seen: func(s *Segment) bool {
		cps = append(cps, s.Checkpoints...)
		return more(s)
	}}
	moved := int64(-1)
	err = walk(sr, base, func(args [][]byte, end int64) error {
		if moved < 0 && strings.EqualFold(string(args[0]), "restore-asking") {
			moved = end
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	if len(cps) > 0 {
		p.Archived = cps[len(cps)-1].Time()
	}
	at, atTime, notYet := cut(cps)
	if notYet != "" {
		return p, &NotCoveredError{fmt.Sprintf("shard %d is archived up to %s (offset %d), not yet to %s",
			shard, fmtTime(p.Archived), max(base, lastOffset(cps)), notYet)}
	}
	if moved >= 0 && moved <= at {
		return p, &NotCoveredError{fmt.Sprintf("a slot moved into shard %d at offset %d, before %s: restore from a base backup taken after the slot move",
			shard, moved, what)}
	}
	p.Cut, p.CutTime = at, atTime
	return p, nil
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func lastOffset(cps []Checkpoint) int64 {
	if len(cps) == 0 {
		return 0
	}
	return cps[len(cps)-1].Offset
}

// replayBatch is how many commands go to the cluster in one round.
const replayBatch = 1000

// Replay applies the plan's commands to target, each on the master of its
// keys' slot; a FLUSHALL (or FLUSHDB) deletes the keys of slots, the
// shard's in the base backup. It returns the number of commands routed.
func Replay(ctx context.Context, store backup.Objects, folder string, p Plan, slots []int, target Target) (int64, error) {
	router, err := importlink.NewRouter(target.Masters(), target.Owner)
	if err != nil {
		return 0, err
	}
	b := importlink.NewBatch(target.Masters())
	var total int64
	exec := func() error {
		if b.Commands == 0 {
			return nil
		}
		if err := target.Exec(ctx, b.PerMaster); err != nil {
			return err
		}
		total += int64(b.Commands)
		b.Reset()
		return nil
	}
	router.FlushShard = func(*importlink.Batch) error {
		if err := exec(); err != nil {
			return err
		}
		return target.DeleteSlots(ctx, slots)
	}
	sr := &segmentReader{ctx: ctx, store: store, chain: p.Chain}
	err = walk(io.LimitReader(sr, p.Cut-p.Base), p.Base, func(args [][]byte, _ int64) error {
		if err := router.Route(args, b); err != nil {
			return err
		}
		if b.Commands >= replayBatch {
			return exec()
		}
		return nil
	})
	if err == nil {
		err = exec()
	}
	return total, err
}

// walk parses the commands of a stream that starts at offset base and
// calls fn with each and the offset of its last byte. A command cut short
// at the end (not wholly received) is not passed.
func walk(r io.Reader, base int64, fn func(args [][]byte, end int64) error) error {
	rd := importlink.NewCommandReader(bufio.NewReaderSize(r, 1<<20))
	off := base
	for {
		args, n, err := rd.Next()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the stream after offset %d: %w", off, err)
		}
		off += n
		if len(args) == 0 {
			continue
		}
		if err := fn(args, off); err != nil {
			return err
		}
	}
}

// segmentReader reads the data of a chain of segments in order, each
// read and checked whole first. seen, when set, hears of every segment
// and says whether to read the next.
type segmentReader struct {
	ctx   context.Context
	store backup.Objects
	chain []Span
	seen  func(*Segment) bool
	data  []byte
	done  bool
}

func (r *segmentReader) Read(p []byte) (int, error) {
	for len(r.data) == 0 {
		if r.done || len(r.chain) == 0 {
			return 0, io.EOF
		}
		s, err := readSegment(r.ctx, r.store, r.chain[0].Key)
		if err != nil {
			return 0, err
		}
		r.chain = r.chain[1:]
		r.data = s.Data
		if r.seen != nil && !r.seen(s) {
			r.done = true
		}
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// Archived is how far shard's archive from base goes: the offset and
// time of the last checkpoint of its chain (base and the zero time when
// there is none).
func Archived(ctx context.Context, store backup.Objects, folder string, shard int, base int64) (int64, time.Time, error) {
	keys, err := store.List(ctx, Dir(folder, shard))
	if err != nil {
		return base, time.Time{}, err
	}
	chain, end := Chain(keys, base)
	if len(chain) == 0 {
		return base, time.Time{}, nil
	}
	s, err := readSegment(ctx, store, chain[len(chain)-1].Key)
	if err != nil {
		return base, time.Time{}, err
	}
	return end, s.Checkpoints[len(s.Checkpoints)-1].Time(), nil
}
