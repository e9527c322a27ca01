// Package bus is the vocabulary and the wire format of the cluster bus: the
// messages that shoal data nodes exchange on their cluster port (PING, PONG,
// MEET, FAIL, PUBLISH, PUBLISHSHARD, FAILOVER_AUTH_REQUEST,
// FAILOVER_AUTH_ACK, UPDATE, MFSTART), the node flags and slot bitmaps they
// carry, and a versioned, length-prefixed, bounds-checked binary codec.
//
// It plays the part raftpb plays for etcd's raft: package cluster builds and
// consumes Message values, package server moves the encoded bytes over TCP.
// Shoal nodes talk only to shoal nodes, so the format is our own (it carries
// the fields of Redis's cluster bus header, not its byte layout).
//
// Decoding never panics and never returns a partly filled message: a
// malformed, truncated, oversized or hostile packet yields an error wrapping
// ErrMalformed and nothing else. Strings that end up in CLUSTER NODES and
// nodes.conf (IPs, hostnames, node IDs) are validated so that a peer cannot
// inject spaces, commas or newlines into them.
//
// The package must not do I/O beyond reading one frame from an io.Reader,
// keep state, or know the cluster rules.
package bus
