package controllers

import (
	"context"
	"fmt"
	"maps"
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

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/nodetest"
)

const (
	counterLibV1 = "#!lua name=counter\nredis.register_function('bump', function(keys, args) return redis.call('INCRBY', keys[1], 1) end)\n"
	counterLibV2 = "#!lua name=counter\nredis.register_function('bump', function(keys, args) return redis.call('INCRBY', keys[1], 10) end)\n"
	brokenLib    = "#!lua name=broken\nredis.register_function('f', function( return 1 end)\n"
)

// TestFunctionsLoadedEverywhere runs the functions step on a formed cluster
// of real nodes, Debian's redis-server (the reference), then our own
// (TestFunctionsLoadedOnShoalNodes).
// A library from a ConfigMap is loaded on every master and reaches every
// replica; a new version in the ConfigMap replaces it everywhere; a library
// with a syntax error is an Event with FUNCTION LOAD's error and its status
// entry's error; a missing key is reported; a master that lost its
// functions (FUNCTION FLUSH, as an emptied replacement would) and a replica
// added later get them back.
func TestFunctionsLoadedEverywhere(t *testing.T) {
	redisServer, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is required (Debian package redis-server): ", err)
	}
	runFunctions(t, redisServer, []string{"--bind-source-addr"})
}

// TestFunctionsLoadedOnShoalNodes is the same over shoal-node processes;
// it skips while the node does not serve FUNCTION (a build without the
// scripting engine).
func TestFunctionsLoadedOnShoalNodes(t *testing.T) {
	runFunctions(t, nodetest.Binary(t), nil)
}

// runFunctions runs the test over nodes of bin; bindSource is the option
// that binds a node's outgoing connections to its pod IP, if it needs one.
func runFunctions(t *testing.T, bin string, bindSource []string) {
	ns := newNamespace(t)
	ctx := context.Background()
	libs := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "libs"},
		Data:       map[string]string{"counter.lua": counterLibV1, "broken.lua": brokenLib},
	}
	create(t, libs)
	rc := newCluster(ns, "fn", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.Functions = []v1alpha1.FunctionLibrarySource{
			{ConfigMapRef: v1alpha1.ConfigMapKeyRef{Name: "libs", Key: "counter.lua"}},
			{ConfigMapRef: v1alpha1.ConfigMapKeyRef{Name: "libs", Key: "broken.lua"}},
			{ConfigMapRef: v1alpha1.ConfigMapKeyRef{Name: "libs", Key: "absent.lua"}},
		}
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)

	secret := &corev1.Secret{}
	get(t, ns, "fn-auth", secret)
	password := string(secret.Data["password"])
	cm := &corev1.ConfigMap{}
	get(t, ns, "fn-config", cm)
	confPath := filepath.Join(t.TempDir(), "node.conf")
	if err := os.WriteFile(confPath, []byte(cm.Data[builders.ConfigFileKey]), 0o600); err != nil {
		t.Fatal(err)
	}
	startPod := func(sts *appsv1.StatefulSet, ordinal int, ip string) {
		args := append(slices.Clone(sts.Spec.Template.Spec.Containers[0].Args), "--bind", ip)
		if bindSource != nil {
			args = append(args, append(bindSource, ip)...)
		}
		startNode(t, bin, args, confPath, ip, password)
		makeReadyPod(t, sts, fmt.Sprintf("%s-%d", sts.Name, ordinal), ip)
	}
	ips := freeLoopbackIPs(t, 9)
	addrOf := map[string]string{} // pod -> ip:6379
	for s := range 3 {
		sts := &appsv1.StatefulSet{}
		get(t, ns, fmt.Sprintf("fn-shard-%d", s), sts)
		for o := range 2 {
			ip := ips[0]
			ips = ips[1:]
			startPod(sts, o, ip)
			addrOf[fmt.Sprintf("%s-%d", sts.Name, o)] = fmt.Sprintf("%s:%d", ip, builders.RedisPort)
		}
	}
	err := onAddr(addrOf["fn-shard-0-0"], password, func(r *redis.Client) error { return r.FunctionList(ctx, redis.FunctionListQuery{}).Err() })
	if err != nil {
		t.Fatalf("FUNCTION LIST on the node: %v", err)
	}
	waitCondition(t, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonClusterOK)

	waitFunctions := func(what, hash string, nodes int32) *v1alpha1.RedisCluster {
		t.Helper()
		got := &v1alpha1.RedisCluster{}
		eventually(t, func() error {
			if err := testEnv.c.Get(ctx, key, got); err != nil {
				return err
			}
			fs := got.Status.Functions
			if len(fs) != 3 {
				return fmt.Errorf("%s: status.functions %+v", what, fs)
			}
			if c := fs[0]; c.Name != "counter" || c.SHA256 != hash || c.LoadedNodes != nodes || c.Nodes != nodes || c.Error != "" {
				return fmt.Errorf("%s: counter %+v, want %d nodes with %s", what, c, nodes, hash)
			}
			return nil
		})
		return got
	}
	got := waitFunctions("first load", topology.CodeHash(counterLibV1), 6)
	broken, absent := got.Status.Functions[1], got.Status.Functions[2]
	if broken.Name != "broken" || broken.LoadedNodes != 0 || !strings.HasPrefix(broken.Error, "FUNCTION LOAD: ERR Error compiling function") {
		t.Errorf("broken library status %+v", broken)
	}
	if absent.Source != "libs/absent.lua" || absent.Error != "ConfigMap libs has no key absent.lua" {
		t.Errorf("absent library status %+v", absent)
	}
	eventually(t, func() error {
		return hasEvent(testEnv.c, ns, "FunctionLoadFailed", "libs/broken.lua: FUNCTION LOAD: ERR Error compiling function")
	})
	eventually(t, func() error {
		return hasEvent(testEnv.c, ns, "FunctionLoaded", "FUNCTION LOAD REPLACE counter on 3 masters")
	})

	// Every node has the code, and FCALL runs it through the cluster.
	for pod, addr := range addrOf {
		if code := functionCode(t, addr, password, "counter"); code != counterLibV1 {
			t.Errorf("%s: counter code %q", pod, code)
		}
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: slices.Collect(maps.Values(addrOf)), Password: password})
	defer cc.Close() //nolint:errcheck // test client
	fcall := func(want int64) {
		t.Helper()
		for _, k := range []string{"a", "b", "c", "d"} { // keys of the three shards
			cc.Del(ctx, k)
			if n, err := cc.FCall(ctx, "bump", []string{k}).Int64(); err != nil || n != want {
				t.Errorf("FCALL bump %s = %d, %v; want %d", k, n, err, want)
			}
		}
	}
	fcall(1)

	// A new version in the ConfigMap replaces the library everywhere.
	libs.Data["counter.lua"] = counterLibV2
	if err := testEnv.c.Update(ctx, libs); err != nil {
		t.Fatal(err)
	}
	pokeCluster(t, key)
	waitFunctions("new version", topology.CodeHash(counterLibV2), 6)
	fcall(10)

	// A master that lost its functions gets them back (its replica too,
	// by replication of the FLUSH and then of the LOAD).
	if err := onAddr(addrOf["fn-shard-1-0"], password, func(r *redis.Client) error { return r.FunctionFlush(ctx).Err() }); err != nil {
		t.Fatal(err)
	}
	pokeCluster(t, key)
	waitFunctions("after FUNCTION FLUSH on a master", topology.CodeHash(counterLibV2), 6)

	// A replica added later receives the library from its master.
	rc = &v1alpha1.RedisCluster{}
	get(t, ns, "fn", rc)
	rc.Spec.ReplicasPerMaster = 2
	if err := testEnv.c.Update(ctx, rc); err != nil {
		t.Fatal(err)
	}
	for s := range 3 {
		sts := &appsv1.StatefulSet{}
		eventually(t, func() error {
			get(t, ns, fmt.Sprintf("fn-shard-%d", s), sts)
			if *sts.Spec.Replicas != 3 {
				return fmt.Errorf("%s replicas %d", sts.Name, *sts.Spec.Replicas)
			}
			return nil
		})
		ip := ips[0]
		ips = ips[1:]
		startPod(sts, 2, ip)
		addrOf[sts.Name+"-2"] = fmt.Sprintf("%s:%d", ip, builders.RedisPort)
	}
	waitFunctions("new replicas", topology.CodeHash(counterLibV2), 9)
	for s := range 3 {
		pod := fmt.Sprintf("fn-shard-%d-2", s)
		if code := functionCode(t, addrOf[pod], password, "counter"); code != counterLibV2 {
			t.Errorf("%s: counter code %q", pod, code)
		}
	}
}

// functionCode is the code of library lib on the node at addr ("" when it
// has none).
func functionCode(t *testing.T, addr, password, lib string) string {
	t.Helper()
	var code string
	err := onAddr(addr, password, func(r *redis.Client) error {
		libs, err := r.FunctionList(context.Background(), redis.FunctionListQuery{LibraryNamePattern: lib, WithCode: true}).Result()
		if err != nil {
			return err
		}
		for _, l := range libs {
			if l.Name == lib {
				code = l.Code
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("FUNCTION LIST on %s: %v", addr, err)
	}
	return code
}

func onAddr(addr, password string, f func(*redis.Client) error) error {
	r := redis.NewClient(&redis.Options{Addr: addr, Password: password})
	defer r.Close() //nolint:errcheck // f's result is what counts
	return f(r)
}

// pokeCluster changes an annotation: the operator reconciles now instead
// of at its next resync (it does not watch the user's ConfigMaps).
func pokeCluster(t *testing.T, key client.ObjectKey) {
	t.Helper()
	eventually(t, func() error {
		rc := &v1alpha1.RedisCluster{}
		if err := testEnv.c.Get(context.Background(), key, rc); err != nil {
			return err
		}
		if rc.Annotations == nil {
			rc.Annotations = map[string]string{}
		}
		rc.Annotations["test/poke"] = time.Now().Format(time.RFC3339Nano)
		return testEnv.c.Update(context.Background(), rc)
	})
}
