package controllers

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/controllers/backup/wal"
)

// ArchiveManager runs the archivers of spec.backup.continuous: for each
// RedisCluster, one per shard of the backup its archive continues. The
// reconciler says what should run (Ensure, Stop); the archivers run on
// the manager's context (a manager.Runnable, so only the leader
// archives) and stop with it.
type ArchiveManager struct {
	mu   sync.Mutex
	ctx  context.Context
	runs map[types.NamespacedName]*archiveRun
}

// archiveRun is one cluster's archive: the backup it continues and an
// archiver per shard.
type archiveRun struct {
	backup   string
	interval time.Duration
	cancel   context.CancelFunc
	shards   []*shardArchive
}

type shardArchive struct {
	shard int
	a     *wal.Archiver
	mu    sync.Mutex
	addr  string
}

func (s *shardArchive) master() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// NewArchiveManager makes a manager; add it to the controller manager.
func NewArchiveManager() *ArchiveManager {
	return &ArchiveManager{runs: map[types.NamespacedName]*archiveRun{}}
}

// Start runs until ctx ends; the archivers run on contexts derived from
// it, so they stop with it.
func (m *ArchiveManager) Start(ctx context.Context) error {
	m.mu.Lock()
	m.ctx = ctx
	m.mu.Unlock()
	<-ctx.Done()
	return nil
}

// archiveWant is what should run for a cluster.
type archiveWant struct {
	backup   string
	interval time.Duration
	store    backup.Objects
	folder   string
	shards   []backup.ManifestShard
	conn     backup.Options
	// masters is each shard's master address now (missing: keep the
	// last known).
	masters map[int]string
}

// Ensure makes the cluster's archive the one w describes (starting it, or
// replacing one of another backup or interval), gives its archivers the
// masters' addresses, and returns their progress in shard order. ok is
// false while the manager has not started.
func (m *ArchiveManager) Ensure(key types.NamespacedName, w archiveWant) (progress []wal.Progress, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx == nil || m.ctx.Err() != nil {
		return nil, false
	}
	r := m.runs[key]
	if r != nil && (r.backup != w.backup || r.interval != w.interval) {
		r.cancel()
		r = nil
	}
	if r == nil {
		ctx, cancel := context.WithCancel(m.ctx)
		r = &archiveRun{backup: w.backup, interval: w.interval, cancel: cancel}
		for _, sh := range w.shards {
			sa := &shardArchive{shard: sh.Shard}
			sa.a = wal.NewArchiver(wal.Options{Store: w.store, Folder: w.folder, Shard: sh.Shard,
				ReplID: sh.ReplicationID, Offset: sh.ReplicationOffset, Master: sa.master, Conn: w.conn, Interval: w.interval})
			r.shards = append(r.shards, sa)
			go func() { _ = sa.a.Run(ctx) }()
		}
		m.runs[key] = r
	}
	for _, sa := range r.shards {
		if addr, ok := w.masters[sa.shard]; ok {
			sa.mu.Lock()
			sa.addr = addr
			sa.mu.Unlock()
		}
		progress = append(progress, sa.a.Progress())
	}
	return progress, true
}

// Stop ends the cluster's archive, if one runs.
func (m *ArchiveManager) Stop(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.runs[key]; r != nil {
		r.cancel()
		delete(m.runs, key)
	}
}
