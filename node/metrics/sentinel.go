package metrics

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/sentinel"
)

// A sentinel's metrics (`shoal-node --sentinel` with metrics-port): the
// INFO fields a sentinel has (server, clients, stats, cpu) under the data
// node's names, INFO sentinel as redis_exporter exposes it
// (redis_sentinel_masters, redis_sentinel_master_status{master_name,
// master_address,master_status}, redis_sentinel_master_slaves,
// redis_sentinel_master_sentinels, ...), what the exporter reads from
// SENTINEL MASTERS, REPLICAS, SENTINELS and CKQUORUM under its names
// (redis_sentinel_master_setting_ckquorum is the quorum,
// redis_sentinel_master_ok_sentinels, redis_sentinel_master_config_epoch,
// ...), and, beyond the exporter, shoal_sentinel_master_* for the leader
// epoch, a failover in progress and the failovers and master switches
// this sentinel saw.

// ExposeSentinel turns one scrape of a sentinel into the text exposition.
func ExposeSentinel(sc sentinel.Scrape, now time.Time) []byte {
	e := newExposition()
	e.add(prefix+"up", typeGauge, "Information about the Redis instance", 1)
	exposeInfo(e, sc.Info, now)
	for _, m := range sc.Masters {
		exposeSentinelMaster(e, m)
	}
	return e.Bytes()
}

// exposeSentinelInfo exposes one field of INFO sentinel as the exporter
// does; false for a field it does not know.
func exposeSentinelInfo(e *exposition, key, value string) bool {
	switch key {
	case "sentinel_masters", "sentinel_tilt", "sentinel_running_scripts", "sentinel_scripts_queue_length", "sentinel_simulate_failure_flags":
		v, _ := strconv.ParseFloat(value, 64)
		e.add(prefix+key, typeGauge, key+" metric", v)
		return true
	}
	if n, ok := strings.CutPrefix(key, "master"); !ok || n == "" || strings.Trim(n, "0123456789") != "" {
		return false
	}
	kv := subFields(value)
	replicas, err1 := strconv.ParseFloat(kv["slaves"], 64)
	sentinels, err2 := strconv.ParseFloat(kv["sentinels"], 64)
	if err1 != nil || err2 != nil {
		return false
	}
	status := 0.0
	if kv["status"] == "ok" {
		status = 1
	}
	name, addr := label{"master_name", kv["name"]}, label{"master_address", kv["address"]}
	e.add(prefix+"sentinel_master_status", typeGauge, "Master status on Sentinel", status, name, addr, label{"master_status", kv["status"]})
	e.add(prefix+"sentinel_master_slaves", typeGauge, "The number of slaves of the master", replicas, name, addr)
	e.add(prefix+"sentinel_master_sentinels", typeGauge, "The number of sentinels monitoring this master", sentinels, name, addr)
	return true
}

// exposeSentinelMaster exposes what SENTINEL MASTERS, REPLICAS, SENTINELS
// and CKQUORUM say of one master.
func exposeSentinelMaster(e *exposition, m sentinel.MasterView) {
	l := []label{{"master_name", m.Name}, {"master_address", m.Address}}
	quorum := 0.0
	if m.QuorumOK {
		quorum = 1
	}
	e.add(prefix+"sentinel_master_ckquorum_status", typeGauge, "Master ckquorum status", quorum, label{"master_name", m.Name}, label{"message", m.QuorumMessage})
	gauges := []struct {
		name, help string
		v          float64
	}{
		{"sentinel_master_ok_slaves", "The number of okay slaves of the master", float64(m.OKReplicas)},
		{"sentinel_master_ok_sentinels", "The number of okay sentinels monitoring this master", float64(m.OKSentinels)},
		{"sentinel_master_setting_ckquorum", "Show the current ckquorum config for each master", float64(m.Quorum)},
		{"sentinel_master_setting_failover_timeout", "Show the current failover-timeout config for each master", float64(m.FailoverTimeout.Milliseconds())},
		{"sentinel_master_setting_parallel_syncs", "Show the current parallel-syncs config for each master", float64(m.ParallelSyncs)},
		{"sentinel_master_setting_down_after_milliseconds", "Show the current down-after-milliseconds config for each master", float64(m.DownAfter.Milliseconds())},
		{"sentinel_master_config_epoch", "Get the configuration epoch of the master", float64(m.ConfigEpoch)},
		{"sentinel_master_last_ok_ping_reply_seconds", "The number of seconds since the last successful ping reply", m.LastOKPing.Seconds()},
	}
	for _, g := range gauges {
		e.add(prefix+g.name, typeGauge, g.help, g.v, l...)
	}
	inProgress := 0.0
	if m.FailoverInProgress {
		inProgress = 1
	}
	e.add("shoal_sentinel_master_leader_epoch", typeGauge, "The epoch of this sentinel's last vote for a failover leader of the master", float64(m.LeaderEpoch), l...)
	e.add("shoal_sentinel_master_failover_in_progress", typeGauge, "Whether this sentinel runs a failover of the master", inProgress, l...)
	// The counters are labelled by name only: the master's address
	// changes with every failover they count.
	n := label{"master_name", m.Name}
	e.add("shoal_sentinel_master_failovers_started_total", typeCounter, "Failovers of the master this sentinel tried (+try-failover)", float64(m.FailoversStarted), n)
	e.add("shoal_sentinel_master_failovers_ended_total", typeCounter, "Failovers of the master this sentinel led to the end (+failover-end)", float64(m.FailoversEnded), n)
	e.add("shoal_sentinel_master_switches_total", typeCounter, "Changes of the master's address this sentinel made or learnt (+switch-master)", float64(m.Switches), n)
}

// SentinelEndpoint is a sentinel's metrics HTTP server.
type SentinelEndpoint struct {
	http *http.Server
}

// ListenSentinel serves s's metrics on metrics-port at its bind addresses
// until Close; nil without a metrics-port.
func ListenSentinel(s *sentinel.Sentinel) (*SentinelEndpoint, error) {
	port := s.MetricsPort()
	if port == 0 {
		return nil, nil
	}
	var lns []net.Listener
	for _, b := range s.BindAddresses() {
		ln, err := net.Listen("tcp", net.JoinHostPort(b, strconv.Itoa(port)))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, errors.New("metrics-port: " + err.Error())
		}
		lns = append(lns, ln)
	}
	expose := func() []byte { return ExposeSentinel(s.Scrape(), time.Now()) }
	return &SentinelEndpoint{http: serve(lns, expose)}, nil
}

// Close stops the endpoint.
func (ep *SentinelEndpoint) Close() {
	if ep != nil {
		_ = ep.http.Close()
	}
}
