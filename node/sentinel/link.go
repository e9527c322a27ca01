package sentinel

import (
	"bufio"
	"net"
	"time"

	"github.com/shoal-dev/shoal/node/resp"
)

// link is an instanceLink: the command connection to an instance and, for
// masters and replicas, the pub/sub connection subscribed to the hello
// channel. Commands are written at once and their callbacks run in order
// as replies arrive, under Sentinel.mu, as hiredis's async API does.
type link struct {
	disconnected bool
	// dead is set when the instance is dropped: nothing reconnects it.
	dead bool
	cc   *conn // command connection
	// infoPending is the connection an INFO is waiting on.
	infoPending *conn
	pc          *conn // pub/sub connection (nil for sentinels)

	ccConnTime     time.Time
	pcConnTime     time.Time
	pcLastActivity time.Time
	lastReconnTime time.Time

	actPingTime   time.Time // oldest ping without a reply, zero if none
	lastPingTime  time.Time
	lastPongTime  time.Time
	lastAvailTime time.Time
}

type callback func(rep Reply, err error)

// conn is one TCP connection with its queue of reply callbacks.
type conn struct {
	nc      net.Conn
	pending []callback
	closed  bool
	buf     []byte
}

// send writes a command; cb (nil to discard) gets its reply. The caller
// holds Sentinel.mu.
func (c *conn) send(cb callback, args ...string) bool {
	if c == nil || c.closed {
		return false
	}
	c.buf = resp.AppendCommand(c.buf[:0], args)
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := c.nc.Write(c.buf); err != nil {
		c.nc.Close()
		return false
	}
	c.pending = append(c.pending, cb)
	return true
}

// close ends the connection; the pending callbacks get err (from the
// reader goroutine when it sees the close).
func (c *conn) close() {
	if c != nil && !c.closed {
		c.closed = true
		c.nc.Close()
	}
}

// pendingCommands is link-pending-commands.
func (l *link) pendingCommands() int {
	if l == nil || l.cc == nil {
		return 0
	}
	return len(l.cc.pending)
}

// dialTimeout bounds a connection attempt.
const dialTimeout = 2 * time.Second

// connect dials addr off the lock and, once connected, calls ready under
// the lock with the conn, then reads replies into the callbacks until the
// connection ends, when gone runs (under the lock).
func (s *Sentinel) connect(addr string, ready func(c *conn), onPush func(rep Reply), gone func(c *conn)) {
	go func() {
		nc, err := net.DialTimeout("tcp", addr, dialTimeout)
		if err == nil && s.cfg.TLSReplication {
			nc, err = s.tls.Client(nc, dialTimeout)
		}
		s.mu.Lock()
		if err != nil || s.stopped {
			if nc != nil {
				nc.Close()
			}
			gone(nil)
			s.mu.Unlock()
			return
		}
		c := &conn{nc: nc}
		ready(c)
		s.mu.Unlock()
		br := bufio.NewReaderSize(nc, 16<<10)
		for {
			rep, err := readReply(br)
			s.mu.Lock()
			if err == nil && c.closed {
				err = net.ErrClosed // a reply read before the close is not delivered
			}
			if err != nil {
				c.closed = true
				nc.Close()
				for _, cb := range c.pending {
					if cb != nil {
						cb(Reply{}, err)
					}
				}
				c.pending = nil
				gone(c)
				s.mu.Unlock()
				return
			}
			if len(c.pending) > 0 {
				cb := c.pending[0]
				c.pending = c.pending[1:]
				if cb != nil {
					cb(rep, nil)
				}
			} else if onPush != nil {
				onPush(rep)
			}
			s.mu.Unlock()
		}
	}()
}
