package server

import (
	"strconv"

	"github.com/shoal-dev/shoal/node/command"
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
	s := cn.s
	if s.blocking.count == 0 {
		return
	}
	var victims []*Client
	for dk, clients := range s.blocking.byKey {
		if dk.db != 0 {
			continue
		}
		for _, c := range clients {
			if c.blk != nil && c.blk.keys[0] == dk {
				victims = append(victims, c) // each client once: by its first key
			}
		}
	}
	for _, c := range victims {
		msg := cn.blockedRedirect(c)
		if msg == "" {
			continue
		}
		s.unblock(c)
		c.Error(msg)
		select {
		case c.wake <- struct{}{}:
		default:
		}
		if c.async {
			c.wakeAsync()
		}
	}
}

// blockedRedirect is the error for a blocked client, or "" to keep it.
func (cn *clusterNode) blockedRedirect(c *Client) string {
	m := cn.m
	if !m.StateOK() {
		return ErrClusterDown
	}
	slot := slotOfString(c.blk.keys[0].key)
	if _, importing := m.ImportingFrom(slot); importing {
		return ""
	}
	spec, _ := cn.s.cmds.LookupArgs(c.blk.args)
	readonlyRead := c.cl.readonly && spec != nil && !spec.Is(command.Write)
	if cn.slotServedHere(slot, readonlyRead) {
		return ""
	}
	owner, ok := m.SlotOwner(slot)
	if !ok {
		return ErrClusterDownUnbound
	}
	return "MOVED " + strconv.Itoa(slot) + " " + owner.Endpoint + ":" + strconv.Itoa(owner.Port)
}

// dropLostShardChannels unsubscribes the subscribers of shard channels
// whose slot this node's shard no longer serves, telling them with a
// sunsubscribe message (removeChannelsInSlot), so that cluster clients
// subscribe again where the slot went.
func (cn *clusterNode) dropLostShardChannels() {
	s := cn.s
	for name, clients := range s.cl.shardChannels {
		if cn.m.MySlot(slotOfString(name)) {
			continue
		}
		for _, c := range append([]*Client(nil), clients...) {
			s.sunsubscribeChannel(c, name, true)
			c.deliver()
		}
	}
}

// onSlotsChanged runs the reactions above (cluster cron).
func (cn *clusterNode) onSlotsChanged() {
	cn.redirectBlockedClients()
	if len(cn.s.cl.shardChannels) > 0 {
		cn.dropLostShardChannels()
	}
}
