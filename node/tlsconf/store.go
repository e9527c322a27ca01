package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Store holds the current Material and swaps it when the settings or the
// content of any file they name change. Listeners and dialers read the
// current generation at every handshake, so a rotation takes effect for
// new connections at once and established ones keep theirs.
type Store struct {
	cur atomic.Pointer[Material]

	mu       sync.Mutex // serialises Reload
	settings Settings
	seen     []byte // the bytes of the files the current Material came from
}

// NewStore loads s; it fails as Load does.
func NewStore(s Settings) (*Store, error) {
	m, seen, err := load(s)
	if err != nil {
		return nil, err
	}
	st := &Store{settings: s, seen: seen}
	st.cur.Store(m)
	return st, nil
}

// Current is the Material in use.
func (st *Store) Current() *Material { return st.cur.Load() }

// Reload loads s again when s or any file's content differs from the
// current generation's, and swaps it in. A failed load (a certificate
// rewritten before its key, a file half written) keeps the current
// generation and returns the error; the next Reload tries again.
func (st *Store) Reload(s Settings) (changed bool, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	m, seen, err := load(s)
	if err != nil {
		return false, err
	}
	if s == st.settings && bytes.Equal(seen, st.seen) {
		return false, nil
	}
	st.settings, st.seen = s, seen
	st.cur.Store(m)
	return true, nil
}

// Watch calls Reload with settings() every interval until stop is
// closed; report (may be nil) hears of each swap and each failure.
// Failures are reported once per distinct error, not every interval.
func (st *Store) Watch(stop <-chan struct{}, interval time.Duration, settings func() Settings, report func(changed bool, err error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastErr string
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		changed, err := st.Reload(settings())
		switch {
		case err != nil && err.Error() != lastErr:
			lastErr = err.Error()
			if report != nil {
				report(false, err)
			}
		case err == nil:
			lastErr = ""
			if changed && report != nil {
				report(true, nil)
			}
		}
	}
}

// ServerConfig is a listener's configuration: each handshake uses the
// generation current at that moment.
func (st *Store) ServerConfig() *tls.Config {
	return &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return st.cur.Load().server, nil
	}}
}

// ClientConfig is the configuration of an outgoing connection, from the
// current generation.
func (st *Store) ClientConfig() *tls.Config { return st.cur.Load().clientConfig() }

// Listen wraps ln so that its connections speak TLS.
func (st *Store) Listen(ln net.Listener) net.Listener { return tls.NewListener(ln, st.ServerConfig()) }

// ListenPeers wraps a listener of peers (the cluster bus): as Redis's
// bus, a peer must present a certificate the CA signed, whatever
// tls-auth-clients says.
func (st *Store) ListenPeers(ln net.Listener) net.Listener {
	return tls.NewListener(ln, &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		c := st.cur.Load().server.Clone()
		c.ClientAuth = tls.RequireAndVerifyClientCert
		return c, nil
	}})
}

// Client wraps an established outgoing connection in TLS and completes
// the handshake within timeout (0: no bound).
func (st *Store) Client(conn net.Conn, timeout time.Duration) (net.Conn, error) {
	tc := tls.Client(conn, st.ClientConfig())
	if timeout > 0 {
		_ = tc.SetDeadline(time.Now().Add(timeout))
	}
	if err := tc.Handshake(); err != nil {
		conn.Close()
		return nil, err
	}
	_ = tc.SetDeadline(time.Time{})
	return tc, nil
}

// ClientConfigFromPEM is the configuration of a client of nodes (the
// operator's admin client) from PEM bytes: certPEM/keyPEM its client
// certificate, caPEM the CA the nodes' chains are verified against (not
// their names: nodes are dialled by pod IP).
func ClientConfigFromPEM(certPEM, keyPEM, caPEM []byte) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("tlsconf: no CA certificate")
	}
	m := &Material{clientCert: cert, pool: pool, minVer: tls.VersionTLS12, maxVer: tls.VersionTLS13}
	return m.clientConfig(), nil
}
