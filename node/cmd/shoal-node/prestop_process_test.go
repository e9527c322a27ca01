package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/clusteradmin"
	"github.com/shoal-dev/shoal/node/nodetest"
	"github.com/shoal-dev/shoal/node/tlsconf/certgen"

	"github.com/shoal-dev/shoal/internal/testenv"
)

func TestHealthAgainstANode(t *testing.T) {
	n := startNodeProc(t, true)

	for _, check := range []string{checkLive, checkReady} {
		r := runSubcommand(t, append([]string{"health", check}, connArgs(n)...)...)
		if r.Code != 0 {
			t.Errorf("health %s of a fresh cluster-mode node (cluster_state:fail): exit %d, %s", check, r.Code, r.Stderr)
		}
	}
	// cluster_state:fail was what the node reported: readiness does not
	// depend on it, or the operator could never form a cluster of Ready pods.
	if info, err := n.client().ClusterInfo(t.Context()).Result(); err != nil || !strings.Contains(info, "cluster_state:fail") {
		t.Errorf("CLUSTER INFO of a fresh node: %q, %v", info, err)
	}

	wrong := runSubcommand(t, "health", checkReady, "--port", strconv.Itoa(n.Port), "--password-env", "SHOAL_NO_SUCH_VAR")
	if wrong.Code != 1 || !strings.Contains(wrong.Stderr, "NOAUTH") {
		t.Errorf("health ready without the password: exit %d, %q; want 1 and NOAUTH", wrong.Code, wrong.Stderr)
	}
	if r := runSubcommand(t, "health", checkLive, "--port", strconv.Itoa(n.Port)); r.Code != 0 {
		t.Errorf("health live without the password: exit %d, %s; the node answered, so it is alive", r.Code, r.Stderr)
	}

	n.stop(t)
	for _, check := range []string{checkLive, checkReady} {
		r := runSubcommand(t, append([]string{"health", check}, connArgs(n)...)...)
		if r.Code != 1 || !strings.Contains(r.Stderr, "no reply to PING") {
			t.Errorf("health %s of a stopped node: exit %d, %q", check, r.Code, r.Stderr)
		}
	}
	if r := runSubcommand(t, "health", "sideways"); r.Code != 2 {
		t.Errorf("health with an unknown check: exit %d", r.Code)
	}
}

// formCluster makes a Redis Cluster of masters (slots spread evenly by
// redis-cli --cluster create) and replicas, replica i replicating master i
// (redis-cli --cluster add-node --cluster-slave), and waits until every
// replica is in sync, every node sees the whole cluster and every node knows
// each replica as its master's (gossip: a master ignores the manual-failover
// request of a node it does not know as its replica, and the other masters
// refuse it their votes, as Redis does).
func formCluster(t *testing.T, masters, replicas []*nodeProc) {
	t.Helper()
	args := []string{"--cluster", "create"}
	for _, m := range masters {
		args = append(args, m.Addr())
	}
	cli(t, append(args, "--cluster-yes")...)
	for i, r := range replicas {
		id := masters[i].mustView(t).MyID()
		cli(t, "--cluster", "add-node", r.Addr(), masters[0].Addr(), "--cluster-slave", "--cluster-master-id", id)
	}
	all := append(append([]*nodeProc{}, masters...), replicas...)
	waitFor(t, "cluster formed, replicas in sync", func() error {
		for _, n := range all {
			v, err := n.view(t.Context())
			if err != nil {
				return err
			}
			if v.Info.State != "ok" || v.Info.KnownNodes != len(all) {
				return fmt.Errorf("%s: cluster_state %s, %d known nodes", n.Addr(), v.Info.State, v.Info.KnownNodes)
			}
		}
		for i, r := range replicas {
			id, master := r.mustView(t).MyID(), masters[i].mustView(t).MyID()
			for _, n := range all {
				v := n.mustView(t)
				if !slices.ContainsFunc(replicasOf(v, master), func(n clusteradmin.Node) bool { return n.ID == id }) {
					return fmt.Errorf("%s does not list %s as a connected replica of %s yet", n.Addr(), id, master)
				}
			}
			info, err := r.client().Info(t.Context(), "replication").Result()
			if err != nil {
				return err
			}
			if f := parseInfo(info); f[infoLinkStatus] != "up" || f[infoSyncing] != "0" {
				return fmt.Errorf("replica %s: link %s, syncing %s", r.Addr(), f[infoLinkStatus], f[infoSyncing])
			}
		}
		return nil
	})
}

// cli runs redis-cli with the password and fails the test on an error.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, "redis-cli", append([]string{"--no-auth-warning", "-a", testPassword}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func clusterClient(nodes []*nodeProc) *redis.ClusterClient {
	addrs := make([]string, 0, len(nodes))
	for _, n := range nodes {
		addrs = append(addrs, n.Addr())
	}
	return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Password: testPassword, Protocol: 2,
		DisableIdentity: true, MaxRedirects: 16, DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second})
}

// TestPrestopHandsMastershipOver runs the preStop hook on the nodes of a
// 3-master cluster where only the first master has a replica: that master
// hands its slots over and becomes a replica, with every key still there;
// the others (a master without a replica, a replica) return at once; and a
// master whose replica just died shuts down without waiting.
func TestPrestopHandsMastershipOver(t *testing.T) {
	testenv.LookTool(t, "redis-cli", "redis-tools")
	masters := []*nodeProc{startNodeProc(t, true), startNodeProc(t, true), startNodeProc(t, true)}
	replica := startNodeProc(t, true)
	formCluster(t, masters, []*nodeProc{replica})
	ctx := t.Context()

	cc := clusterClient(append(masters, replica))
	defer cc.Close()
	const keys = 2000
	for i := range keys {
		if err := cc.Set(ctx, "key:"+strconv.Itoa(i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	first := masters[0].mustView(t)
	me, _ := first.Myself()
	replicaID := replica.mustView(t).MyID()

	t.Run("master with an in-sync replica hands over", func(t *testing.T) {
		r := runSubcommand(t, append([]string{"prestop"}, connArgs(masters[0])...)...)
		t.Logf("prestop took %v:\n%s%s", r.Took, r.Stdout, r.Stderr)
		if r.Code != 0 {
			t.Fatalf("prestop: exit %d\nreplica log:\n%s\nmaster log:\n%s", r.Code, replica.logTail(), masters[0].logTail())
		}
		after := masters[0].mustView(t)
		now, _ := after.Myself()
		if !now.IsReplica() || now.MasterID != replicaID {
			t.Errorf("after prestop the old master is %v (master %s), want a replica of %s", now.Flags, now.MasterID, replicaID)
		}
		promoted, _ := replica.mustView(t).Myself()
		if !promoted.IsMaster() || promoted.SlotCount() != me.SlotCount() {
			t.Errorf("the replica is %v with %d slots, want a master with the old master's %d", promoted.Flags, promoted.SlotCount(), me.SlotCount())
		}
		for i := range keys {
			got, err := cc.Get(ctx, "key:"+strconv.Itoa(i)).Result()
			if err != nil || got != strconv.Itoa(i) {
				t.Fatalf("key:%d = %q, %v after the hand-over", i, got, err)
			}
		}
	})

	t.Run("master without a replica returns at once", func(t *testing.T) {
		r := runSubcommand(t, append([]string{"prestop"}, connArgs(masters[1])...)...)
		if r.Code != 0 || !strings.Contains(r.Stdout, "no connected, in-sync replica") {
			t.Errorf("prestop: exit %d, %s%s", r.Code, r.Stdout, r.Stderr)
		}
		if v, _ := masters[1].mustView(t).Myself(); !v.IsMaster() {
			t.Errorf("master without a replica is now %v", v.Flags)
		}
	})

	t.Run("replica returns at once", func(t *testing.T) {
		r := runSubcommand(t, append([]string{"prestop"}, connArgs(masters[0])...)...)
		if r.Code != 0 || !strings.Contains(r.Stdout, "not a master serving slots") {
			t.Errorf("prestop: exit %d, %s%s", r.Code, r.Stdout, r.Stderr)
		}
	})

	t.Run("master whose replica died returns without a failover", func(t *testing.T) {
		// The promoted replica is now the master; its replica (the old
		// master) crashes.
		masters[0].kill()
		r := runSubcommand(t, append([]string{"prestop"}, connArgs(replica)...)...)
		t.Logf("prestop took %v:\n%s%s", r.Took, r.Stdout, r.Stderr)
		if r.Code != 0 {
			t.Errorf("prestop: exit %d", r.Code)
		}
		if r.Took > 10*time.Second {
			t.Errorf("prestop took %v with no replica to hand over to", r.Took)
		}
		if v, _ := replica.mustView(t).Myself(); !v.IsMaster() {
			t.Errorf("master whose replica died is now %v", v.Flags)
		}
	})
}

// TestPodCommandsAgainstANode runs the probe and hook commands exactly as the
// operator writes them into the pod (controllers/builders), but for the
// port, against a node with the password in the variable they name: the
// flags the operator passes are the flags this command takes.
func TestPodCommandsAgainstANode(t *testing.T) {
	n := startNodeProc(t, true)
	commands := [][]string{
		builders.HealthCommand(builders.HealthLive),
		builders.HealthCommand(builders.HealthReady),
		builders.PreStopCommand(),
		builders.ReplicationPreStopCommand(&v1alpha1.RedisReplication{ObjectMeta: metav1.ObjectMeta{Name: "rp", Namespace: "ns"}}),
	}
	for _, command := range commands {
		args := slices.Clone(command[1:])
		i := slices.Index(args, "--port")
		if i < 0 || args[i+1] != strconv.Itoa(builders.RedisPort) {
			t.Fatalf("%v does not name the node's port", command)
		}
		args[i+1] = strconv.Itoa(n.Port)
		cmd := exec.CommandContext(t.Context(), nodetest.Binary(t), args...)
		cmd.Env = append(os.Environ(), builders.PasswordEnv+"="+testPassword)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%v: %v\n%s", command, err, out)
		}
	}
	// And with a wrong password, readiness fails: the variable is read.
	args := slices.Clone(builders.HealthCommand(builders.HealthReady)[1:])
	args[slices.Index(args, "--port")+1] = strconv.Itoa(n.Port)
	cmd := exec.CommandContext(t.Context(), nodetest.Binary(t), args...)
	cmd.Env = append(os.Environ(), builders.PasswordEnv+"=not-"+testPassword)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("ready with a wrong password: %s", out)
	}
}

// TestPrestopSpeaksTLS: with --tls-dir the hook reads the node over its TLS
// port (a TLS cluster's nodes have no plain port): it finds a master
// serving slots with no replica and says so, instead of failing to read
// the node and skipping the hand-over.
func TestPrestopSpeaksTLS(t *testing.T) {
	now := time.Now().Add(-time.Minute)
	ca, err := certgen.NewCA("prestop CA", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := certgen.Issue(ca, certgen.Request{CommonName: "node", IPs: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: now, Validity: time.Hour, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM, "ca.crt": ca.CertPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tlsPort := nodetest.FreePort(t)
	// The plain port serves the harness's readiness PING and the setup.
	p := nodetest.Start(t, nodetest.Options{Ready: testWait, Args: []string{"--save", "", "--requirepass", testPassword,
		"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(nodetest.FreePort(t)), "--cluster-node-timeout", testNodeTimeout,
		"--tls-port", strconv.Itoa(tlsPort), "--tls-cluster", "yes", "--tls-replication", "yes",
		"--tls-cert-file", filepath.Join(dir, "tls.crt"), "--tls-key-file", filepath.Join(dir, "tls.key"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.crt")}})
	n := &nodeProc{Port: p.Port, proc: p}
	c := n.client()
	defer c.Close() //nolint:errcheck // test client
	if err := c.Do(t.Context(), "CLUSTER", "ADDSLOTSRANGE", "0", "16383").Err(); err != nil {
		t.Fatal(err)
	}
	r := runSubcommand(t, "prestop", "--port", strconv.Itoa(tlsPort), "--password-env", testPasswordEnv, "--tls-dir", dir)
	if r.Code != 0 || !strings.Contains(r.Stdout, "no connected, in-sync replica") {
		t.Errorf("prestop over TLS: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}
