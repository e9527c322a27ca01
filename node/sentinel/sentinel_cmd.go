package sentinel

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/resp"
)

// sentinelSubcommands are the SENTINEL subcommands with their arities as
// Redis 7.0's command table gives them.
var sentinelSubcommands = map[string]int{
	"ckquorum": 3, "config": -3, "get-master-addr-by-name": 3, "help": 2, "info-cache": -3,
	"is-master-down-by-addr": 6, "master": 3, "masters": 2, "monitor": 6, "myid": 2,
	"pending-scripts": 2, "remove": 3, "replicas": 3, "reset": 3, "sentinels": 3, "set": -5,
	"slaves": 3, "flushconfig": 2, "failover": 3,
}

func cmdSentinel(s *Sentinel, c *client, w *resp.Writer, argv []string) bool {
	sub := strings.ToLower(argv[1])
	arity, ok := sentinelSubcommands[sub]
	if !ok {
		w.Error(fmt.Sprintf("ERR unknown subcommand '%s'. Try SENTINEL HELP.", truncate(argv[1], 128)))
		return false
	}
	if !arityOK(arity, len(argv)) {
		w.Error(fmt.Sprintf("ERR wrong number of arguments for 'sentinel|%s' command", sub))
		return false
	}
	now := time.Now()
	masterOrErr := func(name string) *instance {
		m := s.masters[name]
		if m == nil {
			w.Error("ERR No such master with that name")
		}
		return m
	}
	switch sub {
	case "masters":
		ms := s.sortedMasters()
		w.ArrayLen(len(ms))
		for _, m := range ms {
			s.writeInstance(w, m, now)
		}
	case "master":
		if m := masterOrErr(argv[2]); m != nil {
			s.writeInstance(w, m, now)
		}
	case "replicas", "slaves":
		if m := masterOrErr(argv[2]); m != nil {
			rs := sortedInstances(m.replicas)
			w.ArrayLen(len(rs))
			for _, ri := range rs {
				s.writeInstance(w, ri, now)
			}
		}
	case "sentinels":
		if m := masterOrErr(argv[2]); m != nil {
			ss := sortedInstances(m.sentinels)
			w.ArrayLen(len(ss))
			for _, ri := range ss {
				s.writeInstance(w, ri, now)
			}
		}
	case "myid":
		w.BulkString(s.myID)
	case "get-master-addr-by-name":
		m := s.masters[argv[2]]
		if m == nil {
			w.NullArray()
			return false
		}
		a := currentMasterAddr(m)
		w.ArrayLen(2)
		w.BulkString(a.Host)
		w.BulkString(strconv.Itoa(a.Port))
	case "is-master-down-by-addr":
		s.cmdIsMasterDownByAddr(w, argv, now)
	case "failover":
		m := masterOrErr(argv[2])
		if m == nil {
			return false
		}
		if m.flags&flagFailoverInProgress != 0 {
			w.Error("INPROG Failover already in progress")
			return false
		}
		if s.selectReplica(m, now) == nil {
			w.Error("NOGOODSLAVE No suitable replica to promote")
			return false
		}
		s.logf('#', "Executing user requested FAILOVER of '%s'", m.name)
		s.startFailover(m, now)
		m.flags |= flagForceFailover
		w.OK()
	case "reset":
		n := 0
		for _, m := range s.sortedMasters() {
			if command.GlobMatch([]byte(argv[2]), []byte(m.name), false) {
				s.resetMaster(m, false, true)
				n++
			}
		}
		s.dirty = true
		s.flushConfig()
		w.Int(int64(n))
	case "monitor":
		s.cmdMonitor(w, argv)
	case "remove", "flushconfig", "ckquorum", "set":
		s.cmdConfigChange(w, sub, argv, masterOrErr)
	case "config":
		s.cmdConfig(w, argv)
	case "info-cache":
		s.cmdInfoCache(w, argv, now)
	case "pending-scripts":
		w.ArrayLen(0)
	case "help":
		help := []string{
			"SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CKQUORUM <master-name>", "CONFIG SET <param> <value>", "CONFIG GET <param>",
			"FAILOVER <master-name>", "FLUSHCONFIG", "GET-MASTER-ADDR-BY-NAME <master-name>",
			"INFO-CACHE <master-name>", "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
			"MASTER <master-name>", "MASTERS", "MONITOR <name> <ip> <port> <quorum>", "MYID",
			"PENDING-SCRIPTS", "REMOVE <master-name>", "REPLICAS <master-name>",
			"RESET <pattern>", "SENTINELS <master-name>", "SET <master-name> <option> <value> [<option> <value> ...]",
			"HELP",
		}
		w.ArrayLen(len(help))
		for _, h := range help {
			w.SimpleString(h)
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func msSince(now, t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return now.Sub(t).Milliseconds()
}

// writeInstance is addReplySentinelRedisInstance: the fields of an
// instance as a map (RESP3) or a flat array (RESP2).
func (s *Sentinel) writeInstance(w *resp.Writer, ri *instance, now time.Time) {
	type field struct {
		k string
		v any
	}
	l := ri.link
	fs := []field{
		{"name", ri.name}, {"ip", ri.addr.Host}, {"port", int64(ri.addr.Port)},
		{"runid", ri.runID}, {"flags", ri.flagString()},
		{"link-pending-commands", int64(l.pendingCommands())}, {"link-refcount", int64(1)},
	}
	if ri.failoverState != failoverNone {
		fs = append(fs, field{"failover-state", failoverStateNames[ri.failoverState]})
	}
	fs = append(fs, field{"last-ping-sent", msSince(now, l.actPingTime)},
		field{"last-ok-ping-reply", now.Sub(l.lastAvailTime).Milliseconds()},
		field{"last-ping-reply", now.Sub(l.lastPongTime).Milliseconds()})
	if ri.flags&flagSDown != 0 {
		fs = append(fs, field{"s-down-time", now.Sub(ri.sDownSince).Milliseconds()})
	}
	if ri.flags&flagODown != 0 {
		fs = append(fs, field{"o-down-time", now.Sub(ri.oDownSince).Milliseconds()})
	}
	fs = append(fs, field{"down-after-milliseconds", ri.downAfter.Milliseconds()})
	if ri.flags&(flagMaster|flagReplica) != 0 {
		role := "slave"
		if ri.roleReported == flagMaster {
			role = "master"
		}
		fs = append(fs, field{"info-refresh", msSince(now, ri.infoRefresh)},
			field{"role-reported", role}, field{"role-reported-time", now.Sub(ri.roleReportedTime).Milliseconds()})
	}
	if ri.flags&flagMaster != 0 {
		fs = append(fs, field{"config-epoch", int64(ri.configEpoch)}, field{"num-slaves", int64(len(ri.replicas))},
			field{"num-other-sentinels", int64(len(ri.sentinels))}, field{"quorum", int64(ri.quorum)},
			field{"failover-timeout", ri.failoverTO.Milliseconds()}, field{"parallel-syncs", int64(ri.parallelSyncs)})
	}
	if ri.flags&flagReplica != 0 {
		status := "err"
		if ri.masterLinkUp {
			status = "ok"
		}
		host := ri.replMasterHost
		if host == "" {
			host = "?"
		}
		announced := int64(0)
		if ri.replicaAnnounced {
			announced = 1
		}
		fs = append(fs, field{"master-link-down-time", ri.masterLinkDownTime.Milliseconds()},
			field{"master-link-status", status}, field{"master-host", host},
			field{"master-port", int64(ri.replMasterPort)}, field{"slave-priority", int64(ri.replicaPriority)},
			field{"slave-repl-offset", ri.replOffset}, field{"replica-announced", announced})
	}
	if ri.flags&flagSentinel != 0 {
		leader := ri.leader
		if leader == "" {
			leader = "?"
		}
		fs = append(fs, field{"last-hello-message", msSince(now, ri.lastHelloTime)},
			field{"voted-leader", leader}, field{"voted-leader-epoch", int64(ri.leaderEpoch)})
	}
	if w.Proto() == 3 {
		w.MapLen(len(fs))
	} else {
		w.ArrayLen(2 * len(fs))
	}
	for _, f := range fs {
		w.BulkString(f.k)
		switch v := f.v.(type) {
		case string:
			w.BulkString(v)
		case int64:
			w.BulkString(strconv.FormatInt(v, 10))
		}
	}
}

// cmdIsMasterDownByAddr is SENTINEL IS-MASTER-DOWN-BY-ADDR <ip> <port>
// <current-epoch> <runid>: whether we see that master SDOWN and, when
// runid is not "*", our vote for the leader of that epoch.
func (s *Sentinel) cmdIsMasterDownByAddr(w *resp.Writer, argv []string, now time.Time) {
	port, err1 := strconv.ParseInt(argv[3], 10, 64)
	epoch, err2 := strconv.ParseInt(argv[4], 10, 64)
	if err1 != nil || err2 != nil {
		w.Error("ERR value is not an integer or out of range")
		return
	}
	var ri *instance
	for _, m := range s.masters {
		if m.addr.Port == int(port) && strings.EqualFold(m.addr.Host, argv[2]) {
			ri = m
			break
		}
	}
	down := !s.tilt && ri != nil && ri.flags&flagSDown != 0
	leader, leaderEpoch := "", uint64(0)
	if ri != nil && argv[5] != "*" && epoch >= 0 {
		leader, leaderEpoch = s.voteLeader(ri, uint64(epoch), argv[5], now)
	}
	if leader == "" {
		leader = "*"
	}
	w.ArrayLen(3)
	if down {
		w.Int(1)
	} else {
		w.Int(0)
	}
	w.BulkString(leader)
	w.Int(int64(leaderEpoch))
}

func (s *Sentinel) cmdMonitor(w *resp.Writer, argv []string) {
	quorum, err := strconv.ParseInt(argv[5], 10, 64)
	if err != nil {
		w.Error("ERR Invalid quorum")
		return
	}
	port, err := strconv.ParseInt(argv[4], 10, 64)
	if err != nil {
		w.Error("ERR Invalid port")
		return
	}
	if quorum <= 0 {
		w.Error("ERR Quorum must be 1 or greater.")
		return
	}
	addr, err := s.parseAddr(argv[3], "0")
	if err != nil {
		w.Error("ERR Invalid IP address or hostname specified")
		return
	}
	if s.masters[argv[2]] != nil {
		w.Error("ERR Duplicate master name.")
		return
	}
	if port <= 0 || port > 65535 {
		w.Error("ERR Invalid port number")
		return
	}
	addr.Port = int(port)
	m := s.addMaster(argv[2], addr, int(quorum))
	s.dirty = true
	s.flushConfig()
	s.event('#', "+monitor", m, "@ quorum %d", m.quorum)
	w.OK()
}

func (s *Sentinel) cmdConfigChange(w *resp.Writer, sub string, argv []string, masterOrErr func(string) *instance) {
	switch sub {
	case "flushconfig":
		s.dirty = true
		s.flushConfig()
		w.OK()
	case "remove":
		m := masterOrErr(argv[2])
		if m == nil {
			return
		}
		s.event('#', "-monitor", m, "@")
		s.resetMaster(m, false, false)
		m.link.dead = true
		delete(s.masters, m.name)
		s.dirty = true
		s.flushConfig()
		w.OK()
	case "ckquorum":
		m := masterOrErr(argv[2])
		if m == nil {
			return
		}
		if msg, ok := ckQuorum(m); ok {
			w.SimpleString(msg)
		} else {
			w.Error(msg)
		}
	case "set":
		s.cmdSet(w, argv, masterOrErr)
	}
}

// cmdSet is SENTINEL SET <master> <option> <value> [<option> <value> ...].
func (s *Sentinel) cmdSet(w *resp.Writer, argv []string, masterOrErr func(string) *instance) {
	m := masterOrErr(argv[2])
	if m == nil {
		return
	}
	type change struct{ opt, val string }
	var changes []change
	badArg := func(i int) {
		w.Error(fmt.Sprintf("ERR Invalid argument '%s' for SENTINEL SET '%s'", argv[i], argv[i-1]))
	}
	// Validate everything first, then apply, so a bad pair changes nothing.
	for i := 3; i < len(argv); i += 2 {
		opt := strings.ToLower(argv[i])
		if i+1 >= len(argv) {
			w.Error(fmt.Sprintf("ERR Unknown option or number of arguments for SENTINEL SET '%s'", argv[i]))
			return
		}
		val := argv[i+1]
		switch opt {
		case "down-after-milliseconds", "failover-timeout", "parallel-syncs", "quorum":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n <= 0 {
				badArg(i + 1)
				return
			}
		case "master-reboot-down-after-period":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 {
				badArg(i + 1)
				return
			}
		case "auth-pass", "auth-user":
		case "notification-script", "client-reconfig-script":
			w.Error("ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your config file.")
			return
		default:
			w.Error(fmt.Sprintf("ERR Unknown option or number of arguments for SENTINEL SET '%s'", argv[i]))
			return
		}
		changes = append(changes, change{opt, val})
	}
	for _, ch := range changes {
		n, _ := strconv.Atoi(ch.val)
		switch ch.opt {
		case "down-after-milliseconds":
			s.setDownAfter(m, time.Duration(n)*time.Millisecond)
		case "failover-timeout":
			m.failoverTO = time.Duration(n) * time.Millisecond
		case "parallel-syncs":
			m.parallelSyncs = n
		case "quorum":
			m.quorum = n
		case "auth-pass":
			m.authPass = ch.val
		case "auth-user":
			m.authUser = ch.val
		}
		shown := ch.val
		if ch.opt == "auth-pass" {
			shown = "******"
		}
		s.event('#', "+set", m, "@ %s %s", ch.opt, shown)
	}
	s.dirty = true
	s.flushConfig()
	w.OK()
}

// sentinelConfigParams are the parameters of SENTINEL CONFIG GET/SET.
var sentinelConfigParams = []string{"resolve-hostnames", "announce-hostnames", "announce-ip", "announce-port", "sentinel-user", "sentinel-pass"}

func (s *Sentinel) configValue(p string) string {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	switch p {
	case "resolve-hostnames":
		return yes(s.resolveHostnames)
	case "announce-hostnames":
		return yes(s.announceHostnames)
	case "announce-ip":
		return s.announceIP
	case "announce-port":
		return strconv.Itoa(s.announcePort)
	case "sentinel-user":
		return s.sentinelUser
	case "sentinel-pass":
		return s.sentinelPass
	}
	return ""
}

func (s *Sentinel) cmdConfig(w *resp.Writer, argv []string) {
	sub := strings.ToLower(argv[2])
	switch {
	case sub == "get" && len(argv) == 4:
		var out []string
		for _, p := range sentinelConfigParams {
			if command.GlobMatch([]byte(argv[3]), []byte(p), true) {
				out = append(out, p, s.configValue(p))
			}
		}
		if w.Proto() == 3 {
			w.MapLen(len(out) / 2)
		} else {
			w.ArrayLen(len(out))
		}
		for _, v := range out {
			w.BulkString(v)
		}
	case sub == "set" && len(argv) == 5:
		p, v := strings.ToLower(argv[3]), argv[4]
		bad := func() { w.Error(fmt.Sprintf("ERR Invalid value '%s' to SENTINEL CONFIG SET '%s'", v, argv[3])) }
		switch p {
		case "resolve-hostnames", "announce-hostnames":
			b, ok := yesNo(v)
			if !ok {
				bad()
				return
			}
			if p == "resolve-hostnames" {
				s.resolveHostnames = b
			} else {
				s.announceHostnames = b
			}
		case "announce-ip":
			s.announceIP = v
		case "announce-port":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 65535 {
				bad()
				return
			}
			s.announcePort = n
		case "sentinel-user":
			s.sentinelUser = v
		case "sentinel-pass":
			s.sentinelPass = v
		default:
			w.Error(fmt.Sprintf("ERR Invalid argument '%s' to SENTINEL CONFIG SET", argv[3]))
			return
		}
		s.dirty = true
		s.flushConfig()
		w.OK()
	default:
		w.Error("ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.")
	}
}

// cmdInfoCache is SENTINEL INFO-CACHE: the last INFO of each master and
// its replicas with its age in milliseconds.
func (s *Sentinel) cmdInfoCache(w *resp.Writer, argv []string, now time.Time) {
	var ms []*instance
	if len(argv) > 2 {
		seen := map[string]bool{}
		for _, n := range argv[2:] {
			if m := s.masters[n]; m != nil && !seen[n] {
				ms = append(ms, m)
				seen[n] = true
			}
		}
	} else {
		ms = s.sortedMasters()
	}
	w.ArrayLen(2 * len(ms))
	for _, m := range ms {
		w.BulkString(m.name)
		rs := sortedInstances(m.replicas)
		w.ArrayLen(1 + len(rs))
		for _, ri := range append([]*instance{m}, rs...) {
			w.ArrayLen(2)
			w.Int(msSince(now, ri.infoRefresh))
			if ri.info == "" {
				w.Null()
			} else {
				w.BulkString(ri.info)
			}
		}
	}
}

// ckQuorum is SENTINEL CKQUORUM's check (sentinelCheckQuorum): enough
// usable sentinels (not s_down or o_down, this one included) for the
// quorum and for a majority to authorize a failover; the reply's text
// (without the "-" of the error) and whether both hold.
func ckQuorum(m *instance) (string, bool) {
	usable := countUp(m.sentinels) + 1
	voters := len(m.sentinels) + 1
	noQuorum, noAuth := usable < m.quorum, usable < voters/2+1
	if !noQuorum && !noAuth {
		return fmt.Sprintf("OK %d usable Sentinels. Quorum and failover authorization can be reached", usable), true
	}
	e := fmt.Sprintf("NOQUORUM %d usable Sentinels. ", usable)
	if noQuorum {
		e += "Not enough available Sentinels to reach the specified quorum for this master"
	}
	if noAuth {
		if noQuorum {
			e += ". "
		}
		e += "Not enough available Sentinels to reach the majority and authorize a failover"
	}
	return e, false
}
