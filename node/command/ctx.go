package command

import (
	"time"

	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/hash"
	"github.com/shoal-dev/shoal/node/keyspace/set"
	"github.com/shoal-dev/shoal/node/keyspace/stream"
	"github.com/shoal-dev/shoal/node/keyspace/zset"
	"github.com/shoal-dev/shoal/node/resp"
)

// Handler runs one command. It is the Run of a Spec.
type Handler func(c *Ctx)

// Ctx is what a command handler may touch: its arguments, its reply
// writer, its database, the clock and randomness (Env), the limits, and
// the engine calls below. Nothing else of the server is reachable from a
// handler; the engine (node/server) fills a Ctx per client and runs the
// handler under the server lock. See node/server's package doc for the
// rules (reply once, never block, copy what you keep, call Modified).
type Ctx struct {
	// Args is the command being executed, name first. The slices alias
	// the read buffer: copy what you keep beyond the call.
	Args [][]byte
	// Cmd is the spec of the command being executed.
	Cmd *Spec
	// DB is the selected database.
	DB *keyspace.DB
	// W is where replies go.
	W *resp.Writer
	// Env is the keyspace's environment: Env.Now (the command's unix ms),
	// Env.Rand (the injected random source, nil: math/rand/v2), LFU.
	Env *keyspace.Env

	eng Engine
}

// Engine is the side of the server a handler reaches through its Ctx.
// node/server's Client implements it; a family never calls it directly
// but through the Ctx methods of the same meaning.
type Engine interface {
	// CountError counts an error reply (errorstats, failed calls).
	CountError(msg string)
	// CountLookup counts a read lookup (keyspace_hits/misses).
	CountLookup(hit bool)
	// KeyModified invalidates WATCHers of key in db and counts a change.
	KeyModified(db *keyspace.DB, key []byte)
	// CountDirty counts n changes not about one key.
	CountDirty(n int64)
	// SetRewrite makes the command propagate as args, which it copies
	// when writes propagate (and ignores when nothing collects them).
	SetRewrite(args [][]byte)
	// SetNoPropagation keeps the command out of the AOF and replicas.
	SetNoPropagation()
	// PropagateBefore queues an effective write in db before the command.
	PropagateBefore(db int, args [][]byte)
	// KeyReady wakes the clients blocked on key in db.
	KeyReady(db int, key []byte)
	// Block parks the client on keys (see Ctx.BlockOnKeys).
	Block(keys [][]byte, timeout time.Duration, onTimeout func(c *Ctx))
	// Reexecution reports whether the handler runs again for a client
	// blocked on a key that became ready.
	Reexecution() bool
	// InExec reports whether the command runs inside EXEC.
	InExec() bool
	// Database is database n, or nil when n is out of range.
	Database(n int64) *keyspace.DB
	// Limits are the configured limits, read when called.
	Limits() Limits
	// OutputOverLimit closes the client, and reports true, once its
	// pending replies pass the output buffer limits or max bytes.
	OutputOverLimit(max int) bool
	// Notify fires a keyspace event (see Ctx.Notify).
	Notify(class NotifyClass, event string, db int, key []byte)
	// FullKeyAccess reports whether the client's user may run spec with
	// args reading any key (see Ctx.FullKeyAccess).
	FullKeyAccess(spec *Spec, args [][]byte) bool
	// ScriptEngine runs scripts' commands (script.go).
	ScriptEngine
}

// Limits are the configuration a handler may read.
type Limits struct {
	// ProtoMaxBulkLen bounds a string value (SETRANGE, APPEND, SETBIT).
	ProtoMaxBulkLen int64
	// Encoding decides when a small value converts to its big encoding.
	Encoding Encoding
	// ClusterEnabled: only database 0 exists for a client.
	ClusterEnabled bool
	// HLLSparseMaxBytes is hll-sparse-max-bytes: a sparse HyperLogLog
	// that would grow past it turns dense.
	HLLSparseMaxBytes int64
}

// Encoding holds the parameters that decide when a small value switches
// to its big encoding, as Redis's hash-max-listpack-entries and friends.
// A change applies to values written afterwards; a value already
// converted stays converted, as in Redis.
type Encoding struct {
	Hash     hash.Limits
	Set      set.Limits
	ZSet     zset.Limits
	ListFill int           // list-max-listpack-size
	Stream   stream.Limits // stream-node-max-bytes, stream-node-max-entries
}

// Bind makes c the context of engine e (the engine calls it once per
// client).
func (c *Ctx) Bind(e Engine) { c.eng = e }

// Error replies with an error and counts it (errorstats).
func (c *Ctx) Error(msg string) {
	c.W.Error(msg)
	c.eng.CountError(msg)
}

// WrongType replies with the WRONGTYPE error.
func (c *Ctx) WrongType() { c.Error(ErrWrongType) }

// LookupRead finds a key for reading (lazy expiry, LRU touch,
// keyspace_hits/misses, the keymiss event).
func (c *Ctx) LookupRead(key []byte) *keyspace.Entry {
	e := c.DB.Lookup(key)
	c.eng.CountLookup(e != nil)
	if e == nil {
		c.eng.Notify(NotifyKeyMiss, "keymiss", c.DB.ID, key)
	}
	return e
}

// LookupWrite finds a key the command is about to modify.
func (c *Ctx) LookupWrite(key []byte) *keyspace.Entry { return c.DB.LookupWrite(key) }

// ReadType looks up key for reading and checks its type. ok is false (and
// WRONGTYPE has been replied) when the key holds another type; e is nil
// when the key does not exist.
func (c *Ctx) ReadType(key []byte, t keyspace.Type) (e *keyspace.Entry, ok bool) {
	e = c.LookupRead(key)
	if e != nil && e.Type() != t {
		c.WrongType()
		return nil, false
	}
	return e, true
}

// WriteType is ReadType for a key the command will modify.
func (c *Ctx) WriteType(key []byte, t keyspace.Type) (e *keyspace.Entry, ok bool) {
	e = c.LookupWrite(key)
	if e != nil && e.Type() != t {
		c.WrongType()
		return nil, false
	}
	return e, true
}

// Modified records that key in the client's DB changed: WATCHers abort,
// the change counts for `save` and the command is propagated.
func (c *Ctx) Modified(key []byte) { c.eng.KeyModified(c.DB, key) }

// ModifiedIn is Modified for a key of another database (MOVE, COPY DB).
func (c *Ctx) ModifiedIn(db *keyspace.DB, key []byte) { c.eng.KeyModified(db, key) }

// AddDirty counts n changes that are not about one key (FLUSHALL).
func (c *Ctx) AddDirty(n int64) { c.eng.CountDirty(n) }

// Rewrite makes the command propagate as args instead of c.Args (SET EX
// becomes SET ... PXAT, EXPIRE becomes PEXPIREAT, INCRBYFLOAT becomes SET,
// a served BLPOP becomes LPOP). args are copied.
func (c *Ctx) Rewrite(args ...[]byte) { c.eng.SetRewrite(args) }

// RewriteStrings is Rewrite with string arguments.
func (c *Ctx) RewriteStrings(args ...string) {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	c.eng.SetRewrite(b)
}

// PreventPropagation keeps the command out of the AOF and replicas even
// though it changed something.
func (c *Ctx) PreventPropagation() { c.eng.SetNoPropagation() }

// AlsoPropagate queues an extra effective write (in the client's DB)
// before the command itself. args are copied.
func (c *Ctx) AlsoPropagate(args ...[]byte) { c.eng.PropagateBefore(c.DB.ID, args) }

// SignalReady tells clients blocked on key (in the client's DB) that it
// may now serve them (after LPUSH, ZADD, LMOVE ...). Cheap when nobody
// waits.
func (c *Ctx) SignalReady(key []byte) { c.eng.KeyReady(c.DB.ID, key) }

// BlockOnKeys parks the client until one of keys (in its DB) is signalled
// ready by a write, or the timeout (0: forever) passes. The handler must
// return right after calling it without replying. When a key is ready the
// engine runs the handler again with the same arguments (c.Reexecuted()
// is true): it either serves the client or calls BlockOnKeys again to
// keep waiting (keeping its place and deadline). On timeout the client
// gets the null array, or what onTimeout replies when it is not nil.
// Inside MULTI/EXEC a blocking command does not block: it times out at
// once, as in Redis.
func (c *Ctx) BlockOnKeys(keys [][]byte, timeout time.Duration, onTimeout func(c *Ctx)) {
	c.eng.Block(keys, timeout, onTimeout)
}

// Reexecuted reports whether the handler runs again for a blocked client
// because one of its keys became ready.
func (c *Ctx) Reexecuted() bool { return c.eng.Reexecution() }

// InExec reports whether the command runs inside EXEC (a blocking command
// then answers at once).
func (c *Ctx) InExec() bool { return c.eng.InExec() }

// Now is the command's time in unix milliseconds.
func (c *Ctx) Now() int64 { return c.Env.Now }

// Database is database n, or nil when n is out of range.
func (c *Ctx) Database(n int64) *keyspace.DB { return c.eng.Database(n) }

// Limits are the configured limits.
func (c *Ctx) Limits() Limits { return c.eng.Limits() }

// OutputOverLimit closes the client, and reports true, once its pending
// replies pass the output buffer limits or max bytes (a reply written in
// chunks checks between them).
func (c *Ctx) OutputOverLimit(max int) bool { return c.eng.OutputOverLimit(max) }

// FullKeyAccess reports whether the client's user may read any key with
// this command (ACL allkeys or %R~*), as SORT's BY and GET patterns,
// which read keys named by the data, require.
func (c *Ctx) FullKeyAccess() bool { return c.eng.FullKeyAccess(c.Cmd, c.Args) }

// CopyArgs copies arguments that alias a read buffer, into one buffer.
func CopyArgs(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		out[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return out
}
