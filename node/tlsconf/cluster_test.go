package tlsconf_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// TestTLSReplicaOfTLSMaster: a replica with tls-replication dials its
// master's tls-port (neither has a plain port) and receives its writes.
func TestTLSReplicaOfTLSMaster(t *testing.T) {
	ctx := context.Background()
	p := newPKI(t)
	master := startTLSNode(t, p, "--tls-replication", "yes")
	mc := tlsClient(t, master.Addr, p.clientTLS(t, true))
	if err := mc.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	host, port := master.Addr[:strings.LastIndexByte(master.Addr, ':')], strconv.Itoa(master.Port)
	replica := startTLSNode(t, p, "--tls-replication", "yes", "--replicaof", host, port)
	rc := tlsClient(t, replica.Addr, p.clientTLS(t, true))
	eventually(t, 60*time.Second, func() error {
		info, err := rc.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "master_link_status:up") {
			return fmt.Errorf("replica not in sync:\n%s", info)
		}
		return nil
	})
	if err := mc.Set(ctx, "after", "2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		for k, want := range map[string]string{"before": "1", "after": "2"} {
			if v, err := rc.Get(ctx, k).Result(); err != nil || v != want {
				return fmt.Errorf("replica GET %s = %q, %v", k, v, err)
			}
		}
		return nil
	})
	info, _ := mc.Info(ctx, "replication").Result()
	if !strings.Contains(info, "port="+strconv.Itoa(replica.Port)) {
		t.Fatalf("the master lists its replica without its tls-port %d:\n%s", replica.Port, info)
	}
}

// TestTLSClusterCreateAndClusterClient: three masters with tls-cluster
// (the bus over TLS, tls-port announced) and no plain port, joined by
// redis-cli --cluster create --tls, serve a go-redis ClusterClient over
// TLS; CLUSTER SLOTS names the TLS ports.
func TestTLSClusterCreateAndClusterClient(t *testing.T) {
	ctx := context.Background()
	p := newPKI(t)
	var addrs []string
	ports := map[int]bool{}
	var busPort int
	for i := 0; i < 3; i++ {
		// Its own bus port: tls-port+10000 lies in the kernel's ephemeral
		// range, where another connection may hold it.
		busPort = nodetest.FreePort(t)
		n := startTLSNode(t, p, "--cluster-enabled", "yes", "--tls-cluster", "yes", "--tls-replication", "yes",
			"--cluster-node-timeout", "2000", "--appendonly", "no", "--cluster-port", strconv.Itoa(busPort))
		addrs = append(addrs, n.Addr)
		ports[n.Port] = true
	}
	out, err := p.redisCLI(t, addrs[0], true, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-yes")...)
	if err != nil {
		t.Fatalf("redis-cli --cluster create --tls: %v\n%s", err, out)
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, TLSConfig: p.clientTLS(t, true), DialTimeout: 5 * time.Second})
	defer cc.Close()
	// Every node, not just one, must see the cluster ok (slots and epochs
	// reach them by gossip over the TLS bus).
	eventually(t, 60*time.Second, func() error {
		for _, a := range addrs {
			info, err := tlsClient(t, a, p.clientTLS(t, true)).ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") {
				return fmt.Errorf("%s: cluster not formed:\n%s", a, info)
			}
		}
		return nil
	})
	for i := 0; i < 200; i++ {
		k := fmt.Sprintf("key:%d", i)
		if err := cc.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	for i := 0; i < 200; i++ {
		k := fmt.Sprintf("key:%d", i)
		if v, err := cc.Get(ctx, k).Int(); err != nil || v != i {
			t.Fatalf("GET %s = %d, %v", k, v, err)
		}
	}
	slots, err := cc.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slots {
		for _, n := range s.Nodes {
			_, port, _ := strings.Cut(n.Addr, ":")
			if pn, _ := strconv.Atoi(port); !ports[pn] {
				t.Fatalf("CLUSTER SLOTS names %s, not a tls-port of %v", n.Addr, ports)
			}
		}
	}
	// The bus speaks TLS and wants a peer certificate.
	bus := "127.0.0.1:" + strconv.Itoa(busPort)
	if c, err := tls.Dial("tcp", bus, p.clientTLS(t, true)); err != nil {
		t.Fatalf("TLS to the bus with a certificate: %v", err)
	} else {
		c.Close()
	}
	if c, err := tls.Dial("tcp", bus, p.clientTLS(t, false)); err == nil {
		_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // the refusal comes as soon as the node reads the handshake
		if _, err := c.Read(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("the bus accepted a peer without a certificate (read: %v)", err)
		}
		c.Close()
	}
	if out, err := p.redisCLI(t, addrs[1], true, "--cluster", "check", addrs[1]); err != nil || !strings.Contains(out, "[OK] All 16384 slots covered") {
		t.Fatalf("redis-cli --cluster check --tls: %v\n%s", err, out)
	}
}
