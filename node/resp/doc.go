// Package resp implements the Redis serialization protocol for the data node.
//
// It owns three things: a Reader that turns a byte stream (RESP2 multibulk
// requests and inline commands, as redis-cli and telnet send them) into
// argument vectors, a Writer that appends RESP2 or RESP3 replies to a
// buffer that the caller flushes once per pipelined batch, and
// AppendCommand, the one encoder of commands (requests, the AOF, the
// replication stream, MIGRATE).
//
// Both work over io.Reader/io.Writer so they are testable without sockets.
// The Reader never panics on hostile input: malformed requests yield a
// *ProtocolError worded exactly as Redis words it, after which the caller
// replies with the error and closes the connection. Argument slices returned
// by the Reader alias its buffer and are valid only until the next call.
//
// The package must not know about commands, clients or the keyspace.
package resp
