package replication

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/resp"
	"github.com/shoal-dev/shoal/node/server"
)

// handlers are the replication commands.
func (rs *replState) handlers() map[string]server.Handler {
	return map[string]server.Handler{
		"psync":     rs.cmdPsync,
		"sync":      rs.cmdPsync,
		"replconf":  rs.cmdReplconf,
		"wait":      rs.cmdWait,
		"replicaof": rs.cmdReplicaof,
		"slaveof":   rs.cmdReplicaof,
		"role":      rs.cmdRole,
	}
}

// rs.cmdReplconf is REPLCONF option value ... (listening-port, ip-address,
// capa, ACK, GETACK).
func (rs *replState) cmdReplconf(c *server.Client) {
	args := c.Args[1:]
	if len(args)%2 != 0 {
		c.Error(command.ErrSyntax)
		return
	}
	for i := 0; i < len(args); i += 2 {
		v := string(args[i+1])
		switch {
		case command.EqFold(args[i], "listening-port"):
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 65535 {
				c.Error("ERR value is out of range")
				return
			}
			a := rs.announced[c.ID]
			a.port = n
			rs.announced[c.ID] = a
		case command.EqFold(args[i], "ack"):
			// From a replica: no reply.
			r := rs.replicaOfClient(c)
			off, err := strconv.ParseInt(v, 10, 64)
			if r == nil || err != nil {
				return
			}
			if off > r.ackOffset {
				r.ackOffset = off
			}
			r.ackTime = time.Now()
			rs.signalWaiters()
			return
		case command.EqFold(args[i], "getack"):
			// Answered by the replica's link (replica.go) when it
			// comes from the master.
			return
		case command.EqFold(args[i], "ip-address"):
			a := rs.announced[c.ID]
			a.ip = v
			rs.announced[c.ID] = a
		case command.EqFold(args[i], "capa"):
			a := rs.announced[c.ID]
			a.capaEOF = a.capaEOF || v == "eof"
			a.capaStream = a.capaStream || v == replCapaStream
			rs.announced[c.ID] = a
		case command.EqFold(args[i], "rdb-only"),
			command.EqFold(args[i], "rdb-filter-only"):
		default:
			c.Error("ERR Unrecognized REPLCONF option: " + string(args[i]))
			return
		}
	}
	c.W.OK()
}

// signalWaiters wakes the clients blocked in WAIT to count the acks again.
func (rs *replState) signalWaiters() {
	s := rs.s
	for _, w := range rs.waits {
		s.SignalReady(w.db, []byte(waitKey))
	}
}

// ackedReplicas counts the replicas that acknowledged offset.
func (rs *replState) ackedReplicas(offset int64) int {
	n := 0
	for _, r := range rs.replicas {
		if r.state == "online" && r.ackOffset >= offset {
			n++
		}
	}
	return n
}

// rs.cmdWait is WAIT numreplicas timeout: block until that many replicas
// acknowledged every write made so far, or the timeout (milliseconds, 0
// forever) passes; reply how many did.
func (rs *replState) cmdWait(c *server.Client) {
	if rs.isReplica() {
		c.Error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	want, ok := c.ParseInt(c.Args[1])
	if !ok {
		return
	}
	timeout, ok := c.ParseTimeoutMillis(c.Args[2])
	if !ok {
		return
	}
	w, waiting := rs.waits[c]
	if !c.Reexecuted() || !waiting {
		w = waitTarget{offset: rs.ids.Offset, db: c.DB.ID}
	}
	if n := rs.ackedReplicas(w.offset); int64(n) >= want || c.InExec() {
		delete(rs.waits, c)
		c.W.Int(int64(n))
		return
	}
	if !c.Reexecuted() {
		rs.waits[c] = w
		// Ask the replicas for an ACK now rather than within a second.
		rs.feedReplicas(resp.AppendCommand(nil, [][]byte{[]byte("REPLCONF"), []byte("GETACK"), []byte("*")}))
	}
	c.BlockOnKeys([][]byte{[]byte(waitKey)}, timeout, func(x *command.Ctx) {
		n := rs.ackedReplicas(w.offset)
		delete(rs.waits, c) // x is c's
		x.W.Int(int64(n))
	})
}

// rs.cmdReplicaof is REPLICAOF host port | NO ONE (and SLAVEOF).
func (rs *replState) cmdReplicaof(c *server.Client) {
	s := rs.s
	if s.Config().ClusterEnabled {
		c.Error("ERR REPLICAOF not allowed in cluster mode.")
		return
	}
	if command.EqFold(c.Args[1], "no") && command.EqFold(c.Args[2], "one") {
		if rs.isReplica() {
			rs.promote()
			s.Logf("MASTER MODE enabled (user request from '%s')", c.Addr())
		}
		c.W.OK()
		return
	}
	port, err := strconv.Atoi(string(c.Args[2]))
	if err != nil || port < 0 || port > 65535 {
		c.Error("ERR Invalid master port")
		return
	}
	host := string(c.Args[1])
	if l := rs.link; l != nil && l.host == host && l.port == port {
		c.W.SimpleString("OK Already connected to specified master")
		return
	}
	rs.replicaOf(host, port)
	s.Logf("REPLICAOF %s:%d enabled (user request from '%s')", host, port, c.Addr())
	c.W.OK()
}

// rs.cmdRole is ROLE: ["master", offset, [[ip, port, offset]...]] or
// ["slave", host, port, state, offset].
func (rs *replState) cmdRole(c *server.Client) {
	if l := rs.link; l != nil {
		c.W.ArrayLen(5)
		c.W.BulkString("slave")
		c.W.BulkString(l.host)
		c.W.Int(int64(l.port))
		c.W.BulkString(l.state)
		c.W.Int(rs.ids.Offset)
		return
	}
	c.W.ArrayLen(3)
	c.W.BulkString("master")
	c.W.Int(rs.ids.Offset)
	n := 0
	for _, r := range rs.replicas {
		if r.state == "online" {
			n++
		}
	}
	c.W.ArrayLen(n)
	for _, r := range rs.replicas {
		if r.state != "online" {
			continue
		}
		c.W.ArrayLen(3)
		c.W.BulkString(r.ip)
		c.W.BulkString(strconv.Itoa(r.port))
		c.W.BulkString(strconv.FormatInt(r.ackOffset, 10))
	}
}

// replRefuses is the dispatch check of replication (lock held): writes to
// a read-only replica, stale reads, and min-replicas-to-write.
func (rs *replState) replRefuses(c *server.Client, spec *command.Spec) string {
	s := rs.s
	if l := rs.link; l != nil {
		if l.state != "connected" && !s.Config().Repl.ServeStaleData && !spec.Is(command.Stale) {
			return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
		}
		if spec.Is(command.Write) && s.Config().Repl.ReadOnly {
			return "READONLY You can't write against a read only replica."
		}
		return ""
	}
	if spec.Is(command.Write) && s.Config().Repl.MinReplicasToWrite > 0 && rs.goodReplicas() < s.Config().Repl.MinReplicasToWrite {
		return "NOREPLICAS Not enough good replicas to write."
	}
	return ""
}

// goodReplicas counts online replicas whose last ACK is at most
// min-replicas-max-lag seconds old.
func (rs *replState) goodReplicas() int {
	s := rs.s
	n := 0
	maxLag := time.Duration(s.Config().Repl.MinReplicasMaxLag) * time.Second
	now := time.Now()
	for _, r := range rs.replicas {
		if r.state == "online" && now.Sub(r.ackTime) <= maxLag {
			n++
		}
	}
	return n
}

// replCron drops replicas whose connection is gone or timed out, forgets
// state of gone clients, resizes the backlog and pings the replicas.
func (rs *replState) replCron(now time.Time) {
	s := rs.s
	timeout := time.Duration(s.Config().Repl.Timeout) * time.Second
	for _, r := range append([]*replica(nil), rs.replicas...) {
		if !s.Connected(r.c.ID) {
			rs.dropReplica(r)
		} else if r.state == "online" && now.Sub(r.ackTime) > timeout {
			s.Logf("Disconnecting timedout replica (streaming sync): %s", r.c.Addr())
			rs.dropReplica(r)
		}
	}
	for id := range rs.announced {
		if !s.Connected(id) {
			delete(rs.announced, id)
		}
	}
	for c := range rs.waits {
		if !s.Connected(c.ID) || !c.Blocked() {
			delete(rs.waits, c)
		}
	}
	rs.freeIdleBacklog(now)
	rs.updateFailover(now)
	if b := rs.backlog; b != nil && int64(b.Size()) != s.Config().Repl.BacklogSize && s.Config().Repl.BacklogSize > 0 {
		b.Resize(int(s.Config().Repl.BacklogSize))
	}
	// No PING while writes are paused (CLIENT PAUSE, a manual failover):
	// the offset a replica must reach would move, as Redis avoids.
	paused := s.WritesPaused(now)
	if rs.link == nil && len(rs.replicas) > 0 && !paused &&
		now.Sub(rs.lastPing) >= time.Duration(s.Config().Repl.PingPeriod)*time.Second {
		rs.lastPing = now
		rs.feedReplicas(resp.AppendCommand(nil, [][]byte{[]byte("PING")}))
	}
}

// infoReplication is INFO
func (rs *replState) infoReplication(b *strings.Builder) {
	s := rs.s
	now := time.Now()
	if l := rs.link; l != nil {
		fmt.Fprintf(b, "role:slave\r\nmaster_host:%s\r\nmaster_port:%d\r\n", l.host, l.port)
		up := l.state == "connected"
		status := "down"
		if up {
			status = "up"
		}
		lastIO := -1
		if !l.lastIO.IsZero() {
			lastIO = int(now.Sub(l.lastIO).Seconds())
		}
		fmt.Fprintf(b, "master_link_status:%s\r\nmaster_last_io_seconds_ago:%d\r\nmaster_sync_in_progress:%d\r\n",
			status, lastIO, boolInt(l.state == "sync"))
		fmt.Fprintf(b, "slave_read_repl_offset:%d\r\nslave_repl_offset:%d\r\n", rs.ids.Offset, rs.ids.Offset)
		if l.state == "sync" {
			fmt.Fprintf(b, "master_sync_total_bytes:%d\r\nmaster_sync_read_bytes:%d\r\nmaster_sync_left_bytes:%d\r\nmaster_sync_perc:0.00\r\nmaster_sync_last_io_seconds_ago:%d\r\n",
				l.syncTotal, l.syncRead, l.syncTotal-l.syncRead, max(lastIO, 0))
		}
		if !up {
			since := int64(-1)
			if !l.downSince.IsZero() {
				since = int64(now.Sub(l.downSince).Seconds())
			}
			fmt.Fprintf(b, "master_link_down_since_seconds:%d\r\n", since)
		}
		fmt.Fprintf(b, "slave_priority:%d\r\nslave_read_only:%d\r\nreplica_announced:%d\r\n",
			s.Config().Repl.Priority, boolInt(s.Config().Repl.ReadOnly), boolInt(s.Config().Repl.Announced))
	} else {
		b.WriteString("role:master\r\n")
	}
	fmt.Fprintf(b, "connected_slaves:%d\r\n", len(rs.replicas))
	if rs.link == nil && s.Config().Repl.MinReplicasToWrite > 0 {
		fmt.Fprintf(b, "min_slaves_good_slaves:%d\r\n", rs.goodReplicas())
	}
	for i, r := range rs.replicas {
		fmt.Fprintf(b, "slave%d:ip=%s,port=%d,state=%s,offset=%d,lag=%d\r\n",
			i, r.ip, r.port, r.state, r.ackOffset, int64(now.Sub(r.ackTime).Seconds()))
	}
	fmt.Fprintf(b, "master_failover_state:%s\r\nmaster_replid:%s\r\nmaster_replid2:%s\r\nmaster_repl_offset:%d\r\nsecond_repl_offset:%d\r\n",
		rs.fo.phase.name(), rs.ids.ID, rs.ids.ID2, rs.ids.Offset, rs.ids.SecondOffset)
	if bl := rs.backlog; bl != nil {
		fmt.Fprintf(b, "repl_backlog_active:1\r\nrepl_backlog_size:%d\r\nrepl_backlog_first_byte_offset:%d\r\nrepl_backlog_histlen:%d\r\n",
			bl.Size(), bl.FirstByteOffset(), bl.HistLen())
	} else {
		fmt.Fprintf(b, "repl_backlog_active:0\r\nrepl_backlog_size:%d\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n", s.Config().Repl.BacklogSize)
	}
}
