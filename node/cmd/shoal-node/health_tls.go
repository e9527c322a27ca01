package main

import (
	"crypto/tls"
	"path/filepath"

	"github.com/shoal-dev/shoal/node/tlsconf"
)

// probeTLS is the TLS configuration of a probe or pre-stop hook whose
// node serves TLS only: the node's own certificate (from the directory
// the pod mounts) as the client certificate, its CA as the root, no host
// name check (127.0.0.1). A directory that does not load gives a
// configuration whose handshake fails, which the check reports.
func probeTLS(dir string) *tls.Config {
	st, err := tlsconf.NewStore(tlsconf.Settings{
		CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"),
		CACertFile: filepath.Join(dir, "ca.crt"), AuthClients: "yes", SessionCaching: true,
	})
	if err != nil {
		return &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true, // VerifyConnection fails every handshake
			VerifyConnection: func(tls.ConnectionState) error { return err }}
	}
	return st.ClientConfig()
}
