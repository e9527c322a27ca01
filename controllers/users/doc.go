// Package users turns spec.users into the ACL commands that make every
// node's users equal to the spec: one ACL SETUSER per user (reset, the
// state, the passwords as SHA-256 hashes, the rules, in one atomic
// command), and ACL DELUSER for users the operator made and the spec no
// longer lists. It also defines the operator's own users (shoal-operator,
// shoal-replication) and the rights they need.
//
// It is pure: no API server, no sockets. Passwords come in already read
// from their Secrets; the reconciler (controllers/rediscluster_users.go)
// reads them and sends the commands.
package users
