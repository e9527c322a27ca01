package server

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/shoal-dev/shoal/node/cluster"
	"github.com/shoal-dev/shoal/node/command"
)

// Plugin builds the hooks of a subsystem (replication, persistence, the
// cluster node, the event loops) for a server under construction: New
// calls each plugin once, in order, before it builds the command table.
// A plugin keeps s for later but must not use the databases, the
// command table or the lock before its Start hook (or a handler) runs.
type Plugin func(s *Server) (Hooks, error)

// Hooks is how a subsystem plugs into the engine, instead of call sites
// in engine files. Every field is optional. The engine calls each hook at
// one place, in the order the plugins were given to New.
type Hooks struct {
	// Name names the subsystem in errors.
	Name string
	// Handlers serve commands whose specs are in node/command, by full
	// name ("psync", "cluster|nodes"); they join the engine's own as if
	// listed in handlerGroups (checkServed applies to them).
	Handlers map[string]Handler
	// Commands are specs with their handlers (Run): a command family
	// (node/commands/<family>) plugs in this way (CommandFamilies).
	Commands []command.Spec
	// Info adds INFO sections by name (as SetInfoSection).
	Info map[string]InfoSection
	// Start runs from Serve once the data set is loaded, before clients
	// are served anything but -LOADING's answers; the lock is not held.
	Start func()
	// Cron runs at every serverCron tick after expiry and client
	// timeouts, with the lock held (not while loading).
	Cron func(now time.Time)
	// Guard runs in dispatch after the cluster routing, with the lock
	// held: a non-empty result refuses the command with that error reply.
	Guard func(c *Client, spec *command.Spec) string
	// Close runs from Close with the lock held, after the listeners
	// closed and before the clients are disconnected.
	Close func()

	// Init runs at the end of New, once the databases and the command
	// table exist and before the data set is loaded (the cluster node
	// installs its per-slot key index and reads nodes.conf); an error
	// fails New. Called from New (server.go).
	Init func() error
	// Listen runs from Listen once the client listeners are open (the
	// cluster bus port); an error closes them and fails Listen. Called
	// from Server.Listen (server.go).
	Listen func() error
	// Route runs in dispatch after the ACL check, before the replication
	// and Guard checks (Redis's processCommand cluster redirection), with
	// the lock held: a non-empty result refuses the command with that
	// reply (MOVED, ASK, CLUSTERDOWN, ...), as is: inside MULTI the
	// transaction then fails with EXECABORT, and a refused EXEC discards
	// its transaction. Called from dispatch (exec.go).
	Route func(c *Client, spec *command.Spec, args [][]byte) string
	// ConfigChanged runs after CONFIG SET changed parameters, with the
	// lock held (the cluster node hands its cluster-* changes to the
	// machine). Called from configChanged (config_cmd.go).
	ConfigChanged func()
	// Published runs after PUBLISH or SPUBLISH (sharded) delivered a
	// client's message to the local subscribers, lock held
	// (the cluster bus carries it to the other nodes). The engine's own
	// deliveries (Server.Publish, DeliverShard) do not call it. Called
	// through published from cmdPublish (pubsub.go) and cmdSPublish
	// (pubsub_shard.go).
	Published func(channel, message []byte, sharded bool)
	// Connections adds to INFO's cluster_connections (the bus links).
	// Called through hookConnections from INFO's clients section (info.go).
	Connections func() int
	// Propagates reports whether the subsystem wants the effective writes
	// now (lock held): while no Propagates hook (nor the Propagator)
	// does, commands collect none. Called by Server.propagates.
	Propagates func() bool
	// Propagate receives each effective write, in execution order, after
	// the Propagator (the AOF), with the lock held; args are valid only
	// during the call. Called by Server.propagate.
	Propagate func(db int, args [][]byte)
	// Replica reports whether this node replicates from a master (lock
	// held): writes refused on a disk error are not refused on a replica.
	// Called by Server.IsReplica.
	Replica func() bool
	// ClientType names the type of a client the subsystem owns ("replica"
	// for a replica's connection; "" for others), for CLIENT LIST and
	// CLIENT KILL TYPE. Called by Client.typeName.
	ClientType func(c *Client) string
	// WritersPending reports whether goroutines of the subsystem have
	// output waiting for the lock (a replica's stream): an event loop
	// lets them take it before it writes its replies, so the stream of a
	// batch's writes leaves no later than their replies. Called by
	// Server.writersPending (eventloop.go).
	WritersPending func() bool
	// SyncStats are the sync_full, sync_partial_ok and sync_partial_err
	// counters of INFO stats. Called by Server.syncStats (info.go).
	SyncStats func() (full, partialOK, partialErr int64)
	// SaveAux returns aux fields a snapshot file taken now carries (the
	// replication state it corresponds to), lock held. Called by
	// Server.ReplSaveAux (subsystem.go), which persistence calls.
	SaveAux func() [][2]string
	// LoadAux takes each aux field of the snapshot loaded at start (lock
	// held); an error makes the snapshot corrupt. Called by
	// ReplAuxLoader.Aux (subsystem.go), which persistence calls.
	LoadAux func(name, value string) error
	// SnapshotLoaded runs once the snapshot loaded at start has been read
	// whole (lock held), after its LoadAux calls. Called by
	// ReplAuxLoader.Loaded (subsystem.go), which persistence calls.
	SnapshotLoaded func()
	// ClusterReplicate carries out the cluster machine's replication
	// target (lock held): an empty MasterID makes this node a master.
	// Called by Server.ClusterReplicate.
	ClusterReplicate func(t cluster.ReplicationTarget)
	// ClusterReplicationState is what the cluster machine is told of
	// replication before each tick (lock held). Called by
	// Server.ClusterReplicationState.
	ClusterReplicationState func() cluster.ReplicationState

	// Load reads the data set at start-up: StartLoading runs it on a
	// goroutine of its own with the lock held while the server is loading
	// (commands without the loading flag get -LOADING, INFO loading:1). It
	// reports what it reads to l, which lets waiting clients run from time
	// to time. An error stops start-up (main prints it and exits).
	// Called from Server.load (loading.go).
	Load func(l *Loader) error
	// Persistence serves SAVE, BGSAVE, LASTSAVE, BGREWRITEAOF and the
	// MISCONF check. StartLoading installs it once the load succeeded
	// (as SetPersistence); until then those commands answer as a server
	// without persistence. At most one plugin sets it. Installed by
	// Server.load (loading.go).
	Persistence Persistence
	// Shutdown runs with the lock held before SHUTDOWN or SIGTERM stops
	// the server (save: a final snapshot is asked for); an error refuses
	// SHUTDOWN (SIGTERM stops anyway and logs it). Called from
	// runShutdown (cmdShutdown, Server.shutdown).
	Shutdown func(save bool) error
	// ReplyMark and ReplyWait are the group commit of appendfsync always:
	// ReplyMark runs with the lock held at the end of each client's batch
	// (each event loop's round) and returns a mark (0: nothing to wait
	// for); ReplyWait(mark) runs once the lock is released, before the
	// replies are written, and returns when what they acknowledge is as
	// durable as promised. One wait serves every client that wrote
	// meanwhile. At most one plugin sets them. Called from persistMark
	// and persistWait, around each batch (client.go) and each event
	// loop's round (eventloop.go).
	ReplyMark func() int64
	ReplyWait func(mark int64)
	// ReplSnapshot starts, with the lock held, the point-in-time capture
	// a replica's full resync sends and returns the function that writes
	// it outside the lock, flushing every flushEvery while it encodes; nil
	// when it cannot start one now (the engine then encodes the data set
	// into memory under the lock). Called from SnapshotForReplica.
	ReplSnapshot func(flushEvery time.Duration) func(w io.Writer) (int64, error)
	// DatasetReplaced runs with the lock held just before a full resync
	// replaces the data set with the master's: a background save's point
	// in time is gone (Redis kills its child then), and an AOF must start
	// again from the new data set. Called from Server.ReplaceDataset
	// (dataset.go), which replication calls.
	DatasetReplaced func()
}

// hookSet is the plugged hooks, by kind, in plugin order.
type hookSet struct {
	commands  []command.Spec
	handlers  []map[string]Handler
	start     []func()
	cron      []func(time.Time)
	guard     []func(*Client, *command.Spec) string
	close     []func()
	init      []func() error
	listen    []func() error
	route     []func(*Client, *command.Spec, [][]byte) string
	config    []func()
	published []func(channel, message []byte, sharded bool)
	conns     []func() int

	propagates     []func() bool
	propagate      []func(int, [][]byte)
	replica        []func() bool
	clientType     []func(*Client) string
	writersPending []func() bool
	syncStats      []func() (int64, int64, int64)
	saveAux        []func() [][2]string
	loadAux        []func(string, string) error
	snapshotLoaded []func()
	clusterRepl    []func(cluster.ReplicationTarget)
	clusterState   []func() cluster.ReplicationState

	load            []func(*Loader) error
	persistence     Persistence
	shutdown        []func(bool) error
	replyMark       func() int64
	replyWait       func(int64)
	replSnapshot    []func(time.Duration) func(io.Writer) (int64, error)
	datasetReplaced []func()
}

// plug runs the plugins and files their hooks.
func (s *Server) plug(plugins []Plugin) error {
	for _, p := range plugins {
		h, err := p(s)
		if err != nil {
			if h.Name != "" {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
			return err
		}
		if err := s.addHooks(h); err != nil {
			return fmt.Errorf("plugin %q: %w", h.Name, err)
		}
	}
	return nil
}

func (s *Server) addHooks(h Hooks) error {
	if (h.Persistence != nil && s.hooks.persistence != nil) ||
		(h.ReplyMark != nil && s.hooks.replyMark != nil) || (h.ReplyWait != nil && s.hooks.replyWait != nil) {
		return errors.New("a second plugin sets Persistence, ReplyMark or ReplyWait")
	}
	s.hooks.commands = append(s.hooks.commands, h.Commands...)
	if h.Handlers != nil {
		s.hooks.handlers = append(s.hooks.handlers, h.Handlers)
	}
	for name, f := range h.Info {
		if s.infoSections == nil {
			s.infoSections = map[string]InfoSection{}
		}
		s.infoSections[name] = f
	}
	if h.Start != nil {
		s.hooks.start = append(s.hooks.start, h.Start)
	}
	if h.Cron != nil {
		s.hooks.cron = append(s.hooks.cron, h.Cron)
	}
	if h.Guard != nil {
		s.hooks.guard = append(s.hooks.guard, h.Guard)
	}
	if h.Close != nil {
		s.hooks.close = append(s.hooks.close, h.Close)
	}
	if h.Init != nil {
		s.hooks.init = append(s.hooks.init, h.Init)
	}
	if h.Listen != nil {
		s.hooks.listen = append(s.hooks.listen, h.Listen)
	}
	if h.Route != nil {
		s.hooks.route = append(s.hooks.route, h.Route)
	}
	if h.ConfigChanged != nil {
		s.hooks.config = append(s.hooks.config, h.ConfigChanged)
	}
	if h.Published != nil {
		s.hooks.published = append(s.hooks.published, h.Published)
	}
	if h.Connections != nil {
		s.hooks.conns = append(s.hooks.conns, h.Connections)
	}
	if h.Propagates != nil {
		s.hooks.propagates = append(s.hooks.propagates, h.Propagates)
	}
	if h.Propagate != nil {
		s.hooks.propagate = append(s.hooks.propagate, h.Propagate)
	}
	if h.Replica != nil {
		s.hooks.replica = append(s.hooks.replica, h.Replica)
	}
	if h.ClientType != nil {
		s.hooks.clientType = append(s.hooks.clientType, h.ClientType)
	}
	if h.WritersPending != nil {
		s.hooks.writersPending = append(s.hooks.writersPending, h.WritersPending)
	}
	if h.SyncStats != nil {
		s.hooks.syncStats = append(s.hooks.syncStats, h.SyncStats)
	}
	if h.SaveAux != nil {
		s.hooks.saveAux = append(s.hooks.saveAux, h.SaveAux)
	}
	if h.LoadAux != nil {
		s.hooks.loadAux = append(s.hooks.loadAux, h.LoadAux)
	}
	if h.SnapshotLoaded != nil {
		s.hooks.snapshotLoaded = append(s.hooks.snapshotLoaded, h.SnapshotLoaded)
	}
	if h.ClusterReplicate != nil {
		s.hooks.clusterRepl = append(s.hooks.clusterRepl, h.ClusterReplicate)
	}
	if h.ClusterReplicationState != nil {
		s.hooks.clusterState = append(s.hooks.clusterState, h.ClusterReplicationState)
	}
	if h.Load != nil {
		s.hooks.load = append(s.hooks.load, h.Load)
	}
	if h.Persistence != nil {
		s.hooks.persistence = h.Persistence
	}
	if h.Shutdown != nil {
		s.hooks.shutdown = append(s.hooks.shutdown, h.Shutdown)
	}
	if h.ReplyMark != nil {
		s.hooks.replyMark = h.ReplyMark
	}
	if h.ReplyWait != nil {
		s.hooks.replyWait = h.ReplyWait
	}
	if h.ReplSnapshot != nil {
		s.hooks.replSnapshot = append(s.hooks.replSnapshot, h.ReplSnapshot)
	}
	if h.DatasetReplaced != nil {
		s.hooks.datasetReplaced = append(s.hooks.datasetReplaced, h.DatasetReplaced)
	}
	return nil
}

// guardRefuses is the first non-empty refusal of the Guard hooks.
func (s *Server) guardRefuses(c *Client, spec *command.Spec) string {
	for _, g := range s.hooks.guard {
		if msg := g(c, spec); msg != "" {
			return msg
		}
	}
	return ""
}

// routeRefuses is the first non-empty refusal of the Route hooks.
func (s *Server) routeRefuses(c *Client, spec *command.Spec, args [][]byte) string {
	for _, r := range s.hooks.route {
		if msg := r(c, spec, args); msg != "" {
			return msg
		}
	}
	return ""
}

// propagates reports whether effective writes must be collected: for the
// Propagator (the AOF) or a Propagates hook (a master's backlog).
func (s *Server) propagates() bool {
	if s.prop != nil {
		return true
	}
	for _, f := range s.hooks.propagates {
		if f() {
			return true
		}
	}
	return false
}

// propagate hands one effective write to the Propagator and the
// Propagate hooks.
func (s *Server) propagate(db int, args [][]byte) {
	if s.prop != nil {
		s.prop.Propagate(db, args)
	}
	for _, f := range s.hooks.propagate {
		f(db, args)
	}
}

// IsReplica reports whether this node replicates from a master (lock
// held). Exported for persistence (stop-writes-on-bgsave-error spares a
// replica).
func (s *Server) IsReplica() bool {
	for _, f := range s.hooks.replica {
		if f() {
			return true
		}
	}
	return false
}

// pluggedClientType is the type a ClientType hook gives c, or "".
func (s *Server) pluggedClientType(c *Client) string {
	for _, f := range s.hooks.clientType {
		if t := f(c); t != "" {
			return t
		}
	}
	return ""
}

// published runs the Published hooks (PUBLISH, SPUBLISH).
func (s *Server) published(channel, message []byte, sharded bool) {
	for _, f := range s.hooks.published {
		f(channel, message, sharded)
	}
}

// hookConnections is the sum of the Connections hooks.
func (s *Server) hookConnections() int {
	n := 0
	for _, f := range s.hooks.conns {
		n += f()
	}
	return n
}

// writersPending reports whether a WritersPending hook has output
// waiting for the lock (lock held).
func (s *Server) writersPending() bool {
	for _, f := range s.hooks.writersPending {
		if f() {
			return true
		}
	}
	return false
}

// syncStats sums the SyncStats hooks for INFO stats.
func (s *Server) syncStats() (full, partialOK, partialErr int64) {
	for _, f := range s.hooks.syncStats {
		a, b, c := f()
		full, partialOK, partialErr = full+a, partialOK+b, partialErr+c
	}
	return full, partialOK, partialErr
}

// runShutdown runs the Shutdown hooks (lock held) and stops at the first
// that refuses.
func (s *Server) runShutdown(save bool) error {
	for _, f := range s.hooks.shutdown {
		if err := f(save); err != nil {
			return err
		}
	}
	return nil
}

// ClusterReplicate hands the cluster machine's replication target to the
// ClusterReplicate hooks (lock held). Exported for the cluster node.
func (s *Server) ClusterReplicate(t cluster.ReplicationTarget) {
	for _, f := range s.hooks.clusterRepl {
		f(t)
	}
}

// ClusterReplicationState is the replication state the cluster machine is
// told before each tick (lock held): the last ClusterReplicationState
// hook's, or a master's at offset 0. Exported for the cluster node.
func (s *Server) ClusterReplicationState() cluster.ReplicationState {
	var st cluster.ReplicationState
	for _, f := range s.hooks.clusterState {
		st = f()
	}
	return st
}

// persistMark is the ReplyMark hook (lock held, at the end of a batch),
// 0 without one. (Named for its first user, the AOF's group commit.)
func (s *Server) persistMark() int64 {
	if s.hooks.replyMark == nil {
		return 0
	}
	return s.hooks.replyMark()
}

// persistWait is the ReplyWait hook (lock released, before the replies
// of the batch that returned mark are written).
func (s *Server) persistWait(mark int64) {
	if mark != 0 && s.hooks.replyWait != nil {
		s.hooks.replyWait(mark)
	}
}

// CommandFamilies plugs command families into the engine: each family is
// the specs of a node/commands package, every one with its Run.
func CommandFamilies(families ...[]command.Spec) Plugin {
	return func(*Server) (Hooks, error) {
		var all []command.Spec
		for _, f := range families {
			all = append(all, f...)
		}
		return Hooks{Name: "commands", Commands: all}, nil
	}
}
