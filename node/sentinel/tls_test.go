package sentinel_test

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
	"github.com/shoal-dev/shoal/node/tlsconf/certgen"
)

// TestSentinelOverTLS: sentinels with tls-port and port 0 serve TLS
// only, and with tls-replication yes reach the TLS-only data nodes and
// each other over TLS (sentinel.c's instanceLinkNegotiateTLS): they
// discover the replica and the other sentinel, and fail the master over;
// rotated certificate files are served without a restart.
func TestSentinelOverTLS(t *testing.T) {
	ctx := ctxT(t)
	pki := nodetest.NewTLSFiles(t, "sentinel test CA")
	tlsArgs := pki.Args()
	startTLS := func(args ...string) *nodetest.Proc {
		port := nodetest.FreePort(t)
		return nodetest.Start(t, nodetest.Options{Port: port,
			Args: append(append([]string{"--save", "", "--tls-port", strconv.Itoa(port)}, args...), tlsArgs...)})
	}
	master := startTLS()
	replica := startTLS("--replicaof", "127.0.0.1", strconv.Itoa(master.Port))

	cfg := pki.ClientConfig(t)
	tlsClient := func(addr string) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: cfg, DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		return c
	}
	waitInSync(t, ctx, tlsClient(master.Addr), 1)

	var sentinels []*redis.Client
	var sentinelAddrs []string
	for range 2 {
		port := nodetest.FreePort(t)
		sdir := t.TempDir()
		conf := filepath.Join(sdir, "sentinel.conf")
		body := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2\nsentinel down-after-milliseconds %s %d\nsentinel failover-timeout %s %d\n",
			masterName, master.Port, masterName, downAfterMs, masterName, failoverTOms)
		if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		p := nodetest.Start(t, nodetest.Options{Dir: sdir, Port: port, Config: conf,
			Args: append([]string{"--sentinel", "--tls-port", strconv.Itoa(port)}, tlsArgs...)})
		sentinels = append(sentinels, tlsClient(p.Addr))
		sentinelAddrs = append(sentinelAddrs, p.Addr)

		// TLS only: a plain client gets no reply.
		plain := redis.NewClient(&redis.Options{Addr: p.Addr, DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
		if err := plain.Ping(ctx).Err(); err == nil {
			t.Fatalf("sentinel %s answered a plain PING", p.Addr)
		}
		_ = plain.Close()
	}
	for _, s := range sentinels {
		waitDiscovered(t, ctx, s, 1, 1)
	}
	eventually(t, settleTimeout, "SENTINEL FAILOVER accepted", func() error {
		// NOGOODSLAVE until the sentinel has read the replica's INFO.
		return sentinels[0].Do(ctx, "SENTINEL", "FAILOVER", masterName).Err()
	})
	eventually(t, settleTimeout, "the replica promoted over TLS", func() error {
		for _, s := range sentinels {
			addr, err := masterAddr(ctx, s)
			if err != nil {
				return err
			}
			if addr != replica.Addr {
				return fmt.Errorf("master %s, want %s", addr, replica.Addr)
			}
		}
		role, err := tlsClient(replica.Addr).Do(ctx, "ROLE").Slice()
		if err != nil || len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("ROLE %v %v", role, err)
		}
		return nil
	})

	// A rotated certificate (the kubelet rewriting the Secret's files) is
	// served by the sentinels without a restart.
	rotated, err := certgen.Issue(pki.CA, certgen.Request{CommonName: "rotated", IPs: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: pki.NotBefore, Validity: time.Hour, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pki.KeyFile, rotated.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pki.CertFile, rotated.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, settleTimeout, "the rotated certificate served", func() error {
		for _, addr := range sentinelAddrs {
			conn, err := tls.Dial("tcp", addr, cfg)
			if err != nil {
				return err
			}
			cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName
			conn.Close()
			if cn != "rotated" {
				return fmt.Errorf("%s serves %q", addr, cn)
			}
		}
		return nil
	})
}
