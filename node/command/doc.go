// Package command is the data node's command table: every command as data
// (name, arity, flags, key positions, ACL categories, documentation).
//
// The table drives arity and unknown-command errors, COMMAND COUNT/INFO/
// DOCS/GETKEYS, key extraction for cluster slot routing and ACL key checks,
// and which commands are writes (propagation, maxmemory, read-only
// replicas). Lookup is case-insensitive and does not allocate.
//
// Behaviour the engine takes from the table rather than from name lists
// is carried by flags: Redis's (no_multi, skip_slowlog, ...; movablekeys
// is computed from the key specs as Redis computes it) and a few of ours
// that COMMAND INFO does not show (NoQueue, SubscribedContext,
// OwnGoroutine). Spec.Secrets says which arguments SLOWLOG and MONITOR
// redact; KeySpec.Variable gives a variable_flags spec's flags for one
// command line (SET with or without GET), for ACL key checks and
// COMMAND GETKEYSANDFLAGS. Doc carries COMMAND DOCS with Redis 7.0's
// argument descriptions and history.
//
// Each command group has its own file returning its specs (generic.go,
// string.go, list.go, hash.go, set.go, zset.go, ...); Default assembles
// them. The package holds no behaviour: handlers live in node/server and
// must not be referenced from here. It has no mutable package state.
package command
