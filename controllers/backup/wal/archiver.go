package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/controllers/backup"
)

// Options of an Archiver.
type Options struct {
	// Store and Folder: the base backup's folder, where the segments go
	// (under wal/<shard>/).
	Store  backup.Objects
	Folder string
	Shard  int
	// ReplID and Offset: the base backup's snapshot of the shard, where
	// the archive starts.
	ReplID string
	Offset int64
	// Master is the address of the shard's master now ("" while none is
	// known); asked again at every reconnection, so a failover is
	// followed.
	Master func() string
	// Conn says how to authenticate (the replication user) and TLS.
	Conn backup.Options
	// Interval between uploads (1 s when 0).
	Interval time.Duration
	// Now is the clock of the checkpoints (time.Now when nil).
	Now func() time.Time
}

// Progress is what an archiver has uploaded.
type Progress struct {
	// ReplID and Offset: the stream archived up to Offset (the end of the
	// last segment uploaded), received by Time.
	ReplID string
	Offset int64
	Time   time.Time
	// Segments uploaded by this archiver.
	Segments int64
	// Gap says why the archive cannot continue (the master offered a
	// full resynchronisation): a new base backup is needed.
	Gap string
	// LastError is why the last connection or upload failed.
	LastError string
}

// ErrGap ends Run when the stream cannot be continued.
var ErrGap = errors.New("the archive has a gap")

// Archiver ships one shard's replication stream to the store.
type Archiver struct {
	o  Options
	mu sync.Mutex
	p  Progress
}

// NewArchiver makes an archiver; Run runs it.
func NewArchiver(o Options) *Archiver {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Archiver{o: o, p: Progress{ReplID: o.ReplID, Offset: o.Offset}}
}

// Progress is a copy of the archiver's progress.
func (a *Archiver) Progress() Progress {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.p
}

func (a *Archiver) update(f func(p *Progress)) {
	a.mu.Lock()
	f(&a.p)
	a.mu.Unlock()
}

// Run archives until ctx ends (it returns ctx's error) or the stream has
// a gap (ErrGap). It first resumes after the segments already in the
// store (an operator restart). A broken connection or a failed upload is
// retried; nothing received is dropped before it is uploaded.
func (a *Archiver) Run(ctx context.Context) error {
	if err := a.resume(ctx); err != nil {
		return err
	}
	pause := 100 * time.Millisecond
	for {
		err := a.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, backup.ErrFullResync) {
			msg := fmt.Sprintf("shard %d: the stream cannot be continued from offset %d: %v", a.o.Shard, a.Progress().Offset, err)
			a.update(func(p *Progress) { p.Gap = msg })
			return fmt.Errorf("%w: %s", ErrGap, msg)
		}
		if err != nil {
			a.update(func(p *Progress) { p.LastError = err.Error() })
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 2*time.Second)
	}
}

// resume continues after the chain of segments already uploaded.
func (a *Archiver) resume(ctx context.Context) error {
	for {
		keys, err := a.o.Store.List(ctx, Dir(a.o.Folder, a.o.Shard))
		if err == nil {
			chain, _ := Chain(keys, a.o.Offset)
			if len(chain) == 0 {
				return nil
			}
			var s *Segment
			if s, err = readSegment(ctx, a.o.Store, chain[len(chain)-1].Key); err == nil {
				last := s.Checkpoints[len(s.Checkpoints)-1]
				a.update(func(p *Progress) { p.ReplID, p.Offset, p.Time = s.ReplID, s.To, last.Time() })
				return nil
			}
		}
		a.update(func(p *Progress) { p.LastError = err.Error() })
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// pending is what was received and not uploaded yet.
type pending struct {
	mu   sync.Mutex
	data []byte
	cps  []Checkpoint
}

func (a *Archiver) session(ctx context.Context) error {
	addr := a.o.Master()
	if addr == "" {
		return fmt.Errorf("shard %d has no master known", a.o.Shard)
	}
	start := a.Progress()
	f, err := backup.Follow(ctx, addr, start.ReplID, start.Offset, a.o.Conn)
	if err != nil {
		return err
	}
	defer f.Close()
	a.update(func(p *Progress) { p.ReplID, p.LastError = f.ReplID, "" })

	var pend pending
	readErr := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		off := start.Offset
		for {
			n, err := f.Read(buf)
			if n > 0 {
				off += int64(n)
				pend.mu.Lock()
				pend.data = append(pend.data, buf[:n]...)
				pend.cps = append(pend.cps, Checkpoint{Offset: off, UnixMilli: a.o.Now().UnixMilli()})
				pend.mu.Unlock()
			}
			if err != nil {
				readErr <- err
				return
			}
		}
	}()
	tick := time.NewTicker(min(a.o.Interval, time.Second))
	defer tick.Stop()
	lastUpload := time.Now()
	for {
		select {
		case err := <-readErr:
			// What was received before the break is kept.
			if uerr := a.upload(ctx, &pend); uerr != nil {
				return errors.Join(err, uerr)
			}
			return err
		case <-tick.C:
		}
		if time.Since(lastUpload) >= a.o.Interval {
			lastUpload = time.Now()
			if err := a.upload(ctx, &pend); err != nil {
				return err
			}
		}
		if err := f.Ack(a.Progress().Offset); err != nil {
			return err
		}
	}
}

// upload writes what is pending as one segment and moves the progress
// past it. On failure the session ends and the next one asks the master
// for the bytes again, from the offset uploaded.
func (a *Archiver) upload(ctx context.Context, pend *pending) error {
	pend.mu.Lock()
	data, cps := pend.data, pend.cps
	pend.data, pend.cps = nil, nil
	pend.mu.Unlock()
	if len(data) == 0 {
		return nil
	}
	p := a.Progress()
	s := &Segment{ReplID: p.ReplID, From: p.Offset, To: p.Offset + int64(len(data)), Checkpoints: cps, Data: data}
	b := s.Encode()
	if err := a.o.Store.Put(ctx, Key(a.o.Folder, a.o.Shard, s.From, s.To), bytes.NewReader(b), int64(len(b)), "application/octet-stream"); err != nil {
		return fmt.Errorf("shard %d: %w", a.o.Shard, err)
	}
	last := cps[len(cps)-1]
	a.update(func(p *Progress) { p.Offset, p.Time = s.To, last.Time(); p.Segments++ })
	return nil
}

// readSegment reads and checks one segment object.
func readSegment(ctx context.Context, store backup.Objects, key string) (*Segment, error) {
	r, err := store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	s, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if from, to, _ := parseKey(key); from != s.From || to != s.To {
		return nil, fmt.Errorf("%s: %w: it holds offsets %d to %d", key, ErrCorrupt, s.From, s.To)
	}
	return s, nil
}
