package controllers

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// TestBootstrapFromRedis imports a real Redis (Debian's redis-server, with
// a password from a Secret) into a RedisCluster of three shoal-node
// masters while a writer keeps writing to the source: keys of every type,
// with and without TTLs, reach the master of their slot; passes go on
// (FromRedisSynced True, Syncing, lag reported); keys deleted on the
// source after a pass are gone after the cut-over; every write the source
// acknowledged before the cut-over annotation is in the cluster; the
// source's writes are released once the import completed.
func TestBootstrapFromRedis(t *testing.T) {
	ctx := context.Background()
	source, key, cc := startImport(t, v1alpha1.FromRedisCopy)
	ns := key.Namespace
	synced := waitCondition(t, key, v1alpha1.ConditionFromRedisSynced, metav1.ConditionTrue, v1alpha1.ReasonImportSyncing)
	fs := synced.Status.FromRedis
	if fs.LastSyncedTime == nil || fs.Pass < 1 || (fs.Pass == 1 && (fs.KeysCopied != 3002 || len(fs.Shards) != 3)) {
		t.Fatalf("status after the first pass: %+v", fs)
	}
	eventually(t, func() error {
		return hasEvent(testEnv.c, ns, "ImportPassFinished", "First pass over the source finished")
	})

	// The source keeps serving: a writer writes and deletes while passes
	// run; then the application "moves": the writer stops, the cut-over is
	// asked for.
	if n := cc.DBSize(ctx); n.Err() != nil {
		t.Fatal(n.Err())
	}
	acked := runWriter(ctx, t, source, 2*time.Second)
	for i := range 50 {
		if err := source.Del(ctx, fmt.Sprintf("str:%d", i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// One more pass must see the deletions gone only at the cut-over: the
	// keys are still in the cluster before it (passes only add).
	eventually(t, func() error {
		got := &v1alpha1.RedisCluster{}
		if err := testEnv.c.Get(ctx, key, got); err != nil {
			return err
		}
		if got.Status.FromRedis.Pass < fs.Pass+2 {
			return fmt.Errorf("pass %d", got.Status.FromRedis.Pass)
		}
		return nil
	})
	if n, err := cc.Exists(ctx, "str:0").Result(); err != nil || n != 1 {
		t.Fatalf("a key deleted on the source before the cut-over: EXISTS %d, %v; want 1 (passes only add)", n, err)
	}
	setAnnotation(t, key, v1alpha1.CutoverAnnotation, "true")
	done := waitCondition(t, key, v1alpha1.ConditionFromRedisSynced, metav1.ConditionTrue, v1alpha1.ReasonImportCompleted)
	if d := done.Status.FromRedis; d.Phase != v1alpha1.FromRedisCompleted || d.CompletedTime == nil || d.LagSeconds != 0 || len(d.Shards) != 3 {
		t.Fatalf("status after the cut-over: %+v", d)
	}
	eventually(t, func() error { return hasEvent(testEnv.c, ns, "ImportCompleted", "Import completed") })

	compareWithSource(ctx, t, source, cc)
	for k, v := range acked {
		if got, err := cc.Get(ctx, k).Result(); err != nil || got != v {
			t.Errorf("acknowledged write %s=%s: the cluster has %q, %v", k, v, got, err)
		}
	}
	// The source's writes are released (a hold left in place would last
	// importHold, 30 s: 10 s tells them apart on a busy machine).
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := source.Set(wctx, "after", "1", 0).Err(); err != nil {
		t.Errorf("the source still holds writes after the import: %v", err)
	}
	// Completed is final: nothing is copied any more.
	if n, err := cc.Exists(ctx, "after").Result(); err != nil || n != 0 {
		t.Errorf("a write to the source after the cut-over reached the cluster: %d, %v", n, err)
	}
}

// startImport starts a source redis-server with a password (from a
// Secret) and 3000 keys, and a RedisCluster of three shoal-node masters
// importing it with method; it returns the source's client, the
// cluster's key and a client of the cluster.
func startImport(t *testing.T, method v1alpha1.FromRedisMethod) (*redis.Client, client.ObjectKey, *redis.ClusterClient) {
	t.Helper()
	const srcPassword = "source-secret"
	src := nodetest.Start(t, nodetest.Options{Binary: nodetest.RedisServer(t),
		Args: []string{"--requirepass", srcPassword, "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0"}})
	source := redis.NewClient(&redis.Options{Addr: src.Addr, Password: srcPassword})
	t.Cleanup(func() { _ = source.Close() })
	fillSource(t, source, 3000)

	ns := newNamespace(t)
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "src"}, StringData: map[string]string{"pw": srcPassword}})
	key, cc := importInto(t, ns, v1alpha1.FromRedisSpec{
		Method:            method,
		Addresses:         []string{src.Addr},
		CredentialsSecret: &v1alpha1.FromRedisCredentials{Name: "src", PasswordKey: "pw"},
		BatchSize:         200,
	})
	return source, key, cc
}

// importInto creates a RedisCluster "imp" of three shoal-node masters in
// ns importing from spec, starts its pods, and returns its key and a
// client of the cluster.
func importInto(t *testing.T, ns string, spec v1alpha1.FromRedisSpec) (client.ObjectKey, *redis.ClusterClient) {
	t.Helper()
	rc := newCluster(ns, "imp", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromRedis: &spec}
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	password, addrs := startShoalPods(t, ns, "imp", 3)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Password: password})
	t.Cleanup(func() { _ = cc.Close() })
	return key, cc
}

// TestBootstrapFromRedisReplicate imports a real Redis with method
// Replicate (the default) while a writer writes to it: the operator's
// link loads the source's snapshot and then applies its writes, so the
// cluster follows the source (FromRedisSynced True, Syncing, no lag in
// bytes), deletions included, before any cut-over; the cut-over holds the
// source's writes only until the cluster applied the rest of the stream;
// every acknowledged write is in the cluster, the cluster holds exactly
// the source's keys, and the source's writes are released.
func TestBootstrapFromRedisReplicate(t *testing.T) {
	ctx := context.Background()
	source, key, cc := startImport(t, "")
	ns := key.Namespace

	synced := waitCondition(t, key, v1alpha1.ConditionFromRedisSynced, metav1.ConditionTrue, v1alpha1.ReasonImportSyncing)
	fs := synced.Status.FromRedis
	if fs.LastSyncedTime == nil || fs.KeysCopied != 3002 || len(fs.Links) != 1 || fs.Links[0].Phase != "Streaming" || fs.Links[0].FullSyncs != 1 {
		t.Fatalf("status once synced: %+v", fs)
	}
	eventually(t, func() error { return hasEvent(testEnv.c, ns, "ImportLinkStarted", "Replicating 1 source node") })

	acked := runWriter(ctx, t, source, 2*time.Second)
	for i := range 50 {
		if err := source.Del(ctx, fmt.Sprintf("str:%d", i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Replicated, deletions reach the cluster before any cut-over.
	eventually(t, func() error {
		for _, k := range []string{"str:0", "str:49"} {
			if n, err := cc.Exists(ctx, k).Result(); err != nil || n != 0 {
				return fmt.Errorf("%s deleted on the source: EXISTS %d, %v", k, n, err)
			}
		}
		return nil
	})
	setAnnotation(t, key, v1alpha1.CutoverAnnotation, "true")
	done := waitCondition(t, key, v1alpha1.ConditionFromRedisSynced, metav1.ConditionTrue, v1alpha1.ReasonImportCompleted)
	if d := done.Status.FromRedis; d.Phase != v1alpha1.FromRedisCompleted || d.CompletedTime == nil || d.LagSeconds != 0 || d.LagBytes != 0 ||
		len(d.Links) != 1 || d.Links[0].FullSyncs != 1 || d.Links[0].LastError != "" {
		t.Fatalf("status after the cut-over: %+v", d)
	}
	eventually(t, func() error {
		return hasEvent(testEnv.c, ns, "ImportCompleted", "Import completed: the cluster applied")
	})

	compareWithSource(ctx, t, source, cc)
	for k, v := range acked {
		if got, err := cc.Get(ctx, k).Result(); err != nil || got != v {
			t.Errorf("acknowledged write %s=%s: the cluster has %q, %v", k, v, got, err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second) // a hold left in place lasts 30 s
	defer cancel()
	if err := source.Set(wctx, "after", "1", 0).Err(); err != nil {
		t.Errorf("the source still holds writes after the import: %v", err)
	}
	// Completed is final: the link is stopped.
	if n, err := cc.Exists(ctx, "after").Result(); err != nil || n != 0 {
		t.Errorf("a write to the source after the cut-over reached the cluster: %d, %v", n, err)
	}
}

// startShoalPods starts the pods of a cluster's shards (one per shard) as
// shoal-node processes on loopback addresses and returns the cluster's
// password and the nodes' addresses.
func startShoalPods(t *testing.T, ns, name string, shards int) (string, []string) {
	t.Helper()
	secret := &corev1.Secret{}
	get(t, ns, name+"-auth", secret)
	password := string(secret.Data["password"])
	cm := &corev1.ConfigMap{}
	get(t, ns, name+"-config", cm)
	confPath := filepath.Join(t.TempDir(), "node.conf")
	if err := os.WriteFile(confPath, []byte(cm.Data[builders.ConfigFileKey]), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := nodetest.Binary(t)
	var addrs []string
	for s, ip := range freeLoopbackIPs(t, shards) {
		sts := &appsv1.StatefulSet{}
		get(t, ns, fmt.Sprintf("%s-shard-%d", name, s), sts)
		args := append(slices.Clone(sts.Spec.Template.Spec.Containers[0].Args), "--bind", ip)
		startNode(t, bin, args, confPath, ip, password)
		makeReadyPod(t, sts, sts.Name+"-0", ip)
		addrs = append(addrs, ip+":6379")
	}
	return password, addrs
}

// fillSource writes n keys of every type to the source, a third of them
// with a TTL.
func fillSource(t *testing.T, r *redis.Client, n int) {
	t.Helper()
	ctx := context.Background()
	p := r.Pipeline()
	for i := range n {
		var ttl time.Duration
		if i%3 == 0 {
			ttl = time.Hour + time.Duration(i)*time.Second
		}
		s := strconv.Itoa(i)
		switch i % 7 {
		case 0:
			p.Set(ctx, "str:"+s, "value-"+s, ttl)
		case 1:
			p.Set(ctx, "int:"+s, i, ttl)
		case 2:
			p.HSet(ctx, "hash:"+s, "a", s, "b", "x")
		case 3:
			p.RPush(ctx, "list:"+s, "a", s, "c")
		case 4:
			p.SAdd(ctx, "set:"+s, "a", s, 42)
		case 5:
			p.ZAdd(ctx, "zset:"+s, redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: float64(i), Member: s})
		case 6:
			p.XAdd(ctx, &redis.XAddArgs{Stream: "stream:{tag}" + s, Values: []any{"f", s}})
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// Big values: a long string and a list of many elements.
	if err := r.Set(ctx, "big:str", string(make([]byte, 1<<20)), 0).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := r.RPush(ctx, "big:list", slices.Repeat([]any{strconv.Itoa(i)}, 500)...).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// runWriter writes to the source for d (SET and INCR of its own keys) and
// returns what the source acknowledged: key -> value.
func runWriter(ctx context.Context, t *testing.T, r *redis.Client, d time.Duration) map[string]string {
	t.Helper()
	acked := map[string]string{}
	var mu sync.Mutex
	deadline := time.Now().Add(d)
	for i := 0; time.Now().Before(deadline); i++ {
		k := fmt.Sprintf("w:%d", i%500)
		v := strconv.Itoa(i)
		if err := r.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatalf("write to the source: %v", err)
		}
		n, err := r.Incr(ctx, "w:counter").Result()
		if err != nil {
			t.Fatalf("INCR on the source: %v", err)
		}
		mu.Lock()
		acked[k] = v
		acked["w:counter"] = strconv.FormatInt(n, 10)
		mu.Unlock()
	}
	return acked
}

// compareWithSource checks that the cluster holds exactly the source's
// keys: the same count, and for each key the same type, value and, within
// a few seconds, TTL.
func compareWithSource(ctx context.Context, t *testing.T, source *redis.Client, cc *redis.ClusterClient) {
	t.Helper()
	var want int64
	iter := source.Scan(ctx, 0, "", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		want++
		sv, err := dumpValue(ctx, source, k)
		if err != nil {
			t.Fatal(err)
		}
		cv, err := dumpValue(ctx, cc, k)
		if err != nil || cv != sv {
			t.Errorf("%s: source %.80q, cluster %.80q (%v)", k, sv, cv, err)
			continue
		}
		st, ct := source.PTTL(ctx, k).Val(), cc.PTTL(ctx, k).Val()
		if (st < 0) != (ct < 0) || (st-ct).Abs() > 30*time.Second {
			t.Errorf("%s: TTL on the source %v, in the cluster %v", k, st, ct)
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	got, err := clusterKeys(ctx, cc)
	if err != nil || got != want {
		t.Errorf("the cluster holds %d keys, the source %d (%v)", got, want, err)
	}
}

// dumpValue is a key's type and value, printed the same way from any
// server whatever its encoding.
func dumpValue(ctx context.Context, r redis.Cmdable, k string) (string, error) {
	typ, err := r.Type(ctx, k).Result()
	if err != nil {
		return "", err
	}
	var v any
	switch typ {
	case "string":
		v, err = r.Get(ctx, k).Result()
	case "hash":
		var m map[string]string
		m, err = r.HGetAll(ctx, k).Result()
		v = slices.Sorted(maps.Keys(m))
		for _, f := range v.([]string) {
			v = append(v.([]string), m[f])
		}
	case "list":
		v, err = r.LRange(ctx, k, 0, -1).Result()
	case "set":
		var m []string
		m, err = r.SMembers(ctx, k).Result()
		slices.Sort(m)
		v = m
	case "zset":
		v, err = r.ZRangeWithScores(ctx, k, 0, -1).Result()
	case "stream":
		v, err = r.XRange(ctx, k, "-", "+").Result()
	}
	return fmt.Sprintf("%s %v", typ, v), err
}

// setAnnotation sets an annotation of the RedisCluster.
func setAnnotation(t *testing.T, key client.ObjectKey, name, value string) {
	t.Helper()
	eventually(t, func() error {
		rc := &v1alpha1.RedisCluster{}
		if err := testEnv.c.Get(context.Background(), key, rc); err != nil {
			return err
		}
		if rc.Annotations == nil {
			rc.Annotations = map[string]string{}
		}
		rc.Annotations[name] = value
		return testEnv.c.Update(context.Background(), rc)
	})
}

// TestBootstrapAdmission checks spec.bootstrap.fromRedis's schema and CEL
// rules in the real API server: bad sources are refused with a message
// that says what is wrong; the bootstrap cannot change, but may be removed.
func TestBootstrapAdmission(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	from := func(f v1alpha1.FromRedisSpec) func(*v1alpha1.RedisCluster) {
		return func(rc *v1alpha1.RedisCluster) {
			rc.Annotations = map[string]string{v1alpha1.PausedAnnotation: "true"}
			rc.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromRedis: &f}
		}
	}
	bad := []struct {
		name    string
		spec    v1alpha1.FromRedisSpec
		wantMsg string
	}{
		{"two addresses of a standalone source", v1alpha1.FromRedisSpec{Addresses: []string{"a:6379", "b:6379"}},
			"a Standalone source has exactly one address"},
		{"no address", v1alpha1.FromRedisSpec{Addresses: []string{}}, "spec.bootstrap.fromRedis.addresses"},
		{"address without a port", v1alpha1.FromRedisSpec{Addresses: []string{"redis.example"}}, "spec.bootstrap.fromRedis.addresses[0] in body should match"},
		{"unknown mode", v1alpha1.FromRedisSpec{Mode: "Sentinel", Addresses: []string{"a:1"}}, `Unsupported value: "Sentinel"`},
		{"unknown method", v1alpha1.FromRedisSpec{Method: "Rsync", Addresses: []string{"a:1"}}, `Unsupported value: "Rsync"`},
		{"batch of zero keys", v1alpha1.FromRedisSpec{Addresses: []string{"a:1"}, BatchSize: -1}, "batchSize in body should be greater than or equal to 1"},
		{"insecureSkipVerify with a CA", v1alpha1.FromRedisSpec{Addresses: []string{"a:1"}, TLS: &v1alpha1.FromRedisTLS{InsecureSkipVerify: true,
			CASecret: &v1alpha1.FromRedisSecretKey{Name: "ca"}}}, "insecureSkipVerify verifies nothing"},
		{"insecureSkipVerify with a server name", v1alpha1.FromRedisSpec{Addresses: []string{"a:1"}, TLS: &v1alpha1.FromRedisTLS{InsecureSkipVerify: true,
			ServerName: "redis.example"}}, "insecureSkipVerify verifies nothing"},
		{"a server name with a port", v1alpha1.FromRedisSpec{Addresses: []string{"a:1"}, TLS: &v1alpha1.FromRedisTLS{ServerName: "redis.example:6379"}},
			"spec.bootstrap.fromRedis.tls.serverName in body should match"},
		{"a CA Secret without a name", v1alpha1.FromRedisSpec{Addresses: []string{"a:1"}, TLS: &v1alpha1.FromRedisTLS{CASecret: &v1alpha1.FromRedisSecretKey{}}},
			"spec.bootstrap.fromRedis.tls.caSecret.name"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			err := testEnv.c.Create(ctx, newCluster(ns, "bad", from(tt.spec)))
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("create: %v\nwant a refusal saying %q", err, tt.wantMsg)
			}
		})
	}
	rc := newCluster(ns, "good", from(v1alpha1.FromRedisSpec{Mode: v1alpha1.FromRedisCluster, Addresses: []string{"10.0.0.1:7000", "[fd00::1]:7001", "redis-0.redis.prod.svc:6379"}}))
	create(t, rc)
	// Let the operator write its status first, so updates do not conflict.
	waitCondition(t, client.ObjectKeyFromObject(rc), v1alpha1.ConditionProgressing, metav1.ConditionFalse, v1alpha1.ReasonPaused)
	got := &v1alpha1.RedisCluster{}
	get(t, ns, "good", got)
	if f := got.Spec.Bootstrap.FromRedis; f.BatchSize != 500 || f.Method != v1alpha1.FromRedisReplicate {
		t.Errorf("batchSize defaults to 500 and method to Replicate, got %d and %q", f.BatchSize, f.Method)
	}
	got.Spec.Bootstrap.FromRedis.Addresses = []string{"10.0.0.2:7000"}
	if err := testEnv.c.Update(ctx, got); err == nil || !strings.Contains(err.Error(), "bootstrap is immutable") {
		t.Errorf("changing the source: %v; want bootstrap is immutable", err)
	}
	get(t, ns, "good", got)
	got.Spec.Bootstrap = nil
	if err := testEnv.c.Update(ctx, got); err != nil {
		t.Errorf("removing the bootstrap: %v", err)
	}
}
