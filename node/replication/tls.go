package replication

import (
	"net"
	"time"

	"github.com/shoal-dev/shoal/node/server"
)

// dialTLS completes the TLS handshake of a replica's link to its master
// (tls-replication yes): the replica presents its client certificate and
// verifies the master's chain against the CA. Called without the lock.
func dialTLS(s *server.Server, conn net.Conn, timeout time.Duration) (net.Conn, error) {
	st, err := s.TLS()
	if err != nil {
		conn.Close()
		return nil, err
	}
	return st.Client(conn, timeout)
}

// listeningPort is the port a replica announces to its master (REPLCONF
// listening-port), as Redis: replica-announce-port, else tls-port when
// tls-replication is on, else port. Lock held.
func listeningPort(cfg *server.Config) int {
	switch {
	case cfg.Repl.AnnouncePort != 0:
		return cfg.Repl.AnnouncePort
	case cfg.TLS.Replication && cfg.TLS.Port != 0:
		return cfg.TLS.Port
	}
	return cfg.Port
}
