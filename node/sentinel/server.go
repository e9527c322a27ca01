package sentinel

import (
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/resp"
	"github.com/shoal-dev/shoal/node/tlsconf"
)

// timerPeriod is how often the sentinel's timer runs (hz 10).
const timerPeriod = 100 * time.Millisecond

// tlsReloadPeriod is how often the TLS files are checked for a rotation.
const tlsReloadPeriod = time.Second

// clientOutQueue bounds the replies and messages waiting for a slow
// client; a subscriber that falls that far behind is disconnected.
const clientOutQueue = 4096

var clientIDs atomic.Int64

// client is one connection to the sentinel.
type client struct {
	id       int64
	nc       net.Conn
	out      chan []byte
	proto    int
	name     string
	authed   bool
	channels map[string]bool
	patterns map[string]bool
	created  time.Time
	closed   bool
}

func (c *client) subscriptions() int { return len(c.channels) + len(c.patterns) }

// enqueue hands bytes to the client's writer; a full queue ends the
// client. Caller holds s.mu.
func (c *client) enqueue(b []byte) {
	if c.closed {
		return
	}
	select {
	case c.out <- b:
	default:
		c.closed = true
		c.nc.Close()
	}
}

// hub is the sentinel's own pub/sub: events and SUBSCRIBE/PSUBSCRIBE.
type hub struct {
	channels map[string]map[*client]bool
	patterns map[string]map[*client]bool
}

func newHub() *hub {
	return &hub{channels: map[string]map[*client]bool{}, patterns: map[string]map[*client]bool{}}
}

// publish sends message to the subscribers of channel and of the patterns
// that match it; it returns how many received it.
func (h *hub) publish(channel, message string) int {
	n := 0
	for c := range h.channels[channel] {
		w := resp.NewWriter(nil)
		if c.proto == 3 {
			w.PushLen(3)
		} else {
			w.ArrayLen(3)
		}
		w.BulkString("message")
		w.BulkString(channel)
		w.BulkString(message)
		c.enqueue(append([]byte(nil), w.Bytes()...))
		n++
	}
	for pat, subs := range h.patterns {
		if !command.GlobMatch([]byte(pat), []byte(channel), false) {
			continue
		}
		for c := range subs {
			w := resp.NewWriter(nil)
			if c.proto == 3 {
				w.PushLen(4)
			} else {
				w.ArrayLen(4)
			}
			w.BulkString("pmessage")
			w.BulkString(pat)
			w.BulkString(channel)
			w.BulkString(message)
			c.enqueue(append([]byte(nil), w.Bytes()...))
			n++
		}
	}
	return n
}

func (h *hub) remove(c *client) {
	for ch := range c.channels {
		delete(h.channels[ch], c)
		if len(h.channels[ch]) == 0 {
			delete(h.channels, ch)
		}
	}
	for p := range c.patterns {
		delete(h.patterns[p], c)
		if len(h.patterns[p]) == 0 {
			delete(h.patterns, p)
		}
	}
}

// Listen opens the client port on the bind addresses (all interfaces when
// none is configured).
func (s *Sentinel) Listen() error {
	binds := s.cfg.Bind
	if len(binds) == 0 {
		binds = []string{""}
	}
	// With a TLS port, port 0 is no plain port (Redis's meaning);
	// without one it is an ephemeral port (tests).
	plain := s.cfg.Port != 0 || s.cfg.TLSPort == 0
	for _, b := range binds {
		b = normalizeBind(b)
		if plain {
			ln, err := net.Listen("tcp", net.JoinHostPort(b, strconv.Itoa(s.cfg.Port)))
			if err != nil {
				s.closeListeners()
				return err
			}
			s.listeners = append(s.listeners, ln)
			if s.cfg.Port == 0 {
				s.cfg.Port = ln.Addr().(*net.TCPAddr).Port
				s.port = s.cfg.Port
			}
		}
		if s.cfg.TLSPort != 0 {
			ln, err := net.Listen("tcp", net.JoinHostPort(b, strconv.Itoa(s.cfg.TLSPort)))
			if err != nil {
				s.closeListeners()
				return err
			}
			s.listeners = append(s.listeners, s.tls.Listen(ln))
		}
	}
	if !plain {
		s.port = s.cfg.TLSPort
	}
	return nil
}

// normalizeBind is a bind address as net.Listen takes it: "-" (optional)
// dropped, "*" and "::*" all interfaces.
func normalizeBind(b string) string {
	b = strings.TrimPrefix(b, "-")
	if b == "*" || b == "::*" {
		return ""
	}
	return b
}

func (s *Sentinel) closeListeners() {
	for _, l := range s.listeners {
		l.Close()
	}
	s.listeners = nil
}

// Addr is the first listening address.
func (s *Sentinel) Addr() net.Addr {
	if len(s.listeners) == 0 {
		return nil
	}
	return s.listeners[0].Addr()
}

// Run serves clients and runs the timer until Stop.
func (s *Sentinel) Run() {
	s.mu.Lock()
	s.logf('*', "Running mode=sentinel, port=%d.", s.port)
	if s.dirty {
		s.flushConfig()
	}
	s.logf('#', "Sentinel ID is %s", s.myID)
	for _, m := range s.sortedMasters() {
		s.event('#', "+monitor", m, "@ quorum %d", m.quorum)
	}
	s.mu.Unlock()
	for _, ln := range s.listeners {
		go s.accept(ln)
	}
	if s.tls != nil {
		// Rotated files (a Secret volume updated by the kubelet) take
		// effect for new connections, as the data node's TLS reload.
		go s.tls.Watch(s.done, tlsReloadPeriod, func() tlsconf.Settings { return s.cfg.TLS }, func(changed bool, err error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if err != nil {
				s.logf('#', "Failed to reload the TLS certificates: %v", err)
			} else if changed {
				s.logf('*', "TLS certificates reloaded")
			}
		})
	}
	t := time.NewTicker(timerPeriod)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			s.mu.Lock()
			if !s.stopped {
				s.tick(now)
				if s.dirty {
					s.flushConfig()
				}
			}
			s.mu.Unlock()
		}
	}
}

// Stop closes the listeners, the clients and the links, after saving the
// state.
func (s *Sentinel) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	s.flushConfig()
	for _, ln := range s.listeners {
		ln.Close()
	}
	for c := range s.clients {
		c.closed = true
		c.nc.Close()
	}
	for _, m := range s.masters {
		s.closeLink(m.link)
		for _, ri := range m.replicas {
			s.closeLink(ri.link)
		}
		for _, ri := range m.sentinels {
			s.closeLink(ri.link)
		}
	}
	close(s.done)
}

// Done is closed when the sentinel stopped (SHUTDOWN or Stop).
func (s *Sentinel) Done() <-chan struct{} { return s.done }

func (s *Sentinel) accept(ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c := &client{id: clientIDs.Add(1), nc: nc, out: make(chan []byte, clientOutQueue), proto: 2,
			channels: map[string]bool{}, patterns: map[string]bool{}, created: time.Now()}
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			nc.Close()
			return
		}
		c.authed = s.cfg.RequirePass == ""
		s.clients[c] = struct{}{}
		s.connections++
		s.mu.Unlock()
		go s.writeLoop(c)
		go s.serve(c)
	}
}

func (s *Sentinel) writeLoop(c *client) {
	for b := range c.out {
		_ = c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.nc.Write(b); err != nil {
			c.nc.Close()
		}
	}
	c.nc.Close()
}

func (s *Sentinel) serve(c *client) {
	r := resp.NewReader(c.nc)
	w := resp.NewWriter(nil)
	defer func() {
		s.mu.Lock()
		s.pubsub.remove(c)
		delete(s.clients, c)
		c.closed = true
		close(c.out) // the writer sends what is queued, then closes
		s.mu.Unlock()
	}()
	for {
		args, err := r.ReadCommand()
		if err != nil {
			if pe, ok := err.(*resp.ProtocolError); ok {
				w.Error("ERR " + pe.Msg)
				s.mu.Lock()
				c.enqueue(append([]byte(nil), w.Bytes()...))
				s.mu.Unlock()
			}
			return
		}
		argv := make([]string, len(args))
		for i, a := range args {
			argv[i] = string(a)
		}
		w.Truncate(0)
		s.mu.Lock()
		if c.closed {
			s.mu.Unlock()
			return
		}
		w.SetProto(c.proto)
		quit := s.dispatch(c, w, argv)
		c.enqueue(append([]byte(nil), w.Bytes()...))
		s.mu.Unlock()
		if quit {
			return
		}
	}
}
