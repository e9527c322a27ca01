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
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// TestFormsClusterFromReadyPods plays the kubelet: for every pod the
// StatefulSets ask for, it starts a real cluster node (Debian's
// redis-server, the reference implementation, with the node.conf the
// operator wrote) on a loopback address of its own, port 6379 and bus 16379
// as in a pod, and creates the pod with that IP, Ready. The operator must
// then form the cluster by itself (MEET, ADDSLOTSRANGE, REPLICATE) and report
// it Ready with the shard view in status.
func TestFormsClusterFromReadyPods(t *testing.T) {
	redisServer, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is required (Debian package redis-server): ", err)
	}
	ns := newNamespace(t)
	rc := newCluster(ns, "formed", func(rc *v1alpha1.RedisCluster) { rc.Spec.Storage.Ephemeral = true })
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)

	secret := &corev1.Secret{}
	get(t, ns, "formed-auth", secret)
	password := string(secret.Data["password"])
	cm := &corev1.ConfigMap{}
	get(t, ns, "formed-config", cm)
	confPath := filepath.Join(t.TempDir(), "node.conf")
	if err := os.WriteFile(confPath, []byte(cm.Data[builders.ConfigFileKey]), 0o600); err != nil {
		t.Fatal(err)
	}

	ips := freeLoopbackIPs(t, 6)
	type node struct {
		pod string
		ip  string
	}
	var nodes []node
	for s := range 3 {
		sts := &appsv1.StatefulSet{}
		get(t, ns, fmt.Sprintf("formed-shard-%d", s), sts)
		for o := range int(*sts.Spec.Replicas) {
			n := node{pod: fmt.Sprintf("%s-%d", sts.Name, o), ip: ips[len(nodes)]}
			startNode(t, redisServer, sts.Spec.Template.Spec.Containers[0].Args, confPath, n.ip, password)
			nodes = append(nodes, n)
			makeReadyPod(t, sts, n.pod, n.ip)
		}
	}
	start := time.Now()
	rc = waitCondition(t, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonClusterOK)
	t.Logf("pods ready to RedisCluster Ready: %s", time.Since(start).Round(time.Millisecond))

	s := rc.Status
	if s.ReadyMasters != 3 || s.ReadyReplicas != 3 || s.SlotsAssigned != 16384 || s.ClusterState != "ok" {
		t.Errorf("status counts: masters %d replicas %d slots %d state %q", s.ReadyMasters, s.ReadyReplicas, s.SlotsAssigned, s.ClusterState)
	}
	wantSlots := []string{"0-5460", "5461-10922", "10923-16383"}
	if len(s.Shards) != 3 {
		t.Fatalf("shards %+v", s.Shards)
	}
	for i, sh := range s.Shards {
		if sh.Name != fmt.Sprintf("formed-shard-%d", i) || sh.Master == nil || sh.Master.Pod != fmt.Sprintf("formed-shard-%d-0", i) ||
			len(sh.Master.NodeID) != 40 || !slices.Equal(sh.Master.Slots, wantSlots[i:i+1]) {
			t.Errorf("shard %d: %+v master %+v", i, sh, sh.Master)
		}
		if len(sh.Replicas) != 1 || sh.Replicas[0].Pod != fmt.Sprintf("formed-shard-%d-1", i) ||
			sh.Replicas[0].LinkState != "connected" || len(sh.Replicas[0].NodeID) != 40 {
			t.Errorf("shard %d replicas %+v", i, sh.Replicas)
		}
	}
	for _, c := range []v1alpha1.ConditionType{v1alpha1.ConditionProgressing, v1alpha1.ConditionDegraded} {
		if cond := rc.Condition(c); cond == nil || cond.Status != metav1.ConditionFalse {
			t.Errorf("%s = %+v", c, cond)
		}
	}

	// redis-cli's own checker agrees the cluster is whole.
	out, err := exec.Command("redis-cli", "--cluster", "check", nodes[0].ip+":6379", "-a", password, "--no-auth-warning").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("[OK] All 16384 slots covered.")) || bytes.Contains(out, []byte("[ERR]")) {
		t.Errorf("redis-cli --cluster check: %v\n%s", err, out)
	}

	// The formation steps were announced as events.
	var events corev1.EventList
	if err := testEnv.c.List(context.Background(), &events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, e := range events.Items {
		if e.Reason == string(v1alpha1.ReasonFormingCluster) {
			reasons = append(reasons, e.Message)
		}
	}
	for _, phase := range []string{"Meeting: CLUSTER MEET", "AssigningSlots: CLUSTER ADDSLOTSRANGE", "Replicating: CLUSTER REPLICATE"} {
		if !slices.ContainsFunc(reasons, func(m string) bool { return bytes.HasPrefix([]byte(m), []byte(phase)) }) {
			t.Errorf("no FormingCluster event starting %q among %q", phase, reasons)
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

// startNode runs redis-server as the pod's container runs our node: the
// container's own args, with the config file, the data volume and the
// environment ($(POD_IP), $(SHOAL_PASSWORD)) substituted as the kubelet and
// the volumes would; redis-server takes the config file as its first
// argument where our node takes --config. The pod's network namespace is
// played by binding the pod IP.
func startNode(t *testing.T, bin string, containerArgs []string, conf, ip, password string) {
	t.Helper()
	dir := t.TempDir()
	args := []string{conf}
	for i := 0; i < len(containerArgs); i++ {
		a := containerArgs[i]
		switch {
		case a == "--config":
			i++ // the config file is the first argument
			continue
		case a == builders.DataDir:
			a = dir
		case a == fmt.Sprintf("$(%s)", builders.PodIPEnv):
			a = ip
		case a == fmt.Sprintf("$(%s)", builders.PasswordEnv):
			a = password
		}
		args = append(args, a)
	}
	args = append(args, "--bind", ip, "--bind-source-addr", ip, "--daemonize", "no")
	var log bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("redis-server %v:\n%s", args, log.String())
		}
	})
	eventually(t, func() error {
		c, err := net.Dial("tcp", net.JoinHostPort(ip, fmt.Sprint(builders.RedisPort)))
		if err != nil {
			return err
		}
		return c.Close()
	})
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
