// Package eventloop serves plain request/reply connections the way
// Redis's event loop does, instead of one goroutine per connection: one
// goroutine waits in epoll (level-triggered) on all its connections,
// reads once from each ready one, runs all their batches in one hold of
// the engine's lock, and writes each connection's replies with one write.
// That is one read and one write per batch (a goroutine per connection
// also pays a read that finds nothing before it parks) and no goroutine
// wake-ups or lock handoffs.
//
// The package is the mechanism only: the epoll set, the raw non-blocking
// sockets (Socket, a net.Conn), the read/run/write cycle, closing idle and
// killed connections, handing a connection back to Go's poller, and
// busy polling. It knows nothing of commands or clients. The engine
// (node/server) plugs in through two interfaces:
//
//   - Engine, one per loop: the lock batches run under, the idle timeout,
//     and what to do once an iteration's batches ran (with the lock held)
//     and before their replies go out (without it).
//   - Conn, one per connection: fill the input buffer, run the batch read
//     (saying whether the connection leaves the loop), the replies to
//     write, and what to do when the loop closes the connection or hands
//     it over.
//
// The loop only knows the common path. A connection that needs to wait
// (blocked on keys, WAIT, CLIENT PAUSE), whose output others append to
// (pub/sub, MONITOR), that becomes a replica (SYNC, PSYNC), or whose
// replies do not fit in the socket at once is handed over, for good, to a
// goroutine of its own (Conn.Serve), which continues exactly where the
// loop stopped. The engine decides the first four (Batch.HandOver); the
// loop the last.
//
// A command that runs long on the loop (a script past
// busy-reply-threshold) calls Socket.ServeWhileBlocked from time to time:
// the loop's other connections are read, run (the engine answers BUSY)
// and written from inside it, as Redis's processEventsWhileBlocked
// (blocked.go).
//
// A loop that finds nothing ready polls a little longer before it sleeps
// while most of its recent idle gaps were that short (busypoll.go): under
// a stream of requests from many clients that saves the sleep and the
// wake-up the next client pays for; then it naps in epoll_wait for up to
// 2ms keeping its P, so the next event resumes it at once (Config.Nap: the
// engine allows it with fewer loops than Ps). It never polls or naps with
// one P or under a cgroup CPU limit below two CPUs (cpuquota.go). The
// loop's goroutine keeps one OS thread (LockOSThread), as Redis's main
// thread: it does not move to the core its clients run on.
//
// config (node/server): event-loops (the number of loops; 0: a goroutine
// per connection), event-loop-busy-poll (the polling budget in
// microseconds; 0: never). INFO stats: event_loop_busy_poll_hits,
// _misses, _preempted (Loop.BusyPollStats).
//
// Linux only (epoll), as node/server.
package eventloop
