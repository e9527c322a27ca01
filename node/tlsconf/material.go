package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Material is one loaded generation of the TLS files: the server's
// certificate, the certificate it presents as a client (replication, the
// cluster bus), the CA pool peers are verified against, and the
// handshake parameters.
type Material struct {
	cert, clientCert tls.Certificate
	pool             *x509.CertPool
	auth             tls.ClientAuthType
	minVer, maxVer   uint16
	suites           []uint16
	noTickets        bool
	server           *tls.Config
}

// Load reads and checks the files of s. A certificate is required; a CA
// is required too (Redis: "Either tls-ca-cert-file or tls-ca-cert-dir
// must be specified"), as peers and clients are verified against it.
func Load(s Settings) (*Material, error) {
	m, _, err := load(s)
	return m, err
}

// load also returns the bytes it read, so that a Store can tell a later
// change of any file (fingerprint).
func load(s Settings) (*Material, []byte, error) {
	var seen bytes.Buffer
	read := func(path string) ([]byte, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		seen.WriteString(path)
		seen.WriteByte(0)
		seen.Write(b)
		seen.WriteByte(0)
		return b, nil
	}
	if s.CertFile == "" || s.KeyFile == "" {
		return nil, nil, errors.New("TLS: tls-cert-file and tls-key-file must be specified")
	}
	if s.CACertFile == "" && s.CACertDir == "" {
		return nil, nil, errors.New("TLS: Either tls-ca-cert-file or tls-ca-cert-dir must be specified")
	}
	m := &Material{auth: clientAuth(s.AuthClients), noTickets: !s.SessionCaching}
	var err error
	if m.minVer, m.maxVer, err = ParseProtocols(s.Protocols); err != nil {
		return nil, nil, err
	}
	if m.suites, err = ParseCiphers(s.Ciphers); err != nil {
		return nil, nil, err
	}
	if m.cert, err = keyPair(read, s.CertFile, s.KeyFile, s.KeyFilePass); err != nil {
		return nil, nil, err
	}
	m.clientCert = m.cert
	if s.ClientCertFile != "" {
		if m.clientCert, err = keyPair(read, s.ClientCertFile, s.ClientKeyFile, s.ClientKeyFilePass); err != nil {
			return nil, nil, err
		}
	}
	m.pool = x509.NewCertPool()
	if s.CACertFile != "" {
		b, err := read(s.CACertFile)
		if err != nil {
			return nil, nil, fmt.Errorf("TLS: Failed to load CA certificate(s) file: %v", err)
		}
		if !m.pool.AppendCertsFromPEM(b) {
			return nil, nil, fmt.Errorf("TLS: Failed to load CA certificate(s) file/directory: no certificate in %s", s.CACertFile)
		}
	}
	if s.CACertDir != "" {
		if err := appendDir(m.pool, read, s.CACertDir); err != nil {
			return nil, nil, err
		}
	}
	m.server = m.serverConfig()
	return m, seen.Bytes(), nil
}

// appendDir adds every certificate found in the files of dir (OpenSSL
// looks files up by subject hash; any PEM file counts here).
func appendDir(pool *x509.CertPool, read func(string) ([]byte, error), dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("TLS: Failed to load CA certificate(s) directory: %v", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if b, err := read(filepath.Join(dir, n)); err == nil {
			pool.AppendCertsFromPEM(b)
		}
	}
	return nil
}

// keyPair loads a certificate chain and its key; pass decrypts a legacy
// encrypted PEM key ("Proc-Type: 4,ENCRYPTED", as `openssl rsa -aes256`
// writes it).
func keyPair(read func(string) ([]byte, error), certFile, keyFile, pass string) (tls.Certificate, error) {
	certPEM, err := read(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("TLS: Failed to load certificate: %v", err)
	}
	keyPEM, err := read(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("TLS: Failed to load private key: %v", err)
	}
	if pass != "" {
		if keyPEM, err = decryptKey(keyPEM, pass); err != nil {
			return tls.Certificate{}, err
		}
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("TLS: Failed to load certificate %s with key %s: %v", certFile, keyFile, err)
	}
	return c, nil
}

func decryptKey(keyPEM []byte, pass string) ([]byte, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("TLS: Failed to load private key: no PEM block")
	}
	//lint:ignore SA1019 legacy PEM encryption is what tls-key-file-pass decrypts
	if !x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck
		return keyPEM, nil
	}
	der, err := x509.DecryptPEMBlock(block, []byte(pass)) //nolint:staticcheck
	if err != nil {
		return nil, fmt.Errorf("TLS: Failed to load private key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der}), nil
}

// serverConfig is the listener's configuration for this generation.
func (m *Material) serverConfig() *tls.Config {
	return &tls.Config{
		Certificates:           []tls.Certificate{m.cert},
		ClientAuth:             m.auth,
		ClientCAs:              m.pool,
		MinVersion:             m.minVer,
		MaxVersion:             m.maxVer,
		CipherSuites:           m.suites,
		SessionTicketsDisabled: m.noTickets,
	}
}

// clientConfig is the configuration of one outgoing connection (a
// replica to its master, a cluster bus link). As Redis (OpenSSL's
// SSL_VERIFY_PEER without a host check), the peer's chain is verified
// against the CA but not its name: nodes are dialled by IP address.
func (m *Material) clientConfig() *tls.Config {
	pool := m.pool
	cert := m.clientCert
	return &tls.Config{
		Certificates:       []tls.Certificate{cert},
		MinVersion:         m.minVer,
		MaxVersion:         m.maxVer,
		CipherSuites:       m.suites,
		InsecureSkipVerify: true, // the chain is checked by VerifyConnection below, without the host name
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, pool)
		},
	}
}

// verifyChain checks a peer's chain against the CA pool, as OpenSSL's
// SSL_VERIFY_PEER: no host name.
func verifyChain(chain []*x509.Certificate, pool *x509.CertPool) error {
	if len(chain) == 0 {
		return errors.New("tls: peer sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}

// Leaf is the server certificate's leaf (tests and logs read its serial
// and expiry).
func (m *Material) Leaf() *x509.Certificate {
	if m.cert.Leaf != nil {
		return m.cert.Leaf
	}
	if len(m.cert.Certificate) == 0 {
		return nil
	}
	c, _ := x509.ParseCertificate(m.cert.Certificate[0])
	return c
}
