package controllers

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// formationCase is one run of cluster formation by the operator over real
// node processes standing in for pods.
type formationCase struct {
	name     string
	binary   string // the node executable: redis-server or shoal-node
	replicas int32
	// args adjusts the container's args for this binary, if needed.
	args func([]string) []string
	// bindSource binds outgoing connections to the pod IP too (a pod has one
	// address; loopback aliases do not). Our node announces its IP instead.
	bindSource bool
}

// TestFormsClusterFromReadyPods plays the kubelet: for every pod the
// StatefulSets ask for, it starts a real cluster node (Debian's
// redis-server, the reference implementation, with the node.conf and the
// command line the operator wrote) on a loopback address of its own, port
// 6379 and bus 16379 as in a pod, and creates the pod with that IP, Ready.
// The operator must then form the cluster by itself (MEET, ADDSLOTSRANGE,
// REPLICATE) and report it Ready with the shard view in status.
func TestFormsClusterFromReadyPods(t *testing.T) {
	redisServer, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is required (Debian package redis-server): ", err)
	}
	runFormation(t, formationCase{name: "formed", binary: redisServer, replicas: 1, bindSource: true})
}

// TestFormsClusterOfShoalNodes does the same with this repository's own data
// node, masters only: the node has cluster mode but no replication yet.
func TestFormsClusterOfShoalNodes(t *testing.T) {
	bin := nodetest.Binary(t)
	runFormation(t, formationCase{name: "ours", binary: bin, replicas: 0, args: func(a []string) []string {
		// The node does not know masterauth until it has replication;
		// drop this adjustment when it does.
		i := slices.Index(a, "--masterauth")
		return slices.Delete(slices.Clone(a), i, i+2)
	}})
}

func runFormation(t *testing.T, fc formationCase) {
	ns := newNamespace(t)
	rc := newCluster(ns, fc.name, func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.ReplicasPerMaster = fc.replicas
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)

	secret := &corev1.Secret{}
	get(t, ns, fc.name+"-auth", secret)
	password := string(secret.Data["password"])
	cm := &corev1.ConfigMap{}
	get(t, ns, fc.name+"-config", cm)
	confPath := filepath.Join(t.TempDir(), "node.conf")
	if err := os.WriteFile(confPath, []byte(cm.Data[builders.ConfigFileKey]), 0o600); err != nil {
		t.Fatal(err)
	}

	ips := freeLoopbackIPs(t, 3*int(1+fc.replicas))
	var firstIP string
	for s := range 3 {
		sts := &appsv1.StatefulSet{}
		get(t, ns, fmt.Sprintf("%s-shard-%d", fc.name, s), sts)
		args := sts.Spec.Template.Spec.Containers[0].Args
		if fc.args != nil {
			args = fc.args(args)
		}
		for o := range int(*sts.Spec.Replicas) {
			ip := ips[0]
			ips = ips[1:]
			if firstIP == "" {
				firstIP = ip
			}
			extra := []string{"--bind", ip}
			if fc.bindSource {
				extra = append(extra, "--bind-source-addr", ip)
			}
			startNode(t, fc.binary, append(slices.Clone(args), extra...), confPath, ip, password)
			makeReadyPod(t, sts, fmt.Sprintf("%s-%d", sts.Name, o), ip)
		}
	}
	start := time.Now()
	rc = waitCondition(t, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonClusterOK)
	t.Logf("%s: pods ready to RedisCluster Ready: %s", filepath.Base(fc.binary), time.Since(start).Round(time.Millisecond))

	s := rc.Status
	if s.ReadyMasters != 3 || s.ReadyReplicas != 3*fc.replicas || s.SlotsAssigned != 16384 || s.ClusterState != "ok" {
		t.Errorf("status counts: masters %d replicas %d slots %d state %q", s.ReadyMasters, s.ReadyReplicas, s.SlotsAssigned, s.ClusterState)
	}
	wantSlots := []string{"0-5460", "5461-10922", "10923-16383"}
	if len(s.Shards) != 3 {
		t.Fatalf("shards %+v", s.Shards)
	}
	for i, sh := range s.Shards {
		if sh.Name != fmt.Sprintf("%s-shard-%d", fc.name, i) || sh.Master == nil || sh.Master.Pod != fmt.Sprintf("%s-shard-%d-0", fc.name, i) ||
			len(sh.Master.NodeID) != 40 || !slices.Equal(sh.Master.Slots, wantSlots[i:i+1]) {
			t.Errorf("shard %d: %+v master %+v", i, sh, sh.Master)
		}
		if len(sh.Replicas) != int(fc.replicas) {
			t.Errorf("shard %d replicas %+v", i, sh.Replicas)
		}
		for o, r := range sh.Replicas {
			if r.Pod != fmt.Sprintf("%s-shard-%d-%d", fc.name, i, o+1) || r.LinkState != "connected" || len(r.NodeID) != 40 {
				t.Errorf("shard %d replica %+v", i, r)
			}
		}
	}
	for _, c := range []v1alpha1.ConditionType{v1alpha1.ConditionProgressing, v1alpha1.ConditionDegraded} {
		if cond := rc.Condition(c); cond == nil || cond.Status != metav1.ConditionFalse {
			t.Errorf("%s = %+v", c, cond)
		}
	}

	// redis-cli's own checker agrees the cluster is whole (polled: the
	// replicas' attachment reaches some nodes by gossip a moment later).
	poll(t, waitFor, func() error {
		out, err := exec.Command("redis-cli", "--cluster", "check", firstIP+":6379", "-a", password, "--no-auth-warning").CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("[OK] All 16384 slots covered.")) || bytes.Contains(out, []byte("[ERR]")) {
			return fmt.Errorf("redis-cli --cluster check: %v\n%s", err, out)
		}
		return nil
	})

	// The formation steps were announced as events.
	var events corev1.EventList
	if err := testEnv.c.List(context.Background(), &events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var messages []string
	for _, e := range events.Items {
		// Once slots are assigned, membership (Day-2) attaches the
		// replicas.
		if e.Reason == string(v1alpha1.ReasonFormingCluster) || e.Reason == string(v1alpha1.ReasonChangingMembership) {
			messages = append(messages, e.Message)
		}
	}
	phases := []string{"Meeting: CLUSTER MEET", "AssigningSlots: CLUSTER ADDSLOTSRANGE"}
	if fc.replicas > 0 {
		phases = append(phases, "Replicating: CLUSTER REPLICATE")
	}
	for _, phase := range phases {
		if !slices.ContainsFunc(messages, func(m string) bool { return strings.HasPrefix(m, phase) }) {
			t.Errorf("no FormingCluster event starting %q among %q", phase, messages)
		}
	}
}

// freeLoopbackIPs picks n addresses in 127.0.0.0/8 on which ports 6379 and
// 16379 are free, as every pod has its own IP.
func freeLoopbackIPs(t *testing.T, n int) []string {
	t.Helper()
	var ips []string
	for tries := 0; len(ips) < n && tries < 1000; tries++ {
		ip := fmt.Sprintf("127.%d.%d.%d", 10+rand.IntN(240), rand.IntN(256), 1+rand.IntN(254))
		if slices.Contains(ips, ip) || !portFree(ip, builders.RedisPort) || !portFree(ip, builders.BusPort) {
			continue
		}
		ips = append(ips, ip)
	}
	if len(ips) < n {
		t.Fatalf("found only %d free loopback addresses", len(ips))
	}
	return ips
}

func portFree(ip string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, fmt.Sprint(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// startNode runs the node binary as the pod's container runs it (shoal-node
// takes redis-server's arguments): the container's own args, with the config
// file, the data volume and the environment ($(POD_IP), $(SHOAL_PASSWORD))
// substituted as the volumes and the kubelet would. The pod's network
// namespace is played by binding the pod IP (in containerArgs' tail).
func startNode(t *testing.T, bin string, containerArgs []string, conf, ip, password string) {
	t.Helper()
	dir := t.TempDir()
	var args []string
	for _, a := range containerArgs {
		switch {
		case a == builders.ConfigDir+"/"+builders.ConfigFileKey:
			a = conf
		case a == builders.DataDir:
			a = dir
		case a == fmt.Sprintf("$(%s)", builders.PodIPEnv):
			a = ip
		case a == fmt.Sprintf("$(%s)", builders.PasswordEnv):
			a = password
		}
		args = append(args, a)
	}
	nodetest.Start(t, nodetest.Options{Binary: bin, CommandLine: args, Host: ip, Port: builders.RedisPort, Dir: dir, Ready: waitFor})
}

// makeReadyPod creates the pod the StatefulSet controller would, and marks
// it running and Ready at ip as the kubelet would.
func makeReadyPod(t *testing.T, sts *appsv1.StatefulSet, name, ip string) {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: sts.Namespace, Name: name,
			Labels:      sts.Spec.Template.Labels,
			Annotations: sts.Spec.Template.Annotations,
		},
		Spec: *sts.Spec.Template.Spec.DeepCopy(),
	}
	create(t, pod)
	now := metav1.Now()
	pod.Status = corev1.PodStatus{
		Phase:  corev1.PodRunning,
		PodIP:  ip,
		PodIPs: []corev1.PodIP{{IP: ip}},
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		},
	}
	if err := testEnv.c.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
}
