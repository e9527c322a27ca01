// Package server is the data node's engine: listeners, the client
// connections (served by node/eventloop's loops, or one goroutine per
// connection), dispatch, MULTI/EXEC, blocking, pub/sub delivery, pause,
// ACL, configuration (redis.conf syntax and CONFIG), INFO and the
// engine's own commands. Command families (node/commands/<family>) and
// subsystems (replication, persistence, the cluster node) plug into it;
// it imports neither.
//
// # Execution model
//
// Each connection's goroutine reads what the socket has (a pipelined batch),
// takes the server lock once, runs every complete command of the batch,
// releases the lock and writes all replies with one write. The keyspace is
// therefore only touched under Server.mu and needs no locking of its own.
// Clients blocked on keys park their goroutine outside the lock; the client
// whose write makes a key ready serves them under the lock.
//
// With event-loops N > 0 (node/eventloop, plugged in by eventloop.go;
// the default is 1, 0 selects the goroutine per connection above) N epoll
// loops serve the connections instead, as Redis's event loop does: a loop
// reads once from every ready connection, runs all their batches in one
// hold of the lock and writes each one's replies with one write, without
// a goroutine per connection. A connection that must wait (blocked,
// paused), that others write to (pub/sub, MONITOR), that becomes a
// replica, or whose replies do not fit in its socket is handed to a
// goroutine of its own for good, and continues there as above; handlers
// see no difference. A loop that finds nothing ready polls a little
// longer before it sleeps while most of its recent idle gaps were that
// short (event-loop-busy-poll): under a stream of requests from many
// clients that saves the sleep and the wake-up the next client pays for.
// Background work that needs the lock (serverCron, the persister's and the
// cluster's crons, cluster bus messages) goes through RunLocked: while a
// loop holds the lock, that loop runs it at the end of its pass.
//
// The collector runs at a GC percent of 50 (evict.go; with maxmemory, a
// soft memory limit just above it); serverCron's gcTuner widens the
// headroom, by at most 64 MB, while the process allocates fast enough to
// collect more than once a second, and takes it back (returning the
// memory) half a second after the rate falls (gctune.go).
//
// At start-up the node listens before it loads its data set, as Redis:
// StartLoading hands the server lock to the loader (the Load hooks),
// which gives it up every 2 MB of file (or 20 ms); meanwhile commands
// without the loading flag get -LOADING, INFO shows loading:1 with its
// progress, and Serve starts the cluster bus and replication only once
// the load has ended (loading.go): a link to a master made earlier (a
// cluster replica names its master from nodes.conf as it is created)
// waits for replication's Start, or a full resync installed between two
// buffers of the load would get the rest of the file replayed on top of
// it.
//
// It owns the framework around commands (dispatch, arity/auth/OOM checks,
// MULTI/EXEC/WATCH, blocking, pub/sub, propagation of effective writes,
// INFO, CONFIG) but no data-structure logic: that lives in node/keyspace and
// its sub-packages. It must not be imported by them.
//
// # Adding a command family
//
// A family (string, list, hash, set, zset, generic, ...) is a package
// under node/commands and one registration line. The package owns its
// specs and its handlers side by side, in one row each, as Redis's
// commands.def rows name their function:
//
//	// node/commands/echo2/specs.go
//	package echo2
//
//	func Commands() []command.Spec {
//		return []command.Spec{
//			{Name: "echo2", Run: cmdEcho2, Arity: 2, Flags: command.Fast,
//				Categories: command.CatConnection | command.CatFast},
//		}
//	}
//
//	func cmdEcho2(c *command.Ctx) { c.W.Bulk(c.Args[1]) }
//
// and the line `echo2.Commands(),` in node/commands.All(). The specs of
// the existing families were generated from Redis 7.0.15's COMMAND
// INFO/DOCS (node/command/internal/specgen) and are owned by hand since.
// A spec without its Run, or two families serving one name, fails
// node/commands' TestEveryFamilySpecHasItsRun and New (checkServed), so
// the COMMAND list tells clients the truth. Add the name to
// testdata/served_commands.txt too (TestServedCommandsAreTheCheckedList).
//
// The engine's own commands (CLIENT, CONFIG, COMMAND, ACL, INFO, MULTI,
// pub/sub, ...) keep their specs in node/command and their handlers, which
// see the whole *Client, in this package; subsystems plug theirs in with
// Hooks.Handlers (hooks.go). Both are joined by name.
//
// # What a handler may touch
//
// A family's handler is func(c *command.Ctx) and sees only the Ctx: its
// arguments (Args, Cmd), its reply writer (W), its database (DB, and
// Database(n) for MOVE/COPY), the clock and randomness (Env.Now, Env.Rand
// through RandSource), the limits (Limits()), and the engine calls of the
// Ctx (Modified, Rewrite, AlsoPropagate, BlockOnKeys, SignalReady, ...).
// It never reaches the Server, other clients, the config or the I/O; a
// family that needs more asks for a new Ctx call, documented in
// node/command/ctx.go. The rules below hold for every handler.
//
// A handler runs under the server lock, after the
// framework checked arity, authentication, ACL permissions (commands, keys
// and channels, from the spec's categories and key specs), cluster routing
// (MOVED/ASK from the key specs), maxmemory (DenyOOM) and MULTI queueing.
// It must reply exactly once (unless it blocks) and never block or sleep.
// A handler that panics (a bug) is recovered under the lock (panic.go): the
// client gets "-ERR internal error in command '<name>'" and is closed, the
// log gets the stack, INFO counts total_handler_panics; the node serves on.
//
// Arguments: c.Args[0] is the command name, c.Args[1:] the arguments, as
// []byte that alias the read buffer: copy what you store (string(arg) for a
// map key or member, append([]byte(nil), arg...) for bytes). Helpers reply
// the Redis error themselves and return ok=false: c.ParseInt(arg),
// c.ParseInt32(arg, msg), c.ParseFloat(arg), c.ParseTimeout(arg),
// c.ParseScanCursor(arg), c.ParseScanOptions(args, false). They read the
// whole argument with Redis's rules (node/command/parse.go): never parse a number any
// other way. Range-check every offset, count and index before it sizes an
// allocation or a slice, without overflow (off > max-len, not off+len >
// max). Match keywords with command.EqFold(arg, "withscores").
//
// Replies go to c.W (node/resp.Writer), which speaks RESP2 or RESP3 by
// itself: c.W.OK(), SimpleString, Int, Bulk, BulkString, Null (missing
// value), NullArray (missing array), ArrayLen(n) then n elements, MapLen(n)
// then n key/value pairs (HGETALL, a flat array in RESP2), SetLen(n)
// (SMEMBERS), Double(f) (ZSCORE: "%.17g" as Redis 7.0; a bulk string in
// RESP2), Bool. Errors: c.Error(msg) with the constants of
// node/command/errors.go (command.ErrWrongType, command.ErrNotInteger,
// command.ErrSyntax, ...) or Redis's exact text; it also counts
// errorstats.
//
// Keys live in c.DB (*keyspace.DB, the selected database):
//
//	e, ok := c.ReadType(key, keyspace.TypeList)  // reading
//	if !ok { return }                           // WRONGTYPE already replied
//	if e == nil { c.W.Null(); return }          // no such key
//	l := e.Object().(*list.List)
//
// For a write use c.WriteType (same contract); it is the point where a
// value may be modified in place. Create with
// c.DB.AddObject(key, keyspace.TypeList, obj) (key is copied), delete with
// c.DB.DeleteEntry(e); an aggregate that becomes empty must be deleted, as
// Redis never keeps empty lists, hashes, sets or sorted sets. Lookups apply
// lazy expiry and count keyspace hits/misses. Expiry: c.DB.SetExpire(e, ms),
// c.DB.Persist(e); time is c.Now() (unix ms, fixed for the command).
//
// After every change to a key call c.Modified(key): it invalidates WATCH,
// counts the change for `save`, and makes the command propagate. A command
// that changed nothing must not call it (then it is not propagated, as
// Redis). ModifiedIn(db, key) is for another database.
//
// Propagation (AOF, replicas): by default a command that called Modified is
// propagated as its own argv. When that would not replay to the same result
// propagate the effective write instead: c.Rewrite(args...) replaces the
// command (SPOP -> SREM key members; a served BLPOP -> LPOP key; relative
// expiry -> PEXPIREAT), c.AlsoPropagate(args...) adds a write before it,
// c.PreventPropagation() drops it. Arguments are copied.
//
// Blocking (BLPOP, BZPOPMIN, BLMOVE, ...): parse the timeout with
// c.ParseTimeout (0 means forever); when there is nothing to serve call
// c.BlockOnKeys(keys, timeout, nil) and return without replying. A write
// that may serve blocked clients (LPUSH, ZADD, LMOVE's push, ...) calls
// c.SignalReady(key) after it changed the key. The framework then runs the
// blocked client's handler again, under the lock, with its original
// arguments and database (c.Reexecuted() is true); the handler either
// serves it (replying and propagating as usual) or calls BlockOnKeys again
// to keep waiting with its place and deadline. On timeout the client gets
// the null array, or whatever onTimeout (if not nil) replies. Inside
// MULTI/EXEC BlockOnKeys replies the timeout reply at once.
//
// Values of the new types may implement, for the framework: Copy() any
// (COPY), MemoryUsage() int (MEMORY USAGE and eviction accounting),
// Encoding() string (OBJECT ENCODING, e.g. "listpack", "quicklist").
//
// Tests: the node-level tests of a family are in this package
// (cmd_<family>_test.go), using the harness in harness_test.go, which
// builds and starts a real node process and gives a go-redis client and raw RESP access; startRedis and
// runDifferential (differential_test.go) compare replies with Debian's
// redis-server byte for byte. SHOAL_NODE_RACE=1 builds the node with the
// race detector and fails a test whose node logged a data race.
//
// # Keyspace notifications and client-side caching
//
// A handler fires its keyspace events with c.Notify(class, event, key)
// where Redis calls notifyKeyspaceEvent (after the change, before the
// "del" of an emptied aggregate); notify.go publishes them on
// __keyspace@<db>__ and __keyevent@<db>__ to this node's subscribers, as
// notify-keyspace-events asks, at the cost of one flag test when it does
// not. The engine fires expired, evicted, keymiss (Ctx.LookupRead) and
// new (the keyspace's Added hook, set only while the class is on).
// tracking.go is CLIENT TRACKING: read-only commands of a tracking client
// remember their keys (callAt), every change reaches it through
// touchWatched (KeyModified, expiry, eviction, DelKeys) and every flush
// through trackingFlush; invalidations the running client caused for
// itself follow its reply, and BCAST prefixes are sent after each
// command.
//
// # Hooks for the subsystems around the keyspace
//
// A subsystem lives in a package of its own that imports this one, and
// plugs in through New's plugins (hooks.go): a Plugin returns Hooks
// (handlers of its commands, INFO sections, Start, Cron, a dispatch
// Guard, Close), which the engine calls at one place each. The engine
// never imports the subsystem; node/cmd/shoal-node wires them. Besides
// its hooks, the exports a subsystem needs are in subsystem.go.
//
//   - Propagation: SetPropagator receives every effective write in
//     execution order (MULTI/EXEC around the writes of a transaction or of
//     one command that wrote several), including DELs of keys that expired
//     or were evicted. The AOF and replication consume it.
//   - Persistence: the Load, Persistence (SAVE/BGSAVE/LASTSAVE/
//     BGREWRITEAOF), Shutdown, ReplyMark/ReplyWait (group commit),
//     ReplSnapshot and DatasetReplaced hooks and an INFO section; the
//     keyspace's snapshot generations (BeginSnapshot, claims in
//     LookupWrite and every removal) make BGSAVE fork-less.
//   - Cluster: node/clusternode plugs in (Hooks: Init, Listen, Start,
//     Close, Route, ConfigChanged, Published, Connections) and reaches the
//     engine through cluster_api.go; its keyspace.SlotIndex goes in
//     through SetKeyIndex; routing uses command.Spec.GetKeys.
//   - Latency: LatencySample (latency.go) reports an event under Redis's
//     name to the latency monitor from any goroutine (the AOF writer's
//     aof-write and aof-fsync-always).
package server
