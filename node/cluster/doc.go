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
// SHARDS, INFO, checked byte for byte against Redis 7.0.15 captures in
// testdata/redis7) and nodes.conf (format, parser, atomic file write).
//
// It must not open sockets, start goroutines, read the clock or use global
// randomness: time is passed to every call, randomness comes from the
// *rand.Rand in Config, and everything the node must do (send a message,
// open or close a link, save nodes.conf, change replication, pause writes)
// is returned in a Ready value that the I/O layer (package server) carries
// out. The wire format of bus messages lives in package bus.
//
// # Driving the machine
//
// One goroutine (or one lock) owns the *Machine. At start, Load it from
// nodes.conf, or New when there is none. Then:
//
//   - every CronInterval (100 ms): SetReplicationState (offset, master link
//     state), then Tick(time.Now());
//   - for every frame read from a cluster bus connection (bus.ReadFrame,
//     bus.Decode; drop the connection on a decoding error): Step with the
//     link's ID (negative IDs for accepted connections, chosen by the I/O
//     layer; positive ones are those of Ready.Dials) and, for accepted
//     connections, the remote and local IPs;
//   - when a connection closes or a dial fails: LinkDown;
//   - for CLUSTER commands: Command (or the typed methods: Meet, AddSlots,
//     SetSlot, Failover, ...); for PUBLISH/SPUBLISH: Publish/PublishShard;
//     after a manual-failover pause took effect: WritesPaused.
//
// Every one of these calls returns a Ready: carry it out in the order its
// documentation gives (save nodes.conf, with WriteNodesConf before sending
// anything or replying to the client when Fsync is set, then close, dial
// and send, then apply the replication target, pauses, key deletions,
// publications and logs).
// Routing reads the state directly: SlotOwner, MySlot, MigratingTo,
// ImportingFrom, StateOK, IsReplica, Myself.
package cluster
