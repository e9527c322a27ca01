// Package certgen issues X.509 certificates: a self-signed CA and leaf
// certificates it signs (server and client use), PEM-encoded. The
// operator's own CA (controllers, spec.tls without a Secret or an
// Issuer) and the node's TLS tests use it. Pure: time and keys come from
// the caller's clock and crypto/rand; no files, no global state.
package certgen
