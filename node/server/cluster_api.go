package server

import (
	"iter"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
)

// What the engine exports for the cluster node's driver
// (node/clusternode), which plugs in through hooks (hooks.go) and reaches
// the engine through these only; each says which part of the driver needs
// it (Go, Closing and Codecs are subsystem.go's). All are called with
// the lock held.

// Redirections of cluster mode (getNodeByQuery + clusterRedirectClient),
// with Redis's exact texts: clients match on the first word.
const (
	ErrCrossSlot          = "CROSSSLOT Keys in request don't hash to the same slot"
	ErrTryAgain           = "TRYAGAIN Multiple keys request during rehashing of slot"
	ErrClusterDown        = "CLUSTERDOWN The cluster is down"
	ErrClusterDownRO      = "CLUSTERDOWN The cluster is down and only accepts read commands"
	ErrClusterDownUnbound = "CLUSTERDOWN Hash slot not served"
)

// ErrClusterDisabled is the reply of the cluster commands in standalone
// mode.
const ErrClusterDisabled = "ERR This instance has cluster support disabled"

// ClusterFlags is a client's cluster-mode state, Redis's CLIENT_ASKING and
// CLIENT_READONLY flags; RESET clears them.
type ClusterFlags struct {
	// Asking: the next command may be served in an IMPORTING slot.
	Asking bool
	// ReadOnly: a replica serves reads of its master's slots.
	ReadOnly bool
}

// ClusterFlags is c's cluster-mode state (ASKING, READONLY, READWRITE and
// the routing).
func (c *Client) ClusterFlags() *ClusterFlags { return &c.cl.flags }

// InMulti reports whether c is inside MULTI (the routing: ASKING lasts
// until EXEC or DISCARD there).
func (c *Client) InMulti() bool { return c.multi != nil }

// Queued is the commands c queued since MULTI (the routing of EXEC).
func (c *Client) Queued() iter.Seq2[*command.Spec, [][]byte] {
	return func(yield func(*command.Spec, [][]byte) bool) {
		if c.multi == nil {
			return
		}
		for _, q := range c.multi.cmds {
			if !yield(q.spec, q.args) {
				return
			}
		}
	}
}

// BindAddrs is bind's addresses: the cluster bus listens on them too.
func (s *Server) BindAddrs() []string { return s.bindAddrs() }

// SetKeyIndex installs ix on database 0 now (the cluster node's keys by
// slot, before the data set loads) and on the data set a full sync swaps
// in.
func (s *Server) SetKeyIndex(ix keyspace.KeyIndex) {
	s.keyIndex = ix
	s.dbs[0].SetIndex(ix)
}

// ApplyWritePause carries out a manual failover's pause of writes
// (Ready.PauseWritesUntil, Ready.UnpauseWrites) and reports whether
// writes are paused (pause.go).
func (s *Server) ApplyWritePause(until time.Time, unpause bool) bool {
	return s.applyWritePause(until, unpause)
}

// EmptyData deletes every key of database 0, the only one cluster mode
// uses, as Redis's emptyData for a replica's CLUSTER RESET: WATCHers are
// touched and FLUSHALL is propagated.
func (s *Server) EmptyData() {
	n := s.dbs[0].Flush()
	s.touchAllWatchedInDB(0, nil)
	s.trackingFlush()
	s.dirty += int64(n)
	if s.propagates() {
		s.propBuf = append(s.propBuf, propOp{db: 0, args: [][]byte{[]byte("FLUSHALL")}})
		s.flushPropagation()
	}
}

// DelKeys deletes keys of database 0 as Redis's delKeysInSlot, for a
// slot this master lost: WATCHers are touched and a DEL is propagated for
// each key deleted.
func (s *Server) DelKeys(keys []string) {
	db := s.dbs[0]
	for _, k := range keys {
		if db.Delete([]byte(k)) {
			s.dirty++
			s.touchWatched(0, k)
			if s.propagates() {
				s.propBuf = append(s.propBuf, propOp{db: 0, args: [][]byte{[]byte("DEL"), []byte(k)}})
			}
		}
	}
	s.flushPropagation()
}

// RedirectBlocked unblocks, with the error reply returns, each client
// blocked on keys of database 0 for which it returns one (a slot lost:
// clusterRedirectBlockedClientIfNeeded). reply is asked once per client,
// with its first key and its command's arguments.
func (s *Server) RedirectBlocked(reply func(c *Client, key string, args [][]byte) string) {
	if s.blocking.count == 0 {
		return
	}
	var victims []*Client
	for dk, clients := range s.blocking.byKey {
		if dk.db != 0 {
			continue
		}
		for _, c := range clients {
			if c.blk != nil && c.blk.keys[0] == dk {
				victims = append(victims, c) // each client once: by its first key
			}
		}
	}
	for _, c := range victims {
		msg := reply(c, c.blk.keys[0].key, c.blk.args)
		if msg == "" {
			continue
		}
		s.unblock(c)
		c.Error(msg)
		select {
		case c.wake <- struct{}{}:
		default:
		}
		if c.async {
			c.wakeAsync()
		}
	}
}
