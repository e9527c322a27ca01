package tlsconf

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
)

// Settings are the tls-* parameters that shape the TLS material and the
// handshake (redis.conf names in the comments). The ports and the
// tls-replication/tls-cluster switches are not here: they decide where
// TLS is used, not how.
type Settings struct {
	CertFile          string // tls-cert-file
	KeyFile           string // tls-key-file
	KeyFilePass       string // tls-key-file-pass
	ClientCertFile    string // tls-client-cert-file ("" = CertFile)
	ClientKeyFile     string // tls-client-key-file
	ClientKeyFilePass string // tls-client-key-file-pass
	DHParamsFile      string // tls-dh-params-file (no effect: Go offers no DHE suites)
	CACertFile        string // tls-ca-cert-file
	CACertDir         string // tls-ca-cert-dir
	AuthClients       string // tls-auth-clients: yes, no, optional
	Protocols         string // tls-protocols: "TLSv1.2 TLSv1.3" ("" = TLSv1.2 and TLSv1.3)
	Ciphers           string // tls-ciphers (TLSv1.2 and below), OpenSSL names
	Ciphersuites      string // tls-ciphersuites (TLSv1.3; no effect: Go fixes them)
	// PreferServerCiphers is tls-prefer-server-ciphers (no effect: Go
	// picks the suite by its own order whatever the client prefers).
	PreferServerCiphers bool
	SessionCaching      bool // tls-session-caching: session tickets on or off
	SessionCacheSize    int  // tls-session-cache-size (no effect: tickets are stateless)
	SessionCacheTimeout int  // tls-session-cache-timeout (no effect)
}

// Default is Redis 7.0's defaults.
func Default() Settings {
	return Settings{AuthClients: "yes", SessionCaching: true, SessionCacheSize: 20480, SessionCacheTimeout: 300}
}

// clientAuth is tls-auth-clients as crypto/tls's ClientAuthType.
func clientAuth(v string) tls.ClientAuthType {
	switch strings.ToLower(v) {
	case "no":
		return tls.NoClientCert
	case "optional":
		return tls.VerifyClientCertIfGiven
	default:
		return tls.RequireAndVerifyClientCert
	}
}

// ParseProtocols is tls-protocols: a space-separated list among TLSv1,
// TLSv1.1, TLSv1.2 and TLSv1.3 (case-insensitive, as Redis), turned into
// the lowest and highest version; "" is TLSv1.2 to TLSv1.3, Redis's
// default.
func ParseProtocols(v string) (minVer, maxVer uint16, err error) {
	if strings.TrimSpace(v) == "" {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	for _, p := range strings.Fields(v) {
		var ver uint16
		switch strings.ToLower(p) {
		case "tlsv1":
			ver = tls.VersionTLS10
		case "tlsv1.1":
			ver = tls.VersionTLS11
		case "tlsv1.2":
			ver = tls.VersionTLS12
		case "tlsv1.3":
			ver = tls.VersionTLS13
		default:
			return 0, 0, fmt.Errorf("invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3': %q", p)
		}
		if minVer == 0 || ver < minVer {
			minVer = ver
		}
		if ver > maxVer {
			maxVer = ver
		}
	}
	return minVer, maxVer, nil
}

// ParseCiphers is tls-ciphers: an OpenSSL cipher list ("a:b:c", also
// separated by commas or spaces). Each name Go implements becomes its
// suite, in the given order; OpenSSL keywords and names Go lacks
// (DEFAULT, HIGH, !aNULL, DHE-...) are skipped. A list in which no name
// is known is refused, as OpenSSL refuses a list that selects nothing;
// "" is Go's default suites.
func ParseCiphers(v string) ([]uint16, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	byName := opensslSuites()
	var out []uint16
	for _, name := range strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		if id, ok := byName[strings.ToUpper(name)]; ok {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("Failed to configure ciphers: no cipher match")
	}
	return out, nil
}

// opensslSuites maps OpenSSL's names of the TLS 1.2 suites Go implements
// to their ids; Go's (IANA) names are accepted too.
func opensslSuites() map[string]uint16 {
	m := map[string]uint16{
		"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		"ECDHE-ECDSA-CHACHA20-POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		"ECDHE-RSA-CHACHA20-POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		"ECDHE-ECDSA-AES128-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		"ECDHE-RSA-AES128-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		"ECDHE-ECDSA-AES256-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		"ECDHE-RSA-AES256-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		"ECDHE-ECDSA-AES128-SHA256":     tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		"ECDHE-RSA-AES128-SHA256":       tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
		"AES128-GCM-SHA256":             tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
		"AES256-GCM-SHA384":             tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
		"AES128-SHA":                    tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		"AES256-SHA":                    tls.TLS_RSA_WITH_AES_256_CBC_SHA,
		"AES128-SHA256":                 tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
		"ECDHE-RSA-DES-CBC3-SHA":        tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
		"DES-CBC3-SHA":                  tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
	}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		m[s.Name] = s.ID
	}
	return m
}
