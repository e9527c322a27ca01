package clusternode

import (
	"crypto/tls"
	"github.com/shoal-dev/shoal/node/server"
	"github.com/shoal-dev/shoal/node/tlsconf"
	"net"
	"time"
)

// The cluster bus over TLS (tls-cluster yes): listeners require a peer
// certificate signed by the CA (as Redis's bus, whatever
// tls-auth-clients says), outbound links present the node's client
// certificate and verify the peer's chain. The material is the server's
// (Server.TLS), reloaded when its files change: established links keep
// their session, new ones use the new certificates.

// busListener wraps a bus listener in TLS when tls-cluster is on.
func (cn *clusterNode) busListener(ln net.Listener) net.Listener {
	if !cn.s.Config().TLS.Cluster {
		return ln
	}
	st, err := cn.s.TLS()
	if err != nil { // Listen loaded the material first: not reached
		cn.s.Logf("cluster bus: TLS: %v", err)
		return ln
	}
	return st.ListenPeers(ln)
}

// busClient completes the TLS handshake of an outbound link when
// tls-cluster is on. Called without the lock.
func (cn *clusterNode) busClient(conn net.Conn, timeout time.Duration) (net.Conn, error) {
	cn.s.Lock()
	on := cn.s.Config().TLS.Cluster
	cn.s.Unlock()
	if !on {
		return conn, nil
	}
	st, err := cn.s.TLS()
	if err != nil {
		conn.Close()
		return nil, err
	}
	return st.Client(conn, timeout)
}

// netConn is the TCP connection under a TLS one.
func netConn(conn net.Conn) net.Conn {
	if tc, ok := conn.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return conn
}

// announcedPort is the client port this node announces (CLUSTER NODES,
// SLOTS, SHARDS, MOVED and ASK, the bus header): with tls-cluster on,
// tls-port or cluster-announce-tls-port, as Redis 7.0's myself->port;
// otherwise port or cluster-announce-port.
//
// Redis also gossips the other port (pport) and shows it to clients
// connected without TLS; the node announces the TLS port to every client.
func announcedPort(cfg *server.Config) int {
	if cfg.TLS.Cluster && cfg.TLS.Port != 0 {
		if cfg.TLS.AnnouncePort != 0 {
			return cfg.TLS.AnnouncePort
		}
		return cfg.TLS.Port
	}
	if cfg.Cluster.AnnouncePort != 0 {
		return cfg.Cluster.AnnouncePort
	}
	return cfg.Port
}

// migrateTLS is the TLS material MIGRATE dials its target with: as
// Redis, MIGRATE speaks TLS when tls-cluster is on. Lock held: the
// material was loaded when the bus started listening.
func (p *plugin) migrateTLS() *tlsconf.Store {
	if !p.s.Config().TLS.Cluster {
		return nil
	}
	return p.s.TLSLoaded()
}
