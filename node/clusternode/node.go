package clusternode

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"github.com/shoal-dev/shoal/node/cluster"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/server"
)

// This file holds the node's cluster.Machine and carries out what it
// asks (the Ready values); bus_link.go moves its messages over TCP,
// route.go redirects commands (MOVED, ASK, ...), commands.go answers
// CLUSTER, ASKING, READONLY and READWRITE, migrate.go is MIGRATE.
//
// Locking: the machine, the link table and everything in clusterNode are
// guarded by the server lock (Server.Lock), the lock that also guards the
// keyspace. So a Ready is carried out atomically with the commands around
// it: when the Ready asks for fsync, nodes.conf is written and fsynced
// before any message of the same Ready is queued and before the client
// whose command produced it gets its reply, as the Ready's documentation
// requires (other saves are coalesced by a background saver,
// confsave.go, as Redis saves once per event loop); the machine can
// count keys (KeyCounter) while deciding; DelKeysInSlots runs before any
// other command sees the new slot map. Sockets are never written under the
// lock: messages go to a per-link queue drained by a writer goroutine.

// plugin is the cluster side of one server: the running node in cluster
// mode (nil in standalone mode) and MIGRATE's connections.
type plugin struct {
	s    *server.Server
	node *clusterNode
	// migrate caches MIGRATE's connections to target instances.
	migrate migrateCache
	// scratch is what migrateRequest builds one RESTORE in (lock held):
	// a moved key cost four allocations besides its share of the request.
	scratch struct {
		payload, ttl []byte
		cmd          [][]byte
	}
}

// Plugin plugs the cluster node into a server
// (server.New(cfg, clusternode.Plugin)). CLUSTER, ASKING, READONLY,
// READWRITE and MIGRATE are served in standalone mode too; the other hooks
// only in cluster mode: Init creates the machine and the per-slot key
// index, Listen opens the bus port, Start starts the bus and the cron,
// Close stops them, Route redirects commands, ConfigChanged hands CONFIG
// SET's changes to the machine, Published carries PUBLISH and SPUBLISH
// over the bus, Connections counts the bus links in INFO.
func Plugin(s *server.Server) (server.Hooks, error) {
	p := &plugin{s: s, migrate: migrateCache{conns: map[string]*migrateConn{}}}
	h := server.Hooks{
		Name:     "cluster",
		Handlers: p.handlers(),
		Close:    p.close,
	}
	if s.Config().ClusterEnabled {
		h.Init = p.init
		h.Listen = func() error { return p.node.listen() }
		h.Start = func() { p.node.start() }
		h.Route = p.route
		h.ConfigChanged = func() { p.node.reconfigure() }
		h.Published = p.published
		h.Connections = func() int { return len(p.node.bus.links) }
	}
	return h, nil
}

// clusterNode is the running cluster side of the node.
type clusterNode struct {
	s *server.Server
	m *cluster.Machine
	// applied is the configuration the machine runs with (clusterPolicy).
	applied cluster.Config
	path    string // nodes.conf
	index   *keyspace.SlotIndex
	bus     busState
	// applying is set while a Ready is carried out, so that link failures
	// found meanwhile are reported to the machine after it (LinkDown).
	applying bool
	// replication is the last replication target the machine asked for
	// ("Data node, part 3" plugs replication in here).
	replication cluster.ReplicationTarget
	conf        *confSaver // nodes.conf (confsave.go)
	// lastCron is when the cron last ran, in Unix ms (cronIfLate).
	lastCron int64
	// migrate is the plugin's MIGRATE connections (closed when idle by
	// the cron).
	migrate *migrateCache
	// keysBuf is the routing's buffer of key positions.
	keysBuf []int
}

// slotOfString is cluster.KeyHashSlot of a key held as a string (the slot
// index's keys), without copying it.
func slotOfString(key string) int {
	return cluster.KeyHashSlot(unsafe.Slice(unsafe.StringData(key), len(key)))
}

// CountKeysInSlot and DBSize answer the machine's questions (KeyCounter).
func (cn *clusterNode) CountKeysInSlot(slot int) int { return cn.index.CountKeysInSlot(slot) }
func (cn *clusterNode) DBSize() int                  { return cn.s.DB(0).Len() }

// machineConfig builds the cluster.Config from the server configuration.
func machineConfig(cfg *server.Config) (cluster.Config, error) {
	var seed [16]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return cluster.Config{}, err
	}
	mc := clusterPolicy(cfg)
	mc.Rand = rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	return mc, nil
}

// clusterPolicy is the machine's configuration from the node's, without
// the randomness and the key counter the machine keeps for good.
func clusterPolicy(cfg *server.Config) cluster.Config {
	mc := cluster.DefaultConfig(announcedPort(cfg), nil)
	mc.BusPort = cfg.BusPort()
	if cfg.Cluster.AnnounceBusPort != 0 {
		mc.BusPort = cfg.Cluster.AnnounceBusPort
	}
	mc.NodeTimeout = nodeTimeout(cfg)
	mc.RequireFullCoverage = cfg.Cluster.RequireFullCoverage
	mc.AllowReplicaMigration = cfg.Cluster.AllowReplicaMigration
	mc.MigrationBarrier = cfg.Cluster.MigrationBarrier
	mc.ReplicaValidityFactor = cfg.Cluster.ReplicaValidityFactor
	// replica-priority 0 means never promoted, as cluster-replica-no-failover.
	mc.ReplicaNoFailover = cfg.Cluster.ReplicaNoFailover || cfg.Repl.Priority == 0
	mc.PreferredEndpointType = cfg.Cluster.PreferredEndpointType
	mc.AnnounceIP = cfg.Cluster.AnnounceIP
	mc.Hostname = cfg.Cluster.AnnounceHostname
	mc.ClientPort = cfg.AnnouncedClientPort()
	return mc
}

// reconfigure hands CONFIG SET's changes of the cluster-* parameters
// (and of those the machine derives from, such as replica-priority) to
// the machine (the ConfigChanged hook). Lock held.
func (cn *clusterNode) reconfigure() {
	mc := clusterPolicy(cn.s.Config())
	if mc == cn.applied {
		return
	}
	rd, err := cn.m.Reconfigure(time.Now(), mc)
	if err == nil {
		cn.applied = mc
	} else {
		cn.s.Logf("cluster: configuration not applied: %v", err)
	}
	cn.apply(rd)
}

// init creates the cluster side of a cluster-enabled server (the Init
// hook): the per-slot key index on database 0 and the machine, loaded
// from nodes.conf when there is one (identity, epochs, slot map) or new
// otherwise.
func (p *plugin) init() error {
	s := p.s
	cfg := s.Config()
	if cfg.ClusterClientPort() == 0 {
		return errors.New("cluster mode needs a TCP port")
	}
	if bp := cfg.BusPort(); bp <= 0 || bp > 65535 {
		return fmt.Errorf("cluster bus port %d out of range: set cluster-port", bp)
	}
	mc, err := machineConfig(cfg)
	if err != nil {
		return err
	}
	cn := &clusterNode{s: s, path: cfg.ClusterConfigFile, migrate: &p.migrate}
	cn.conf = newConfSaver(cn.path, func(err error) {
		s.Logf("Fatal: can't update cluster config file: %v", err)
		os.Exit(1)
	})
	cn.conf.serialize = func() []byte { return cn.m.NodesConf() }
	cn.index = keyspace.NewSlotIndex(cluster.Slots, slotOfString)
	s.SetKeyIndex(cn.index)
	mc.Keys = cn
	cn.bus.init()

	now := time.Now()
	data, err := os.ReadFile(cn.path)
	var rd cluster.Ready
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && len(data) == 0):
		cn.m, rd, err = cluster.New(now, mc)
	case err != nil:
		return fmt.Errorf("reading the cluster config file %s: %w", cn.path, err)
	default:
		cn.m, rd, err = cluster.Load(now, mc, data)
		if err != nil {
			return fmt.Errorf("Unrecoverable error: corrupted cluster config file %q: %w", cn.path, err)
		}
	}
	if err != nil {
		return err
	}
	cn.m.DeferNodesConf(true) // serialized by the saver when it writes
	cn.applied = clusterPolicy(cfg)
	p.node = cn
	cn.apply(rd)
	return nil
}

// apply carries out a Ready in the order its documentation gives. Called
// with the server lock held.
func (cn *clusterNode) apply(rd cluster.Ready) {
	s := cn.s
	if rd.SaveConfig {
		cn.saveConfig(rd.NodesConf, rd.Fsync)
	}
	for _, id := range rd.Closes {
		cn.closeLink(id)
	}
	for _, d := range rd.Dials {
		cn.dial(d)
	}
	if len(rd.Messages) > 0 {
		cn.sendAll(rd.Messages)
	}
	if rd.Replication != nil {
		cn.replication = *rd.Replication
		s.ClusterReplicate(*rd.Replication)
	}
	paused := s.ApplyWritePause(rd.PauseWritesUntil, rd.UnpauseWrites)
	if rd.FlushData {
		cn.flushData()
	}
	for _, slot := range rd.DelKeysInSlots {
		cn.delKeysInSlot(slot)
	}
	for _, p := range rd.Published {
		if p.Sharded {
			s.DeliverShard(p.Channel, p.Message)
		} else {
			s.Publish(p.Channel, p.Message)
		}
	}
	for _, l := range rd.Logs {
		cn.logf(l.Level, "%s", l.Msg)
	}
	if paused {
		// Writes are paused as soon as the lock is released.
		cn.apply(cn.m.WritesPaused(time.Now(), cn.replicationState().Offset))
	}
	// Links found broken while carrying this out are reported now.
	if !cn.applying {
		cn.applying = true
		for len(cn.bus.down) > 0 {
			id := cn.bus.down[0]
			cn.bus.down = cn.bus.down[1:]
			cn.apply(cn.m.LinkDown(time.Now(), id))
		}
		cn.applying = false
	}
}

// saveConfig saves nodes.conf (confsave.go): with fsync it is
// written, fsynced and renamed before saveConfig returns (votes and epochs
// must be durable before anyone hears of them); without, the background
// saver writes the latest state soon after, like Redis's
// CLUSTER_TODO_SAVE_CONFIG done once in beforeSleep.
func (cn *clusterNode) saveConfig(data []byte, fsync bool) {
	cn.conf.save(data, fsync)
}

// writeFileRename replaces path by data through a temporary file and a
// rename, without fsync: a reader never sees a partial file.
func writeFileRename(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// replicationState is what the machine is told before each Tick
// (the ClusterReplicationState hook).
func (cn *clusterNode) replicationState() cluster.ReplicationState {
	return cn.s.ClusterReplicationState()
}

// flushData deletes every key: a replica was reset (CLUSTER RESET).
func (cn *clusterNode) flushData() { cn.s.EmptyData() }

// delKeysInSlot deletes the keys of a slot this master lost
// (delKeysInSlot), propagating a DEL for each.
func (cn *clusterNode) delKeysInSlot(slot int) {
	keys := cn.index.KeysInSlot(slot, cn.index.CountKeysInSlot(slot), nil)
	cn.s.DelKeys(keys)
	if len(keys) > 0 {
		cn.logf(cluster.LogNotice, "Deleted %d keys from slot %d: the slot is served by another node now", len(keys), slot)
	}
}

// minLogLevel is the least level loglevel lets through (nothing: none).
func minLogLevel(loglevel string) cluster.LogLevel {
	switch loglevel {
	case "debug":
		return cluster.LogDebug
	case "verbose":
		return cluster.LogVerbose
	case "warning":
		return cluster.LogWarning
	case "nothing":
		return cluster.LogWarning + 1
	}
	return cluster.LogNotice
}

func (cn *clusterNode) logf(level cluster.LogLevel, format string, args ...any) {
	if level >= minLogLevel(cn.s.Config().LogLevel) {
		cn.s.Logf(format, args...)
	}
}

// tickLoop calls Tick every cluster.CronInterval (clusterCron), telling
// the machine the replication state first.
func (cn *clusterNode) tickLoop() {
	s := cn.s
	t := time.NewTicker(cluster.CronInterval)
	defer t.Stop()
	cronRound := func() {
		if !cn.bus.closed {
			cn.cron(time.Now())
		}
	}
	for {
		select {
		case <-s.Closing():
			return
		case <-t.C:
		}
		s.RunLocked(cronRound, cluster.CronInterval/2)
	}
}

// cron is one clusterCron (lock held).
func (cn *clusterNode) cron(now time.Time) {
	cn.lastCron = now.UnixMilli()
	cn.m.SetReplicationState(cn.replicationState())
	cn.apply(cn.m.Tick(now))
	cn.onSlotsChanged()
	cn.migrate.closeIdle(now)
}

// cronIfLate runs the cron now when it has not run for longer than the
// node timeout (lock held): the process was stopped (SIGSTOP) or starved,
// and the commands its clients queued meanwhile must not be served before
// the machine saw the stall (a master flags every other node PFAIL, so it
// takes no write until it heard the cluster's news: maybe a replica took
// over its slots meanwhile). It compares the command's time (now, the
// client's, set by dispatch) to spare a clock read per command.
func (cn *clusterNode) cronIfLate(now int64) {
	if cn.bus.closed || cn.lastCron == 0 || now-cn.lastCron <= cn.s.Config().ClusterNodeTimeout {
		return
	}
	cn.cron(time.Now())
}

// close stops the bus (listeners and links) and writes a pending
// nodes.conf save, and closes MIGRATE's connections (the Close hook, with
// the lock held); the goroutines exit by themselves.
func (p *plugin) close() {
	if cn := p.node; cn != nil {
		cn.closeBus()
		cn.conf.flush()
	}
	p.migrate.closeAll()
}

// nodeTimeout is cluster-node-timeout as a Duration. The setting takes
// Redis's range (up to LLONG_MAX ms), which overflows a Duration, and the
// machine multiplies it (failure report validity, election timeouts): ten
// years is as good as forever and leaves room for that arithmetic.
func nodeTimeout(cfg *server.Config) time.Duration {
	const maxTimeout = 10 * 365 * 24 * time.Hour
	return time.Duration(min(cfg.ClusterNodeTimeout, int64(maxTimeout/time.Millisecond))) * time.Millisecond
}
