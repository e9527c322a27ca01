package tlsconf_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestTLSClientPortAuthClients: with port 0 and a tls-port, the node
// serves TLS only; redis-cli --tls and go-redis with a client
// certificate are served, a client without one is refused while
// tls-auth-clients is yes and served once it is optional.
func TestTLSClientPortAuthClients(t *testing.T) {
	ctx := context.Background()
	p := newPKI(t)
	n := startTLSNode(t, p)

	withCert := tlsClient(t, n.Addr, p.clientTLS(t, true))
	if err := withCert.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET over TLS with a client certificate: %v", err)
	}
	if got, err := withCert.ConfigGet(ctx, "port").Result(); err != nil || got["port"] != "0" {
		t.Fatalf("CONFIG GET port = %v, %v; want 0", got, err)
	}
	if out, err := p.redisCLI(t, n.Addr, true, "GET", "k"); err != nil || out != "v" {
		t.Fatalf("redis-cli --tls GET k = %q, %v", out, err)
	}

	// A plain-text client on the TLS port gets no reply.
	if c, err := net.DialTimeout("tcp", n.Addr, time.Second); err == nil {
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		_, _ = c.Write([]byte("PING\r\n"))
		buf := make([]byte, 64)
		if k, _ := c.Read(buf); strings.Contains(string(buf[:k]), "PONG") {
			t.Fatal("a plain-text PING on the TLS port was answered")
		}
		c.Close()
	}

	noCert := tlsClient(t, n.Addr, p.clientTLS(t, false))
	if err := noCert.Ping(ctx).Err(); err == nil {
		t.Fatal("a client without a certificate was served while tls-auth-clients is yes")
	}
	if out, err := p.redisCLI(t, n.Addr, false, "PING"); err == nil && out == "PONG" {
		t.Fatal("redis-cli --tls without a certificate was served while tls-auth-clients is yes")
	}

	if err := withCert.ConfigSet(ctx, "tls-auth-clients", "optional").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error { return noCert.Ping(ctx).Err() })
	if out, err := p.redisCLI(t, n.Addr, false, "PING"); err != nil || out != "PONG" {
		t.Fatalf("redis-cli --tls without a certificate, tls-auth-clients optional: %q, %v", out, err)
	}
	if err := withCert.Ping(ctx).Err(); err != nil {
		t.Fatalf("with a certificate, tls-auth-clients optional: %v", err)
	}

	// A certificate another CA signed is refused, even when optional.
	other := newPKI(t)
	stranger := p.clientTLS(t, false)
	cert, _ := tls.X509KeyPair(other.client.CertPEM, other.client.KeyPEM)
	stranger.Certificates = []tls.Certificate{cert}
	if err := tlsClient(t, n.Addr, stranger).Ping(ctx).Err(); err == nil {
		t.Fatal("a client certificate of another CA was accepted")
	}
}

// TestTLSConfigSetRefusesBadFiles: CONFIG SET of a file that does not
// load is refused with Redis's error, and the node keeps serving.
func TestTLSConfigSetRefusesBadFiles(t *testing.T) {
	ctx := context.Background()
	p := newPKI(t)
	n := startTLSNode(t, p)
	c := tlsClient(t, n.Addr, p.clientTLS(t, true))
	err := c.ConfigSet(ctx, "tls-cert-file", p.dir+"/missing.crt").Err()
	if err == nil || err.Error() != "ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs." {
		t.Fatalf("CONFIG SET tls-cert-file missing: %v", err)
	}
	if err := c.ConfigSet(ctx, "tls-protocols", "TLSv1.3").Err(); err != nil {
		t.Fatal(err)
	}
	cfg := p.clientTLS(t, true)
	cfg.MaxVersion = tls.VersionTLS12
	eventually(t, 30*time.Second, func() error {
		if err := tlsClient(t, n.Addr, cfg).Ping(ctx).Err(); err == nil {
			return errors.New("a TLSv1.2 client is still served after tls-protocols TLSv1.3")
		}
		return nil
	})
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestTLSCertificateRotationUnderLoad rewrites the node's certificate and
// key (the certificate first, the key a moment later, as a careless
// rotation does) while go-redis clients that reconnect all the time run
// SET/GET: the node serves the new certificate within seconds, with no
// restart and no client error.
func TestTLSCertificateRotationUnderLoad(t *testing.T) {
	ctx := context.Background()
	p := newPKI(t)
	n := startTLSNode(t, p)

	before := servedSerial(t, n.Addr, p.clientTLS(t, true))
	stop := make(chan struct{})
	errc := make(chan error, 4)
	var ops [4]int
	for w := range ops {
		c := redis.NewClient(&redis.Options{Addr: n.Addr, TLSConfig: p.clientTLS(t, true), PoolSize: 2,
			ConnMaxLifetime: 20 * time.Millisecond, MaxRetries: -1, DialTimeout: 5 * time.Second})
		defer c.Close()
		go func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					errc <- nil
					return
				default:
				}
				key := fmt.Sprintf("w%d:%d", w, i%100)
				if err := c.Set(ctx, key, i, 0).Err(); err != nil {
					errc <- fmt.Errorf("SET %s: %v", key, err)
					return
				}
				if v, err := c.Get(ctx, key).Int(); err != nil || v != i {
					errc <- fmt.Errorf("GET %s = %d, %v; want %d", key, v, err, i)
					return
				}
				ops[w]++
			}
		}()
	}
	time.Sleep(300 * time.Millisecond) // load before the rotation
	next := p.issue(t, "node-rotated")
	write(t, p.certFile, next.CertPEM)
	time.Sleep(1500 * time.Millisecond) // a reload tick sees a certificate without its key
	write(t, p.keyFile, next.KeyPEM)
	want, _ := parseSerial(next.CertPEM)
	eventually(t, 30*time.Second, func() error {
		if got := servedSerial(t, n.Addr, p.clientTLS(t, true)); got != want {
			return fmt.Errorf("served serial %s, want the rotated %s (before: %s)", got, want, before)
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond) // load after the rotation
	close(stop)
	for range ops {
		if err := <-errc; err != nil {
			t.Fatalf("client error during the rotation: %v", err)
		}
	}
	total := 0
	for _, o := range ops {
		total += o
	}
	if total == 0 {
		t.Fatal("no operation ran")
	}
	t.Logf("%d SET+GET pairs, zero errors, across the rotation", total)
}

func servedSerial(t testing.TB, addr string, cfg *tls.Config) string {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}
