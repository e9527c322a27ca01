package nodeadmin

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/cluster"
)

// RestoreKey is one key of a backup: its database, its DUMP payload and
// its absolute expiry (unix ms; 0 for none).
type RestoreKey struct {
	// DB is the key's database: 0 on a cluster, any on a node without
	// slots (NewNodeTarget).
	DB       int
	Key      string
	Payload  string
	ExpireAt int64
}

// RestoreKeys writes keys to the master of each key's slot with RESTORE
// key <expire-at-ms> payload REPLACE ABSTTL (0: no expiry), one pipeline
// per master, the masters at the same time, and returns the number
// restored by shard. A key already expired at restore time is skipped by
// the node as Redis skips it. Restoring the same keys again gives the
// same values. The error named is that of the first master (in the
// target's order) that failed.
func (t *ImportTarget) RestoreKeys(ctx context.Context, keys []RestoreKey) (map[int]int64, error) {
	byMaster := make([][]RestoreKey, len(t.masters))
	for _, k := range keys {
		o := t.slotOwner[cluster.KeyHashSlot([]byte(k.Key))]
		byMaster[o] = append(byMaster[o], k)
	}
	errs := make([]error, len(t.masters))
	var wg sync.WaitGroup
	for o, ks := range byMaster {
		if len(ks) > 0 {
			wg.Go(func() { errs[o] = t.masters[o].restore(ctx, ks) })
		}
	}
	wg.Wait()
	restored := map[int]int64{}
	for o, ks := range byMaster {
		if errs[o] != nil {
			return nil, errs[o]
		}
		if len(ks) > 0 {
			restored[t.masters[o].shard] += int64(len(ks))
		}
	}
	return restored, nil
}

// restore sends the RESTOREs of ks to m as one pipeline.
func (m targetMaster) restore(ctx context.Context, ks []RestoreKey) error {
	cmds, err := m.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		db := 0
		for _, k := range ks {
			if k.DB != db {
				db = k.DB
				p.Do(ctx, "SELECT", strconv.Itoa(db))
			}
			p.Do(ctx, "RESTORE", k.Key, strconv.FormatInt(k.ExpireAt, 10), k.Payload, "REPLACE", "ABSTTL")
		}
		if db != 0 {
			p.Do(ctx, "SELECT", "0")
		}
		return nil
	})
	if err != nil {
		for _, c := range cmds {
			if c.Err() != nil {
				return fmt.Errorf("%s %q on shard %d: %w", c.Name(), c.Args()[1], m.shard, c.Err())
			}
		}
		return fmt.Errorf("RESTORE on shard %d: %w", m.shard, err)
	}
	return nil
}

// NewNodeTarget is a target of one node that takes every key, of every
// database: the master of a RedisReplication (no slots).
func NewNodeTarget(addr string, auth SourceAuth) *ImportTarget {
	return &ImportTarget{masters: []targetMaster{{shard: 0, client: DialSource(addr, auth)}}}
}

// LoadFunctions loads function libraries into every master (FUNCTION LOAD
// REPLACE); replicas receive them by replication.
func (t *ImportTarget) LoadFunctions(ctx context.Context, libraries []string) error {
	for _, m := range t.masters {
		for _, code := range libraries {
			if err := m.client.Do(ctx, "FUNCTION", "LOAD", "REPLACE", code).Err(); err != nil {
				return fmt.Errorf("FUNCTION LOAD on shard %d: %w", m.shard, err)
			}
		}
	}
	return nil
}
