package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// The preStop hook, run by the kubelet inside the node's container before it
// sends SIGTERM:
//
//	shoal-node prestop [--port 6379] [--user NAME] [--password-env NAME] [--timeout 15s]
//
// A master that serves slots hands them over before it goes: it sends
// CLUSTER FAILOVER (the coordinated manual failover, no FORCE: the replica
// catches up with the paused master first, so no acknowledged write is lost)
// to its best replica, the connected, in-sync one with the highest
// replication offset, and waits until it is itself a replica. When no
// replica is fit, or this node is not a serving master, it returns at once
// and the shutdown goes on: then the cluster's own failover (a replica that
// could not be asked may still be elected) or the node's return on its
// volume brings the slots back.

const (
	defaultPrestopLimit = 15 * time.Second
	// prestopCallLimit bounds one command to a node (local or a replica).
	prestopCallLimit = 2 * time.Second
	// attemptLimit bounds one CLUSTER FAILOVER: Redis gives up a manual
	// failover after 5 s (CLUSTER_MF_TIMEOUT) and the election may need a
	// little more on a loaded node.
	attemptLimit = 8 * time.Second
	pollInterval = 200 * time.Millisecond
)

// replicaReport is what a replica of this node says about its replication.
type replicaReport struct {
	Node clusteradmin.Node
	// Err is why the replica could not be asked (then it is not fit).
	Err error
	// Info is its INFO replication, parsed.
	Info map[string]string
	// MasterID is the master its own CLUSTER NODES names for it.
	MasterID string
}

// candidate is a replica fit to take over, with its offset.
type candidate struct {
	Node   clusteradmin.Node
	Offset int64
}

// servingMaster is this node's entry when it is a master serving slots.
func servingMaster(v *clusteradmin.NodeView) (clusteradmin.Node, bool) {
	me, ok := v.Myself()
	if !ok || !me.IsMaster() || me.SlotCount() == 0 {
		return clusteradmin.Node{}, false
	}
	return me, true
}

// replicasOf are the nodes the view lists as replicas of master and
// reachable over the bus: not failing, past the handshake, link connected.
func replicasOf(v *clusteradmin.NodeView, master string) []clusteradmin.Node {
	var out []clusteradmin.Node
	for _, n := range v.Nodes {
		if n.MasterID != master || !n.IsReplica() {
			continue
		}
		if n.HasFlag(clusteradmin.FlagFail) || n.HasFlag(clusteradmin.FlagPFail) ||
			n.HasFlag(clusteradmin.FlagHandshake) || n.HasFlag(clusteradmin.FlagNoAddr) ||
			n.LinkState != clusteradmin.LinkConnected {
			continue
		}
		out = append(out, n)
	}
	return out
}

// unfit says why a replica cannot take over from master, nil when it can:
// it must have answered, replicate master (by its own account), have its
// link to master up, and not be in a full synchronization.
func unfit(master string, r replicaReport) error {
	switch {
	case r.Err != nil:
		return r.Err
	case r.MasterID != master:
		return fmt.Errorf("replicates %q by its own account", r.MasterID)
	case r.Info[infoRole] != roleReplica:
		return fmt.Errorf("role %s", r.Info[infoRole])
	case r.Info[infoLinkStatus] != "up":
		return fmt.Errorf("master link %s", r.Info[infoLinkStatus])
	case r.Info[infoSyncing] == "1":
		return errors.New("in a full synchronization")
	}
	if _, err := strconv.ParseInt(r.Info[infoReplicaOffset], 10, 64); err != nil {
		return fmt.Errorf("%s: %v", infoReplicaOffset, err)
	}
	return nil
}

// fitReplicas are the replicas that can take over from master (see unfit),
// best first: highest replication offset, node ID breaking ties so that the
// choice is stable.
func fitReplicas(master string, reports []replicaReport) []candidate {
	var out []candidate
	for _, r := range reports {
		if unfit(master, r) != nil {
			continue
		}
		offset, _ := strconv.ParseInt(r.Info[infoReplicaOffset], 10, 64)
		out = append(out, candidate{Node: r.Node, Offset: offset})
	}
	slices.SortFunc(out, func(a, b candidate) int {
		if c := cmp.Compare(b.Offset, a.Offset); c != 0 {
			return c
		}
		return cmp.Compare(a.Node.ID, b.Node.ID)
	})
	return out
}

// handedOver reports whether this node, after a failover to target, is no
// longer a master serving slots: it is target's replica (or any replica).
func handedOver(v *clusteradmin.NodeView) bool {
	me, ok := v.Myself()
	return ok && me.IsReplica()
}

// prestop carries out the hand-over against the local node (target), logging
// each step with logf.
type prestop struct {
	target probeTarget
	logf   func(format string, args ...any)
}

// admin is an admin client of the node at addr, spoken to as the local
// one is: over TLS with --tls-dir (a TLS cluster's nodes have no plain
// port; without it the hand-over silently did not happen there).
func (p prestop) admin(addr string) *clusteradmin.NodeClient {
	return clusteradmin.New(addr, clusteradmin.Options{Username: p.target.Username, Password: p.target.Password,
		Timeout: p.target.Timeout, TLS: p.target.TLS})
}

func (p prestop) localView(ctx context.Context) (*clusteradmin.NodeView, error) {
	c := p.admin(p.target.localAddr())
	defer c.Close() //nolint:errcheck // read-only use
	return c.ClusterView(ctx)
}

// report asks one replica about its replication.
func (p prestop) report(ctx context.Context, n clusteradmin.Node) replicaReport {
	r := replicaReport{Node: n}
	addr := net.JoinHostPort(n.IP, strconv.Itoa(n.Port))
	c := p.admin(addr)
	defer c.Close() //nolint:errcheck // read-only use
	v, err := c.ClusterView(ctx)
	if err != nil {
		r.Err = err
		return r
	}
	me, _ := v.Myself()
	r.MasterID = me.ID
	if me.IsReplica() {
		r.MasterID = me.MasterID
	}
	rdb := p.target.client(addr)
	defer rdb.Close() //nolint:errcheck // read-only use
	info, err := rdb.Info(ctx, "replication").Result()
	if err != nil {
		r.Err = err
		return r
	}
	r.Info = parseInfo(info)
	return r
}

// run hands mastership over, or returns at once when there is nothing to
// hand over or nobody to hand it to. A manual failover that did not complete
// (Redis gives up after 5 s and unpauses the master) is tried again, with
// the replicas judged afresh, until the deadline: a replica that stopped
// answering meanwhile (the whole cluster is being deleted) is no longer fit,
// and then the hook returns at once.
func (p prestop) run(ctx context.Context) error {
	tried := false
	for {
		fit, done := p.candidates(ctx, tried)
		if done && tried && ctx.Err() != nil {
			return fmt.Errorf("still a master: no replica took over in time")
		}
		if done {
			return nil
		}
		for _, c := range fit {
			started := time.Now()
			ok, err := p.failoverTo(ctx, c)
			if ok {
				return nil
			}
			p.logf("prestop: failover to %s did not complete: %v", c.Node.ID, err)
			if ctx.Err() != nil {
				return fmt.Errorf("still a master: no replica took over in time")
			}
			// An attempt refused at once (an error reply) is not
			// retried in a tight loop.
			if time.Since(started) < pollInterval {
				select {
				case <-ctx.Done():
				case <-time.After(pollInterval):
				}
			}
		}
		tried = true
	}
}

// candidates reads this node's view and its replicas' reports and returns
// the replicas fit to take over, best first; done is true when there is
// nothing (more) to do: not a serving master (any more), or no fit replica.
func (p prestop) candidates(ctx context.Context, tried bool) (fit []candidate, done bool) {
	v, err := p.localView(ctx)
	if err != nil {
		// Not in cluster mode, or not answering: nothing this hook can do.
		p.logf("prestop: not handing over: %v", err)
		return nil, true
	}
	me, ok := servingMaster(v)
	if !ok {
		if tried && handedOver(v) {
			p.logf("prestop: handed over")
		} else {
			p.logf("prestop: not a master serving slots: nothing to hand over")
		}
		return nil, true
	}
	var reports []replicaReport
	for _, n := range replicasOf(v, me.ID) {
		r := p.report(ctx, n)
		if err := unfit(me.ID, r); err != nil {
			p.logf("prestop: replica %s is not fit: %v", n.ID, err)
		}
		reports = append(reports, r)
	}
	fit = fitReplicas(me.ID, reports)
	if len(fit) == 0 {
		p.logf("prestop: master %s has no connected, in-sync replica: shutting down without a failover", me.ID)
		return nil, true
	}
	return fit, false
}

// failoverTo sends CLUSTER FAILOVER to c and waits until this node is a
// replica (done), the attempt times out, or c stops answering.
func (p prestop) failoverTo(ctx context.Context, c candidate) (bool, error) {
	addr := net.JoinHostPort(c.Node.IP, strconv.Itoa(c.Node.Port))
	p.logf("prestop: CLUSTER FAILOVER to replica %s at %s (offset %d)", c.Node.ID, addr, c.Offset)
	rc := p.admin(addr)
	defer rc.Close() //nolint:errcheck // one command
	if err := rc.Failover(ctx, clusteradmin.FailoverDefault); err != nil {
		return false, err
	}
	actx, cancel := context.WithTimeout(ctx, attemptLimit)
	defer cancel()
	peer := p.target.client(addr)
	defer peer.Close() //nolint:errcheck // read-only use
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if v, err := p.localView(actx); err == nil && handedOver(v) {
			p.logf("prestop: handed over to %s", c.Node.ID)
			return true, nil
		}
		// A replica that is itself shutting down (the whole cluster is
		// being deleted) stops answering: no use waiting for it.
		if err := peer.Ping(actx).Err(); err != nil && !isReplyError(err) && actx.Err() == nil {
			return false, fmt.Errorf("replica stopped answering: %w", err)
		}
		select {
		case <-actx.Done():
			return false, actx.Err()
		case <-tick.C:
		}
	}
}

// isReplyError reports whether err is an error reply of the node (it
// answered).
func isReplyError(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply)
}

// runPrestop is `shoal-node prestop [flags]`.
func runPrestop(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("prestop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf connFlags
	cf.register(fs, defaultPrestopLimit)
	sentinel := fs.String("sentinel", "", "host:port of a sentinel: hand a Sentinel-watched master's role over (prestop_sentinel.go) instead of a cluster master's slots")
	masterName := fs.String("master-name", "", "the name the sentinels monitor the master under (with --sentinel)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (*sentinel == "") != (*masterName == "") {
		fmt.Fprintln(stderr, "prestop: --sentinel and --master-name go together")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), cf.timeout)
	defer cancel()
	logf := func(format string, args ...any) { fmt.Fprintf(stdout, format+"\n", args...) }
	var run func(context.Context) error = prestop{target: cf.target(prestopCallLimit), logf: logf}.run
	if *sentinel != "" {
		run = sentinelPrestop{target: cf.target(prestopCallLimit), sentinel: *sentinel, master: *masterName, logf: logf}.run
	}
	if err := run(ctx); err != nil {
		fmt.Fprintf(stderr, "prestop: %v\n", err)
		return 1
	}
	return 0
}
