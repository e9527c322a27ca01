package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/node/persistence"
)

// restoreBatch is how many keys one pipelined RESTORE round carries.
const restoreBatch = 500

// TargetError is a write of a restore the cluster refused or did not
// answer (worth trying again), as opposed to a backup that cannot be read.
type TargetError struct{ Err error }

func (e *TargetError) Error() string { return e.Err.Error() }
func (e *TargetError) Unwrap() error { return e.Err }

// LoadShard restores every key of one shard object (ReadShard, so the
// object's checksums are checked as it is read) into target, with its
// absolute expiry, each key on the master of its slot, and its function
// libraries into every master. Keys already expired are skipped, as Redis
// skips them at load. Keys of a database other than 0 are refused unless
// multiDB (a RedisReplication's). It returns the keys restored; an error
// of the target is a *TargetError.
func LoadShard(ctx context.Context, s Objects, key string, f Format, shard ManifestShard, multiDB bool, target *nodeadmin.ImportTarget) (int64, error) {
	var batch []nodeadmin.RestoreKey
	var libraries []string
	var loaded int64
	now := time.Now().UnixMilli()
	// One batch is restored while the next is read: flush waits for the
	// batch in flight, then sends batch on its way.
	var inflight chan error
	wait := func() error {
		if inflight == nil {
			return nil
		}
		err := <-inflight
		inflight = nil
		return err
	}
	flush := func() error {
		if err := wait(); err != nil || len(batch) == 0 {
			return err
		}
		b, done := batch, make(chan error, 1)
		batch, inflight = make([]nodeadmin.RestoreKey, 0, restoreBatch), done
		go func() {
			_, err := target.RestoreKeys(ctx, b)
			if err == nil {
				loaded += int64(len(b))
			}
			done <- err
		}()
		return nil
	}
	h := persistence.SnapshotHandler{
		Key: func(rec persistence.Record) error {
			if rec.Legacy {
				return fmt.Errorf("key %q: a record of an earlier snapshot format", rec.Key)
			}
			if rec.DB != 0 && !multiDB {
				return fmt.Errorf("key %q in database %d: a cluster has database 0 only", rec.Key, rec.DB)
			}
			expireAt := int64(0)
			if rec.ExpireAt != persistence.NoExpire {
				if rec.ExpireAt <= now {
					return nil // expired: Redis does not load it either
				}
				expireAt = rec.ExpireAt
			}
			batch = append(batch, nodeadmin.RestoreKey{DB: rec.DB, Key: string(rec.Key), Payload: string(persistence.AppendDump(nil, rec.Value)), ExpireAt: expireAt})
			if len(batch) >= restoreBatch {
				if err := flush(); err != nil {
					return &TargetError{err}
				}
			}
			return nil
		},
		Function: func(code []byte) error {
			libraries = append(libraries, string(code))
			return nil
		},
	}
	if err := ReadShard(ctx, s, key, f, shard.Size, shard.SHA256, h); err != nil {
		if werr := wait(); werr != nil {
			err = errors.Join(err, &TargetError{werr})
		}
		return loaded, err
	}
	if err := errors.Join(flush(), wait()); err != nil {
		return loaded, &TargetError{err}
	}
	if err := target.LoadFunctions(ctx, libraries); err != nil {
		return loaded, &TargetError{err}
	}
	return loaded, nil
}
