package nodeadmin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// ErrStopped is returned when a failpoint stopped a slot move as if the
// operator had crashed there.
var ErrStopped = errors.New("stopped at a failpoint")

// SlotMover carries out slot moves (topology.SlotOp) on the nodes of one
// cluster: SETSLOT, and GETKEYSINSLOT + MIGRATE batches.
type SlotMover struct {
	// Dial opens clients; Auth authenticates them and MIGRATE.
	Dial clusteradmin.Dialer
	Auth clusteradmin.Auth
	// Addr resolves a node ID to ip and port.
	Addr func(nodeID string) (ip string, port int, ok bool)
	// KeysPerBatch is the number of keys one MIGRATE moves.
	KeysPerBatch int
	// CommandTimeout bounds each command; MigrateTimeout is MIGRATE's own
	// timeout argument (the source's I/O with the target).
	CommandTimeout time.Duration
	MigrateTimeout time.Duration
	// Failpoint, when not nil, is asked after each step that names one;
	// true stops the move with ErrStopped.
	Failpoint func(point string) bool
	// Pacer, when not nil, sizes the batches (at most KeysPerBatch) from
	// the latency MIGRATE adds and lets one MIGRATE at a time touch a node.
	Pacer *Pacer
}

// session is one worker's connections, by address.
type session struct {
	m       *SlotMover
	clients map[string]clusteradmin.Client
}

func (s *session) client(nodeID string) (clusteradmin.Client, string, int, error) {
	ip, port, ok := s.m.Addr(nodeID)
	if !ok {
		return nil, "", 0, fmt.Errorf("node %s has no known address", nodeID)
	}
	addr := fmt.Sprintf("%s:%d", ip, port)
	c, ok := s.clients[addr]
	if !ok {
		c = s.m.Dial(addr, s.m.Auth)
		s.clients[addr] = c
	}
	return c, ip, port, nil
}

func (s *session) close() {
	for _, c := range s.clients {
		_ = c.Close()
	}
}

func (s *session) timed(ctx context.Context, f func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, s.m.CommandTimeout)
	defer cancel()
	return f(cctx)
}

// run carries out ops in order; consecutive best-effort steps (each to
// another node) go out at the same time.
func (s *session) run(ctx context.Context, ops []topology.SlotOp) error {
	for i := 0; i < len(ops); i++ {
		op := ops[i]
		if op.BestEffort {
			j := i
			for j < len(ops) && ops[j].BestEffort {
				j++
			}
			s.runBestEffort(ctx, ops[i:j])
			i = j - 1
			continue
		}
		if err := s.do(ctx, op); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if op.Type != topology.OpMoveKeys && s.stop(op.Failpoint) {
			return ErrStopped
		}
	}
	return nil
}

func (s *session) do(ctx context.Context, op topology.SlotOp) error {
	c, _, _, err := s.client(op.Node)
	if err != nil {
		return err
	}
	switch op.Type {
	case topology.OpSetSlot:
		err := s.timed(ctx, func(ctx context.Context) error {
			return c.SetSlot(ctx, op.Slot, clusteradmin.SlotState(op.State), op.Arg)
		})
		if err != nil && op.State == topology.SlotNode && op.Node != op.Arg && isReplyError(err, errSetSlotOnReplica) {
			// A source that gave its last slot away learns the new owner
			// from the target's gossip and becomes its replica (Redis's
			// replica migration of an emptied master), sometimes before
			// this SETSLOT NODE reaches it: the slot is settled, as
			// redis-cli --cluster takes it (found by the Day-2 e2e, where it
			// failed the reconcile and set Degraded during a scale in).
			return nil
		}
		return err
	case topology.OpMoveKeys:
		return s.moveKeys(ctx, c, op)
	}
	return fmt.Errorf("unknown slot step %q", op.Type)
}

// errSetSlotOnReplica is how a node (as Redis) refuses CLUSTER SETSLOT
// when it is a replica.
const errSetSlotOnReplica = "ERR Please use SETSLOT only with masters."

// isBusyKey reports whether err is MIGRATE's "ERR Target instance replied
// with error: BUSYKEY ..." (a key of the batch exists on the target).
func isBusyKey(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply) && strings.Contains(reply.Error(), "error: BUSYKEY ")
}

// isReplyError reports whether err carries the error reply msg.
func isReplyError(err error, msg string) bool {
	var reply redis.Error
	return errors.As(err, &reply) && reply.Error() == msg
}

// runBestEffort sends ops in parallel and ignores their errors.
func (s *session) runBestEffort(ctx context.Context, ops []topology.SlotOp) {
	for _, op := range ops {
		_, _, _, _ = s.client(op.Node) // dial in this goroutine: the map is not shared
	}
	var wg sync.WaitGroup
	for _, op := range ops {
		wg.Go(func() { _ = s.do(ctx, op) })
	}
	wg.Wait()
}

func (s *session) stop(point string) bool {
	return point != "" && s.m.Failpoint != nil && s.m.Failpoint(point)
}

// moveKeys migrates the slot's keys from c in batches until it holds none.
func (s *session) moveKeys(ctx context.Context, c clusteradmin.Client, op topology.SlotOp) error {
	_, ip, port, err := s.client(op.Arg)
	if err != nil {
		return err
	}
	for batch := 0; ; batch++ {
		size := s.m.KeysPerBatch
		if s.m.Pacer != nil {
			size = s.m.Pacer.Batch()
		}
		var keys []string
		asked := time.Now()
		if err := s.timed(ctx, func(ctx context.Context) (err error) {
			keys, err = c.GetKeysInSlot(ctx, op.Slot, size)
			return err
		}); err != nil {
			return err
		}
		roundTrip := time.Since(asked)
		if len(keys) == 0 {
			return nil
		}
		migrate := func(replace bool) error {
			return s.timed(ctx, func(ctx context.Context) error {
				return c.MigrateKeys(ctx, ip, port, keys, s.m.MigrateTimeout, s.m.Auth, replace)
			})
		}
		if s.m.Pacer != nil {
			release := s.m.Pacer.Hold(op.Node, op.Arg) // source and target IDs
			start := time.Now()
			err = migrate(false)
			// What the MIGRATE took beyond a round trip to the source
			// (GETKEYSINSLOT's, just before): a busy mover's own wake-up
			// delay is not the nodes' doing and must not shrink batches.
			s.m.Pacer.Observe(len(keys), time.Since(start)-roundTrip)
			release()
		} else {
			err = migrate(false)
		}
		if isBusyKey(err) {
			// The target holds a key the source still serves: a copy a
			// MIGRATE left there before it failed (a target restarted
			// mid-move, a source that lost the reply). While the slot is
			// migrating, a key the source holds is the source's to serve,
			// and writes to it went to the source, so the source's value is
			// the acknowledged one: send it again with REPLACE. Retrying
			// without it would fail the same way forever.
			err = migrate(true)
		}
		if err != nil {
			return err
		}
		if batch == 0 && s.stop(op.Failpoint) {
			return ErrStopped
		}
		if len(keys) < size {
			// The slot held fewer keys than a batch, and a node whose
			// slot is migrating, or that does not serve the slot, gets
			// no new keys in it (new keys are redirected with ASK or
			// MOVED): it is empty now. SETSLOT NODE on the source
			// refuses if it is not.
			return nil
		}
	}
}

// Run carries out jobs (each the steps of one slot, in order), up to
// inFlight at a time, starting no job after deadline. It returns how many
// jobs completed and the first error; an error or a failpoint cancels the
// jobs in flight between their commands, as a crash would.
func (m *SlotMover) Run(ctx context.Context, jobs [][]topology.SlotOp, inFlight int, deadline time.Time) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next, done atomic.Int64
		errOnce    sync.Once
		first      error
		wg         sync.WaitGroup
	)
	for range max(1, min(inFlight, len(jobs))) {
		wg.Go(func() {
			s := &session{m: m, clients: map[string]clusteradmin.Client{}}
			defer s.close()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				if err := s.run(ctx, jobs[i]); err != nil {
					errOnce.Do(func() { first = err; cancel() })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return int(done.Load()), first
}
