package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The preStop hook of a data node watched by Sentinel (a RedisReplication),
// `shoal-node prestop --sentinel HOST:PORT --master-name NAME`:
//
// A master with an online replica hands its role over before it goes
// instead of leaving the sentinels to notice it is down
// (down-after-milliseconds, then an election): it pauses writes (CLIENT
// PAUSE WRITE, so nothing is acknowledged here that the replica lacks),
// waits until a replica has its whole replication stream, asks a sentinel
// for SENTINEL FAILOVER and waits until the sentinel names another master.
// The pause holds until the node exits: a client that wrote meanwhile gets
// no reply, or READONLY once the sentinels have turned this node into a
// replica, never an acknowledgement that the new master lacks. A replica,
// a master without an online replica, a replica that does not catch up in
// time or a sentinel that cannot be reached (the whole RedisReplication is
// being deleted) end the hook at once (writes unpaused) and the shutdown
// goes on: Sentinel's own failover then follows as it would without the
// hook.

// catchUpLimit bounds the wait for a replica to reach the paused master's
// offset before the hook gives up the hand-over.
const catchUpLimit = 5 * time.Second

// replicaOffsets are the offsets of the online replicas listed in a
// master's INFO replication (slaveN:ip=...,state=online,offset=N,...).
func replicaOffsets(info map[string]string) []int64 {
	var out []int64
	for i := 0; ; i++ {
		line, ok := info["slave"+strconv.Itoa(i)]
		if !ok {
			return out
		}
		fields := map[string]string{}
		for kv := range strings.SplitSeq(line, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				fields[k] = v
			}
		}
		off, err := strconv.ParseInt(fields["offset"], 10, 64)
		if fields["state"] == "online" && err == nil {
			out = append(out, off)
		}
	}
}

// caughtUp reports whether some online replica has all of the master's
// replication stream.
func caughtUp(info map[string]string) bool {
	master, err := strconv.ParseInt(info["master_repl_offset"], 10, 64)
	if err != nil {
		return false
	}
	for _, off := range replicaOffsets(info) {
		if off >= master {
			return true
		}
	}
	return false
}

// sentinelPrestop carries out the hand-over of a Sentinel-watched master.
type sentinelPrestop struct {
	target probeTarget
	// sentinel is the address of a sentinel (the sentinels' Service);
	// master the name they monitor this node's master under.
	sentinel, master string
	logf             func(format string, args ...any)
}

// replicationInfo is local's INFO replication, parsed.
func replicationInfo(ctx context.Context, local *redis.Client) (map[string]string, error) {
	s, err := local.Info(ctx, "replication").Result()
	if err != nil {
		return nil, err
	}
	return parseInfo(s), nil
}

// masterAddr is the sentinel's GET-MASTER-ADDR-BY-NAME as host:port.
func (p sentinelPrestop) masterAddr(ctx context.Context, sc *redis.Client) (string, error) {
	v, err := sc.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", p.master).StringSlice()
	if err != nil {
		return "", err
	}
	if len(v) != 2 {
		return "", fmt.Errorf("SENTINEL GET-MASTER-ADDR-BY-NAME %s: %q", p.master, v)
	}
	return v[0] + ":" + v[1], nil
}

// sentinelClient speaks to the sentinel as the node is spoken to (TLS
// with --tls-dir), without the node's password: the sentinels have none.
func (p sentinelPrestop) sentinelClient() *redis.Client {
	t := p.target
	t.Username, t.Password = "", ""
	return t.client(p.sentinel)
}

func (p sentinelPrestop) run(ctx context.Context) error {
	local := p.target.client(p.target.localAddr())
	defer local.Close() //nolint:errcheck // admin use
	info, err := replicationInfo(ctx, local)
	if err != nil {
		p.logf("prestop: not handing over: %v", err)
		return nil
	}
	if info[infoRole] != "master" {
		p.logf("prestop: not a master: nothing to hand over")
		return nil
	}
	if len(replicaOffsets(info)) == 0 {
		p.logf("prestop: master without an online replica: shutting down without a failover")
		return nil
	}
	sc := p.sentinelClient()
	defer sc.Close() //nolint:errcheck // admin use
	before, err := p.masterAddr(ctx, sc)
	if err != nil {
		p.logf("prestop: sentinel %s does not answer (%v): shutting down without a failover", p.sentinel, err)
		return nil
	}
	// Until the node exits: the kubelet's grace period ends it anyway.
	pause := time.Hour
	if d, ok := ctx.Deadline(); ok {
		pause = time.Until(d) + time.Minute
	}
	if err := local.Do(ctx, "CLIENT", "PAUSE", strconv.FormatInt(pause.Milliseconds(), 10), "WRITE").Err(); err != nil {
		p.logf("prestop: CLIENT PAUSE: %v: shutting down without a failover", err)
		return nil
	}
	unpause := func(why string) error {
		p.logf("prestop: %s: writes unpaused, shutting down without a failover", why)
		// Not ctx: it may be the one that ran out.
		uctx, cancel := context.WithTimeout(context.Background(), p.target.Timeout)
		defer cancel()
		return local.Do(uctx, "CLIENT", "UNPAUSE").Err()
	}
	if err := waitCaughtUp(ctx, local); err != nil {
		return unpause(err.Error())
	}
	p.logf("prestop: writes paused, a replica has the whole stream: SENTINEL FAILOVER %s at %s", p.master, p.sentinel)
	if err := sc.Do(ctx, "SENTINEL", "FAILOVER", p.master).Err(); err != nil && !strings.HasPrefix(err.Error(), "INPROG") {
		return unpause("SENTINEL FAILOVER: " + err.Error())
	}
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if now, err := p.masterAddr(ctx, sc); err == nil && now != before {
			p.logf("prestop: the sentinels name %s the master: handed over", now)
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("still the master: the sentinels named no other master in time")
		case <-tick.C:
		}
	}
}

// waitCaughtUp waits until an online replica has the paused master's
// whole replication stream, at most catchUpLimit.
func waitCaughtUp(ctx context.Context, local *redis.Client) error {
	cctx, cancel := context.WithTimeout(ctx, catchUpLimit)
	defer cancel()
	tick := time.NewTicker(pollInterval / 4)
	defer tick.Stop()
	for {
		info, err := replicationInfo(cctx, local)
		if err == nil && caughtUp(info) {
			return nil
		}
		select {
		case <-cctx.Done():
			return fmt.Errorf("no replica reached the master's offset within %v", catchUpLimit)
		case <-tick.C:
		}
	}
}
