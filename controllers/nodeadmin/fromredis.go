package nodeadmin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/cluster"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// Import I/O (spec.bootstrap.fromRedis; the steps are topology.PlanImport's):
// the source is read with SCAN, then PTTL and DUMP of each key in one
// pipeline (not a MULTI: a Redis Cluster refuses a transaction over keys
// of several slots; a key changed between its PTTL and its DUMP is copied
// right by a later pass, and the cut-over pass runs while the source's
// writes are held); each key is restored with
// RESTORE ... REPLACE on the master of its slot, so a key copied again in
// a later pass takes the source's newer value. The payloads are Redis's
// DUMP format, which our nodes load.

// SourceAuth is how the operator authenticates to a source node.
type SourceAuth struct {
	Username, Password string
	Timeout            time.Duration
	// TLS, when not nil, is the client's TLS configuration (the
	// cluster's own nodes under spec.tls).
	TLS *tls.Config
}

// DialSource opens a client of one source node.
func DialSource(addr string, a SourceAuth) *redis.Client {
	t := a.Timeout
	if t == 0 {
		t = 5 * time.Second
	}
	return redis.NewClient(&redis.Options{
		Addr: addr, Username: a.Username, Password: a.Password, TLSConfig: a.TLS,
		DialTimeout: t, ReadTimeout: t, WriteTimeout: t,
		PoolSize: 1, MaxRetries: -1, DisableIdentity: true, Protocol: 2,
	})
}

// SourceMasters lists the nodes an import scans: addrs[0] for a standalone
// source; for a cluster source, the masters serving slots, as the first of
// addrs that answers CLUSTER NODES reports them.
func SourceMasters(ctx context.Context, clusterMode bool, addrs []string, a SourceAuth) ([]string, error) {
	if len(addrs) == 0 {
		return nil, errors.New("no source address")
	}
	if !clusterMode {
		return addrs[:1], nil
	}
	var errs []error
	for _, addr := range addrs {
		c := DialSource(addr, a)
		reply, err := c.ClusterNodes(ctx).Result()
		_ = c.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", addr, err))
			continue
		}
		nodes, err := clusteradmin.ParseClusterNodes(reply)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", addr, err))
			continue
		}
		var out []string
		for _, n := range nodes {
			if n.IsMaster() && len(n.Slots) > 0 && !n.HasFlag("fail") {
				out = append(out, net.JoinHostPort(n.IP, strconv.Itoa(n.Port)))
			}
		}
		if len(out) == 0 {
			errs = append(errs, fmt.Errorf("%s: no master serves a slot", addr))
			continue
		}
		return out, nil
	}
	return nil, errors.Join(errs...)
}

// PauseWrites holds the writes of a source node for d (CLIENT PAUSE
// <ms> WRITE): reads go on, writes wait.
func PauseWrites(ctx context.Context, c *redis.Client, d time.Duration) error {
	return c.Do(ctx, "CLIENT", "PAUSE", strconv.FormatInt(d.Milliseconds(), 10), "WRITE").Err()
}

// UnpauseWrites releases a hold taken by PauseWrites.
func UnpauseWrites(ctx context.Context, c *redis.Client) error {
	return c.Do(ctx, "CLIENT", "UNPAUSE").Err()
}

// ImportTarget is where each slot's keys go: one client per master of the
// cluster and the shard index of each.
type ImportTarget struct {
	slotOwner [cluster.Slots]int // index into masters; -1: none
	masters   []targetMaster
}

type targetMaster struct {
	shard  int
	client *redis.Client
}

// TargetMaster is one master of the cluster: its shard, address and slots.
type TargetMaster struct {
	Shard int
	Addr  string
	Slots []clusteradmin.SlotRange
}

// NewImportTarget connects (lazily) to the masters with the cluster's
// password. Every slot must have a master.
func NewImportTarget(masters []TargetMaster, auth SourceAuth) (*ImportTarget, error) {
	t := &ImportTarget{}
	for i := range t.slotOwner {
		t.slotOwner[i] = -1
	}
	for i, m := range masters {
		for _, r := range m.Slots {
			if r.First < 0 || r.Last >= cluster.Slots || r.First > r.Last {
				return nil, fmt.Errorf("shard %d: bad slot range %v", m.Shard, r)
			}
			for s := r.First; s <= r.Last; s++ {
				t.slotOwner[s] = i
			}
		}
		t.masters = append(t.masters, targetMaster{shard: m.Shard, client: DialSource(m.Addr, auth)})
	}
	for s, o := range t.slotOwner {
		if o < 0 {
			t.Close()
			return nil, fmt.Errorf("slot %d has no master", s)
		}
	}
	return t, nil
}

// Close closes the masters' clients.
func (t *ImportTarget) Close() {
	for _, m := range t.masters {
		_ = m.client.Close()
	}
}

// FlushAll empties every master (FLUSHALL; the replicas follow).
func (t *ImportTarget) FlushAll(ctx context.Context) error {
	for _, m := range t.masters {
		if err := m.client.FlushAll(ctx).Err(); err != nil {
			return fmt.Errorf("FLUSHALL on shard %d: %w", m.shard, err)
		}
	}
	return nil
}

// dumpedKey is one key read from the source.
type dumpedKey struct {
	key     string
	ttl     time.Duration // 0: no expiry
	payload string
}

// CopyBatch copies one SCAN batch of src from cursor (count keys asked
// for) and returns the next cursor and the keys restored by shard index.
// Keys that vanish between SCAN and DUMP are skipped. It is idempotent: a
// batch copied again restores the same values.
func CopyBatch(ctx context.Context, src *redis.Client, cursor uint64, count int64, t *ImportTarget) (uint64, map[int]int64, error) {
	keys, next, err := src.Scan(ctx, cursor, "", count).Result()
	if err != nil {
		return cursor, nil, fmt.Errorf("SCAN on the source: %w", err)
	}
	if len(keys) == 0 {
		return next, nil, nil
	}
	dumped, err := dumpKeys(ctx, src, keys)
	if err != nil {
		return cursor, nil, err
	}
	copied, err := t.restore(ctx, dumped)
	if err != nil {
		return cursor, nil, err
	}
	return next, copied, nil
}

// dumpKeys reads PTTL and DUMP of keys in one pipeline.
func dumpKeys(ctx context.Context, src *redis.Client, keys []string) ([]dumpedKey, error) {
	pttls := make([]*redis.DurationCmd, len(keys))
	dumps := make([]*redis.StringCmd, len(keys))
	_, err := src.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			pttls[i] = p.PTTL(ctx, k)
			dumps[i] = p.Dump(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("PTTL/DUMP on the source: %w", err)
	}
	out := make([]dumpedKey, 0, len(keys))
	for i, k := range keys {
		payload, err := dumps[i].Result()
		if errors.Is(err, redis.Nil) {
			continue // deleted or expired since SCAN
		}
		if err != nil {
			return nil, fmt.Errorf("DUMP %q on the source: %w", k, err)
		}
		ttl, err := pttls[i].Result()
		if err != nil {
			return nil, fmt.Errorf("PTTL %q on the source: %w", k, err)
		}
		switch {
		case ttl == -2: // go-redis keeps -1 and -2 as nanoseconds
			continue
		case ttl < 0:
			ttl = 0
		case ttl < time.Millisecond:
			ttl = time.Millisecond
		}
		out = append(out, dumpedKey{key: k, ttl: ttl, payload: payload})
	}
	return out, nil
}

// restore sends RESTORE key ttl payload REPLACE to the master of each
// key's slot, pipelined per master.
func (t *ImportTarget) restore(ctx context.Context, keys []dumpedKey) (map[int]int64, error) {
	byMaster := map[int][]dumpedKey{}
	for _, k := range keys {
		o := t.slotOwner[cluster.KeyHashSlot([]byte(k.key))]
		byMaster[o] = append(byMaster[o], k)
	}
	copied := map[int]int64{}
	for o, ks := range byMaster {
		m := t.masters[o]
		cmds, err := m.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range ks {
				p.RestoreReplace(ctx, k.key, k.ttl, k.payload)
			}
			return nil
		})
		if err != nil {
			for i, c := range cmds {
				if c.Err() != nil {
					return nil, fmt.Errorf("RESTORE %q on shard %d: %w", ks[i].key, m.shard, c.Err())
				}
			}
			return nil, fmt.Errorf("RESTORE on shard %d: %w", m.shard, err)
		}
		copied[m.shard] += int64(len(ks))
	}
	return copied, nil
}

// Masters is the number of masters of the target.
func (t *ImportTarget) Masters() int { return len(t.masters) }

// Owner is the index (0 to Masters()-1) of the master serving key's slot.
func (t *ImportTarget) Owner(key []byte) int {
	return t.slotOwner[cluster.KeyHashSlot(key)]
}

// Exec sends perMaster[i] to master i as one pipeline, the masters
// concurrently, and waits for every reply. A command is its arguments;
// an EXEC's reply is checked element by element. The first error (a
// failed connection or an error reply) is returned, naming the shard and
// the command.
func (t *ImportTarget) Exec(ctx context.Context, perMaster [][][]any) error {
	errs := make([]error, len(t.masters))
	var wg sync.WaitGroup
	for i, cmds := range perMaster {
		if len(cmds) == 0 || i >= len(t.masters) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = t.masters[i].exec(ctx, cmds)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (m targetMaster) exec(ctx context.Context, cmds [][]any) error {
	replies, err := m.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range cmds {
			p.Do(ctx, c...)
		}
		return nil
	})
	for i, r := range replies {
		if e := r.Err(); e != nil && !errors.Is(e, redis.Nil) {
			return fmt.Errorf("shard %d: %s: %w", m.shard, commandName(cmds[i]), e)
		}
		if vals, ok := r.(*redis.Cmd).Val().([]any); ok && isExec(cmds[i]) {
			for _, v := range vals {
				if e, ok := v.(error); ok {
					return fmt.Errorf("shard %d: a command of a transaction: %w", m.shard, e)
				}
			}
		}
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("shard %d: %w", m.shard, err)
	}
	return nil
}

// commandName is the name of a command, for errors.
func commandName(c []any) string {
	if len(c) == 0 {
		return "(empty)"
	}
	return strings.ToUpper(fmt.Sprint(c[0]))
}

func isExec(c []any) bool { return len(c) == 1 && strings.EqualFold(fmt.Sprint(c[0]), "exec") }

// DeleteSlots deletes every key of the slots from the masters serving
// them (CLUSTER GETKEYSINSLOT, then UNLINK, until none is left): a
// FLUSHALL of one shard's history replayed on a cluster of another shape.
func (t *ImportTarget) DeleteSlots(ctx context.Context, slots []int) error {
	for _, s := range slots {
		if s < 0 || s >= cluster.Slots {
			return fmt.Errorf("slot %d out of range", s)
		}
		m := t.masters[t.slotOwner[s]]
		for {
			keys, err := m.client.ClusterGetKeysInSlot(ctx, s, 1000).Result()
			if err != nil {
				return fmt.Errorf("shard %d: CLUSTER GETKEYSINSLOT %d: %w", m.shard, s, err)
			}
			if len(keys) == 0 {
				break
			}
			if err := m.client.Unlink(ctx, keys...).Err(); err != nil {
				return fmt.Errorf("shard %d: UNLINK in slot %d: %w", m.shard, s, err)
			}
		}
	}
	return nil
}
