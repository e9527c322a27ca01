package config

import (
	"errors"

	"github.com/shoal-dev/shoal/node/tlsconf"
)

// TLSConfig is the tls-* configuration: where TLS is used (the client
// port, replication, the cluster bus) and, in Settings, the files and
// handshake parameters node/tlsconf loads.
type TLSConfig struct {
	// Port is tls-port: the TLS client port (0: none).
	Port int
	// Replication is tls-replication: a replica dials its master with
	// TLS (and a master's replicas reach it on tls-port).
	Replication bool
	// Cluster is tls-cluster: the cluster bus speaks TLS, and the port
	// this node announces to clients and peers is tls-port.
	Cluster bool
	// AnnouncePort is cluster-announce-tls-port (0: the real tls-port).
	AnnouncePort int
	tlsconf.Settings
}

// Enabled reports whether any TLS use is configured, in which case the
// files must load (Redis's applyTlsCfg condition).
func (t *TLSConfig) Enabled() bool { return t.Port != 0 || t.Replication || t.Cluster }

// errTLSUpdate is Redis's reply to a CONFIG SET its TLS context refuses.
var errTLSUpdate = errors.New("Unable to update TLS configuration. Check server logs.")

// applyTLS is the apply of every tls-* parameter, as Redis's applyTlsCfg:
// while TLS is in use, the new files and parameters must load, or the
// change is refused. A new tls-port is refused as a new port is (the node
// does not rebind at runtime). The running node picks the new files up
// within a second (its tlsconf.Store watches the configuration and the
// files).
func applyTLS(old, next *Config) error {
	if old.TLS.Port != next.TLS.Port && next.TLS.Port != 0 {
		if _, err := tlsconf.Load(next.TLS.Settings); err != nil {
			return errTLSUpdate
		}
		return errors.New("Unable to listen on this port. Check server logs.")
	}
	if old.TLS.Port != next.TLS.Port {
		return errors.New("Unable to listen on this port. Check server logs.")
	}
	if !next.TLS.Enabled() {
		return nil
	}
	if _, err := tlsconf.Load(next.TLS.Settings); err != nil {
		return errTLSUpdate
	}
	return nil
}

// tlsParams are the tls-* parameters (and cluster-announce-tls-port).
func tlsParams() []Param {
	t := func(c *Config) *TLSConfig { return &c.TLS }
	str := func(name string, f func(t *TLSConfig) *string) Param {
		get := func(c *Config) *string { return f(t(c)) }
		return withApply(nullString(stringParam(name, "", 0, get, nil), get), applyTLS)
	}
	const (
		whyCiphersuites = "Go's TLS 1.3 suites are fixed (AES-GCM and ChaCha20-Poly1305); tls-ciphers applies to TLS 1.2"
		whyDH           = "Go offers no DHE key exchange (ECDHE only), so there are no DH parameters to load"
		whyPrefer       = "Go chooses the suite by its own order (fastest for the hardware), whatever the client prefers"
		whySessionCache = "session resumption uses stateless tickets (tls-session-caching turns them off); there is no server-side cache to size or expire"
	)
	return []Param{
		withApply(intParam("tls-port", "", 0, 0, 65535, func(c *Config) *int { return &c.TLS.Port }), applyTLS),
		withApply(boolParam("tls-replication", "", 0, func(c *Config) *bool { return &c.TLS.Replication }), applyTLS),
		withApply(boolParam("tls-cluster", "", 0, func(c *Config) *bool { return &c.TLS.Cluster }), applyTLS),
		intParam("cluster-announce-tls-port", "", 0, 0, 65535, func(c *Config) *int { return &c.TLS.AnnouncePort }),
		str("tls-cert-file", func(t *TLSConfig) *string { return &t.CertFile }),
		str("tls-key-file", func(t *TLSConfig) *string { return &t.KeyFile }),
		str("tls-key-file-pass", func(t *TLSConfig) *string { return &t.KeyFilePass }),
		str("tls-client-cert-file", func(t *TLSConfig) *string { return &t.ClientCertFile }),
		str("tls-client-key-file", func(t *TLSConfig) *string { return &t.ClientKeyFile }),
		str("tls-client-key-file-pass", func(t *TLSConfig) *string { return &t.ClientKeyFilePass }),
		noEffect(str("tls-dh-params-file", func(t *TLSConfig) *string { return &t.DHParamsFile }), whyDH),
		str("tls-ca-cert-file", func(t *TLSConfig) *string { return &t.CACertFile }),
		str("tls-ca-cert-dir", func(t *TLSConfig) *string { return &t.CACertDir }),
		str("tls-protocols", func(t *TLSConfig) *string { return &t.Protocols }),
		str("tls-ciphers", func(t *TLSConfig) *string { return &t.Ciphers }),
		noEffect(str("tls-ciphersuites", func(t *TLSConfig) *string { return &t.Ciphersuites }), whyCiphersuites),
		withApply(enumParam("tls-auth-clients", "", 0, []string{"no", "yes", "optional"}, func(c *Config) *string { return &c.TLS.AuthClients }), applyTLS),
		noEffect(boolParam("tls-prefer-server-ciphers", "", 0, func(c *Config) *bool { return &c.TLS.PreferServerCiphers }), whyPrefer),
		withApply(boolParam("tls-session-caching", "", 0, func(c *Config) *bool { return &c.TLS.SessionCaching }), applyTLS),
		noEffect(intParam("tls-session-cache-size", "", 0, 0, intMax, func(c *Config) *int { return &c.TLS.SessionCacheSize }), whySessionCache),
		noEffect(intParam("tls-session-cache-timeout", "", 0, 0, intMax, func(c *Config) *int { return &c.TLS.SessionCacheTimeout }), whySessionCache),
	}
}
