package clusternode

import (
	"bufio"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
	"github.com/shoal-dev/shoal/node/cluster"
)

// The cluster bus transport: listeners on the bus port, outbound links the
// machine asks to Dial, inbound links it is told about through Step. Each
// link has a reader goroutine (bus.ReadFrame + bus.Decode outside the lock,
// then Step under it) and a writer goroutine that drains the link's queue,
// so the server lock is never held across a socket write.

const (
	// busQueueLen bounds the frames waiting on one link; a link that
	// falls that far behind is dropped (and reconnected by the machine).
	busQueueLen = 4096
	// busReadBuffer is the reader's buffer: a PING with gossip is ~2-3 KB.
	busReadBuffer = 64 << 10
)

// busState is the transport's state, guarded by the server lock.
type busState struct {
	listeners []net.Listener
	links     map[cluster.LinkID]*busLink
	lastIn    cluster.LinkID // the last inbound ID handed out (negative)
	down      []cluster.LinkID
	closed    bool
	// bufLimitExceeded counts links dropped for cluster-link-sendbuf-limit
	// (cluster_stats_..._links_buffer_limit_exceeded in CLUSTER INFO).
	bufLimitExceeded uint64
	// scratch is where sendAll encodes; each frame is then copied out at
	// its exact size (a ping carries the 2 KB slot bitmap: encoding into
	// a new slice grew it several times, most of a node's garbage while
	// slots move).
	scratch []byte
}

func (b *busState) init() { b.links = map[cluster.LinkID]*busLink{} }

// busLink is one cluster bus connection.
type busLink struct {
	id      cluster.LinkID
	conn    net.Conn // nil while an outbound link is being dialed
	out     chan []byte
	queued  atomic.Int64 // bytes waiting in out
	created time.Time
	gone    bool // removed from the table: its goroutines only clean up
}

func (l *busLink) inbound() bool { return l.id.Inbound() }

func newBusLink(id cluster.LinkID) *busLink {
	return &busLink{id: id, out: make(chan []byte, busQueueLen), created: time.Now()}
}

// listen opens the bus port on the addresses clients are served on.
func (cn *clusterNode) listen() error {
	s := cn.s
	port := strconv.Itoa(s.Config().BusPort())
	for _, addr := range s.BindAddrs() {
		optional := strings.HasPrefix(addr, "-")
		host := strings.TrimPrefix(addr, "-")
		switch host {
		case "*":
			host = "0.0.0.0"
		case "::*":
			host = "::"
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			if optional {
				continue
			}
			cn.closeListeners()
			return err
		}
		cn.bus.listeners = append(cn.bus.listeners, cn.busListener(ln))
	}
	if len(cn.bus.listeners) == 0 {
		return errors.New("could not listen on the cluster bus port " + port)
	}
	return nil
}

func (cn *clusterNode) closeListeners() {
	for _, ln := range cn.bus.listeners {
		ln.Close()
	}
}

// start runs the accept loops and the cron, once the data is loaded.
func (cn *clusterNode) start() {
	s := cn.s
	s.Lock()
	cn.verifyConfigWithData()
	s.Unlock()
	for _, ln := range cn.bus.listeners {
		s.Go(func() { cn.acceptLoop(ln) })
	}
	s.Go(cn.tickLoop)
	cn.startConfSaver()
}

func (cn *clusterNode) acceptLoop(ln net.Listener) {
	s := cn.s
	for {
		conn, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-s.Closing():
				return
			default:
			}
			if !(errors.As(err, &ne) && ne.Timeout()) {
				s.Logf("cluster bus accept: %v", err)
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		cn.addInbound(conn)
	}
}

// addInbound registers an accepted connection under a new negative ID.
func (cn *clusterNode) addInbound(conn net.Conn) {
	s := cn.s
	setNoDelay(conn)
	s.Lock()
	defer s.Unlock()
	if cn.bus.closed {
		conn.Close()
		return
	}
	cn.bus.lastIn--
	l := newBusLink(cn.bus.lastIn)
	l.conn = conn
	cn.bus.links[l.id] = l
	cn.startLinkIO(l)
}

func setNoDelay(conn net.Conn) {
	if tc, ok := netConn(conn).(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
}

// startLinkIO starts the reader and writer of a connected link. Called
// with the lock held.
func (cn *clusterNode) startLinkIO(l *busLink) {
	conn := l.conn
	cn.s.Go(func() { cn.writeLink(l, conn) })
	cn.s.Go(func() { cn.readLink(l, conn) })
}

// dial opens outbound link d (Ready.Dials): the connection is made by a
// goroutine; messages queue meanwhile. Called with the lock held.
func (cn *clusterNode) dial(d cluster.Dial) {
	s := cn.s
	if cn.bus.closed {
		cn.bus.down = append(cn.bus.down, d.Link)
		return
	}
	l := newBusLink(d.Link)
	cn.bus.links[d.Link] = l
	timeout := max(nodeTimeout(s.Config()), time.Second)
	s.Go(func() {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(d.IP, strconv.Itoa(d.Port)), timeout)
		if err != nil && d.Hostname != "" {
			// A whole cluster restarted on new IPs: the saved IPs are
			// stale, the announced hostname finds the node again.
			conn, err = net.DialTimeout("tcp", net.JoinHostPort(d.Hostname, strconv.Itoa(d.Port)), timeout)
		}
		if err == nil {
			conn, err = cn.busClient(conn, timeout)
		}
		s.Lock()
		defer s.Unlock()
		if l.gone {
			if conn != nil {
				conn.Close()
			}
			return
		}
		if err != nil {
			cn.dropLink(l)
			cn.apply(cluster.Ready{})
			return
		}
		setNoDelay(conn)
		l.conn = conn
		cn.startLinkIO(l)
	})
}

// closeLink closes a link the machine gave up (Ready.Closes).
func (cn *clusterNode) closeLink(id cluster.LinkID) {
	if l := cn.bus.links[id]; l != nil {
		cn.removeLink(l)
	}
}

// removeLink takes a link out of the table and closes it. Called with the
// lock held.
func (cn *clusterNode) removeLink(l *busLink) {
	if l.gone {
		return
	}
	l.gone = true
	delete(cn.bus.links, l.id)
	close(l.out)
	if l.conn != nil {
		l.conn.Close()
	}
}

// dropLink closes a link that failed and reports it to the machine once
// the current Ready is carried out. Called with the lock held.
func (cn *clusterNode) dropLink(l *busLink) {
	if l.gone {
		return
	}
	cn.removeLink(l)
	cn.bus.down = append(cn.bus.down, l.id)
}

// maxKeptScratch is the most room sendAll's scratch keeps.
const maxKeptScratch = 1 << 20

// sendAll queues the messages of a Ready, encoding each message once.
func (cn *clusterNode) sendAll(envs []cluster.Envelope) {
	var lastMsg *bus.Message
	var frame []byte
	for _, e := range envs {
		if e.Msg != lastMsg {
			b, err := bus.Encode(cn.bus.scratch[:0], e.Msg)
			if err != nil {
				cn.logf(cluster.LogWarning, "cluster bus: can't encode %s: %v", e.Msg.Type, err)
				continue
			}
			if cap(b) <= maxKeptScratch { // a big PUBLISH's room is not kept
				cn.bus.scratch = b
			}
			lastMsg, frame = e.Msg, append([]byte(nil), b...)
		}
		cn.send(e.Link, frame)
	}
}

// send queues one frame on a link; a link whose queue is full, or over
// cluster-link-sendbuf-limit, is dropped as Redis frees it.
func (cn *clusterNode) send(id cluster.LinkID, frame []byte) {
	l := cn.bus.links[id]
	if l == nil {
		return
	}
	limit := cn.s.Config().Cluster.LinkSendbufLimit
	if limit > 0 && l.queued.Load()+int64(len(frame)) > limit {
		cn.bus.bufLimitExceeded++
		cn.dropLink(l)
		return
	}
	select {
	case l.out <- frame:
		l.queued.Add(int64(len(frame)))
	default:
		cn.dropLink(l)
	}
}

// writeLink drains a link's queue into its connection, batching what is
// queued into one write.
func (cn *clusterNode) writeLink(l *busLink, conn net.Conn) {
	timeout := max(nodeTimeout(cn.s.Config()), time.Second)
	var buf []byte
	failed := false
	for frame := range l.out {
		buf = append(buf[:0], frame...)
	batch:
		for len(buf) < 256<<10 {
			select {
			case f, ok := <-l.out:
				if !ok {
					break batch
				}
				buf = append(buf, f...)
			default:
				break batch
			}
		}
		l.queued.Add(-int64(len(buf)))
		if failed {
			continue
		}
		_ = conn.SetWriteDeadline(time.Now().Add(timeout))
		if _, err := conn.Write(buf); err != nil {
			failed = true
			conn.Close() // the reader reports the link down
		}
		if cap(buf) > 1<<20 {
			buf = nil
		}
	}
}

// busStepWait is how long a bus message waits for a busy event loop to
// step the machine with it at the end of its pass (server.RunLocked)
// before its reader queues on the lock.
const busStepWait = 20 * time.Millisecond

// readLink reads frames until the connection fails, stepping the machine
// with each message.
func (cn *clusterNode) readLink(l *busLink, conn net.Conn) {
	s := cn.s
	remoteIP, localIP := hostIP(conn.RemoteAddr()), hostIP(conn.LocalAddr())
	br := bufio.NewReaderSize(conn, busReadBuffer)
	var buf []byte
	for {
		frame, err := bus.ReadFrame(br, buf, 0)
		if err != nil {
			if errors.Is(err, bus.ErrMalformed) {
				cn.logLocked(cluster.LogWarning, "cluster bus: dropping link to %s: %v", remoteIP, err)
			}
			break
		}
		msg, err := bus.Decode(frame)
		if err != nil {
			cn.logLocked(cluster.LogWarning, "cluster bus: dropping link to %s: %v", remoteIP, err)
			break
		}
		if cap(frame) <= 1<<20 {
			buf = frame[:0]
		} else {
			buf = nil
		}
		gone := false
		s.RunLocked(func() {
			if gone = l.gone; !gone {
				cn.apply(cn.m.Step(time.Now(), cluster.Inbound{Link: l.id, RemoteIP: remoteIP, LocalIP: localIP, Msg: msg}))
			}
		}, busStepWait)
		if gone {
			return
		}
	}
	s.Lock()
	if !l.gone {
		cn.dropLink(l)
		cn.apply(cluster.Ready{})
	}
	s.Unlock()
}

func (cn *clusterNode) logLocked(level cluster.LogLevel, format string, args ...any) {
	cn.s.Lock()
	cn.logf(level, format, args...)
	cn.s.Unlock()
}

// hostIP is the IP of a TCP address as the bus writes it (IPv4-mapped
// addresses unmapped).
func hostIP(a net.Addr) string {
	if a == nil {
		return ""
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return ""
	}
	return ap.Addr().Unmap().WithZone("").String()
}

// closeBus closes the listeners and every link. Called with the lock held.
func (cn *clusterNode) closeBus() {
	cn.bus.closed = true
	cn.closeListeners()
	for _, l := range cn.bus.links {
		cn.removeLink(l)
	}
	cn.bus.down = nil
}

// linkInfo is a row of CLUSTER LINKS.
type linkInfo struct {
	to      bool
	node    string
	created time.Time
	queued  int64
}

// links lists the links whose node is known, outbound first.
func (cn *clusterNode) links() []linkInfo {
	var out []linkInfo
	for _, l := range cn.bus.links {
		id, ok := cn.m.LinkNode(l.id)
		if !ok || l.conn == nil {
			continue
		}
		out = append(out, linkInfo{to: !l.inbound(), node: id, created: l.created, queued: l.queued.Load()})
	}
	return out
}
