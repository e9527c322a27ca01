package clusternode

import (
	"strconv"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/server"
)

// What a node does for its clients when slots stop being its own (they
// moved, or the cluster went down). Run by the cluster cron, with the lock
// held, as Redis runs clusterRedirectBlockedClientIfNeeded from its
// clients cron.

// slotServedHere reports whether this node serves slot for clients: the
// owner, or a replica of the owner for a READONLY client's reads.
func (cn *clusterNode) slotServedHere(slot int, readonlyRead bool) bool {
	m := cn.m
	if !m.MySlot(slot) {
		return false
	}
	return !m.IsReplica() || readonlyRead
}

// redirectBlockedClients unblocks the clients blocked on keys (BLPOP,
// BZPOPMIN, ...) of a slot this node no longer serves, with the error a
// new command would get: CLUSTERDOWN when the cluster is down or the slot
// is unassigned, MOVED otherwise. A slot being imported keeps them.
func (cn *clusterNode) redirectBlockedClients() {
	cn.s.RedirectBlocked(cn.blockedRedirect)
}

// blockedRedirect is the error for a client blocked on key by the
// command args, or "" to keep it.
func (cn *clusterNode) blockedRedirect(c *server.Client, key string, args [][]byte) string {
	m := cn.m
	if !m.StateOK() {
		return server.ErrClusterDown
	}
	slot := slotOfString(key)
	if _, importing := m.ImportingFrom(slot); importing {
		return ""
	}
	spec, _ := cn.s.Commands().LookupArgs(args)
	readonlyRead := c.ClusterFlags().ReadOnly && spec != nil && !spec.Is(command.Write)
	if cn.slotServedHere(slot, readonlyRead) {
		return ""
	}
	owner, ok := m.SlotOwner(slot)
	if !ok {
		return server.ErrClusterDownUnbound
	}
	return "MOVED " + strconv.Itoa(slot) + " " + owner.Endpoint + ":" + strconv.Itoa(owner.Port)
}

// dropLostShardChannels unsubscribes the subscribers of shard channels
// whose slot this node's shard no longer serves, telling them with a
// sunsubscribe message (removeChannelsInSlot), so that cluster clients
// subscribe again where the slot went.
func (cn *clusterNode) dropLostShardChannels() {
	cn.s.DropShardChannels(func(name string) bool { return !cn.m.MySlot(slotOfString(name)) })
}

// onSlotsChanged runs the reactions above (cluster cron).
func (cn *clusterNode) onSlotsChanged() {
	cn.redirectBlockedClients()
	cn.dropLostShardChannels()
}
