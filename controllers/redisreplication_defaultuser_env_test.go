package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/users"
)

// TestRedisReplicationDefaultUserDisabled: a RedisReplication whose
// default user is off, with real data nodes and sentinels: the default
// user is refused as Redis refuses it (NOAUTH without AUTH, WRONGPASS
// with the spec.auth password), yet the replica is in sync (masteruser
// shoal-replication), every sentinel names the master and sees it up
// (auth-user shoal-sentinel), the operator applies spec.users (as
// shoal-operator) and a switchover by annotation moves the master, which
// the sentinels then name.
func TestRedisReplicationDefaultUserDisabled(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	const password = "du-secret"
	rr, sim := startReplication(t, ns, "du", password, func(rr *v1alpha1.RedisReplication) {
		rr.Spec.Replicas = 2
		rr.Spec.Auth.DefaultUser = v1alpha1.DefaultUserDisabled
		rr.Spec.Users = []v1alpha1.UserSpec{{Name: "app", Rules: []string{"~*", "+@all"}, Passwords: []v1alpha1.SecretKeyRef{{Name: "pw"}}}}
	})
	get := func() *v1alpha1.RedisReplication {
		cur := &v1alpha1.RedisReplication{}
		if err := testEnv.c.Get(ctx, client.ObjectKeyFromObject(rr), cur); err != nil {
			t.Fatal(err)
		}
		return cur
	}
	waitMaster := func(want string) *v1alpha1.RedisReplication {
		t.Helper()
		var cur *v1alpha1.RedisReplication
		poll(t, 3*waitFor, func() error {
			cur = get()
			c := cur.Condition(v1alpha1.ConditionReady)
			if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != cur.Generation || cur.Status.Master != want {
				return fmt.Errorf("master %q, Ready %+v", cur.Status.Master, c)
			}
			if len(cur.Status.Replicas) != 1 || !cur.Status.Replicas[0].Synced {
				return fmt.Errorf("replicas %+v", cur.Status.Replicas)
			}
			return nil
		})
		return cur
	}
	cur := waitMaster("du-node-0")
	replica := cur.Status.Replicas[0].Pod

	sec := &corev1.Secret{}
	if err := testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "du-operator"}, sec); err != nil {
		t.Fatal(err)
	}
	dial := func(pod, user, pass string) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: sim.ip(pod) + ":6379", Username: user, Password: pass, MaxRetries: -1})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	// The default user is off, as Redis words it.
	if err := dial("du-node-0", "", "").Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("PING without AUTH: %v, want NOAUTH", err)
	}
	if err := dial("du-node-0", "", password).Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Fatalf("AUTH with spec.auth's password: %v, want WRONGPASS", err)
	}
	operator := func(pod string) *redis.Client {
		return dial(pod, users.OperatorUser, string(sec.Data[builders.OperatorSecretPasswordKey]))
	}
	// The operator's own user has its rights only: no data.
	if err := operator("du-node-0").Get(ctx, "k").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Fatalf("GET as %s: %v, want NOPERM", users.OperatorUser, err)
	}
	// spec.users are applied: the application writes and the replica has it.
	poll(t, waitFor, func() error { return dial("du-node-0", "app", password).Set(ctx, "k", "v1", 0).Err() })
	poll(t, waitFor, func() error {
		if v, err := dial(replica, "app", password).Get(ctx, "k").Result(); v != "v1" {
			return fmt.Errorf("replica has %q %v", v, err)
		}
		return nil
	})

	// Every sentinel names the master and sees it up, with its replica.
	sentinelsName := func(pod string) {
		t.Helper()
		poll(t, waitFor, func() error {
			for o := range 3 {
				sc := redis.NewClient(&redis.Options{Addr: sim.ip(fmt.Sprintf("du-sentinel-%d", o)) + ":26379", MaxRetries: -1})
				m, err := sc.Do(ctx, "SENTINEL", "MASTER", "du").Result()
				_ = sc.Close()
				if err != nil {
					return err
				}
				f := replyFields(m)
				if f["ip"] != sim.ip(pod) || f["flags"] != "master" || f["num-slaves"] != "1" {
					return fmt.Errorf("du-sentinel-%d: ip %s flags %s num-slaves %s, want %s (%s) up with 1 replica",
						o, f["ip"], f["flags"], f["num-slaves"], pod, sim.ip(pod))
				}
			}
			return nil
		})
	}
	sentinelsName("du-node-0")

	// A switchover by annotation: SENTINEL FAILOVER, the promoted replica
	// and the old master reconfigured by the sentinels as shoal-sentinel.
	start := time.Now()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, v1alpha1.SwitchoverAnnotation, replica)
	if err := testEnv.c.Patch(ctx, get(), ctrlRawMerge(patch)); err != nil {
		t.Fatal(err)
	}
	waitMaster(replica)
	sentinelsName(replica)
	t.Logf("switchover to %s with the default user off: %v", replica, time.Since(start).Round(time.Millisecond))
	info, err := operator("du-node-0").Info(ctx, "replication").Result()
	if err != nil || !strings.Contains(info, "role:slave") || !strings.Contains(info, "master_link_status:up") {
		t.Fatalf("the old master: %v %q", err, info)
	}
	if v, err := dial(replica, "app", password).Get(ctx, "k").Result(); err != nil || v != "v1" {
		t.Fatalf("the new master has %q %v", v, err)
	}
}
