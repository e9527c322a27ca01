// Package sentinel is `shoal-node --sentinel`: Redis Sentinel as
// sentinel.c of Redis 7.0 runs it, for deployments of one master and its
// replicas without slots. It monitors masters (PING every second, INFO
// every 10 s, or every second during a failover), discovers their
// replicas from INFO replication and the other sentinels from the hello
// messages they publish on __sentinel__:hello, marks instances
// subjectively down after down-after-milliseconds, agrees on objectively
// down with SENTINEL IS-MASTER-DOWN-BY-ADDR, elects one leader per epoch and
// lets the leader promote the best replica (REPLICAOF NO ONE in MULTI with
// CONFIG REWRITE and CLIENT KILL), point the others at it (parallel-syncs)
// and switch the master's address. It serves the SENTINEL commands, the
// events on its own pub/sub and rewrites its state (myid, epochs, known
// replicas and sentinels) into its config file so a restart keeps it.
//
// Command line (the contract the operator's pods use):
//
//	shoal-node --sentinel /path/sentinel.conf [--name value ...]
//	shoal-node /path/sentinel.conf --sentinel [--name value ...]
//
// sentinel.conf is in Redis's syntax and must be writable (the state is
// rewritten into it, as redis-sentinel does); port 26379 unless "port" or
// --port says otherwise; each "--name value ..." is one more config line
// after the file's ("--sentinel monitor m 10.0.0.1 6379 2" is a
// directive, "--sentinel" alone only the mode).
//
// Layout: config.go parses sentinel.conf and the command line, rewrite.go
// writes the state back; instance.go holds the instances; link.go is the
// asynchronous connection to an instance (replies in order to callbacks, as
// hiredis does); monitor.go the periodic work and the INFO/hello handling;
// failover.go the election and the failover state machine; server.go the
// client side (connections, pub/sub); commands.go the commands.
//
// All state is guarded by one mutex (Sentinel.mu): the timer, the link
// readers and the clients take it for each step, so the code reads as the
// single-threaded sentinel.c it follows. It must not import node/server:
// a sentinel holds no data set.
package sentinel
