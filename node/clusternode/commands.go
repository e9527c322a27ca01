package clusternode

import (
	"cmp"
	"slices"
	"time"

	"github.com/shoal-dev/shoal/node/cluster"
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/resp"
	"github.com/shoal-dev/shoal/node/server"
)

// clusterSubcommands are the names of CLUSTER's subcommands, from their
// specs (node/command/cluster.go): the one list of them. The driver
// answers those of ownSubcommands, the machine the others
// (cluster.Machine.Command); TestEveryClusterSubcommandIsAnswered checks
// that nothing falls between the two.
func clusterSubcommands() []string {
	var names []string
	for _, g := range command.Groups() {
		for _, sp := range g {
			if sp.Name != "cluster" {
				continue
			}
			for _, sub := range sp.Subcommands {
				names = append(names, sub.Name)
			}
		}
	}
	return names
}

// handlers are the commands of cluster mode: CLUSTER, ASKING, READONLY,
// READWRITE, and MIGRATE.
func (p *plugin) handlers() map[string]server.Handler {
	h := map[string]server.Handler{
		"asking":    p.cmdAsking,
		"readonly":  p.cmdReadonly,
		"readwrite": p.cmdReadwrite,
		"migrate":   p.cmdMigrate,
	}
	for _, sub := range clusterSubcommands() {
		h["cluster|"+sub] = p.cmdCluster
	}
	return h
}

func (p *plugin) cmdAsking(c *server.Client) {
	if p.node == nil {
		c.Error(server.ErrClusterDisabled)
		return
	}
	c.ClusterFlags().Asking = true
	c.W.OK()
}

func (p *plugin) cmdReadonly(c *server.Client) {
	if p.node == nil {
		c.Error(server.ErrClusterDisabled)
		return
	}
	c.ClusterFlags().ReadOnly = true
	c.W.OK()
}

func (p *plugin) cmdReadwrite(c *server.Client) {
	if p.node == nil {
		c.Error(server.ErrClusterDisabled)
		return
	}
	c.ClusterFlags().ReadOnly = false
	c.W.OK()
}

// published is the Published hook: PUBLISH goes to every other node over
// the bus (clusterPropagatePublish), SPUBLISH to the other nodes of the
// shard; the reply still counts local receivers, as Redis's.
func (p *plugin) published(channel, message []byte, sharded bool) {
	cn := p.node
	if sharded {
		cn.apply(cn.m.PublishShard(time.Now(), channel, message))
	} else {
		cn.apply(cn.m.Publish(time.Now(), channel, message))
	}
}

// clusterReplyWriter is what the machine replies through: errors count in
// errorstats like every other error.
type clusterReplyWriter struct {
	*resp.Writer
	c *server.Client
}

func (w clusterReplyWriter) Error(msg string) { w.c.Error(msg) }

// cmdCluster is CLUSTER <subcommand>.
func (p *plugin) cmdCluster(c *server.Client) {
	cn := p.node
	if cn == nil {
		c.Error(server.ErrClusterDisabled)
		return
	}
	now := time.Now()
	if own := ownSubcommands[c.Cmd.Name]; own != nil {
		own(cn, c, now)
		return
	}
	rd, handled := cn.m.Command(now, c.Args[1:], clusterReplyWriter{c.W, c})
	if !handled {
		c.Error("ERR unknown subcommand '" + string(c.Args[1]) + "'. Try CLUSTER HELP.")
		return
	}
	// Saved (and fsynced when asked) before the reply leaves: the lock is
	// held until the batch's replies are flushed.
	cn.apply(rd)
}

// ownSubcommands are the CLUSTER subcommands the driver answers itself:
// they need the key index, the links, nodes.conf or the bus statistics
// (INFO, which the machine also answers without them).
var ownSubcommands = map[string]func(cn *clusterNode, c *server.Client, now time.Time){
	"countkeysinslot": func(cn *clusterNode, c *server.Client, _ time.Time) {
		slot, ok := c.ParseInt(c.Args[2])
		if !ok {
			return
		}
		if slot < 0 || slot >= cluster.Slots {
			c.Error("ERR Invalid slot")
			return
		}
		c.W.Int(int64(cn.index.CountKeysInSlot(int(slot))))
	},
	"getkeysinslot": func(cn *clusterNode, c *server.Client, _ time.Time) {
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
	},
	"links": func(cn *clusterNode, c *server.Client, _ time.Time) { cn.writeLinks(c) },
	"saveconfig": func(cn *clusterNode, c *server.Client, now time.Time) {
		cn.apply(cn.m.SaveConfig(now))
		c.W.OK()
	},
	"info": func(cn *clusterNode, c *server.Client, _ time.Time) {
		c.W.Verbatim("txt", cn.m.ClusterInfo(cn.bus.bufLimitExceeded))
	},
	"help": func(_ *clusterNode, c *server.Client, _ time.Time) { c.ReplyHelp("CLUSTER", clusterHelp) },
}

// writeLinks is CLUSTER LINKS: one map per link, grouped by node.
func (cn *clusterNode) writeLinks(c *server.Client) {
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
