package controllers

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// TestPlacementKeepsMastersSpread runs a 3x1 cluster of shoal nodes with
// spec.placement on three Kubernetes Node objects in three zones: shard s's
// master on node s, its replica on node s+1. The status shows each
// member's node and zone and Placement is True. A CLUSTER FAILOVER sent by
// hand puts two masters on one node; the operator moves one master role
// back with a planned switchover, and Placement is True again with one
// master per node.
func TestPlacementKeepsMastersSpread(t *testing.T) {
	bin := nodetest.Binary(t)
	ns := newNamespace(t)
	ctx := context.Background()
	hosts := make([]string, 3)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("%s-host-%d", ns, i)
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: hosts[i], Labels: map[string]string{
			corev1.LabelHostname: hosts[i], corev1.LabelTopologyZone: fmt.Sprintf("zone-%d", i)}}}
		create(t, node)
		t.Cleanup(func() { _ = testEnv.c.Delete(ctx, node) })
	}
	rc := newCluster(ns, "spread", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.Placement = &v1alpha1.PlacementSpec{}
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	secret := &corev1.Secret{}
	poll(t, waitFor, func() error {
		return testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "spread-auth"}, secret)
	})
	password := string(secret.Data["password"])
	hostOf := func(pod string) string {
		shard, ordinal, _ := podShardOrdinal(rc, pod)
		return hosts[(shard+ordinal)%len(hosts)]
	}
	sim := newPodSim(t, testEnv.c, ns, bin, password, func(s *podSim) { s.nodeName = hostOf })
	waitReady(t, testEnv.c, key)

	mastersPerHost := func(rc *v1alpha1.RedisCluster) (map[string]int, error) {
		perHost := map[string]int{}
		for _, sh := range rc.Status.Shards {
			if sh.Master == nil {
				return nil, fmt.Errorf("%s has no master", sh.Name)
			}
			if sh.Master.Node != hostOf(sh.Master.Pod) || sh.Master.Zone == "" {
				return nil, fmt.Errorf("master %s shown on node %q zone %q", sh.Master.Pod, sh.Master.Node, sh.Master.Zone)
			}
			for _, r := range sh.Replicas {
				if r.Node != hostOf(r.Pod) || r.Zone == "" {
					return nil, fmt.Errorf("replica %s shown on node %q zone %q", r.Pod, r.Node, r.Zone)
				}
			}
			perHost[sh.Master.Node]++
		}
		return perHost, nil
	}
	spreadAgain := func() {
		poll(t, rolloutWait, func() error {
			rc, err := getCluster(testEnv.c, key)
			if err != nil {
				return err
			}
			c := rc.Condition(v1alpha1.ConditionPlacement)
			if c == nil || c.Status != metav1.ConditionTrue || c.Reason != string(v1alpha1.ReasonPlacementMet) {
				return fmt.Errorf("Placement condition %+v", c)
			}
			perHost, err := mastersPerHost(rc)
			if err != nil {
				return err
			}
			for h, n := range perHost {
				if n != 1 {
					return fmt.Errorf("%d masters on %s", n, h)
				}
			}
			return nil
		})
	}
	spreadAgain()

	// Shard 0's replica runs on host 1, beside shard 1's master.
	replica := builders.PodName(rc, 0, 1)
	rdb := redis.NewClient(&redis.Options{Addr: sim.ip(replica) + ":6379", Password: password})
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Do(ctx, "CLUSTER", "FAILOVER").Err(); err != nil {
		t.Fatal(err)
	}
	poll(t, waitFor, func() error {
		role, err := rdb.Do(ctx, "ROLE").Slice()
		if err != nil || len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("%s is not master yet: %v %v", replica, role, err)
		}
		return nil
	})
	// The operator sees two masters on host 1 and moves one back.
	poll(t, rolloutWait, func() error {
		var events corev1.EventList
		if err := testEnv.c.List(ctx, &events, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.Reason == eventPlacement {
				t.Logf("event: %s", e.Message)
				return nil
			}
		}
		return fmt.Errorf("no Placement event yet")
	})
	spreadAgain()
	// The nodes themselves agree: one master per host.
	perHost := map[string]int{}
	for s := range 3 {
		for o := range 2 {
			pod := builders.PodName(rc, s, o)
			if nodeRole(ctx, sim.ip(pod), password) == "master" {
				perHost[hostOf(pod)]++
			}
		}
	}
	if len(perHost) != 3 {
		t.Errorf("masters per host %v, want one on each of 3", perHost)
	}
}
