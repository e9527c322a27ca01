// Package command is the data node's command table: every command as data
// (name, arity, flags, key positions, ACL categories, documentation).
//
// The table drives arity and unknown-command errors, COMMAND COUNT/INFO/
// DOCS/GETKEYS, key extraction for cluster slot routing and ACL key checks,
// and which commands are writes (propagation, maxmemory, read-only
// replicas). Lookup is case-insensitive and does not allocate.
//
// Each command group has its own file returning its specs (generic.go,
// string.go, list.go, hash.go, set.go, zset.go, ...); Default assembles
// them. The package holds no behaviour: handlers live in node/server and
// must not be referenced from here. It has no mutable package state.
package command
