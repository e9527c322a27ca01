package sentinel

import (
	"strconv"
	"strings"
	"time"
)

// tick is sentinelTimer's sentinelHandleDictOfRedisInstances: the
// periodic work on every instance, then the switch of masters whose
// failover ended. The caller holds s.mu.
func (s *Sentinel) tick(now time.Time) {
	s.checkTiltCondition(now)
	var switchTo []*instance
	for _, m := range s.sortedMasters() {
		s.handleInstance(m, now)
		for _, ri := range sortedInstances(m.replicas) {
			s.handleInstance(ri, now)
		}
		for _, ri := range sortedInstances(m.sentinels) {
			s.handleInstance(ri, now)
		}
		if m.failoverState == failoverUpdateConfig {
			switchTo = append(switchTo, m)
		}
	}
	for _, m := range switchTo {
		s.switchToPromoted(m)
	}
}

// checkTiltCondition is sentinelCheckTiltCondition: a timer that ran
// late (the process stalled) or a clock that went back makes every
// timeout meaningless, so the sentinel only watches for tiltPeriod.
func (s *Sentinel) checkTiltCondition(now time.Time) {
	if !s.lastTick.IsZero() {
		delta := now.Sub(s.lastTick)
		if delta < 0 || delta > tiltTrigger {
			s.tilt = true
			s.tiltStart = now
			s.event('#', "+tilt", nil, "#tilt mode entered")
		}
	}
	s.lastTick = now
}

// handleInstance is sentinelHandleRedisInstance.
func (s *Sentinel) handleInstance(ri *instance, now time.Time) {
	s.reconnect(ri, now)
	s.sendPeriodicCommands(ri, now)
	// In TILT mode the sentinel keeps monitoring but does not act.
	if s.tilt {
		if now.Sub(s.tiltStart) < tiltPeriod {
			return
		}
		s.tilt = false
		s.event('#', "-tilt", nil, "#tilt mode exited")
	}
	s.checkSubjectivelyDown(ri, now)
	if ri.flags&flagMaster != 0 {
		s.checkObjectivelyDown(ri, now)
		if s.startFailoverIfNeeded(ri, now) {
			s.askMasterStateToOtherSentinels(ri, now, true)
		}
		s.failoverStateMachine(ri, now)
		s.askMasterStateToOtherSentinels(ri, now, false)
	}
}

// authFor is the AUTH a link to ri sends: the master's auth-pass/auth-user
// for data nodes, sentinel-user/sentinel-pass for sentinels.
func (s *Sentinel) authFor(ri *instance) []string {
	user, pass := "", ""
	if ri.flags&flagSentinel != 0 {
		user, pass = s.sentinelUser, s.sentinelPass
	} else {
		m := ri
		if ri.master != nil {
			m = ri.master
		}
		user, pass = m.authUser, m.authPass
	}
	if pass == "" {
		return nil
	}
	if user != "" {
		return []string{"AUTH", user, pass}
	}
	return []string{"AUTH", pass}
}

// reconnect is sentinelReconnectInstance: open the command link (and the
// hello subscription of masters and replicas) at most once per second.
func (s *Sentinel) reconnect(ri *instance, now time.Time) {
	l := ri.link
	wantPC := ri.flags&flagSentinel == 0
	if l.cc != nil && (!wantPC || l.pc != nil) {
		return
	}
	if l.dead || ri.addr.Port == 0 || now.Sub(l.lastReconnTime) < pingPeriod {
		return
	}
	l.lastReconnTime = now
	addr := ri.addr.String()
	short := s.myID[:8]
	if l.cc == nil {
		l.cc = &conn{closed: true} // connecting
		s.connect(addr, func(c *conn) {
			if l.dead {
				c.close()
				return
			}
			l.cc = c
			l.ccConnTime = time.Now()
			if a := s.authFor(ri); a != nil {
				c.send(nil, a...)
			}
			c.send(nil, "CLIENT", "SETNAME", "sentinel-"+short+"-cmd")
			s.sendPing(ri, time.Now())
			s.updateDisconnected(ri)
		}, nil, func(c *conn) {
			if l.cc == c || (c == nil && l.cc != nil && l.cc.nc == nil) {
				l.cc = nil
				l.disconnected = true
			}
		})
	}
	if wantPC && l.pc == nil {
		l.pc = &conn{closed: true}
		s.connect(addr, func(c *conn) {
			if l.dead {
				c.close()
				return
			}
			l.pc = c
			l.pcConnTime = time.Now()
			l.pcLastActivity = l.pcConnTime
			if a := s.authFor(ri); a != nil {
				c.send(nil, a...)
			}
			c.send(nil, "CLIENT", "SETNAME", "sentinel-"+short+"-pubsub")
			c.send(nil, "SUBSCRIBE", helloChannel)
			s.updateDisconnected(ri)
		}, func(rep Reply) {
			l.pcLastActivity = time.Now()
			if len(rep.Array) == 3 && rep.Array[0].Str == "message" && rep.Array[1].Str == helloChannel {
				if !strings.Contains(rep.Array[2].Str, s.myID) {
					s.processHello(rep.Array[2].Str)
				}
			}
		}, func(c *conn) {
			if l.pc == c || (c == nil && l.pc != nil && l.pc.nc == nil) {
				l.pc = nil
				l.disconnected = true
			}
		})
	}
}

// updateDisconnected clears the link's disconnected flag once every
// connection it needs is up.
func (s *Sentinel) updateDisconnected(ri *instance) {
	l := ri.link
	up := func(c *conn) bool { return c != nil && c.nc != nil && !c.closed }
	l.disconnected = !(up(l.cc) && (ri.flags&flagSentinel != 0 || up(l.pc)))
}

// closeConn is instanceLinkCloseConnection.
func (s *Sentinel) closeConn(l *link, c *conn) {
	if c == nil || c.nc == nil {
		return
	}
	c.close()
	if l.cc == c {
		l.cc = nil
	}
	if l.pc == c {
		l.pc = nil
	}
	l.disconnected = true
}

// closeLink closes both connections of a link that is dropped.
func (s *Sentinel) closeLink(l *link) {
	s.closeConn(l, l.cc)
	s.closeConn(l, l.pc)
}

// sendPeriodicCommands sends INFO, PING and the hello as their periods
// say (sentinelSendPeriodicCommands).
func (s *Sentinel) sendPeriodicCommands(ri *instance, now time.Time) {
	l := ri.link
	if l.disconnected || l.cc == nil || l.cc.nc == nil {
		return
	}
	if l.pendingCommands() >= maxPendingCommands {
		return
	}
	period := infoPeriod
	if ri.flags&flagReplica != 0 && (ri.master.flags&(flagODown|flagFailoverInProgress) != 0 || ri.masterLinkDownTime != 0) {
		period = time.Second
	}
	ping := ri.pingPeriodOf()
	// One INFO at a time: on a slow instance the requests would pile up
	// every tick until the first answer.
	if ri.flags&flagSentinel == 0 && l.infoPending != l.cc && (ri.infoRefresh.IsZero() || now.Sub(ri.infoRefresh) > period) {
		c := l.cc
		if c.send(func(rep Reply, err error) {
			if l.infoPending == c {
				l.infoPending = nil
			}
			if err == nil && rep.Type == '$' && !rep.Nil {
				s.refreshInfo(ri, rep.Str, time.Now())
			}
		}, "INFO") {
			l.infoPending = c
		}
	}
	if now.Sub(l.lastPongTime) > ping && now.Sub(l.lastPingTime) > ping/2 {
		s.sendPing(ri, now)
	}
	if now.Sub(ri.lastPubTime) > publishPeriod {
		s.sendHello(ri)
	}
}

// sendPing is sentinelSendPing.
func (s *Sentinel) sendPing(ri *instance, now time.Time) {
	l := ri.link
	ok := l.cc.send(func(rep Reply, err error) {
		if err != nil {
			return
		}
		t := time.Now()
		if rep.Type == '+' && rep.Str == "PONG" || rep.Type == '-' && (strings.HasPrefix(rep.Str, "LOADING") || strings.HasPrefix(rep.Str, "MASTERDOWN")) {
			l.lastAvailTime = t
			l.actPingTime = time.Time{}
		}
		l.lastPongTime = t
	}, "PING")
	if ok {
		l.lastPingTime = now
		if l.actPingTime.IsZero() {
			l.actPingTime = now
		}
	}
}

// currentMasterAddr is sentinelGetCurrentMasterAddress: the promoted
// replica's address once it is the master, during the reconfiguration.
func currentMasterAddr(m *instance) Addr {
	if m.flags&flagFailoverInProgress != 0 && m.promoted != nil && m.failoverState >= failoverReconfReplicas {
		return m.promoted.addr
	}
	return m.addr
}

// helloPayload is the hello message: announce ip, port, myid, current
// epoch, master name, ip, port and config epoch.
func (s *Sentinel) helloPayload(m *instance, c *conn) string {
	ip, port := s.announceAddr(c)
	ma := currentMasterAddr(m)
	return ip + "," + strconv.Itoa(port) + "," + s.myID + "," + strconv.FormatUint(s.currentEpoch, 10) + "," +
		m.name + "," + ma.Host + "," + strconv.Itoa(ma.Port) + "," + strconv.FormatUint(m.configEpoch, 10)
}

// sendHello is sentinelSendHello: PUBLISH the hello to the instance.
func (s *Sentinel) sendHello(ri *instance) {
	l := ri.link
	if l.disconnected || l.cc == nil {
		return
	}
	m := ri
	if ri.master != nil {
		m = ri.master
	}
	l.cc.send(func(rep Reply, err error) {
		if err == nil && rep.Type != '-' {
			ri.lastPubTime = time.Now()
		}
	}, "PUBLISH", helloChannel, s.helloPayload(m, l.cc))
}

// checkSubjectivelyDown is sentinelCheckSubjectivelyDown.
func (s *Sentinel) checkSubjectivelyDown(ri *instance, now time.Time) {
	l := ri.link
	var elapsed time.Duration
	if !l.actPingTime.IsZero() {
		elapsed = now.Sub(l.actPingTime)
	} else if l.disconnected {
		elapsed = now.Sub(l.lastAvailTime)
	}
	// A command link with no answers for half the period is reconnected;
	// so is a pub/sub link that heard nothing for three hello periods.
	if l.cc != nil && l.cc.nc != nil && now.Sub(l.ccConnTime) > minLinkReconnect &&
		!l.actPingTime.IsZero() && now.Sub(l.actPingTime) > ri.downAfter/2 && now.Sub(l.lastPongTime) > ri.downAfter/2 {
		s.closeConn(l, l.cc)
	}
	if l.pc != nil && l.pc.nc != nil && now.Sub(l.pcConnTime) > minLinkReconnect && now.Sub(l.pcLastActivity) > publishPeriod*3 {
		s.closeConn(l, l.pc)
	}
	down := elapsed > ri.downAfter ||
		ri.flags&flagMaster != 0 && ri.roleReported == flagReplica && now.Sub(ri.roleReportedTime) > ri.downAfter+2*infoPeriod
	if down {
		if ri.flags&flagSDown == 0 {
			s.event('#', "+sdown", ri, "@")
			ri.sDownSince = now
			ri.flags |= flagSDown
		}
	} else if ri.flags&flagSDown != 0 {
		s.event('#', "-sdown", ri, "@")
		ri.flags &^= flagSDown
	}
}

// checkObjectivelyDown is sentinelCheckObjectivelyDown: ODOWN when this
// sentinel and enough others (quorum) say the master is down.
func (s *Sentinel) checkObjectivelyDown(m *instance, now time.Time) {
	quorum, odown := 0, false
	if m.flags&flagSDown != 0 {
		quorum = 1
		for _, ri := range m.sentinels {
			if ri.flags&flagMasterDown != 0 {
				quorum++
			}
		}
		odown = quorum >= m.quorum
	}
	if odown {
		if m.flags&flagODown == 0 {
			s.event('#', "+odown", m, "@ #quorum %d/%d", quorum, m.quorum)
			m.flags |= flagODown
			m.oDownSince = now
		}
	} else if m.flags&flagODown != 0 {
		s.event('#', "-odown", m, "@")
		m.flags &^= flagODown
	}
}

// askMasterStateToOtherSentinels sends SENTINEL IS-MASTER-DOWN-BY-ADDR to
// the other sentinels while the master is SDOWN, with our run ID (a vote
// request) once a failover started.
func (s *Sentinel) askMasterStateToOtherSentinels(m *instance, now time.Time, forced bool) {
	for _, ri := range sortedInstances(m.sentinels) {
		if now.Sub(ri.lastMasterDownReplyTime) > askPeriod*5 {
			ri.flags &^= flagMasterDown
			ri.leader = ""
		}
		if m.flags&flagSDown == 0 || ri.link.disconnected || ri.link.cc == nil {
			continue
		}
		if !forced && now.Sub(ri.lastMasterDownReplyTime) < askPeriod {
			continue
		}
		if ri.link.pendingCommands() >= maxPendingCommands {
			continue
		}
		runID := "*"
		if m.failoverState > failoverNone {
			runID = s.myID
		}
		ri := ri
		ri.link.cc.send(func(rep Reply, err error) {
			if err != nil || rep.Type != '*' || len(rep.Array) != 3 || rep.Array[0].Type != ':' ||
				rep.Array[1].Type != '$' || rep.Array[2].Type != ':' {
				return
			}
			ri.lastMasterDownReplyTime = time.Now()
			if rep.Array[0].Int == 1 {
				ri.flags |= flagMasterDown
			} else {
				ri.flags &^= flagMasterDown
			}
			if rep.Array[1].Str != "*" {
				if ri.leaderEpoch != uint64(rep.Array[2].Int) {
					s.logf('*', "%s voted for %s %d", ri.name, rep.Array[1].Str, rep.Array[2].Int)
				}
				ri.leader = rep.Array[1].Str
				ri.leaderEpoch = uint64(rep.Array[2].Int)
			}
		}, "SENTINEL", "is-master-down-by-addr", m.addr.Host, strconv.Itoa(m.addr.Port),
			strconv.FormatUint(s.currentEpoch, 10), runID)
	}
}

// processHello is sentinelProcessHelloMessage: learn a sentinel, a newer
// epoch and a newer configuration of a master from a hello.
func (s *Sentinel) processHello(hello string) {
	tok := strings.Split(hello, ",")
	if len(tok) != 8 {
		return
	}
	port, err1 := strconv.Atoi(tok[1])
	epoch, err2 := strconv.ParseUint(tok[3], 10, 64)
	mport, err3 := strconv.Atoi(tok[6])
	mepoch, err4 := strconv.ParseUint(tok[7], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || len(tok[2]) != runIDLen || port <= 0 || port > 65535 {
		return
	}
	m := s.masters[tok[4]]
	if m == nil {
		return
	}
	ip, runID := tok[0], tok[2]
	if runID == s.myID {
		return
	}
	addr := Addr{Host: ip, Port: port}
	si := m.sentinels[runID]
	if si != nil && !si.addr.equal(addr) {
		// The sentinel moved: drop it and add it back at its new address.
		s.closeLink(si.link)
		si.link.dead = true
		delete(m.sentinels, runID)
		si = s.addSentinel(m, addr, runID)
		s.event('*', "+sentinel-address-switch", m, "@ ip %s port %d for %s", ip, port, runID)
		s.dirty = true
	}
	if si == nil {
		for _, other := range m.sentinels {
			if other.addr.equal(addr) {
				s.event('*', "+sentinel-invalid-addr", other, "@")
				other.addr.Port = 0
				s.closeLink(other.link)
			}
		}
		si = s.addSentinel(m, addr, runID)
		s.event('*', "+sentinel", si, "@")
		s.dirty = true
	}
	if epoch > s.currentEpoch {
		s.currentEpoch = epoch
		s.dirty = true
		s.event('#', "+new-epoch", m, "%d", s.currentEpoch)
	}
	if m.configEpoch < mepoch {
		m.configEpoch = mepoch
		s.dirty = true
		if !m.addr.equal(Addr{Host: tok[5], Port: mport}) {
			s.event('#', "+config-update-from", si, "@")
			s.event('#', "+switch-master", m, "%s %s %d %s %d", m.name, m.addr.Host, m.addr.Port, tok[5], mport)
			m.switches++
			s.resetMasterAndChangeAddress(m, Addr{Host: tok[5], Port: mport})
		}
	}
	si.lastHelloTime = time.Now()
}

// refreshInfo is sentinelRefreshInstanceInfo: parse INFO, discover
// replicas, track roles and move the failover on.
func (s *Sentinel) refreshInfo(ri *instance, info string, now time.Time) {
	ri.info = info
	ri.masterLinkDownTime = 0
	role := 0
	for _, line := range strings.Split(info, "\r\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch {
		case key == "run_id" && len(val) == runIDLen:
			if ri.runID == "" {
				ri.runID = val
			} else if ri.runID != val {
				s.event('*', "+reboot", ri, "@")
				ri.runID = val
			}
		case ri.flags&flagMaster != 0 && strings.HasPrefix(key, "slave") && isDigits(key[5:]):
			if addr, ok := parseReplicaLine(val); ok {
				if ri.replicas[addr.String()] == nil {
					if _, err := s.parseAddr(addr.Host, strconv.Itoa(addr.Port)); err == nil {
						r := s.addReplica(ri, addr)
						s.event('*', "+slave", r, "@")
						s.dirty = true
					}
				}
			}
		case key == "master_link_down_since_seconds":
			if n, err := strconv.ParseInt(val, 10, 64); err == nil && n >= 0 && n < 1<<31 {
				ri.masterLinkDownTime = time.Duration(n) * time.Second
			}
		case key == "role":
			if val == "master" {
				role = flagMaster
			} else if val == "slave" {
				role = flagReplica
			}
		case role == flagReplica && key == "master_host":
			ri.replMasterHost = val
		case role == flagReplica && key == "master_port":
			if n, err := strconv.Atoi(val); err == nil {
				ri.replMasterPort = n
			}
		case role == flagReplica && key == "master_link_status":
			ri.masterLinkUp = val == "up"
		case role == flagReplica && key == "slave_priority":
			if n, err := strconv.Atoi(val); err == nil {
				ri.replicaPriority = n
			}
		case role == flagReplica && key == "slave_repl_offset":
			if n, err := strconv.ParseInt(val, 10, 64); err == nil {
				ri.replOffset = n
			}
		case role == flagReplica && key == "replica_announced":
			ri.replicaAnnounced = val == "1"
		}
	}
	ri.infoRefresh = now
	if role == 0 {
		return
	}
	if role != ri.roleReported {
		ri.roleReportedTime = now
		ri.roleReported = role
		if role == flagReplica {
			ri.replConfChange = now
		}
		typ := "-role-change"
		if ri.flags&(flagMaster|flagReplica) == role {
			typ = "+role-change"
		}
		s.event('v', typ, ri, "@ new reported role is %s", map[int]string{flagMaster: "master", flagReplica: "slave"}[role])
	}
	// Nothing below acts in TILT mode.
	if ri.flags&flagReplica == 0 || s.tilt {
		return
	}
	m := ri.master
	if role == flagMaster {
		if ri.flags&flagPromoted != 0 && m.flags&flagFailoverInProgress != 0 && m.failoverState == failoverWaitPromotion {
			m.configEpoch = m.failoverEpoch
			m.failoverState = failoverReconfReplicas
			m.failoverStateChange = now
			s.dirty = true
			s.flushConfig()
			s.event('#', "+promoted-slave", ri, "@")
			s.event('#', "+failover-state-reconf-slaves", m, "@")
			s.forceHelloUpdate(m)
		} else {
			wait := publishPeriod * 4
			if ri.flags&flagPromoted == 0 && s.masterLooksSane(m, now) && noDownFor(ri, wait, now) && now.Sub(ri.roleReportedTime) > wait {
				if s.sendReplicaOf(ri, &m.addr) {
					s.event('*', "+convert-to-slave", ri, "@")
				}
			}
		}
	}
	if role == flagReplica && (ri.replMasterPort != m.addr.Port || !strings.EqualFold(ri.replMasterHost, m.addr.Host)) {
		wait := m.failoverTO
		if s.masterLooksSane(m, now) && noDownFor(ri, wait, now) && now.Sub(ri.replConfChange) > wait {
			if s.sendReplicaOf(ri, &m.addr) {
				s.event('*', "+fix-slave-config", ri, "@")
			}
		}
	}
	if role == flagReplica && ri.flags&(flagReconfSent|flagReconfInprog) != 0 && m.promoted != nil {
		if ri.flags&flagReconfSent != 0 && ri.replMasterHost != "" &&
			m.promoted.addr.equal(Addr{Host: ri.replMasterHost, Port: ri.replMasterPort}) {
			ri.flags &^= flagReconfSent
			ri.flags |= flagReconfInprog
			s.event('*', "+slave-reconf-inprog", ri, "@")
		}
		if ri.flags&flagReconfInprog != 0 && ri.masterLinkUp {
			ri.flags &^= flagReconfInprog
			ri.flags |= flagReconfDone
			s.event('*', "+slave-reconf-done", ri, "@")
		}
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseReplicaLine reads "ip=...,port=...,state=...,offset=...,lag=..."
// (and the old "<ip>,<port>,<state>") of a master's INFO.
func parseReplicaLine(val string) (Addr, bool) {
	var ip, port string
	if strings.Contains(val, "=") {
		for _, kv := range strings.Split(val, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "ip":
				ip = v
			case "port":
				port = v
			}
		}
	} else if parts := strings.Split(val, ","); len(parts) >= 2 {
		ip, port = parts[0], parts[1]
	}
	p, err := strconv.Atoi(port)
	if ip == "" || err != nil || p <= 0 || p > 65535 {
		return Addr{}, false
	}
	return Addr{Host: ip, Port: p}, true
}

// masterLooksSane is sentinelMasterLooksSane.
func (s *Sentinel) masterLooksSane(m *instance, now time.Time) bool {
	return m.flags&flagMaster != 0 && m.roleReported == flagMaster &&
		m.flags&(flagSDown|flagODown) == 0 && now.Sub(m.infoRefresh) < infoPeriod*2
}

// noDownFor is sentinelRedisInstanceNoDownFor.
func noDownFor(ri *instance, d time.Duration, now time.Time) bool {
	recent := ri.sDownSince
	if ri.oDownSince.After(recent) {
		recent = ri.oDownSince
	}
	return recent.IsZero() || now.Sub(recent) > d
}

// forceHelloUpdate makes the next tick send hellos to the master and its
// replicas (sentinelForceHelloUpdateForMaster).
func (s *Sentinel) forceHelloUpdate(m *instance) {
	m.lastPubTime = time.Time{}
	for _, ri := range m.replicas {
		ri.lastPubTime = time.Time{}
	}
}

// sendReplicaOf is sentinelSendSlaveOf: REPLICAOF in a transaction with
// CONFIG REWRITE and the kill of normal and pub/sub clients, so that
// clients reconnect and find the new configuration. addr nil is NO ONE.
func (s *Sentinel) sendReplicaOf(ri *instance, addr *Addr) bool {
	l := ri.link
	if l.disconnected || l.cc == nil || l.cc.nc == nil {
		return false
	}
	host, port := "NO", "ONE"
	if addr != nil {
		host, port = addr.Host, strconv.Itoa(addr.Port)
	}
	c := l.cc
	ok := c.send(nil, "MULTI") &&
		c.send(nil, "SLAVEOF", host, port) &&
		c.send(nil, "CONFIG", "REWRITE") &&
		c.send(nil, "CLIENT", "KILL", "TYPE", "normal") &&
		c.send(nil, "CLIENT", "KILL", "TYPE", "pubsub") &&
		c.send(nil, "EXEC")
	return ok
}
