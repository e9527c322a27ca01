package sentinel

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	mrand "math/rand"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/node/tlsconf"
)

// Sentinel is one sentinel process's state: sentinelState of sentinel.c.
type Sentinel struct {
	mu           sync.Mutex
	cfg          *Config
	myID         string
	runID        string // the server's run_id (INFO), not myid
	currentEpoch uint64
	masters      map[string]*instance

	announceIP        string
	announcePort      int
	resolveHostnames  bool
	announceHostnames bool
	sentinelUser      string
	sentinelPass      string
	denyScriptsReconf bool

	port      int
	startTime time.Time
	stopped   bool
	rand      *mrand.Rand
	logger    *log.Logger

	pubsub    *hub
	clients   map[*client]struct{}
	listeners []net.Listener
	// tls is the certificate material of the TLS port and the TLS links
	// (nil without tls-port and tls-replication), reloaded every second.
	tls         *tlsconf.Store
	done        chan struct{}
	lastTick    time.Time
	tilt        bool
	tiltStart   time.Time
	connections int64
	commands    int64
	// dirty says the config file needs a rewrite (flushed by the timer
	// and before replies that depend on it being on disk).
	dirty bool
}

// New builds a sentinel from its configuration (applying the sentinel
// directives in order) and gives it a myid if the file had none.
func New(cfg *Config, logOut io.Writer) (*Sentinel, error) {
	s := &Sentinel{
		cfg: cfg, masters: map[string]*instance{}, port: cfg.Port,
		startTime: time.Now(), rand: mrand.New(mrand.NewSource(time.Now().UnixNano())),
		logger: log.New(logOut, "", 0),
		pubsub: newHub(), clients: map[*client]struct{}{}, done: make(chan struct{}),
		runID: randomHex(runIDLen),
	}
	if cfg.UsesTLS() {
		st, err := tlsconf.NewStore(cfg.TLS)
		if err != nil {
			return nil, fmt.Errorf("Failed to configure TLS. Check logs for more info: %v", err)
		}
		s.tls = st
	}
	for _, d := range cfg.Sentinel {
		if err := s.applyDirective(d, true); err != nil {
			return nil, configError(0, "sentinel "+strings.Join(d, " "), err.Error())
		}
	}
	if s.myID == "" {
		s.myID = randomHex(runIDLen)
		s.dirty = true
	}
	return s, nil
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// logf writes a log line in Redis's format ("pid:X date level msg").
func (s *Sentinel) logf(level byte, format string, args ...any) {
	now := time.Now()
	s.logger.Printf("%d:X %s %c %s", os.Getpid(), now.Format("02 Jan 2006 15:04:05.000"), level, fmt.Sprintf(format, args...))
}

// event is sentinelEvent: logged and published on the channel named after
// the event type. A format starting with "@" describes ri first.
func (s *Sentinel) event(level byte, typ string, ri *instance, format string, args ...any) {
	var msg string
	if strings.HasPrefix(format, "@") {
		msg = ri.describe() + fmt.Sprintf(format[1:], args...)
	} else {
		msg = fmt.Sprintf(format, args...)
	}
	if level != 'v' { // verbose events are published, not logged (loglevel notice)
		s.logf(level, "%s %s", typ, msg)
	}
	s.pubsub.publish(typ, msg)
}

// parseAddr checks an instance address as createSentinelAddr does.
func (s *Sentinel) parseAddr(host, port string) (Addr, error) {
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return Addr{}, fmt.Errorf("Invalid port number")
	}
	if net.ParseIP(host) == nil {
		if !s.resolveHostnames {
			return Addr{}, fmt.Errorf("Can't resolve instance hostname.")
		}
		if _, err := net.LookupHost(host); err != nil {
			return Addr{}, fmt.Errorf("Can't resolve instance hostname.")
		}
	}
	return Addr{Host: host, Port: p}, nil
}

// sortedMasters lists the masters by name (Redis's dict order is
// arbitrary; a fixed order is easier to read and test).
func (s *Sentinel) sortedMasters() []*instance {
	out := make([]*instance, 0, len(s.masters))
	for _, m := range s.masters {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func sortedInstances(m map[string]*instance) []*instance {
	out := make([]*instance, 0, len(m))
	for _, ri := range m {
		out = append(out, ri)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// addReplica creates a replica instance of m, as createSentinelRedisInstance.
func (s *Sentinel) addReplica(m *instance, addr Addr) *instance {
	name := addr.String()
	if ri := m.replicas[name]; ri != nil {
		return ri
	}
	ri := &instance{flags: flagReplica, name: name, addr: addr, master: m, downAfter: m.downAfter,
		replicaPriority: 100, roleReported: flagReplica, link: &link{disconnected: true}}
	now := time.Now()
	ri.roleReportedTime, ri.replConfChange = now, now
	ri.link.lastAvailTime, ri.link.lastPongTime = now, now
	m.replicas[name] = ri
	return ri
}

// addSentinel creates a sentinel instance of m.
func (s *Sentinel) addSentinel(m *instance, addr Addr, runID string) *instance {
	ri := &instance{flags: flagSentinel, name: runID, runID: runID, addr: addr, master: m,
		downAfter: m.downAfter, link: &link{disconnected: true}}
	now := time.Now()
	ri.link.lastAvailTime, ri.link.lastPongTime = now, now
	m.sentinels[runID] = ri
	return ri
}

// addMaster creates a monitored master.
func (s *Sentinel) addMaster(name string, addr Addr, quorum int) *instance {
	m := newMaster(name, addr, quorum)
	now := time.Now()
	m.link = &link{disconnected: true, lastAvailTime: now, lastPongTime: now}
	m.roleReportedTime = now
	s.masters[name] = m
	return m
}

// masterDirectives are the directives that name a master first.
var masterDirectives = map[string]int{ // name: number of values after the master name
	"down-after-milliseconds": 1, "failover-timeout": 1, "parallel-syncs": 1, "auth-pass": 1,
	"auth-user": 1, "config-epoch": 1, "leader-epoch": 1, "known-slave": 2, "known-replica": 2,
	"known-sentinel": 3, "rename-command": 2, "notification-script": 1, "client-reconfig-script": 1,
	"master-reboot-down-after-period": 1,
}

// applyDirective is sentinelHandleConfiguration: one "sentinel ..." line
// of the config file (args without the word "sentinel").
func (s *Sentinel) applyDirective(argv []string, loading bool) error {
	name := strings.ToLower(argv[0])
	n := len(argv)
	if vals, ok := masterDirectives[name]; ok && (n == vals+2 || name == "known-sentinel" && n == 4) {
		m := s.masters[argv[1]]
		if m == nil {
			return fmt.Errorf("No such master with specified name.")
		}
		return s.applyMasterDirective(m, name, argv[2:])
	}
	switch {
	case name == "monitor" && n == 5:
		q, err := strconv.Atoi(argv[4])
		if err != nil || q <= 0 {
			return fmt.Errorf("Quorum must be 1 or greater.")
		}
		if s.masters[argv[1]] != nil {
			return fmt.Errorf("Duplicate master name.")
		}
		addr, err := s.parseAddr(argv[2], argv[3])
		if err != nil {
			return err
		}
		s.addMaster(argv[1], addr, q)
	case name == "current-epoch" && n == 2:
		e, err := strconv.ParseUint(argv[1], 10, 64)
		if err != nil {
			return fmt.Errorf("Invalid current-epoch")
		}
		s.currentEpoch = max(s.currentEpoch, e)
	case name == "myid" && n == 2:
		if len(argv[1]) != runIDLen {
			return fmt.Errorf("Malformed Sentinel id in myid option.")
		}
		s.myID = argv[1]
	case name == "announce-ip" && n == 2:
		s.announceIP = argv[1]
	case name == "announce-port" && n == 2:
		p, err := strconv.Atoi(argv[1])
		if err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("Invalid port number")
		}
		s.announcePort = p
	case n == 2 && (name == "deny-scripts-reconfig" || name == "resolve-hostnames" || name == "announce-hostnames"):
		v, ok := yesNo(argv[1])
		if !ok {
			return fmt.Errorf("Please specify yes or no for the %s option.", name)
		}
		*map[string]*bool{"deny-scripts-reconfig": &s.denyScriptsReconf, "resolve-hostnames": &s.resolveHostnames,
			"announce-hostnames": &s.announceHostnames}[name] = v
	case name == "sentinel-user" && n == 2:
		s.sentinelUser = argv[1]
	case name == "sentinel-pass" && n == 2:
		s.sentinelPass = argv[1]
	default:
		return fmt.Errorf("Unrecognized sentinel configuration statement.")
	}
	return nil
}

// applyMasterDirective applies a directive about master m; vals follow
// the master's name.
func (s *Sentinel) applyMasterDirective(m *instance, name string, vals []string) error {
	positive := func() (time.Duration, error) {
		ms, err := strconv.Atoi(vals[0])
		if err != nil || ms <= 0 {
			return 0, fmt.Errorf("negative or zero time parameter.")
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	epoch := func() (uint64, error) {
		e, err := strconv.ParseUint(vals[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("Invalid %s", name)
		}
		return e, nil
	}
	switch name {
	case "down-after-milliseconds", "failover-timeout":
		d, err := positive()
		if err != nil {
			return err
		}
		if name == "failover-timeout" {
			m.failoverTO = d
		} else {
			s.setDownAfter(m, d)
		}
	case "parallel-syncs":
		v, err := strconv.Atoi(vals[0])
		if err != nil {
			return fmt.Errorf("Invalid parallel-syncs value")
		}
		m.parallelSyncs = v
	case "auth-pass":
		m.authPass = vals[0]
	case "auth-user":
		m.authUser = vals[0]
	case "config-epoch", "leader-epoch":
		e, err := epoch()
		if err != nil {
			return err
		}
		if name == "leader-epoch" {
			m.leaderEpoch = e
		} else {
			m.configEpoch = e
			s.currentEpoch = max(s.currentEpoch, e)
		}
	case "known-slave", "known-replica", "known-sentinel":
		addr, err := s.parseAddr(vals[0], vals[1])
		if err != nil {
			return err
		}
		switch {
		case name != "known-sentinel":
			s.addReplica(m, addr)
		case len(vals) == 3 && len(vals[2]) == runIDLen:
			s.addSentinel(m, addr, vals[2])
		case len(vals) == 3:
			return fmt.Errorf("Malformed Sentinel id in known-sentinel option.")
		}
	default:
		// rename-command, scripts and master-reboot-down-after-period:
		// accepted with no effect (no scripts run, no command renamed).
	}
	return nil
}

func yesNo(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "yes":
		return true, true
	case "no":
		return false, true
	}
	return false, false
}

// setDownAfter sets down-after-milliseconds of a master and of all its
// replicas and sentinels, as sentinelPropagateDownAfterPeriod.
func (s *Sentinel) setDownAfter(m *instance, d time.Duration) {
	m.downAfter = d
	for _, ri := range m.replicas {
		ri.downAfter = d
	}
	for _, ri := range m.sentinels {
		ri.downAfter = d
	}
}

// announceAddr is what this sentinel says its address is in hellos:
// announce-ip or the local address of the link, announce-port or its port.
func (s *Sentinel) announceAddr(c *conn) (string, int) {
	ip := s.announceIP
	if ip == "" && c != nil {
		if a, ok := c.nc.LocalAddr().(*net.TCPAddr); ok {
			ip = a.IP.String()
		}
	}
	port := s.announcePort
	if port == 0 {
		port = s.port
		if s.cfg.TLSReplication && s.cfg.TLSPort != 0 {
			// As sentinelSendHello: peers reach us the way we reach them.
			port = s.cfg.TLSPort
		}
	}
	return ip, port
}
