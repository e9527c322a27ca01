package server

import (
	"cmp"
	"slices"
	"time"

	"github.com/shoal-dev/shoal/node/cluster"
	"github.com/shoal-dev/shoal/node/resp"
)

// ErrClusterDisabled is the reply of the cluster commands in standalone
// mode.
const ErrClusterDisabled = "ERR This instance has cluster support disabled"

// clusterSubcommands are the CLUSTER subcommands with a spec in
// node/command/cluster.go; the machine answers those it knows
// (cluster.Machine.Command), the server the others.
var clusterSubcommands = [...]string{
	"addslots", "addslotsrange", "bumpepoch", "count-failure-reports", "countkeysinslot",
	"delslots", "delslotsrange", "failover", "flushslots", "forget", "getkeysinslot", "help",
	"info", "keyslot", "links", "meet", "myid", "myshardid", "nodes", "replicas", "replicate",
	"reset", "saveconfig", "set-config-epoch", "setslot", "shards", "slaves", "slots",
}

// clusterHandlers are the commands of cluster mode: CLUSTER, ASKING,
// READONLY, READWRITE, MIGRATE and sharded pub/sub.
func clusterHandlers() map[string]Handler {
	h := map[string]Handler{
		"asking":               cmdAsking,
		"readonly":             cmdReadonly,
		"readwrite":            cmdReadwrite,
		"migrate":              cmdMigrate,
		"ssubscribe":           cmdSSubscribe,
		"sunsubscribe":         cmdSUnsubscribe,
		"spublish":             cmdSPublish,
		"pubsub|shardchannels": cmdPubsubShardChannels,
		"pubsub|shardnumsub":   cmdPubsubShardNumsub,
	}
	for _, sub := range clusterSubcommands {
		h["cluster|"+sub] = cmdCluster
	}
	return h
}

func cmdAsking(c *Client) {
	if c.srv.cl.node == nil {
		c.Error(ErrClusterDisabled)
		return
	}
	c.cl.asking = true
	c.W.OK()
}

func cmdReadonly(c *Client) {
	if c.srv.cl.node == nil {
		c.Error(ErrClusterDisabled)
		return
	}
	c.cl.readonly = true
	c.W.OK()
}

func cmdReadwrite(c *Client) {
	if c.srv.cl.node == nil {
		c.Error(ErrClusterDisabled)
		return
	}
	c.cl.readonly = false
	c.W.OK()
}

// clusterReplyWriter is what the machine replies through: errors count in
// errorstats like every other error.
type clusterReplyWriter struct {
	*resp.Writer
	c *Client
}

func (w clusterReplyWriter) Error(msg string) { w.c.Error(msg) }

// cmdCluster is CLUSTER <subcommand>.
func cmdCluster(c *Client) {
	cn := c.srv.cl.node
	if cn == nil {
		c.Error(ErrClusterDisabled)
		return
	}
	now := time.Now()
	switch c.Cmd.Name {
	case "countkeysinslot":
		slot, ok := c.ParseInt(c.Args[2])
		if !ok {
			return
		}
		if slot < 0 || slot >= cluster.Slots {
			c.Error("ERR Invalid slot")
			return
		}
		c.W.Int(int64(cn.index.CountKeysInSlot(int(slot))))
	case "getkeysinslot":
		slot, ok := c.ParseInt(c.Args[2])
		if !ok {
			return
		}
		count, ok := c.ParseInt(c.Args[3])
		if !ok {
			return
		}
		if slot < 0 || slot >= cluster.Slots || count < 0 {
			c.Error("ERR Invalid slot or number of keys")
			return
		}
		n := min(int(count), cn.index.CountKeysInSlot(int(slot)))
		c.W.StringArray(cn.index.KeysInSlot(int(slot), n, make([]string, 0, n))...)
	case "links":
		cn.writeLinks(c)
	case "saveconfig":
		cn.apply(cn.m.SaveConfig(now))
		c.W.OK()
	case "info":
		c.W.Verbatim("txt", cn.m.ClusterInfo(cn.bus.bufLimitExceeded))
	case "help":
		c.ReplyHelp("CLUSTER", clusterHelp)
	default:
		rd, handled := cn.m.Command(now, c.Args[1:], clusterReplyWriter{c.W, c})
		if !handled {
			c.Error("ERR unknown subcommand '" + string(c.Args[1]) + "'. Try CLUSTER HELP.")
			return
		}
		// Saved (and fsynced when asked) before the reply leaves: the
		// lock is held until the batch's replies are flushed.
		cn.apply(rd)
	}
}

// writeLinks is CLUSTER LINKS: one map per link, grouped by node.
func (cn *clusterNode) writeLinks(c *Client) {
	links := cn.links()
	slices.SortFunc(links, func(a, b linkInfo) int {
		if r := cmp.Compare(a.node, b.node); r != 0 {
			return r
		}
		if a.to != b.to {
			if a.to {
				return -1
			}
			return 1
		}
		return a.created.Compare(b.created)
	})
	c.W.ArrayLen(len(links))
	for _, l := range links {
		c.W.MapLen(6)
		c.W.BulkString("direction")
		if l.to {
			c.W.BulkString("to")
		} else {
			c.W.BulkString("from")
		}
		c.W.BulkString("node")
		c.W.BulkString(l.node)
		c.W.BulkString("create-time")
		c.W.Int(l.created.UnixMilli())
		c.W.BulkString("events")
		if l.queued > 0 {
			c.W.BulkString("rw")
		} else {
			c.W.BulkString("r")
		}
		c.W.BulkString("send-buffer-allocated")
		c.W.Int(l.queued)
		c.W.BulkString("send-buffer-used")
		c.W.Int(l.queued)
	}
}

// clusterHelp is CLUSTER HELP's text (Redis 7.0's, plus MYSHARDID).
var clusterHelp = []string{
	"ADDSLOTS <slot> [<slot> ...]",
	"    Assign slots to current node.",
	"ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
	"    Assign slots which are between <start-slot> and <end-slot> to current node.",
	"BUMPEPOCH",
	"    Advance the cluster config epoch.",
	"COUNT-FAILURE-REPORTS <node-id>",
	"    Return number of failure reports for <node-id>.",
	"COUNTKEYSINSLOT <slot>",
	"    Return the number of keys in <slot>.",
	"DELSLOTS <slot> [<slot> ...]",
	"    Delete slots information from current node.",
	"DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
	"    Delete slots information which are between <start-slot> and <end-slot> from current node.",
	"FAILOVER [FORCE|TAKEOVER]",
	"    Promote current replica node to being a master.",
	"FORGET <node-id>",
	"    Remove a node from the cluster.",
	"GETKEYSINSLOT <slot> <count>",
	"    Return key names stored by current node in a slot.",
	"FLUSHSLOTS",
	"    Delete current node own slots information.",
	"INFO",
	"    Return information about the cluster.",
	"KEYSLOT <key>",
	"    Return the hash slot for <key>.",
	"MEET <ip> <port> [<bus-port>]",
	"    Connect nodes into a working cluster.",
	"MYID",
	"    Return the node id.",
	"MYSHARDID",
	"    Return the node's shard id.",
	"NODES",
	"    Return cluster configuration seen by node. Output format:",
	"    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
	"REPLICATE <node-id>",
	"    Configure current node as replica to <node-id>.",
	"RESET [HARD|SOFT]",
	"    Reset current node (default: soft).",
	"SET-CONFIG-EPOCH <epoch>",
	"    Set config epoch of current node.",
	"SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
	"    Set slot state.",
	"REPLICAS <node-id>",
	"    Return <node-id> replicas.",
	"SAVECONFIG",
	"    Force saving cluster configuration on disk.",
	"SLOTS",
	"    Return information about slots range mappings. Each range is made of:",
	"    start, end, master and replicas IP addresses, ports and ids",
	"SHARDS",
	"    Return information about slot range mappings and the nodes associated with them.",
	"LINKS",
	"    Return information about all network links between this node and its peers.",
	"    Output format is an array where each array element is a map containing attributes of a link",
}

// wrapReset makes RESET also clear the cluster state of the connection
// (READONLY, ASKING, shard channels), as Redis's clearClientConnectionState.
func (s *Server) wrapReset() {
	spec := s.cmds.Lookup([]byte("reset"))
	if spec == nil || s.handlers[spec.ID()] == nil {
		return
	}
	reset := s.handlers[spec.ID()]
	s.handlers[spec.ID()] = func(c *Client) {
		c.srv.sunsubscribeAll(c)
		c.cl = clientCluster{}
		reset(c)
	}
}
