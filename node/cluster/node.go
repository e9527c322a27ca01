package cluster

import (
	"slices"

	"github.com/shoal-dev/shoal/node/bus"
)

// node is one entry of the node table (clusterNode in Redis). Times are
// Unix milliseconds, 0 meaning "never".
type node struct {
	id      string
	shardID string
	flags   bus.NodeFlags
	ctime   int64 // when the node object was created

	ip          string
	port, cport int
	hostname    string
	// clientPort is the port the node tells clients to use, 0 for port
	// (bus.Header.ClientPort). Not saved: peers learn it again by gossip.
	clientPort int

	master   *node   // slaveof: the master of a replica
	replicas []*node // replicas of a master, in the order they were learned

	pingSent     int64 // when we sent the PING still waiting for a PONG
	pongReceived int64 // when we last received a PONG
	dataReceived int64 // when we last received anything from the node
	failTime     int64 // when the FAIL flag was set
	votedTime    int64 // when we last voted for a replica of this master
	orphanedTime int64 // since when this master has no working replica

	replOffset     int64 // replication offset announced by the node
	replOffsetTime int64

	configEpoch uint64
	slots       bus.SlotBitmap
	numSlots    int

	failReports []failureReport

	link      LinkID // our outbound link to the node, 0 when none
	linkCTime int64

	// openSlots are the MIGRATING/IMPORTING slots this master announced;
	// kept so that a replica promoted in its place can keep them open.
	openSlots []bus.OpenSlot
}

// failureReport is a master's report that a node is PFAIL or FAIL.
type failureReport struct {
	reporter *node
	time     int64
}

func (n *node) has(f bus.NodeFlags) bool { return n.flags&f != 0 }

func (n *node) isMaster() bool    { return n.has(bus.FlagMaster) }
func (n *node) isReplica() bool   { return n.has(bus.FlagSlave) }
func (n *node) isMyself() bool    { return n.has(bus.FlagMyself) }
func (n *node) inHandshake() bool { return n.has(bus.FlagHandshake) }
func (n *node) hasAddr() bool     { return !n.has(bus.FlagNoAddr) }

// clientFacingPort is the port clients are sent to: the announced client
// port, or the node's port.
func (n *node) clientFacingPort() int {
	if n.clientPort != 0 {
		return n.clientPort
	}
	return n.port
}
func (n *node) timedOut() bool { return n.has(bus.FlagPFail) } // nodeTimedOut
func (n *node) failed() bool   { return n.has(bus.FlagFail) }  // nodeFailed
func (n *node) cantFailover() bool {
	return n.has(bus.FlagNoFailover)
}

// epoch is nodeEpoch(): the configEpoch of a master, or of the master of a
// replica.
func (n *node) epoch() uint64 {
	if n.isReplica() && n.master != nil {
		return n.master.configEpoch
	}
	return n.configEpoch
}

// addReplica is clusterNodeAddSlave.
func (n *node) addReplica(r *node) bool {
	if slices.Contains(n.replicas, r) {
		return false
	}
	n.replicas = append(n.replicas, r)
	n.flags |= bus.FlagMigrateTo
	return true
}

// removeReplica is clusterNodeRemoveSlave.
func (n *node) removeReplica(r *node) bool {
	i := slices.Index(n.replicas, r)
	if i < 0 {
		return false
	}
	n.replicas = slices.Delete(n.replicas, i, i+1)
	if len(n.replicas) == 0 {
		n.flags &^= bus.FlagMigrateTo
	}
	return true
}

// countNonFailingReplicas is clusterCountNonFailingSlaves.
func (n *node) countNonFailingReplicas() int {
	ok := 0
	for _, r := range n.replicas {
		if !r.failed() {
			ok++
		}
	}
	return ok
}

// addFailureReport is clusterNodeAddFailureReport: it records (or
// refreshes) that reporter says n is failing and reports whether the report
// is new.
func (n *node) addFailureReport(reporter *node, now int64) bool {
	for i := range n.failReports {
		if n.failReports[i].reporter == reporter {
			n.failReports[i].time = now
			return false
		}
	}
	n.failReports = append(n.failReports, failureReport{reporter: reporter, time: now})
	return true
}

// delFailureReport is clusterNodeDelFailureReport.
func (n *node) delFailureReport(reporter *node, now, validity int64) bool {
	n.cleanupFailureReports(now, validity)
	i := slices.IndexFunc(n.failReports, func(r failureReport) bool { return r.reporter == reporter })
	if i < 0 {
		return false
	}
	n.failReports = slices.Delete(n.failReports, i, i+1)
	return true
}

// cleanupFailureReports is clusterNodeCleanupFailureReports: reports older
// than validity (node timeout * CLUSTER_FAIL_REPORT_VALIDITY_MULT) expire.
func (n *node) cleanupFailureReports(now, validity int64) {
	n.failReports = slices.DeleteFunc(n.failReports, func(r failureReport) bool { return now-r.time > validity })
}

// failureReportsCount is clusterNodeFailureReportsCount.
func (n *node) failureReportsCount(now, validity int64) int {
	n.cleanupFailureReports(now, validity)
	return len(n.failReports)
}
