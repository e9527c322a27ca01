package users

import (
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// The operator's own users, on every node.
const (
	// OperatorUser is who the operator, the pods' probes and the preStop
	// hook authenticate as, and who MIGRATE authenticates as on the
	// target node.
	OperatorUser = "shoal-operator"
	// ReplicationUser is who a replica authenticates as on its master
	// (masteruser) when the default user is off.
	ReplicationUser = "shoal-replication"
	// SentinelUser is who the sentinels of a RedisReplication
	// authenticate as on its data nodes (sentinel auth-user) when the
	// default user is off.
	SentinelUser = "shoal-sentinel"
)

// OperatorCommands are all the commands sent as OperatorUser, and nothing
// else: the operator's admin client (node/clusteradmin: the cluster view,
// formation, membership, slot moves, failovers, live configuration,
// functions, users), `shoal-node health` (PING, INFO, CLUSTER INFO),
// `shoal-node prestop` (the cluster view, INFO, CLUSTER FAILOVER) and what
// a node's MIGRATE sends to the target on the operator's behalf (SELECT,
// RESTORE-ASKING), and spec.bootstrap.fromRedis's RESTORE and FLUSHALL on
// the masters. ACL SETUSER lets its holder define any user: it is
// there for spec.users.
func OperatorCommands() []string {
	return []string{
		"cluster|nodes", "cluster|info", "cluster|meet", "cluster|addslotsrange", "cluster|setslot",
		"cluster|replicate", "cluster|failover", "cluster|forget", "cluster|countkeysinslot", "cluster|getkeysinslot",
		"dbsize", "info", "ping",
		"config|get", "config|set",
		"function|list", "function|load",
		"migrate", "restore-asking", "select",
		"restore", "flushall", // spec.bootstrap.fromRedis: the copy and the cut-over's empty start
		"acl|setuser", "acl|deluser",
	}
}

// ReplicationOperatorCommands are all the commands sent as OperatorUser
// to a RedisReplication's data nodes: the operator's (INFO replication,
// REPLICAOF of a new node, the live configuration, replica-priority
// before a switchover, spec.users), `shoal-node health` (PING, INFO) and
// `shoal-node prestop --sentinel` (INFO, CLIENT PAUSE WRITE and UNPAUSE).
func ReplicationOperatorCommands() []string {
	return []string{
		"info", "ping", "replicaof",
		"config|get", "config|set",
		"client|pause", "client|unpause",
		"acl|setuser", "acl|deluser",
	}
}

// ReplicationOperatorRules are OperatorUser's rules on a RedisReplication's
// data nodes: no key, no channel, ReplicationOperatorCommands.
func ReplicationOperatorRules() []string {
	return append([]string{"resetkeys", "resetchannels", "-@all"}, allow(ReplicationOperatorCommands())...)
}

// SentinelCommands are what a sentinel sends to the data nodes it
// monitors, as Redis's Sentinel documentation lists them for its user:
// PING, INFO and ROLE to watch them, SUBSCRIBE and PUBLISH of the hello
// messages, and a failover's MULTI, SLAVEOF/REPLICAOF, CONFIG REWRITE,
// CLIENT KILL, EXEC (with CLIENT SETNAME and SCRIPT KILL).
func SentinelCommands() []string {
	return []string{
		"ping", "info", "role", "subscribe", "publish",
		"multi", "exec", "slaveof", "replicaof", "config|rewrite",
		"client|setname", "client|kill", "script|kill",
	}
}

// SentinelRules are SentinelUser's rules: no key, the hello channel only,
// SentinelCommands.
func SentinelRules() []string {
	return append([]string{"resetkeys", "resetchannels", "&__sentinel__:hello", "-@all"}, allow(SentinelCommands())...)
}

// ReplicationCommands are what a replica sends to its master.
func ReplicationCommands() []string { return []string{"psync", "replconf", "ping"} }

// OperatorRules are the rules of OperatorUser after its state and password:
// every key (MIGRATE reads and deletes them, RESTORE-ASKING writes them),
// no channel, OperatorCommands.
func OperatorRules() []string {
	return append([]string{"~*", "resetchannels", "-@all"}, allow(OperatorCommands())...)
}

// ReplicationRules are the rules of ReplicationUser: no key, no channel,
// ReplicationCommands.
func ReplicationRules() []string {
	return append([]string{"resetkeys", "resetchannels", "-@all"}, allow(ReplicationCommands())...)
}

// DefaultUserOffRules turn the default user off with no password and no
// rights.
func DefaultUserOffRules() []string { return []string{"reset"} }

// ImportRules are what OperatorUser may do besides while the cluster
// replicates a source (spec.bootstrap.fromRedis, method Replicate): apply
// the source's stream, which may hold any write command, in transactions
// (MULTI/EXEC, also a script's effects), and its function libraries.
func ImportRules() []string {
	return []string{"+@write", "+multi", "+exec", "+function|delete", "+function|flush", "+function|restore"}
}

// SystemUsers are the ACL SETUSERs of OperatorUser and ReplicationUser,
// both with password, as every node must have them; importing adds
// ImportRules to OperatorUser.
func SystemUsers(password string, importing bool) []clusteradmin.ACLUser {
	hash := PasswordHash(password)
	op := append([]string{"reset", "on", hash}, OperatorRules()...)
	if importing {
		op = append(op, ImportRules()...)
	}
	return []clusteradmin.ACLUser{
		{Name: OperatorUser, Rules: op},
		{Name: ReplicationUser, Rules: append([]string{"reset", "on", hash}, ReplicationRules()...)},
	}
}

func allow(cmds []string) []string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		out[i] = "+" + c
	}
	return out
}
