package server

import (
	"strconv"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/persistence"
)

// dumpHandlers are DUMP and RESTORE: the DUMP payload is
// node/persistence's, with the server's codecs (no persistence needed).
func dumpHandlers() map[string]Handler {
	return map[string]Handler{
		"dump":           cmdDump,
		"restore":        cmdRestore,
		"restore-asking": cmdRestore,
	}
}

// DUMP key
func cmdDump(c *Client) {
	e := c.LookupRead(c.Args[1])
	if e == nil {
		c.W.Null()
		return
	}
	t, v, err := persistence.EntryValue(e)
	if err == nil {
		var payload []byte
		if payload, err = c.srv.codecs.Dump(t, v); err == nil {
			c.W.Bulk(payload)
			return
		}
	}
	c.Error("ERR " + err.Error())
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
//
// Checks in Redis's order: options, BUSYKEY, TTL, payload version and
// checksum, payload contents.
func cmdRestore(c *Client) {
	args := c.Args
	key := args[1]
	replace, absttl := false, false
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(args); j++ {
		more := len(args) - j - 1
		switch {
		case command.EqFold(args[j], "replace"):
			replace = true
		case command.EqFold(args[j], "absttl"):
			absttl = true
		case command.EqFold(args[j], "idletime") && more >= 1 && freq == -1:
			n, ok := c.ParseInt(args[j+1])
			if !ok {
				return
			}
			if n < 0 {
				c.Error("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = n
			j++
		case command.EqFold(args[j], "freq") && more >= 1 && idle == -1:
			n, ok := c.ParseInt(args[j+1])
			if !ok {
				return
			}
			if n < 0 || n > 255 {
				c.Error("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = n
			j++
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	if !replace && c.LookupWrite(key) != nil {
		c.Error("BUSYKEY Target key name already exists.")
		return
	}
	ttl, ok := c.ParseInt(args[2])
	if !ok {
		return
	}
	if ttl < 0 {
		c.Error("ERR Invalid TTL value, must be >= 0")
		return
	}
	t, v, err := c.srv.codecs.Restore(args[3])
	if err != nil {
		c.Error(err.Error())
		return
	}
	deleted := replace && c.DB.Delete(key)
	if ttl > 0 && !absttl {
		ttl += c.Now()
	}
	if ttl > 0 && ttl <= c.Now() {
		// Already expired: the key is not created (a replaced one is gone).
		if deleted {
			c.Rewrite([]byte("DEL"), key)
			c.Modified(key)
			c.srv.notifyKeyspaceEvent(command.NotifyGeneric, "del", c.DB.ID, key)
		}
		c.W.OK()
		return
	}
	e := persistence.AddValue(c.DB, key, t, v)
	if ttl > 0 {
		c.DB.SetExpire(e, ttl)
		if !absttl {
			// Propagate the TTL as an absolute time.
			rw := append(command.CopyArgs(args[:2]), strconv.AppendInt(nil, ttl, 10))
			rw = append(rw, args[3:]...)
			c.Rewrite(append(rw, []byte("ABSTTL"))...)
		}
	}
	setRestoredClock(c.srv.env, e, idle, freq)
	c.Modified(key)
	c.srv.notifyKeyspaceEvent(command.NotifyGeneric, "restore", c.DB.ID, key)
	c.W.OK()
}

// setRestoredClock applies IDLETIME (LRU policies) or FREQ (LFU) as
// Redis's objectSetLRUOrLFU does.
func setRestoredClock(env *keyspace.Env, e *keyspace.Entry, idle, freq int64) {
	const lruMax = 1<<24 - 1
	switch {
	case env.LFU && freq >= 0:
		e.SetClock(uint32(env.Now/60000)&65535<<8 | uint32(freq))
	case !env.LFU && idle >= 0:
		now := int64(env.LRUClock())
		abs := now - idle
		if abs < 0 {
			abs = (now + lruMax/2) % lruMax
		}
		e.SetClock(uint32(abs))
	}
}
