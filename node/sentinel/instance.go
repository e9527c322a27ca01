package sentinel

import (
	"net"
	"strconv"
	"strings"
	"time"
)

// Instance flags, as SRI_* in sentinel.c.
const (
	flagMaster = 1 << iota
	flagReplica
	flagSentinel
	flagSDown
	flagODown
	flagMasterDown // a sentinel that says our master is down
	flagFailoverInProgress
	flagPromoted
	flagReconfSent
	flagReconfInprog
	flagReconfDone
	flagForceFailover
)

// Periods and limits, named as in sentinel.c.
const (
	infoPeriod          = 10 * time.Second
	pingPeriod          = time.Second
	askPeriod           = time.Second
	publishPeriod       = 2 * time.Second
	defaultDownAfter    = 30 * time.Second
	defaultFailoverTime = 3 * time.Minute
	defaultParallelSync = 1
	maxPendingCommands  = 100
	electionTimeout     = 10 * time.Second
	maxDesync           = 1000 // ms of random delay added to a failover start
	replicaReconfTimout = 10 * time.Second
	minLinkReconnect    = 15 * time.Second
	defaultPort         = 26379
	helloChannel        = "__sentinel__:hello"
	runIDLen            = 40
	tiltTrigger         = 2 * time.Second
	tiltPeriod          = 30 * time.Second
)

// Failover states, as SENTINEL_FAILOVER_STATE_*.
const (
	failoverNone = iota
	failoverWaitStart
	failoverSelectReplica
	failoverSendReplicaofNoOne
	failoverWaitPromotion
	failoverReconfReplicas
	failoverUpdateConfig
)

var failoverStateNames = []string{"none", "wait_start", "select_slave", "send_slaveof_noone", "wait_promotion", "reconf_slaves", "update_config"}

// Addr is an instance address: a host (an IP, or a name with
// resolve-hostnames) and a port.
type Addr struct {
	Host string
	Port int
}

func (a Addr) String() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// equal compares addresses as sentinelAddrEqualsHostname does (case
// insensitive host).
func (a Addr) equal(b Addr) bool { return a.Port == b.Port && strings.EqualFold(a.Host, b.Host) }

// instance is a sentinelRedisInstance: a monitored master, one of its
// replicas or another sentinel monitoring it.
type instance struct {
	flags  int
	name   string
	runID  string
	addr   Addr
	master *instance // for replicas and sentinels
	link   *link

	configEpoch uint64
	downAfter   time.Duration
	sDownSince  time.Time
	oDownSince  time.Time

	lastPubTime             time.Time
	lastHelloTime           time.Time
	lastMasterDownReplyTime time.Time

	// INFO.
	info             string
	infoRefresh      time.Time
	roleReported     int // flagMaster or flagReplica
	roleReportedTime time.Time
	replConfChange   time.Time

	// Replica fields from INFO.
	masterLinkDownTime time.Duration
	masterLinkUp       bool
	replMasterHost     string
	replMasterPort     int
	replicaPriority    int
	replOffset         int64
	replicaAnnounced   bool
	reconfSentTime     time.Time

	// Master fields.
	replicas      map[string]*instance // by ip:port
	sentinels     map[string]*instance // by run ID
	quorum        int
	parallelSyncs int
	failoverTO    time.Duration
	authPass      string
	authUser      string

	// Election.
	leader      string
	leaderEpoch uint64

	failoverState       int
	failoverEpoch       uint64
	failoverStartTime   time.Time
	failoverStateChange time.Time
	promoted            *instance

	// Counters of this sentinel's view since it started (metrics):
	// failovers it tried (+try-failover), failovers it led to the end
	// (+failover-end) and master address changes (+switch-master).
	failoversStarted uint64
	failoversEnded   uint64
	switches         uint64
}

func newMaster(name string, addr Addr, quorum int) *instance {
	return &instance{
		flags: flagMaster, name: name, addr: addr, quorum: quorum,
		downAfter: defaultDownAfter, failoverTO: defaultFailoverTime, parallelSyncs: defaultParallelSync,
		replicas: map[string]*instance{}, sentinels: map[string]*instance{},
		roleReported: flagMaster, replicaPriority: 100,
	}
}

// status is a master's status in INFO sentinel: odown, sdown or ok.
func (ri *instance) status() string {
	switch {
	case ri.flags&flagODown != 0:
		return "odown"
	case ri.flags&flagSDown != 0:
		return "sdown"
	}
	return "ok"
}

// typeString is sentinelRedisInstanceTypeStr.
func (ri *instance) typeString() string {
	switch {
	case ri.flags&flagMaster != 0:
		return "master"
	case ri.flags&flagReplica != 0:
		return "slave"
	case ri.flags&flagSentinel != 0:
		return "sentinel"
	}
	return "unknown"
}

// describe is the "@" of sentinelEvent: "<type> <name> <ip> <port>" and,
// for replicas and sentinels, " @ <master> <ip> <port>".
func (ri *instance) describe() string {
	s := ri.typeString() + " " + ri.name + " " + ri.addr.Host + " " + strconv.Itoa(ri.addr.Port)
	if ri.master != nil {
		s += " @ " + ri.master.name + " " + ri.master.addr.Host + " " + strconv.Itoa(ri.master.addr.Port)
	}
	return s
}

// flagString is the "flags" field of SENTINEL MASTER/REPLICAS/SENTINELS.
func (ri *instance) flagString() string {
	var parts []string
	add := func(f int, s string) {
		if ri.flags&f != 0 {
			parts = append(parts, s)
		}
	}
	add(flagSDown, "s_down")
	add(flagODown, "o_down")
	add(flagMaster, "master")
	add(flagReplica, "slave")
	add(flagSentinel, "sentinel")
	if ri.link == nil || ri.link.disconnected {
		parts = append(parts, "disconnected")
	}
	add(flagMasterDown, "master_down")
	add(flagFailoverInProgress, "failover_in_progress")
	add(flagPromoted, "promoted")
	add(flagReconfSent, "reconf_sent")
	add(flagReconfInprog, "reconf_inprog")
	add(flagReconfDone, "reconf_done")
	add(flagForceFailover, "force_failover")
	return strings.Join(parts, ",")
}

// pingPeriodOf is min(down-after, 1 s), as sentinelSendPeriodicCommands.
func (ri *instance) pingPeriodOf() time.Duration {
	if ri.downAfter < pingPeriod {
		return ri.downAfter
	}
	return pingPeriod
}
