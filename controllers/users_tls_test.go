package controllers

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/users"
	"github.com/shoal-dev/shoal/node/clusteradmin"
	"github.com/shoal-dev/shoal/node/nodetest"
	"github.com/shoal-dev/shoal/node/tlsconf"
	"github.com/shoal-dev/shoal/node/tlsconf/certgen"
)

// TestUsersAppliedOverTLS: with spec.tls the nodes have no plain port, so
// the ACL users step must dial as every other step does, over TLS (it
// dialled plain text, and a TLS cluster never got the operator's users).
// A real node with a TLS port gets the operator's users and a spec user
// through the reconciler's own applyUsers.
func TestUsersAppliedOverTLS(t *testing.T) {
	now := time.Now().Add(-time.Minute)
	ca, err := certgen.NewCA("users-tls CA", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := certgen.Issue(ca, certgen.Request{CommonName: "node", IPs: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: now, Validity: time.Hour, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string][]byte{"node.crt": leaf.CertPEM, "node.key": leaf.KeyPEM, "ca.crt": ca.CertPEM}
	for name, b := range files {
		if err := os.WriteFile(dir+"/"+name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const password = "default-pw"
	tlsPort := nodetest.FreePort(t)
	// The plain port stays open for the harness's readiness PING only.
	nodetest.Start(t, nodetest.Options{Args: []string{"--requirepass", password,
		"--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", dir + "/node.crt", "--tls-key-file", dir + "/node.key",
		"--tls-ca-cert-file", dir + "/ca.crt", "--tls-auth-clients", "yes"}})
	cfg, err := tlsconf.ClientConfigFromPEM(leaf.CertPEM, leaf.KeyPEM, ca.CertPEM)
	if err != nil {
		t.Fatal(err)
	}

	r := &RedisClusterReconciler{
		Dial:    clusteradmin.NewDialer(2 * time.Second),
		DialTLS: func(c *tls.Config) clusteradmin.Dialer { return clusteradmin.NewTLSDialer(2*time.Second, c) },
	}
	st := &state{log: logr.Discard(), tls: cfg, password: password,
		auth: clusteradmin.Auth{Username: users.OperatorUser, Password: "operator-pw"}}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))
	plan := users.PlanUsers([]clusteradmin.ACLUser{{Name: "app", Rules: []string{"reset", "on", ">app-pw", "~app:*", "+@read"}}}, nil, nil)
	ctx := context.Background()
	if err := r.applyUsers(ctx, st, addr, users.SystemUsers("operator-pw", false), plan); err != nil {
		t.Fatalf("applyUsers over TLS: %v", err)
	}
	for _, u := range []struct{ name, password string }{{users.OperatorUser, "operator-pw"}, {"app", "app-pw"}} {
		c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: cfg, Protocol: 2, DisableIdentity: true, MaxRetries: -1})
		if err := c.Do(ctx, "AUTH", u.name, u.password).Err(); err != nil {
			t.Errorf("AUTH %s over TLS: %v", u.name, err)
		}
		_ = c.Close()
	}
}
