package controllers

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// TestExternalAccessAnnouncesNodePorts runs a 3x0 cluster of shoal nodes
// with spec.externalAccess NodePort on one Kubernetes Node: every pod gets a
// NodePort Service, every node is told (CONFIG SET) to send clients to the
// Node's ExternalIP and its Service's node port, and a peer's CLUSTER SLOTS
// shows them; status.externalEndpoints lists them. A change of the address
// source is set on the live nodes (no pod restarts), and switching external
// access off deletes the Services and gives the nodes their pod addresses
// back.
func TestExternalAccessAnnouncesNodePorts(t *testing.T) {
	bin := nodetest.Binary(t)
	ns := newNamespace(t)
	ctx := context.Background()
	const externalIP = "203.0.113.10"
	host := ns + "-host"
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: host, Labels: map[string]string{corev1.LabelHostname: host}}}
	create(t, node)
	t.Cleanup(func() { _ = testEnv.c.Delete(ctx, node) })
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.10"}, {Type: corev1.NodeExternalIP, Address: externalIP}}
	if err := testEnv.c.Status().Update(ctx, node); err != nil {
		t.Fatal(err)
	}

	rc := newCluster(ns, "ext", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.ExternalAccess = &v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalNodePort, Annotations: map[string]string{"example.com/team": "cache"}}
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	secret := &corev1.Secret{}
	poll(t, waitFor, func() error {
		return testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "ext-auth"}, secret)
	})
	password := string(secret.Data["password"])
	sim := newPodSim(t, testEnv.c, ns, bin, password, func(s *podSim) { s.nodeName = func(string) string { return host } })
	waitReady(t, testEnv.c, key)

	pods := []string{builders.PodName(rc, 0, 0), builders.PodName(rc, 1, 0), builders.PodName(rc, 2, 0)}
	nodePorts := map[string]int32{}
	for _, pod := range pods {
		svc := &corev1.Service{}
		get(t, ns, builders.ExternalServiceName(pod), svc)
		if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Spec.Selector[builders.PodNameLabel] != pod || svc.Annotations["example.com/team"] != "cache" {
			t.Fatalf("Service %s: type %s selector %v annotations %v", svc.Name, svc.Spec.Type, svc.Spec.Selector, svc.Annotations)
		}
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].NodePort == 0 {
			t.Fatalf("Service %s ports %+v: want the client port with a node port", svc.Name, svc.Spec.Ports)
		}
		nodePorts[pod] = svc.Spec.Ports[0].NodePort
	}

	// status.externalEndpoints and the ExternalAccess condition.
	waitEndpoints := func(wantHost string) {
		t.Helper()
		poll(t, rolloutWait, func() error {
			rc, err := getCluster(testEnv.c, key)
			if err != nil {
				return err
			}
			if len(rc.Status.ExternalEndpoints) != len(pods) {
				return fmt.Errorf("status.externalEndpoints %+v", rc.Status.ExternalEndpoints)
			}
			for _, e := range rc.Status.ExternalEndpoints {
				if !e.Announced || e.Host != wantHost || e.Port != nodePorts[e.Pod] || e.Service != builders.ExternalServiceName(e.Pod) {
					return fmt.Errorf("endpoint %+v, want %s:%d announced", e, wantHost, nodePorts[e.Pod])
				}
			}
			if c := rc.Condition(v1alpha1.ConditionExternalAccess); c == nil || c.Status != metav1.ConditionTrue {
				return fmt.Errorf("ExternalAccess condition %+v", c)
			}
			return nil
		})
	}
	// What a client of pod 0 is told about every shard: host:port per
	// slot range, by CLUSTER SLOTS.
	slotsVia := func(pod string) (map[string]bool, error) {
		rdb := redis.NewClient(&redis.Options{Addr: sim.ip(pod) + ":6379", Password: password})
		defer rdb.Close()
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		slots, err := rdb.ClusterSlots(cctx).Result()
		if err != nil {
			return nil, err
		}
		out := map[string]bool{}
		for _, s := range slots {
			for _, n := range s.Nodes {
				out[n.Addr] = true
			}
		}
		return out, nil
	}
	waitSlots := func(want map[string]bool) {
		t.Helper()
		poll(t, rolloutWait, func() error {
			got, err := slotsVia(pods[0])
			if err != nil {
				return err
			}
			if !maps.Equal(got, want) {
				return fmt.Errorf("CLUSTER SLOTS endpoints %v, want %v", got, want)
			}
			return nil
		})
	}
	waitEndpoints(externalIP)
	want := map[string]bool{}
	for _, pod := range pods {
		want[fmt.Sprintf("%s:%d", externalIP, nodePorts[pod])] = true
	}
	waitSlots(want)
	_, startsBefore := sim.snapshot()

	// A fixed host instead: set live, the same pods keep running.
	patchCluster(t, key, func(rc *v1alpha1.RedisCluster) {
		rc.Spec.ExternalAccess.AddressSource = v1alpha1.AddressHost
		rc.Spec.ExternalAccess.Host = "redis.example.test"
	})
	waitEndpoints("redis.example.test")
	want = map[string]bool{}
	for _, pod := range pods {
		want[fmt.Sprintf("redis.example.test:%d", nodePorts[pod])] = true
	}
	waitSlots(want)
	if _, starts := sim.snapshot(); !maps.Equal(starts, startsBefore) {
		t.Errorf("pods restarted for an address change: starts %v, before %v", starts, startsBefore)
	}

	// Off: Services gone, pod addresses again, status cleared.
	patchCluster(t, key, func(rc *v1alpha1.RedisCluster) { rc.Spec.ExternalAccess = nil })
	poll(t, rolloutWait, func() error {
		for _, pod := range pods {
			err := testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: builders.ExternalServiceName(pod)}, &corev1.Service{})
			if !apierrors.IsNotFound(err) {
				return fmt.Errorf("Service %s still there (%v)", builders.ExternalServiceName(pod), err)
			}
		}
		rc, err := getCluster(testEnv.c, key)
		if err != nil {
			return err
		}
		if len(rc.Status.ExternalEndpoints) != 0 || rc.Condition(v1alpha1.ConditionExternalAccess) != nil {
			return fmt.Errorf("status still has external endpoints %+v", rc.Status.ExternalEndpoints)
		}
		return nil
	})
	want = map[string]bool{}
	for _, pod := range pods {
		want[sim.ip(pod)+":6379"] = true
	}
	waitSlots(want)
}

// TestScaleGateDefersWithinCoolDown: a change of spec.masters within
// spec.scaling.coolDown of the last scale waits (no new StatefulSet,
// ScaleDeferred True with reason CoolDown, an event), and is carried out
// once the cool-down is shortened.
func TestScaleGateDefersWithinCoolDown(t *testing.T) {
	bin := nodetest.Binary(t)
	ns := newNamespace(t)
	ctx := context.Background()
	rc := newCluster(ns, "gate", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.Scaling.CoolDown = &metav1.Duration{Duration: time.Hour}
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	secret := &corev1.Secret{}
	poll(t, waitFor, func() error {
		return testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "gate-auth"}, secret)
	})
	newPodSim(t, testEnv.c, ns, bin, string(secret.Data["password"]))
	ready := waitReady(t, testEnv.c, key)
	if s := ready.Status.Scaling; s == nil || s.Masters != 3 || s.LastScaleTime != nil {
		t.Fatalf("status.scaling %+v: want 3 masters and no scale yet", s)
	}
	// As if the cluster had just been scaled to 3.
	poll(t, waitFor, func() error {
		rc, err := getCluster(testEnv.c, key)
		if err != nil {
			return err
		}
		base := rc.DeepCopy()
		rc.Status.Scaling.LastScaleTime = &metav1.Time{Time: time.Now()}
		return testEnv.c.Status().Patch(ctx, rc, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	})

	// The change comes through /scale, as from a HorizontalPodAutoscaler.
	poll(t, waitFor, func() error {
		scale := &autoscalingv1.Scale{}
		if err := testEnv.c.SubResource("scale").Get(ctx, rc, scale); err != nil {
			return err
		}
		scale.Spec.Replicas = 4
		return testEnv.c.SubResource("scale").Update(ctx, rc, client.WithSubResourceBody(scale))
	})
	deferred := waitCondition(t, key, v1alpha1.ConditionScaleDeferred, metav1.ConditionTrue, v1alpha1.ReasonScaleCoolDown)
	// What an autoscaler reads back: the 4 it asked for, 3 masters serving,
	// and the selector of the node pods it averages pod metrics over.
	scale := &autoscalingv1.Scale{}
	if err := testEnv.c.SubResource("scale").Get(ctx, deferred, scale); err != nil {
		t.Fatal(err)
	}
	if scale.Spec.Replicas != 4 || scale.Status.Replicas != 3 || !strings.Contains(scale.Status.Selector, builders.LabelCluster+"=gate") {
		t.Errorf("scale while deferred: spec %d status %d selector %q; want 4, 3 and the cluster's pods", scale.Spec.Replicas, scale.Status.Replicas, scale.Status.Selector)
	}
	if !strings.Contains(deferred.Condition(v1alpha1.ConditionScaleDeferred).Message, "spec.masters 4 waits") {
		t.Errorf("message %q", deferred.Condition(v1alpha1.ConditionScaleDeferred).Message)
	}
	if deferred.Status.Scaling.Masters != 3 {
		t.Errorf("status.scaling.masters %d while deferred, want 3", deferred.Status.Scaling.Masters)
	}
	shard3 := client.ObjectKey{Namespace: ns, Name: builders.ShardName(rc, 3)}
	if err := testEnv.c.Get(ctx, shard3, &appsv1.StatefulSet{}); !apierrors.IsNotFound(err) {
		t.Fatalf("StatefulSet %s made while the scale waits: %v", shard3.Name, err)
	}
	poll(t, waitFor, func() error {
		var events corev1.EventList
		if err := testEnv.c.List(ctx, &events, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.Reason == eventScale && strings.Contains(e.Message, "cool-down") {
				return nil
			}
		}
		return fmt.Errorf("no %s event about the cool-down", eventScale)
	})

	// The cool-down shortened: the scale goes on.
	patchCluster(t, key, func(rc *v1alpha1.RedisCluster) { rc.Spec.Scaling.CoolDown = &metav1.Duration{Duration: time.Second} })
	poll(t, rolloutWait, func() error {
		rc, err := getCluster(testEnv.c, key)
		if err != nil {
			return err
		}
		if rc.Condition(v1alpha1.ConditionScaleDeferred) != nil || rc.Status.Scaling == nil || rc.Status.Scaling.Masters != 4 || rc.Status.Scaling.LastScaleTime == nil {
			return fmt.Errorf("scaling %+v, ScaleDeferred %+v", rc.Status.Scaling, rc.Condition(v1alpha1.ConditionScaleDeferred))
		}
		return testEnv.c.Get(ctx, shard3, &appsv1.StatefulSet{})
	})
	waitReady(t, testEnv.c, key)
}

// patchCluster changes the spec, retrying on conflicts.
func patchCluster(t *testing.T, key client.ObjectKey, change func(*v1alpha1.RedisCluster)) {
	t.Helper()
	poll(t, waitFor, func() error {
		rc, err := getCluster(testEnv.c, key)
		if err != nil {
			return err
		}
		change(rc)
		return testEnv.c.Update(context.Background(), rc)
	})
}
