package server

import (
	"github.com/shoal-dev/shoal/node/acl"
	"github.com/shoal-dev/shoal/node/command"
)

// multiState is a client's open transaction.
type multiState struct {
	cmds []queuedCmd
}

// memory is CLIENT LIST's multi-mem: the queued commands' argument bytes
// and argv pointers (Redis's argv_len_sums); 0 outside MULTI.
func (m *multiState) memory() int {
	if m == nil {
		return 0
	}
	n := 0
	for _, q := range m.cmds {
		n += argsLen(q.args) + 8*len(q.args)
	}
	return n
}

type queuedCmd struct {
	spec *command.Spec
	args [][]byte
}

type watchedKey struct {
	db      int
	key     string
	expired bool // already expired when WATCHed
}

func (c *Client) queue(spec *command.Spec, args [][]byte) {
	c.multi.cmds = append(c.multi.cmds, queuedCmd{spec: spec, args: command.CopyArgs(args)})
	c.lastCmd = spec.FullName() // CLIENT LIST's cmd, as Redis sets it before queueing
	c.W.SimpleString("QUEUED")
}

func transactionHandlers() map[string]Handler {
	return map[string]Handler{
		"multi":   cmdMulti,
		"exec":    cmdExec,
		"discard": cmdDiscard,
		"watch":   cmdWatch,
		"unwatch": cmdUnwatch,
	}
}

func cmdMulti(c *Client) {
	if c.multi != nil {
		c.Error(command.ErrNestedMulti)
		return
	}
	c.multi = &multiState{}
	c.execFailed = false
	c.W.OK()
}

func (c *Client) discardTransaction() {
	c.multi = nil
	c.execFailed = false
	c.unwatchAll()
}

func cmdDiscard(c *Client) {
	if c.multi == nil {
		c.Error(command.ErrDiscardNoMulti)
		return
	}
	c.discardTransaction()
	c.W.OK()
}

// watchedKeyExpired reports whether a WATCHed key expired since WATCH.
func (c *Client) watchedKeyExpired() bool {
	for _, wk := range c.watched {
		if wk.expired {
			continue
		}
		db := c.srv.dbs[wk.db]
		if e := db.PeekNoExpire([]byte(wk.key)); e != nil && db.IsExpired(e) {
			return true
		}
	}
	return false
}

func cmdExec(c *Client) {
	s := c.srv
	if c.multi == nil {
		c.Error(command.ErrExecNoMulti)
		return
	}
	if c.execFailed {
		c.discardTransaction()
		c.Error(command.ErrExecAbort)
		return
	}
	if c.dirtyCAS || c.watchedKeyExpired() {
		c.discardTransaction()
		c.W.NullArray()
		return
	}
	cmds := c.multi.cmds
	c.multi = nil
	c.unwatchAll()
	execSpec := c.Cmd
	// The transaction propagates as MULTI ... EXEC around its writes.
	mark := len(s.propBuf)
	c.W.ArrayLen(len(cmds))
	c.inExec = true
	for _, q := range cmds {
		c.Args = q.args
		if reason := c.aclDenial(q.spec, q.args); reason != acl.OK {
			c.Error(acl.ExecDenialError(reason))
			continue
		}
		if s.cfg.MaxMemory > 0 && q.spec.Is(command.DenyOOM) && !s.performEvictions() {
			c.Error(command.ErrOOM)
			continue
		}
		s.callNested(c, q.spec)
	}
	c.inExec = false
	c.Cmd = execSpec
	c.noProp = true // the queued commands propagated themselves
	if s.propagates() && len(s.propBuf) > mark+1 {
		ops := append([]propOp(nil), s.propBuf[mark:]...)
		s.propBuf = append(s.propBuf[:mark], propOp{db: ops[0].db, args: [][]byte{[]byte("MULTI")}})
		s.propBuf = append(s.propBuf, ops...)
		s.propBuf = append(s.propBuf, propOp{db: ops[len(ops)-1].db, args: [][]byte{[]byte("EXEC")}})
	}
}

func cmdWatch(c *Client) {
	if c.multi != nil {
		c.Error(command.ErrWatchInMulti)
		return
	}
	for _, k := range c.Args[1:] {
		c.watch(string(k))
	}
	c.W.OK()
}

func cmdUnwatch(c *Client) {
	c.unwatchAll()
	c.W.OK()
}

func (c *Client) watch(key string) {
	for _, wk := range c.watched {
		if wk.db == c.DB.ID && wk.key == key {
			return
		}
	}
	db := c.DB
	expired := false
	if e := db.PeekNoExpire([]byte(key)); e != nil && db.IsExpired(e) {
		expired = true
	}
	c.watched = append(c.watched, watchedKey{db: db.ID, key: key, expired: expired})
	dk := dbKey{db.ID, key}
	c.srv.watched[dk] = append(c.srv.watched[dk], c)
}

func (c *Client) unwatchAll() {
	s := c.srv
	for _, wk := range c.watched {
		dk := dbKey{wk.db, wk.key}
		list := s.watched[dk]
		for i, x := range list {
			if x == c {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(s.watched, dk)
		} else {
			s.watched[dk] = list
		}
	}
	c.watched = nil
	c.dirtyCAS = false
}

// touchWatched marks every client WATCHing key as dirty (signalModifiedKey).
func (s *Server) touchWatched(db int, key string) {
	if s.trk.active() {
		s.trackingInvalidateKey(key, true)
	}
	if len(s.watched) == 0 {
		return
	}
	for _, c := range s.watched[dbKey{db, key}] {
		c.dirtyCAS = true
	}
}

// touchAllWatchedInDB marks clients WATCHing keys of a database that is
// flushed or swapped. With exists (FLUSHDB) only keys that existed count.
func (s *Server) touchAllWatchedInDB(db int, exists func(key string) bool) {
	for dk, clients := range s.watched {
		if dk.db != db || (exists != nil && !exists(dk.key)) {
			continue
		}
		for _, c := range clients {
			c.dirtyCAS = true
		}
	}
}

// multiHasWrite reports whether a queued command is a write (Redis's
// mstate.cmd_flags & CMD_WRITE).
func (c *Client) multiHasWrite() bool {
	if c.multi == nil {
		return false
	}
	for _, q := range c.multi.cmds {
		if q.spec.Is(command.Write) {
			return true
		}
	}
	return false
}
