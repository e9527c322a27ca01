package cluster

import (
	"testing"
	"time"
)

// A manual failover whose MFSTART is lost because the link to the master
// fails right as it is sent (the machine still counts the link as up)
// completes all the same: the replica sends MFSTART again on the new link,
// well within cluster-mf-timeout, instead of timing out.
func TestSimManualFailoverResendsLostMFStart(t *testing.T) {
	s := newSim(t, 21)
	s.form(3, 1, true)
	n1, n4 := s.nodes[0], s.nodes[3]
	s.run(time.Second)
	link := n4.m.myself.master.link
	c := n4.links[link]
	if c == nil || n4.m.myself.master.id != n1.m.Myself().ID {
		t.Fatal("n4 has no link to its master n1")
	}
	// The connection dies; n4's machine learns it a millisecond later, after
	// CLUSTER FAILOVER queued MFSTART on it.
	s.closeConn(c)
	if err := s.failover(n4, FailoverDefault); err != nil {
		t.Fatal(err)
	}
	took := s.runUntil("n4 is master everywhere", 4*time.Second, func() bool {
		return s.isMasterEverywhere(n4) && s.isReplicaOfEverywhere(n1, n4) && s.agree() && s.stateOK()
	})
	t.Logf("manual failover done %v after the lost MFSTART", took)
	if n1.m.ManualFailoverInProgress() || n4.m.ManualFailoverInProgress() {
		t.Fatal("manual failover state left behind")
	}
}
