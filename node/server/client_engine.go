package server

import (
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
)

// The engine side of a handler's command.Ctx: Client implements
// command.Engine, so a handler reaches the server only through these.

var _ command.Engine = (*Client)(nil)

// CountError counts an error reply (errorstats, failed calls).
func (c *Client) CountError(msg string) {
	c.srv.stats.countError(msg)
	if c.Cmd != nil {
		c.srv.cmdStats[c.Cmd.ID()].failed++
	}
}

// CountLookup counts a read lookup (keyspace_hits/misses).
func (c *Client) CountLookup(hit bool) {
	if hit {
		c.srv.stats.keyspaceHits++
	} else {
		c.srv.stats.keyspaceMisses++
	}
}

// KeyModified invalidates WATCHers of key in db and counts a change.
func (c *Client) KeyModified(db *keyspace.DB, key []byte) {
	s := c.srv
	s.dirty++
	if s.trk.active() || len(s.watched) > 0 { // the key as a string only for them
		s.touchWatched(db.ID, string(key))
	}
	s.signalDeletedKeyAsReady(db, key)
}

// CountDirty counts n changes not about one key (FLUSHALL).
func (c *Client) CountDirty(n int64) { c.srv.dirty += n }

// SetRewrite makes the command propagate as a copy of args; without an
// AOF or replicas nothing propagates and nothing is copied (XADD rewrites
// every call).
func (c *Client) SetRewrite(args [][]byte) {
	if c.srv.propagates() {
		c.rewrite = command.CopyArgs(args)
	}
}

// SetNoPropagation keeps the command out of the AOF and replicas.
func (c *Client) SetNoPropagation() { c.noProp = true }

// PropagateBefore queues an effective write in db before the command.
func (c *Client) PropagateBefore(db int, args [][]byte) {
	if c.srv.propagates() {
		c.srv.propBuf = append(c.srv.propBuf, propOp{db: db, args: command.CopyArgs(args)})
	}
}

// KeyReady wakes the clients blocked on key in db.
func (c *Client) KeyReady(db int, key []byte) { c.srv.signalReady(db, key) }

// Reexecution reports whether the handler runs again for a blocked client.
func (c *Client) Reexecution() bool { return c.reexec }

// InExec reports whether the command runs inside EXEC.
func (c *Client) InExec() bool { return c.inExec }

// Database is database n, or nil when n is out of range.
func (c *Client) Database(n int64) *keyspace.DB {
	if n < 0 || n >= int64(len(c.srv.dbs)) {
		return nil
	}
	return c.srv.dbs[n]
}

// Limits are the configured limits a handler may read.
func (c *Client) Limits() command.Limits {
	cfg := c.srv.cfg
	return command.Limits{ProtoMaxBulkLen: cfg.ProtoMaxBulkLen, Encoding: cfg.Encoding, ClusterEnabled: cfg.ClusterEnabled,
		HLLSparseMaxBytes: cfg.Inert.HLLSparseMaxBytes}
}

// OutputOverLimit closes the client, and reports true, once its pending
// replies pass the output buffer limits or max bytes.
func (c *Client) OutputOverLimit(max int) bool {
	c.checkOutputLimit()
	if c.killed {
		return true
	}
	if c.W.Len() > max {
		c.srv.log.Printf("Client id=%d closed: random reply over %d bytes.", c.ID, max)
		c.kill()
		return true
	}
	return false
}

// Block parks the client on keys (command.Ctx.BlockOnKeys).
func (c *Client) Block(keys [][]byte, timeout time.Duration, onTimeout func(*command.Ctx)) {
	c.blockOnKeys(keys, timeout, onTimeout)
}

// FullKeyAccess reports whether the client's user may run spec reading
// any key (SORT's BY and GET); a client without a user may.
func (c *Client) FullKeyAccess(spec *command.Spec, args [][]byte) bool {
	u := c.aclUser
	return u == nil || u.FullKeyAccess(spec, args)
}

// Notify fires a keyspace event about key in db.
func (c *Client) Notify(class command.NotifyClass, event string, db int, key []byte) {
	c.srv.notifyKeyspaceEvent(class, event, db, key)
}
