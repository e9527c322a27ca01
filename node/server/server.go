package server

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/config"
	"github.com/shoal-dev/shoal/node/eventloop"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/persistence"
)

// Handler executes one command for a client. It runs under the server
// lock, reads c.Args, replies through c.W exactly once (unless it blocks
// the client) and reports what it changed (see doc.go).
type Handler func(c *Client)

// Propagator receives every effective write, in execution order, for the
// AOF and replicas. args are valid only during the call (copy to keep).
// It runs under the server lock and must not block.
type Propagator interface {
	Propagate(db int, args [][]byte)
}

// Server is one data node.
type Server struct {
	mu sync.Mutex // serializes all command execution and keyspace access
	// clock is the time of the command being dispatched: read at the start
	// of a batch and advanced by each command's measured duration, so a
	// command costs one clock read (its duration), not three.
	clock time.Time

	trk      trackingState // client-side caching (tracking.go)
	cfg      *Config
	params   *config.Table // the configuration parameters (CONFIG GET/SET/REWRITE)
	cmds     *command.Table
	execSpec *command.Spec // EXEC: refusing it discards the transaction
	pingSpec *command.Spec // PING: refused with the writes on a disk error
	// setSpec and getSpec are the probes of a script's or function's
	// flags (scriptCommandRefuses): a write, and neither write nor stale.
	setSpec, getSpec *command.Spec
	handlers         []Handler // by command ID
	env              *keyspace.Env
	dbs              []*keyspace.DB

	listeners []net.Listener
	tls       tlsState          // the TLS material (tls.go)
	loops     []*eventloop.Loop // with event-loops > 0 (eventloop.go)
	nextLoop  int
	clients   map[int64]*Client
	nextID    atomic.Int64
	// shutdownGrace is shutdown-timeout as the last cron saw it, readable
	// without the lock (shutdown.go).
	shutdownGrace atomic.Int64
	wg            sync.WaitGroup
	lockedQueue   lockedQueue // RunLocked calls a busy loop runs (runlocked.go)
	closing       chan struct{}
	closed        bool
	log           *log.Logger

	prop     Propagator
	propBuf  []propOp
	script   scriptState // EVAL/FCALL: the script client, the running script (script_engine.go)
	dirty    int64       // changes since the last save
	watched  map[dbKey][]*Client
	blocking blockState
	pubsub   pubsubState
	monitors []*Client
	pause    pauseState
	holds    holdState // keys a command works on without the lock (keyhold.go)

	mem      memoryGauge
	gcTune   gcTuner
	stats    stats
	cmdStats []cmdStat
	slowlog  slowlog
	start    time.Time
	runID    string

	acl            aclState
	cl             serverCluster // sharded pub/sub (pubsub_shard.go)
	persistence    Persistence
	codecs         *persistence.Codecs // the values' encodings: DUMP, RESTORE, MIGRATE, snapshots
	infoSections   map[string]InfoSection
	loading        loadingState // the load at start-up (loading.go)
	peakMemory     int64
	noActiveExpire bool

	latency    latencyMonitor // LATENCY (latency.go)
	memStartup int64          // used memory once started (MEMORY STATS' startup.allocated)
	purging    atomic.Bool    // a MEMORY PURGE is running

	hooks hookSet // plugged subsystems (hooks.go)

	// keyIndex is the key index of database 0 (cluster mode's keys by
	// slot), installed again on the data set a full sync swaps in.
	keyIndex keyspace.KeyIndex

	// Exit is called by SHUTDOWN after the server stopped (main exits).
	Exit func()
}

type dbKey struct {
	db  int
	key string
}

type cmdStat struct {
	calls, usec, rejected, failed int64
	hist                          *latencyHist // latency_hist.go, made on the first record
}

// New builds a server from a configuration, the engine's handler groups
// and the plugged subsystems (hooks.go).
func New(cfg *Config, plugins ...Plugin) (*Server, error) {
	s := &Server{
		cfg:     cfg,
		params:  config.NewTable(),
		env:     keyspace.NewEnv(),
		clients: map[int64]*Client{},
		closing: make(chan struct{}),
		watched: map[dbKey][]*Client{},
		log:     log.New(os.Stderr, "", log.LstdFlags),
		start:   time.Now(),
		runID:   randomHex(40),
		codecs:  persistence.KeyspaceCodecs(nil, nil, nil, nil),
	}
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		s.log.SetOutput(f)
	}
	if err := s.plug(plugins); err != nil {
		return nil, err
	}
	if err := s.buildCommandTable(); err != nil {
		return nil, err
	}
	if err := s.initACL(); err != nil {
		return nil, err
	}
	s.env.Expired = s.keyExpired
	s.applyNotifyConfig()
	s.applyEvictionPolicy()
	s.env.Now = time.Now().UnixMilli()
	for i := 0; i < cfg.Databases; i++ {
		s.dbs = append(s.dbs, keyspace.New(i, s.env))
	}
	for _, initHook := range s.hooks.init {
		if err := initHook(); err != nil {
			return nil, err
		}
	}
	s.blocking.init()
	s.pubsub.init()
	s.slowlog.init()
	s.applyGC()
	s.noteShutdownTimeout()
	s.applyLatencyConfig()
	s.memStartup = s.usedMemory()
	return s, nil
}

// handlerGroups lists every group of handlers, one per cmd_<group>.go file.
func handlerGroups() []map[string]Handler {
	return []map[string]Handler{
		connectionHandlers(),
		serverHandlers(),
		transactionHandlers(),
		pubsubHandlers(),
		shardPubsubHandlers(),
		aclHandlers(),
		dumpHandlers(),
		latencyHandlers(),
		introspectionHandlers(),
	}
}

// buildCommandTable joins the specs of node/command with the handlers by
// full name ("get", "client|list"). The join is checked both ways (see
// checkServed): the COMMAND list tells clients the truth, and a misspelled
// handler name cannot be dropped without notice.
func (s *Server) buildCommandTable() error {
	hs, err := mergeHandlers(append(handlerGroups(), s.hooks.handlers...))
	if err != nil {
		return err
	}
	t, err := command.NewTable(append(command.Groups(), s.hooks.commands)...)
	if err != nil {
		return err
	}
	if err := checkServed(t, hs); err != nil {
		return err
	}
	s.cmds = t
	s.execSpec = t.Lookup([]byte("exec"))
	s.pingSpec = t.Lookup([]byte("ping"))
	s.setSpec, s.getSpec = t.Lookup([]byte("set")), t.Lookup([]byte("get"))
	s.handlers = make([]Handler, t.NumIDs())
	s.cmdStats = make([]cmdStat, t.NumIDs())
	for id := 0; id < t.NumIDs(); id++ {
		sp := t.ByID(id)
		if run := sp.Run; run != nil {
			s.handlers[id] = func(c *Client) { run(&c.Ctx) }
		} else {
			s.handlers[id] = hs[sp.FullName()]
		}
	}
	return nil
}

// mergeHandlers joins the handler groups into one map, refusing a name
// that two groups define.
func mergeHandlers(groups []map[string]Handler) (map[string]Handler, error) {
	hs := map[string]Handler{}
	for _, g := range groups {
		for name, h := range g {
			if _, dup := hs[name]; dup {
				return nil, fmt.Errorf("two handlers for %q", name)
			}
			hs[name] = h
		}
	}
	return hs, nil
}

// checkServed is the rule that specs and handlers match one to one: every
// command without subcommands and every subcommand has a handler, and
// every handler names a command or subcommand of the table. A container
// (COMMAND, CLIENT, ...) may have a handler of its own for its bare form
// (COMMAND without arguments). The error lists every mismatch.
func checkServed(t *command.Table, hs map[string]Handler) error {
	var problems []string
	for id := 0; id < t.NumIDs(); id++ {
		sp := t.ByID(id)
		h := hs[sp.FullName()]
		switch {
		case sp.Run != nil && h != nil:
			problems = append(problems, fmt.Sprintf("spec %q has a Run and a handler by name", sp.FullName()))
		case len(sp.Subcommands) == 0 && sp.Run == nil && h == nil:
			problems = append(problems, fmt.Sprintf("spec %q has no handler", sp.FullName()))
		}
	}
	for name := range hs {
		if !servedName(t, name) {
			problems = append(problems, fmt.Sprintf("handler %q matches no spec", name))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("command table: %s", strings.Join(problems, "; "))
}

// Commands is the command table the server serves.
func (s *Server) Commands() *command.Table { return s.cmds }

// SetPropagator installs the sink of effective writes (nil: none).
func (s *Server) SetPropagator(p Propagator) {
	s.mu.Lock()
	s.prop = p
	s.mu.Unlock()
}

// Lock and Unlock give other subsystems (persistence, replication, the
// cluster bus) exclusive access to the keyspace, as commands have.
func (s *Server) Lock()   { s.mu.Lock() }
func (s *Server) Unlock() { s.mu.Unlock() }

// DB returns database i; callers hold the lock.
func (s *Server) DB(i int) *keyspace.DB { return s.dbs[i] }

// NumDBs is the number of databases.
func (s *Server) NumDBs() int { return len(s.dbs) }

// Config returns the live configuration; callers hold the lock.
func (s *Server) Config() *Config { return s.cfg }

// Listen opens the listeners of the configured bind addresses and port.
func (s *Server) Listen() error {
	if s.cfg.Port == 0 && s.cfg.TLS.Port == 0 {
		return nil
	}
	if s.cfg.Port != 0 { // port 0: the TLS port only (tls.go)
		lns, err := s.listenBind(s.cfg.Port)
		if err != nil {
			return err
		}
		s.listeners = append(s.listeners, lns...)
	}
	if err := s.listenTLS(); err != nil {
		s.closeListeners()
		return err
	}
	if len(s.listeners) == 0 {
		return fmt.Errorf("could not listen on any of %v port %d", s.cfg.Bind, s.cfg.Port)
	}
	for _, listen := range s.hooks.listen {
		if err := listen(); err != nil {
			s.closeListeners()
			return err
		}
	}
	return nil
}

// listenBind opens port on every bind address ("*" all IPv4, "::*" all
// IPv6); an address with a leading "-" that cannot be had is skipped. On
// an error it closes what it opened.
func (s *Server) listenBind(port int) ([]net.Listener, error) {
	var lns []net.Listener
	for _, addr := range s.bindAddrs() {
		optional := strings.HasPrefix(addr, "-")
		host := bindHost(strings.TrimPrefix(addr, "-"))
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			if optional {
				continue
			}
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func (s *Server) bindAddrs() []string {
	if len(s.cfg.Bind) == 0 {
		return []string{"*", "-::*"}
	}
	return s.cfg.Bind
}

// Addr is the address of the first listener (tests with port 0 use it).
func (s *Server) Addr() net.Addr {
	if len(s.listeners) == 0 {
		return nil
	}
	return s.listeners[0].Addr()
}

// Serve accepts connections until Close and runs the periodic tasks; it
// starts the cluster bus and replication once the load (StartLoading)
// has ended.
func (s *Server) Serve() error {
	s.wg.Add(1)
	go s.cronLoop()
	if err := s.startLoops(); err != nil {
		return err
	}
	errc := make(chan error, len(s.listeners))
	for _, ln := range s.listeners {
		go func(ln net.Listener) { errc <- s.acceptLoop(ln) }(ln)
	}
	// Clients are served (with -LOADING) while the data set loads; the
	// cluster bus and the link to a master wait for the data.
	if s.waitLoaded() {
		for _, start := range s.hooks.start {
			start()
		}
	}
	var first error
	for range s.listeners {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (s *Server) acceptLoop(ln net.Listener) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			select {
			case <-s.closing:
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			s.log.Printf("accept: %v", err)
			time.Sleep(5 * time.Millisecond)
			continue
		}
		s.accept(conn)
	}
}

// accept registers a connection and starts its goroutine, or refuses it
// (maxclients, protected mode) with Redis's error.
func (s *Server) accept(conn net.Conn) {
	s.mu.Lock()
	ka := s.cfg.TCPKeepalive
	s.mu.Unlock()
	if tc, ok := netConn(conn).(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		if ka > 0 {
			_ = tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: time.Duration(ka) * time.Second,
				Interval: time.Duration(ka) * time.Second / 3, Count: 3})
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.stats.connectionsReceived++
	if len(s.clients) >= s.cfg.MaxClients {
		s.stats.rejectedConnections++
		s.mu.Unlock()
		refuse(conn, command.ErrMaxClients)
		return
	}
	if s.protectedRefuses(conn) {
		s.mu.Unlock()
		refuse(conn, command.ErrProtected)
		return
	}
	if len(s.loops) > 0 {
		s.acceptToLoop(conn)
		s.mu.Unlock()
		return
	}
	c := newClient(s, conn)
	s.clients[c.ID] = c
	s.wg.Add(1)
	s.mu.Unlock()
	go c.serve()
}

func refuse(conn net.Conn, msg string) {
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = io.WriteString(conn, "-"+msg+"\r\n")
	conn.Close()
}

// protectedRefuses applies protected mode as Redis 7.0 does: while the
// default user has no password, only loopback clients are accepted,
// whatever the bind addresses.
func (s *Server) protectedRefuses(conn net.Conn) bool {
	if !s.cfg.ProtectedMode || !s.defaultAuthenticates() {
		return false
	}
	ta, ok := conn.RemoteAddr().(*net.TCPAddr)
	return ok && !ta.IP.IsLoopback()
}

// Close stops listening, disconnects every client and waits for their
// goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.closing)
	s.closeListeners()
	for _, closeHook := range s.hooks.close {
		closeHook()
	}
	for _, c := range s.clients {
		c.conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) closeListeners() {
	for _, ln := range s.listeners {
		ln.Close()
	}
}

// cronLoop runs serverCron hz times a second: active expiry, incremental
// rehashing, client timeouts, pause expiry and statistics.
func (s *Server) cronLoop() {
	defer s.wg.Done()
	s.mu.Lock()
	hz := s.cfg.Hz
	s.mu.Unlock()
	t := time.NewTicker(time.Second / time.Duration(hz))
	defer t.Stop()
	newHz := hz // what the last round saw (CONFIG SET hz)
	cron := func() {
		s.cron()
		newHz = s.cfg.Hz
	}
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
		}
		s.RunLocked(cron, time.Second/time.Duration(hz)/2)
		if newHz != hz {
			hz = newHz
			t.Reset(time.Second / time.Duration(hz))
		}
	}
}

// rehashCron moves a growing or shrinking keyspace's entries to their new
// table for at most a millisecond, in the first database that has any to
// move, as Redis's databasesCron (incrementallyRehash): the lock is held,
// and every command moves a few more by itself.
func (s *Server) rehashCron() {
	deadline := time.Now().Add(time.Millisecond)
	for _, db := range s.dbs {
		if !db.Rehash(100) {
			continue
		}
		for time.Now().Before(deadline) && db.Rehash(100) {
		}
		return
	}
}

func (s *Server) cron() {
	now := time.Now()
	s.env.Now = now.UnixMilli()
	if s.loading.active || s.script.busy {
		// As Redis's while-blocked cron (also while a script runs long
		// and lets clients in for BUSY): no expiry, rehashing or
		// replication on a keyspace half loaded.
		s.stats.sampleInstantaneous(now)
		s.clientsCron(now)
		return
	}
	var expiring time.Duration // the active expire cycle's, for the latency monitor
	for _, db := range s.dbs {
		if !s.noActiveExpire {
			start := time.Now()
			db.ActiveExpireCycle(16)
			expiring += time.Since(start)
		}
	}
	s.rehashCron()
	s.latency.addIfNeeded("expire-cycle", expiring)
	s.stats.sampleInstantaneous(now)
	s.clientsCron(now)
	for _, cron := range s.hooks.cron {
		cron(now)
	}
	s.expirePause()
	s.flushPropagation()
	if s.gcTune.tick(now) {
		s.wg.Add(1)
		go func() { // a GC and the scavenge: not under the lock
			defer s.wg.Done()
			debug.FreeOSMemory()
		}()
	}
}

// keyExpired is the keyspace's callback for a key removed because its TTL
// passed: propagate a DEL and invalidate WATCHers.
func (s *Server) keyExpired(db *keyspace.DB, key string) {
	s.stats.expiredKeys++
	s.notifyKeyspaceEvent(command.NotifyExpired, "expired", db.ID, []byte(key))
	s.touchWatched(db.ID, key)
	if s.propagates() {
		s.propBuf = append(s.propBuf, propOp{db: db.ID, args: [][]byte{[]byte("DEL"), []byte(key)}})
	}
}

// applyGC tunes the collector for a large, long-lived heap: with
// maxmemory set the runtime gets a soft memory limit just above it.
func (s *Server) applyGC() {
	setGCForMaxMemory(s.cfg.MaxMemory)
	s.gcTune.reset()
}

// NumGoroutine is exposed for tests of leaks.
func NumGoroutine() int { return runtime.NumGoroutine() }

// Logf writes to the server log.
func (s *Server) Logf(format string, args ...any) { s.log.Printf(format, args...) }

// Shutdown is the graceful stop of SIGTERM: refuse new work, run the
// shutdown hook (persistence saves and fsyncs), then close everything.
func (s *Server) Shutdown() error { return s.shutdown(nil) }

// shutdown is Shutdown, reporting its progress to p if not nil
// (ShutdownWithin).
func (s *Server) shutdown(p *shutdownProgress) error {
	s.mu.Lock()
	if p != nil {
		close(p.locked)
	}
	err := s.runShutdown(s.cfg.Save != "")
	if p != nil {
		close(p.saved)
	}
	s.mu.Unlock()
	s.Close()
	return err
}

// servedName reports whether name is exactly the lower-case full name of
// a command ("get") or subcommand ("client|list") of t.
func servedName(t *command.Table, name string) bool {
	sp := t.LookupName(name)
	return sp != nil && sp.FullName() == name
}
