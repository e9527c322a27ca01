package sentinel

import "time"

// Scrape is one read of the sentinel for its metrics endpoint (node/metrics
// renders it): INFO everything, and per monitored master what SENTINEL
// MASTERS, SENTINEL REPLICAS and SENTINEL SENTINELS would say of it, taken
// under the lock once so that the numbers agree with each other.
type Scrape struct {
	// Info is INFO everything (server, clients, stats, cpu, sentinel).
	Info string
	// Masters are the monitored masters by name.
	Masters []MasterView
}

// MasterView is one monitored master as this sentinel sees it.
type MasterView struct {
	Name string
	// Address is the master's host:port (the one a client is given).
	Address string
	// Status is ok, sdown or odown, as INFO sentinel's masterN line.
	Status string
	// Replicas and OKReplicas count the known replicas and those not
	// flagged s_down or o_down; Sentinels and OKSentinels count the
	// sentinels monitoring it, this one included, as INFO sentinel does.
	Replicas, OKReplicas   int
	Sentinels, OKSentinels int
	Quorum                 int
	ParallelSyncs          int
	DownAfter              time.Duration
	FailoverTimeout        time.Duration
	// LastOKPing is how long ago the master last answered a PING well.
	LastOKPing time.Duration
	// ConfigEpoch is the epoch of the master's current configuration;
	// LeaderEpoch the epoch of this sentinel's last vote.
	ConfigEpoch, LeaderEpoch uint64
	// QuorumOK and QuorumMessage are SENTINEL CKQUORUM's verdict and
	// reply.
	QuorumOK      bool
	QuorumMessage string
	// FailoverInProgress: this sentinel runs a failover of it now.
	FailoverInProgress bool
	// FailoversStarted, FailoversEnded and Switches count, since this
	// sentinel started, its +try-failover and +failover-end events and
	// the master address changes it learnt (+switch-master).
	FailoversStarted, FailoversEnded, Switches uint64
}

// Scrape reads the sentinel's state for its metrics.
func (s *Sentinel) Scrape() Scrape {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	sc := Scrape{Info: s.infoText("everything")}
	for _, m := range s.sortedMasters() {
		msg, ok := ckQuorum(m)
		sc.Masters = append(sc.Masters, MasterView{
			Name: m.name, Address: m.addr.String(), Status: m.status(),
			Replicas: len(m.replicas), OKReplicas: countUp(m.replicas),
			Sentinels: len(m.sentinels) + 1, OKSentinels: countUp(m.sentinels) + 1,
			Quorum: m.quorum, ParallelSyncs: m.parallelSyncs,
			DownAfter: m.downAfter, FailoverTimeout: m.failoverTO,
			LastOKPing:  now.Sub(m.link.lastAvailTime),
			ConfigEpoch: m.configEpoch, LeaderEpoch: m.leaderEpoch,
			QuorumOK: ok, QuorumMessage: msg,
			FailoverInProgress: m.flags&flagFailoverInProgress != 0,
			FailoversStarted:   m.failoversStarted, FailoversEnded: m.failoversEnded, Switches: m.switches,
		})
	}
	return sc
}

// countUp counts the instances not flagged s_down or o_down.
func countUp(instances map[string]*instance) int {
	n := 0
	for _, ri := range instances {
		if ri.flags&(flagSDown|flagODown) == 0 {
			n++
		}
	}
	return n
}

// MetricsPort is metrics-port: the port of the Prometheus endpoint, 0 for
// none.
func (s *Sentinel) MetricsPort() int { return s.cfg.MetricsPort }

// BindAddresses are the addresses the client port listens on ("" for all
// interfaces), for the metrics endpoint to listen beside it.
func (s *Sentinel) BindAddresses() []string {
	if len(s.cfg.Bind) == 0 {
		return []string{""}
	}
	out := make([]string, 0, len(s.cfg.Bind))
	for _, b := range s.cfg.Bind {
		out = append(out, normalizeBind(b))
	}
	return out
}
