// Package cluster is the Redis Cluster logic of the data node as a pure,
// deterministic state machine, in the style of etcd's raft.
//
// It owns: hash slots (CRC16 and hash tags), the node table and cluster
// state (myself, peers with their flags, addresses, epochs, failure reports,
// the slot map, MIGRATING/IMPORTING slots, currentEpoch and lastVoteEpoch),
// every rule of the Redis Cluster specification that changes that state
// (MEET handshake, PING/PONG schedule and gossip, PFAIL/FAIL, UPDATE,
// configEpoch collisions, replica elections, manual failover, replica
// migration), the CLUSTER subcommands that change it (with errors worded as
// Redis words them), the reply formats clients parse (CLUSTER NODES, SLOTS,
// SHARDS, INFO) and nodes.conf (format, parser, atomic file write).
//
// It must not open sockets, start goroutines, read the clock or use global
// randomness: time is passed to every call, randomness comes from the
// *rand.Rand in Config, and everything the node must do (send a message,
// open or close a link, save nodes.conf, change replication, pause writes)
// is returned in a Ready value that the I/O layer (package server) carries
// out. The wire format of bus messages lives in package bus.
package cluster
