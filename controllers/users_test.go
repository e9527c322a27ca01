package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// authAs opens a plain connection to addr and authenticates as user.
func authAs(ctx context.Context, addr, user, password string) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DisableIdentity: true, Protocol: 2})
	defer rdb.Close() //nolint:errcheck // test probe
	return rdb.Do(ctx, "AUTH", user, password).Err()
}

// authEverywhere is nil when AUTH user password succeeds (want) or fails
// (!want) on every address.
func authEverywhere(ctx context.Context, addrs []string, user, password string, want bool) error {
	for _, a := range addrs {
		err := authAs(ctx, a, user, password)
		if (err == nil) != want {
			return fmt.Errorf("AUTH %s on %s: %v (want success %v)", user, a, err, want)
		}
	}
	return nil
}

// TestUsersOfShoalNodes: spec.users become ACL users on every node of a
// cluster of real shoal-node processes: a user limited to ~app:* and
// +@read reads app keys through a go-redis ClusterClient and nothing else;
// a password rotation under load sees no authentication error; a restarted
// node gets the users back; a user removed from the spec is deleted, and a
// user made by hand is left alone.
func TestUsersOfShoalNodes(t *testing.T) {
	bin := nodetest.Binary(t)
	ns := newNamespace(t)
	ctx := context.Background()
	pw := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app-pw"},
		Data:       map[string][]byte{"v1": []byte("first-secret-pw")},
	}
	create(t, pw)
	rc := newCluster(ns, "acl", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Users = []v1alpha1.UserSpec{{
			Name: "app",
			// A cluster client reads the slot map (CLUSTER SLOTS), as
			// with Redis: the one command beyond +@read it needs.
			Rules:     []string{"~app:*", "+@read", "+cluster|slots"},
			Passwords: []v1alpha1.SecretKeyRef{{Name: "app-pw", Key: "v1"}},
		}}
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	secret := &corev1.Secret{}
	poll(t, waitFor, func() error {
		return testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "acl-auth"}, secret)
	})
	password := string(secret.Data["password"])
	sim := newPodSim(t, testEnv.c, ns, bin, password)
	start := time.Now()
	rc = waitReady(t, testEnv.c, key)
	t.Logf("formed in %s", time.Since(start).Round(time.Millisecond))
	if !slices.Equal(rc.Status.ManagedUsers, []string{"app"}) {
		t.Errorf("status.managedUsers = %q", rc.Status.ManagedUsers)
	}
	addrs := sim.addrs()
	poll(t, waitFor, func() error { return authEverywhere(ctx, addrs, "app", "first-secret-pw", true) })

	admin := clusterClient(addrs, password)
	t.Cleanup(func() { _ = admin.Close() })
	for i := range 100 {
		for _, k := range []string{fmt.Sprintf("app:%d", i), fmt.Sprintf("other:%d", i)} {
			if err := admin.Set(ctx, k, "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("a user limited to app keys and reads", func(t *testing.T) {
		app := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Username: "app", Password: "first-secret-pw", MaxRedirects: 8})
		defer app.Close() //nolint:errcheck // test client
		for i := range 100 {
			if v, err := app.Get(ctx, fmt.Sprintf("app:%d", i)).Result(); err != nil || v != "v" {
				t.Fatalf("GET app:%d = %q, %v", i, v, err)
			}
		}
		denied := map[string]error{
			"GET other:1":   app.Get(ctx, "other:1").Err(),
			"SET app:1":     app.Set(ctx, "app:1", "x", 0).Err(),
			"DEL app:1":     app.Del(ctx, "app:1").Err(),
			"FLUSHALL":      app.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.FlushAll(ctx).Err() }),
			"CONFIG GET *":  app.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.ConfigGet(ctx, "*").Err() }),
			"PUBLISH ch hi": app.Publish(ctx, "ch", "hi").Err(),
		}
		for cmd, err := range denied {
			if err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
				t.Errorf("%s as app: %v, want NOPERM", cmd, err)
			}
		}
		if err := authEverywhere(ctx, addrs, "app", "wrong", false); err != nil {
			t.Error(err)
		}
		if v, _ := admin.Get(ctx, "app:1").Result(); v != "v" {
			t.Errorf("app:1 = %q after the denied writes", v)
		}
	})

	t.Run("password rotation under load", func(t *testing.T) {
		var current atomic.Value
		current.Store("first-secret-pw")
		// Clients that open a new connection for every request (the
		// worst case: every request authenticates), and a ClusterClient
		// whose connections live 50ms, both with the password of the
		// moment.
		var authOK, authErrs, getOK atomic.Int64
		var firstErr atomic.Value
		lctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := 0; lctx.Err() == nil; i++ {
					if err := authAs(lctx, addrs[(g+i)%len(addrs)], "app", current.Load().(string)); err != nil {
						if lctx.Err() == nil {
							authErrs.Add(1)
							firstErr.CompareAndSwap(nil, err.Error())
						}
						continue
					}
					authOK.Add(1)
				}
			})
		}
		app := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRedirects: 8, ConnMaxLifetime: 50 * time.Millisecond,
			CredentialsProvider: func() (string, string) { return "app", current.Load().(string) }})
		defer app.Close() //nolint:errcheck // test client
		wg.Go(func() {
			for i := 0; lctx.Err() == nil; i++ {
				if err := app.Get(lctx, fmt.Sprintf("app:%d", i%100)).Err(); err != nil {
					if lctx.Err() == nil {
						authErrs.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
					continue
				}
				getOK.Add(1)
			}
		})

		// 1. The new password is added: both are valid.
		patchSecret(t, ns, "app-pw", func(s *corev1.Secret) { s.Data["v2"] = []byte("second-secret-pw") })
		updateCluster(t, testEnv.c, key, func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Users[0].Passwords = []v1alpha1.SecretKeyRef{{Name: "app-pw", Key: "v2"}, {Name: "app-pw", Key: "v1"}}
		})
		poll(t, waitFor, func() error { return authEverywhere(ctx, addrs, "app", "second-secret-pw", true) })
		// 2. The clients move to it.
		current.Store("second-secret-pw")
		time.Sleep(200 * time.Millisecond) // let every in-flight request with the old password finish
		// 3. The old one is removed.
		updateCluster(t, testEnv.c, key, func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Users[0].Passwords = []v1alpha1.SecretKeyRef{{Name: "app-pw", Key: "v2"}}
		})
		poll(t, waitFor, func() error { return authEverywhere(ctx, addrs, "app", "first-secret-pw", false) })
		stop()
		wg.Wait()
		t.Logf("rotation: %d authentications, %d GETs, %d errors", authOK.Load(), getOK.Load(), authErrs.Load())
		if n := authErrs.Load(); n != 0 {
			t.Errorf("%d errors during the rotation, first: %v", n, firstErr.Load())
		}
		if authOK.Load() == 0 || getOK.Load() == 0 {
			t.Error("no load ran")
		}
	})

	t.Run("a restarted node gets the users back", func(t *testing.T) {
		pod := "acl-shard-1-0"
		_, startsBefore := sim.snapshot()
		if err := testEnv.c.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: pod}}); err != nil {
			t.Fatal(err)
		}
		poll(t, waitFor, func() error {
			if _, starts := sim.snapshot(); starts[pod] == startsBefore[pod] {
				return errors.New("not restarted yet")
			}
			return authAs(ctx, sim.ip(pod)+":6379", "app", "second-secret-pw")
		})
	})

	t.Run("removed users are deleted, others left alone", func(t *testing.T) {
		for _, a := range addrs {
			c := redis.NewClient(&redis.Options{Addr: a, Password: password})
			err := c.Do(ctx, "ACL", "SETUSER", "byhand", "on", ">byhand-pw", "+ping").Err()
			_ = c.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		updateCluster(t, testEnv.c, key, func(rc *v1alpha1.RedisCluster) { rc.Spec.Users = nil })
		poll(t, waitFor, func() error { return authEverywhere(ctx, addrs, "app", "second-secret-pw", false) })
		poll(t, waitFor, func() error {
			rc, err := getCluster(testEnv.c, key)
			if err != nil {
				return err
			}
			if len(rc.Status.ManagedUsers) != 0 {
				return fmt.Errorf("status.managedUsers = %q", rc.Status.ManagedUsers)
			}
			return nil
		})
		if err := authEverywhere(ctx, addrs, "byhand", "byhand-pw", true); err != nil {
			t.Error(err)
		}
	})
}

func patchSecret(t *testing.T, ns, name string, change func(*corev1.Secret)) {
	t.Helper()
	s := &corev1.Secret{}
	get(t, ns, name, s)
	change(s)
	if err := testEnv.c.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// TestAdmissionOfUsers: spec.users entries the nodes would refuse, or that
// would fight the operator, are refused by the API server; good ones pass.
func TestAdmissionOfUsers(t *testing.T) {
	ns := newNamespace(t)
	pw := []v1alpha1.SecretKeyRef{{Name: "s", Key: "k"}}
	tests := []struct {
		name    string
		users   []v1alpha1.UserSpec
		wantMsg string // empty: accepted
	}{
		{"a good user", []v1alpha1.UserSpec{{Name: "app", Passwords: pw, Rules: []string{
			"~app:*", "%R~cache:*", "%W~out:*", "%RW~rw:*", "&news.*", "+@read", "-@dangerous", "+client|setname", "+select|0",
			"allkeys", "resetkeys", "allchannels", "resetchannels", "allcommands", "nocommands", "-flushall"}}}, ""},
		{"the default user", []v1alpha1.UserSpec{{Name: "default", Passwords: pw}},
			"the default user is set by spec.auth, not spec.users"},
		{"an operator name", []v1alpha1.UserSpec{{Name: "shoal-operator", Passwords: pw}},
			"user names starting with shoal- are reserved for the operator"},
		{"a name with a space", []v1alpha1.UserSpec{{Name: "a b", Passwords: pw}}, "spec.users[0].name in body should match"},
		{"two rules in one entry", []v1alpha1.UserSpec{{Name: "app", Passwords: pw, Rules: []string{"~app:* +@read"}}},
			"spec.users[0].rules[0] in body should match"},
		{"a password as a rule", []v1alpha1.UserSpec{{Name: "app", Passwords: pw, Rules: []string{">secret"}}},
			"spec.users[0].rules[0] in body should match"},
		{"nopass as a rule", []v1alpha1.UserSpec{{Name: "app", Passwords: pw, Rules: []string{"nopass"}}},
			"spec.users[0].rules[0] in body should match"},
		{"on as a rule", []v1alpha1.UserSpec{{Name: "app", Passwords: pw, Rules: []string{"on"}}},
			"spec.users[0].rules[0] in body should match"},
		{"a selector", []v1alpha1.UserSpec{{Name: "app", Passwords: pw, Rules: []string{"(+get"}}},
			"spec.users[0].rules[0] in body should match"},
		{"no password", []v1alpha1.UserSpec{{Name: "app"}}, "spec.users[0].passwords"},
		{"the same user twice", []v1alpha1.UserSpec{{Name: "app", Passwords: pw}, {Name: "app", Passwords: pw}},
			"Duplicate value"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newCluster(ns, fmt.Sprintf("u%d", i), func(rc *v1alpha1.RedisCluster) {
				rc.Spec.Users = tt.users
				rc.Annotations = map[string]string{v1alpha1.PausedAnnotation: "true"}
			})
			err := testEnv.c.Create(context.Background(), rc)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %v\ndoes not say %q", err, tt.wantMsg)
			}
		})
	}
}

// TestDefaultUserOffOfShoalNodes: with spec.auth.defaultUser Disabled the
// nodes start with the default user off; the operator still forms the
// cluster, attaches replicas (replication as shoal-replication) and sets
// configuration live, all as shoal-operator with only its listed
// commands; the pods' health check passes as shoal-operator; clients get
// in only as users of spec.users.
func TestDefaultUserOffOfShoalNodes(t *testing.T) {
	bin := nodetest.Binary(t)
	ns := newNamespace(t)
	ctx := context.Background()
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "admin-pw"},
		Data:       map[string][]byte{"password": []byte("admin-secret-pw")},
	})
	rc := newCluster(ns, "nodef", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.ReplicasPerMaster = 1
		rc.Spec.Auth = &v1alpha1.AuthSpec{DefaultUser: v1alpha1.DefaultUserDisabled}
		rc.Spec.Users = []v1alpha1.UserSpec{{
			Name: "admin", Rules: []string{"allkeys", "allchannels", "allcommands"},
			Passwords: []v1alpha1.SecretKeyRef{{Name: "admin-pw"}},
		}}
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	auth, op := &corev1.Secret{}, &corev1.Secret{}
	poll(t, waitFor, func() error {
		if err := testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "nodef-auth"}, auth); err != nil {
			return err
		}
		return testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "nodef-operator"}, op)
	})
	password := string(auth.Data["password"])
	opPassword := string(op.Data["password"])
	sim := newPodSim(t, testEnv.c, ns, bin, password, func(s *podSim) {
		s.env = map[string]string{
			"SHOAL_OPERATOR_PASSWORD":        opPassword,
			"SHOAL_OPERATOR_PASSWORD_SHA256": string(op.Data["sha256"]),
		}
	})
	start := time.Now()
	rc = waitReady(t, testEnv.c, key)
	t.Logf("formed in %s", time.Since(start).Round(time.Millisecond))
	if rc.Status.ReadyMasters != 3 || rc.Status.ReadyReplicas != 3 {
		t.Errorf("ready masters %d replicas %d, want 3 and 3", rc.Status.ReadyMasters, rc.Status.ReadyReplicas)
	}
	addrs := sim.addrs()

	// The default user is off: neither its password nor no AUTH at all
	// gets a client in.
	for _, a := range addrs {
		if err := authAs(ctx, a, "default", password); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
			t.Errorf("AUTH default on %s: %v, want WRONGPASS", a, err)
		}
		c := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1, DisableIdentity: true, Protocol: 2})
		err := c.Ping(ctx).Err()
		_ = c.Close()
		if err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
			t.Errorf("PING without AUTH on %s: %v, want NOAUTH", a, err)
		}
	}

	// A client of spec.users works through the cluster.
	admin := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Username: "admin", Password: "admin-secret-pw", MaxRedirects: 8})
	t.Cleanup(func() { _ = admin.Close() })
	for i := range 50 {
		if err := admin.Set(ctx, fmt.Sprintf("k%d", i), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}

	// What the pods' probes send (shoal-node health: PING, INFO, CLUSTER
	// INFO) works as shoal-operator; a data command does not.
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, Username: "shoal-operator", Password: opPassword, MaxRetries: -1, DisableIdentity: true, Protocol: 2})
		for _, cmd := range [][]any{{"PING"}, {"INFO", "persistence", "replication", "cluster"}, {"CLUSTER", "INFO"}} {
			if err := c.Do(ctx, cmd...).Err(); err != nil {
				t.Errorf("%v as shoal-operator on %s: %v", cmd, a, err)
			}
		}
		if err := c.Do(ctx, "GET", "k1").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
			t.Errorf("GET as shoal-operator on %s: %v, want NOPERM", a, err)
		}
		_ = c.Close()
	}

	// The operator still sets configuration live.
	updateCluster(t, testEnv.c, key, func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Config = map[string]v1alpha1.ConfigValue{"maxmemory-samples": "7"}
	})
	poll(t, waitFor, func() error {
		return admin.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
			v, err := c.ConfigGet(ctx, "maxmemory-samples").Result()
			if err != nil {
				return err
			}
			if v["maxmemory-samples"] != "7" {
				return fmt.Errorf("maxmemory-samples on %s = %q", c.Options().Addr, v["maxmemory-samples"])
			}
			return nil
		})
	})
	waitReady(t, testEnv.c, key)
}

// TestNetworkPolicyFollowsTheSpec: spec.networkPolicy makes the
// NetworkPolicy (with the operator's RBAC) and turning it off deletes it.
func TestNetworkPolicyFollowsTheSpec(t *testing.T) {
	ns := newNamespace(t)
	rc := newCluster(ns, "np", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.NetworkPolicy = &v1alpha1.NetworkPolicySpec{Enabled: true}
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	np := &networkingv1.NetworkPolicy{}
	npKey := client.ObjectKey{Namespace: ns, Name: "np-nodes"}
	poll(t, waitFor, func() error { return testEnv.c.Get(context.Background(), npKey, np) })
	if len(np.Spec.Ingress) != 2 || np.Spec.PodSelector.MatchLabels["redis.shoal.dev/cluster"] != "np" {
		t.Errorf("policy %+v", np.Spec)
	}
	updateCluster(t, testEnv.c, key, func(rc *v1alpha1.RedisCluster) { rc.Spec.NetworkPolicy.Enabled = false })
	poll(t, waitFor, func() error {
		err := testEnv.c.Get(context.Background(), npKey, &networkingv1.NetworkPolicy{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (%v)", err)
	})
}
