// Command shoal-node is the Shoal data node, a Redis-compatible server.
//
//	shoal-node [/path/to/redis.conf] [--name value ...]
//
// takes the same arguments as redis-server: an optional configuration file
// in redis.conf syntax, then "--name value" overrides (--port 7000).
// SIGTERM and SIGINT shut it down gracefully. A configuration Redis would
// refuse stops it with Redis's "*** FATAL CONFIG FILE ERROR ***" report and
// exit status 1. With daemonize yes it re-executes itself in a new session
// and returns once that daemon listens (daemon.go); pidfile is written in
// both modes and removed at shutdown.
//
// Two subcommands serve Kubernetes, run from the same binary inside the
// node's container (the image holds nothing else):
//
//	shoal-node health live|ready [--port 6379] [--user NAME] [--password-env NAME]
//	shoal-node prestop [--port 6379] [--user NAME] [--password-env NAME] [--timeout 15s]
//	                   [--sentinel HOST:PORT --master-name NAME]
//
// health is the exec probe (exit 0 when the check passes); prestop is the
// preStop hook that hands a master's slots to its best replica with
// CLUSTER FAILOVER before the node is stopped, or, with --sentinel, a
// Sentinel-watched master's role with SENTINEL FAILOVER after pausing
// writes until a replica has them all.
//
// It owns the command line and process lifecycle of the node, and the health
// and hand-over logic of the two subcommands (pure functions over what the
// node reports, with the I/O at the edges). It must not reach into the
// server's internals: the subcommands talk to the node as any client does,
// through node/clusteradmin and go-redis.
package main
