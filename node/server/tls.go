package server

import (
	"crypto/tls"
	"net"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/node/tlsconf"
)

// tlsReloadInterval is how often the TLS files are read again: a
// rotated certificate is served within this long, without a restart.
const tlsReloadInterval = time.Second

// tlsState is the server's TLS material, loaded on first use (the TLS
// listener, a replica's or a bus link's dial) and then watched.
type tlsState struct {
	mu    sync.Mutex
	store *tlsconf.Store
}

// TLS returns the TLS material of the configuration, loading it and
// starting its watcher on the first call; it fails as Redis's
// tlsConfigure does when the files do not load. The lock must not be
// held.
func (s *Server) TLS() (*tlsconf.Store, error) {
	if st := s.TLSLoaded(); st != nil {
		return st, nil
	}
	settings := s.tlsSettings() // s.mu before tls.mu never nests: TLSLoaded runs under s.mu
	s.tls.mu.Lock()
	defer s.tls.mu.Unlock()
	if s.tls.store != nil {
		return s.tls.store, nil
	}
	st, err := tlsconf.NewStore(settings)
	if err != nil {
		return nil, err
	}
	s.tls.store = st
	go st.Watch(s.closing, tlsReloadInterval, s.tlsSettings, func(changed bool, err error) {
		if err != nil {
			s.log.Printf("TLS: keeping the current certificates: %v", err)
			return
		}
		s.log.Printf("TLS: certificates reloaded")
	})
	return st, nil
}

// tlsSettings reads the tls-* settings under the lock.
func (s *Server) tlsSettings() tlsconf.Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.TLS.Settings
}

// listenTLS opens the TLS listeners on tls-port at the bind addresses
// (called from Listen). Their connections are *tls.Conn, which the event
// loops cannot take (they serve raw non-blocking sockets), so each is
// served by a goroutine of its own (acceptToLoop falls back to it).
func (s *Server) listenTLS() error {
	if s.cfg.TLS.Port == 0 {
		return nil
	}
	st, err := s.TLS()
	if err != nil {
		return err
	}
	lns, err := s.listenBind(s.cfg.TLS.Port)
	if err != nil {
		return err
	}
	for _, ln := range lns {
		s.listeners = append(s.listeners, st.Listen(ln))
	}
	return nil
}

// bindHost is a bind address as net.Listen takes it.
func bindHost(addr string) string {
	switch addr {
	case "*":
		return "0.0.0.0"
	case "::*":
		return "::"
	}
	return addr
}

// netConn is the TCP connection under a TLS one (keep-alive and no-delay
// are set on it).
func netConn(conn net.Conn) net.Conn {
	if tc, ok := conn.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return conn
}

// TLSLoaded is the TLS material if it was loaded (nil otherwise); it
// may be called with the lock held.
func (s *Server) TLSLoaded() *tlsconf.Store {
	s.tls.mu.Lock()
	defer s.tls.mu.Unlock()
	return s.tls.store
}
