package clusternode

import (
	"strconv"

	"github.com/shoal-dev/shoal/node/cluster"
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/server"
)

// routeCmd is one command of a query: the command itself, or each queued
// command of a MULTI for EXEC.
type routeCmd struct {
	spec *command.Spec
	args [][]byte
}

// route is the outcome of getNodeByQuery: serve here (err == "" and
// redirect == nil), an error, or a MOVED/ASK redirection.
type route struct {
	err      string
	ask      bool
	slot     int
	redirect *cluster.Addr
}

// route is the Route hook: "" when this node may serve the command
// (Redis's processCommand cluster check), otherwise the redirection or
// error to reply (the engine then fails the transaction around it, or
// discards the one an EXEC would run). Called with the lock held.
func (p *plugin) route(c *server.Client, spec *command.Spec, args [][]byte) string {
	cn := p.node
	cn.cronIfLate(c.Now())
	name := spec.FullName()
	isExec := name == "exec"
	// ASKING lasts for one command, or from MULTI to EXEC/DISCARD (Redis
	// clears it after each command that leaves the client outside MULTI).
	flags := c.ClusterFlags()
	asking := flags.Asking
	inMulti := (c.InMulti() || name == "multi") && !isExec && name != "discard"
	if name != "asking" && !inMulti {
		flags.Asking = false
	}
	if !isExec && !hasKeyArgs(spec) {
		return ""
	}
	var cmds []routeCmd
	if isExec {
		if !c.InMulti() {
			return "" // EXEC without MULTI replies its own error
		}
		for spec, args := range c.Queued() {
			cmds = append(cmds, routeCmd{spec, args})
		}
	} else {
		cmds = []routeCmd{{spec, args}}
	}
	r := cn.getNodeByQuery(c, cmds, asking)
	if r.err != "" || r.redirect == nil {
		return r.err
	}
	kind := "MOVED "
	if r.ask {
		kind = "ASK "
	}
	return kind + strconv.Itoa(r.slot) + " " + r.redirect.Endpoint + ":" + strconv.Itoa(r.redirect.Port)
}

// hasKeyArgs reports whether a command takes keys (or channels, for
// sharded pub/sub): the others always run locally.
func hasKeyArgs(spec *command.Spec) bool {
	return spec.FirstKey > 0 || len(spec.KeySpecs) > 0 || spec.Keys != nil || spec.Is(command.MovableKeys)
}

// commandKeys appends the key positions of a command to dst (MIGRATE's
// from its spec's Keys, command.MigrateKeys).
func commandKeys(spec *command.Spec, args [][]byte, dst []int) []int {
	keys, ok := spec.GetKeys(args, dst)
	if !ok {
		return dst[:0]
	}
	return keys
}

// isShardPubsub reports whether the command's "keys" are shard channels:
// it has key specs and every one is flagged not_key (SPUBLISH,
// SSUBSCRIBE, SUNSUBSCRIBE).
func isShardPubsub(spec *command.Spec) bool {
	return len(spec.KeySpecs) > 0 && !spec.HasKeyArgs()
}

// getNodeByQuery is the routing rule of the Redis Cluster specification:
// all keys must hash to one slot; the slot must be served by myself (or by
// my master, for a READONLY client's reads), with the MIGRATING/IMPORTING
// exceptions that make slot migration work.
func (cn *clusterNode) getNodeByQuery(c *server.Client, cmds []routeCmd, asking bool) route {
	m := cn.m
	db := cn.s.DB(0)
	var firstKey []byte
	slot := -1
	var owner cluster.Addr
	ownerIsMe := false
	migrating, importing, multipleKeys, shardPubsub := false, false, false, false
	missing, existing := 0, 0
	var flags command.Flags
	isMigrate := false
	for _, q := range cmds {
		flags |= q.spec.Flags
		if isShardPubsub(q.spec) {
			shardPubsub = true
		}
		if q.spec.FullName() == "migrate" {
			isMigrate = true
		}
		cn.keysBuf = commandKeys(q.spec, q.args, cn.keysBuf[:0])
		for _, pos := range cn.keysBuf {
			key := q.args[pos]
			thisSlot := cluster.KeyHashSlot(key)
			if firstKey == nil {
				firstKey, slot = key, thisSlot
				// The owner's address is only needed to redirect.
				if ownerIsMe = m.MySlot(slot) && !m.IsReplica(); !ownerIsMe {
					var ok bool
					if owner, ok = m.SlotOwner(slot); !ok {
						return route{err: server.ErrClusterDownUnbound}
					}
				}
				if _, mig := m.MigratingTo(slot); ownerIsMe && mig {
					migrating = true
				} else if _, imp := m.ImportingFrom(slot); imp {
					importing = true
				}
			} else if string(key) != string(firstKey) {
				if thisSlot != slot {
					return route{err: server.ErrCrossSlot}
				}
				multipleKeys = true
			}
			if (migrating || importing) && !shardPubsub {
				if db.Peek(key) == nil {
					missing++
				} else {
					existing++
				}
			}
		}
	}
	if firstKey == nil {
		return route{} // no keys at all: served here
	}
	if !m.StateOK() {
		cfg := &cn.s.Config().Cluster
		switch {
		case shardPubsub:
			if !cfg.AllowPubsubshardWhenDown {
				return route{err: server.ErrClusterDown}
			}
		case !cfg.AllowReadsWhenDown:
			return route{err: server.ErrClusterDown}
		case flags&command.Write != 0:
			return route{err: server.ErrClusterDownRO}
		}
	}
	// MIGRATE always runs here when the slot is open: keys move freely.
	if (migrating || importing) && isMigrate {
		return route{}
	}
	if migrating && missing > 0 {
		if existing > 0 {
			return route{err: server.ErrTryAgain}
		}
		to, _ := m.MigratingTo(slot)
		return route{ask: true, slot: slot, redirect: &to}
	}
	if importing && (asking || flags&command.Asking != 0) {
		if multipleKeys && missing > 0 {
			return route{err: server.ErrTryAgain}
		}
		return route{}
	}
	// A replica serves reads of its master's slots to READONLY clients.
	if (c.ClusterFlags().ReadOnly || shardPubsub) && flags&command.Write == 0 && m.IsReplica() && m.MySlot(slot) {
		return route{}
	}
	if !ownerIsMe {
		// A copy, so that owner stays on the stack of every command
		// served here.
		moved := owner
		return route{slot: slot, redirect: &moved}
	}
	return route{}
}
