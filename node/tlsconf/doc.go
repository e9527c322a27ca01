// Package tlsconf turns Redis's tls-* parameters into crypto/tls
// configurations, and keeps them current while the certificate files
// change (a Store polls their content and swaps the loaded material
// atomically, so a rotation needs no restart and breaks no connection).
//
// It owns the parsing of the files (PEM certificates, keys, encrypted
// legacy PEM keys with tls-key-file-pass, a CA file and a CA directory)
// and of tls-protocols and tls-ciphers (OpenSSL names mapped to Go's
// suites). It knows nothing of the server, the cluster or replication:
// they ask a Store for a server or client *tls.Config when they listen or
// dial. No global state.
package tlsconf
