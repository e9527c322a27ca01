// Package acl is the data node's access control model, as Redis 7.0's
// ACL: users, their selectors, the rule grammar of ACL SETUSER and of
// redis.conf's `user` lines, the ACL LIST/GETUSER rendering, the
// permission check of a command, and the ACL LOG's entries.
//
// It is pure: no sockets, no clients, no clock of its own, no global
// state. The engine (node/server) owns a Users table and a Log, keeps the
// user each connection is authenticated as, calls User.Check in dispatch
// and in EXEC, and serves the ACL, AUTH and HELLO commands over this
// package. This package must not import node/server.
//
// # Users and selectors
//
// A User has a state (on/off), passwords (kept as SHA-256 hex) or nopass,
// and permissions: the root Selector plus any number of selectors. A
// Selector holds the allowed commands (by command ID in the node's
// command.Table: +cmd, -cmd, +@category, -@category, +container|sub and
// the allowed first arguments of +cmd|arg, applied in order), key
// patterns (~pattern for reading and writing, %R~ reading, %W~ writing,
// allkeys/resetkeys) and channel patterns (&pattern,
// allchannels/resetchannels). Users.Apply applies rules in order and
// changes nothing when one is bad (it returns the rule and Redis's
// reason); MergeSelectorArgs first joins a selector typed over several
// arguments ("(+get" "~a)").
//
// # The check
//
// User.Check(spec, args) allows a command when the root or any selector
// allows it: the command (or its first argument), every key the spec's
// key specs find in args with the access their flags need (read for
// access, write for insert/update/delete, any for neither), and every
// channel of PUBLISH, SUBSCRIBE, SSUBSCRIBE, SPUBLISH (glob) and
// PSUBSCRIBE (the same pattern). Otherwise it returns the most relevant
// denial (command < key < channel) and the argument it is about;
// NoPermError, DryRunDenial and ExecDenialError word it as Redis does,
// DeniedObject names it for the log.
//
// # Rendering
//
// Users.Describe is ACL LIST's line (and CONFIG REWRITE's `user` line),
// made from the permissions, not from the rules as typed: the commands as
// Redis's ACLDescribeSelectorCommandRules (+@all or -@all, then the
// categories that fit best, then single commands), so that applying the
// line again gives the same user.
package acl
