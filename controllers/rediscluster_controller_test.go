package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
)

func newCluster(ns, name string, changes ...func(*v1alpha1.RedisCluster)) *v1alpha1.RedisCluster {
	rc := &v1alpha1.RedisCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.RedisClusterSpec{Masters: 3, ReplicasPerMaster: 1},
	}
	for _, c := range changes {
		c(rc)
	}
	return rc
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := testEnv.c.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %s: %v", obj.GetName(), err)
	}
}

// waitCondition waits until the cluster has the condition with the status and
// reason, for its current generation, and returns the cluster.
func waitCondition(t *testing.T, key client.ObjectKey, ct v1alpha1.ConditionType, status metav1.ConditionStatus, reason v1alpha1.ConditionReason) *v1alpha1.RedisCluster {
	t.Helper()
	rc := &v1alpha1.RedisCluster{}
	eventually(t, func() error {
		if err := testEnv.c.Get(context.Background(), key, rc); err != nil {
			return err
		}
		c := rc.Condition(ct)
		if c == nil || c.Status != status || c.Reason != string(reason) || c.ObservedGeneration != rc.Generation {
			return fmt.Errorf("condition %s = %+v, want %s/%s at generation %d", ct, c, status, reason, rc.Generation)
		}
		return nil
	})
	return rc
}

func assertControlledBy(t *testing.T, obj client.Object, rc *v1alpha1.RedisCluster) {
	t.Helper()
	ref := metav1.GetControllerOf(obj)
	if ref == nil || ref.UID != rc.UID || ref.Kind != "RedisCluster" || ref.APIVersion != "redis.shoal.dev/v1alpha1" ||
		!ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("%T %s: controller reference %+v, want RedisCluster %s (%s)", obj, obj.GetName(), ref, rc.Name, rc.UID)
	}
}

func get(t *testing.T, ns, name string, obj client.Object) {
	t.Helper()
	eventually(t, func() error {
		return testEnv.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	})
}

func TestReconcileCreatesOwnedObjects(t *testing.T) {
	ns := newNamespace(t)
	rc := newCluster(ns, "shape", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Storage.StorageClassName = ptr.To("fast")
		rc.Spec.Storage.Size = ptr.To(resource.MustParse("2Gi"))
		rc.Spec.Config = map[string]v1alpha1.ConfigValue{"maxmemory-policy": "allkeys-lru"}
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	rc = waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)

	// Status: not ready, waiting for the 6 pods nobody runs in envtest.
	if c := rc.Condition(v1alpha1.ConditionProgressing); c.Message != "0 of 6 pods ready" {
		t.Errorf("Progressing message %q", c.Message)
	}
	if c := rc.Condition(v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionFalse || c.Reason != string(v1alpha1.ReasonWaitingForPods) {
		t.Errorf("Ready %+v", c)
	}
	if c := rc.Condition(v1alpha1.ConditionDegraded); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("Degraded %+v", c)
	}
	if rc.Status.ObservedGeneration != rc.Generation || rc.Status.Selector != "app.kubernetes.io/component=node,redis.shoal.dev/cluster=shape" {
		t.Errorf("observedGeneration %d (generation %d), selector %q", rc.Status.ObservedGeneration, rc.Generation, rc.Status.Selector)
	}
	// API server defaulting filled the spec.
	if rc.Spec.NodeTimeout.Duration.String() != "15s" || !ptr.Deref(rc.Spec.PodDisruptionBudget.Enabled, false) ||
		rc.Spec.Service.Type != corev1.ServiceTypeClusterIP || rc.Spec.Storage.RetentionPolicy != v1alpha1.StorageRetentionDelete {
		t.Errorf("defaults not applied: %+v", rc.Spec)
	}

	secret := &corev1.Secret{}
	get(t, ns, "shape-auth", secret)
	assertControlledBy(t, secret, rc)
	if len(secret.Data["password"]) != 64 {
		t.Errorf("generated password has %d bytes", len(secret.Data["password"]))
	}

	cm := &corev1.ConfigMap{}
	get(t, ns, "shape-config", cm)
	assertControlledBy(t, cm, rc)
	conf := cm.Data["node.conf"]
	for _, line := range []string{"cluster-enabled yes", "port 6379", "cluster-port 16379", "maxmemory-policy allkeys-lru", "cluster-node-timeout 15000"} {
		if !strings.Contains(conf, line+"\n") {
			t.Errorf("node.conf lacks %q:\n%s", line, conf)
		}
	}

	headless := &corev1.Service{}
	get(t, ns, "shape-nodes", headless)
	assertControlledBy(t, headless, rc)
	if headless.Spec.ClusterIP != corev1.ClusterIPNone || !headless.Spec.PublishNotReadyAddresses || len(headless.Spec.Ports) != 2 {
		t.Errorf("headless Service %+v", headless.Spec)
	}
	clientSvc := &corev1.Service{}
	get(t, ns, "shape", clientSvc)
	assertControlledBy(t, clientSvc, rc)
	if clientSvc.Spec.Type != corev1.ServiceTypeClusterIP || clientSvc.Spec.ClusterIP == corev1.ClusterIPNone {
		t.Errorf("client Service %+v", clientSvc.Spec)
	}

	for i := range 3 {
		name := fmt.Sprintf("shape-shard-%d", i)
		sts := &appsv1.StatefulSet{}
		get(t, ns, name, sts)
		assertControlledBy(t, sts, rc)
		if *sts.Spec.Replicas != 2 || sts.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType ||
			sts.Spec.ServiceName != "shape-nodes" || sts.Spec.Template.Spec.Containers[0].Image != testImage {
			t.Errorf("StatefulSet %s: %+v", name, sts.Spec)
		}
		if vct := sts.Spec.VolumeClaimTemplates; len(vct) != 1 || ptr.Deref(vct[0].Spec.StorageClassName, "") != "fast" ||
			vct[0].Spec.Resources.Requests.Storage().String() != "2Gi" {
			t.Errorf("StatefulSet %s claim templates %+v", name, vct)
		}
		if sts.Spec.Template.Labels[builders.LabelShard] != fmt.Sprint(i) || sts.Spec.Template.Annotations[builders.AnnotationConfigHash] == "" {
			t.Errorf("StatefulSet %s template metadata %+v", name, sts.Spec.Template.ObjectMeta)
		}
		pdb := &policyv1.PodDisruptionBudget{}
		get(t, ns, name, pdb)
		assertControlledBy(t, pdb, rc)
		if pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.Selector.MatchLabels[builders.LabelShard] != fmt.Sprint(i) {
			t.Errorf("PDB %s: %+v", name, pdb.Spec)
		}
	}
	var extra appsv1.StatefulSet
	if err := testEnv.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shape-shard-3"}, &extra); !apierrors.IsNotFound(err) {
		t.Errorf("a 4th StatefulSet for 3 masters: %v", err)
	}

	// Events tell what was made.
	eventually(t, func() error {
		var events corev1.EventList
		if err := testEnv.c.List(context.Background(), &events, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.InvolvedObject.Name == "shape" && e.Reason == "Created" && e.Message == "Created StatefulSet shape-shard-0" {
				return nil
			}
		}
		return fmt.Errorf("no Created event for StatefulSet shape-shard-0 among %d events", len(events.Items))
	})
}

func TestReconcileAppliesSpecChanges(t *testing.T) {
	ns := newNamespace(t)
	rc := newCluster(ns, "grow")
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	before := &appsv1.StatefulSet{}
	get(t, ns, "grow-shard-1", before)

	if err := testEnv.c.Get(context.Background(), key, rc); err != nil {
		t.Fatal(err)
	}
	rc.Spec.ReplicasPerMaster = 2
	// maxmemory changes live (CONFIG SET); event-loop-busy-poll needs a
	// restart, so only it changes the pod template.
	rc.Spec.Config = map[string]v1alpha1.ConfigValue{"maxmemory": "64mb", "event-loop-busy-poll": "0"}
	rc.Spec.PodDisruptionBudget.Enabled = ptr.To(false)
	if err := testEnv.c.Update(context.Background(), rc); err != nil {
		t.Fatal(err)
	}
	rc = waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	if rc.Status.ObservedGeneration != rc.Generation || rc.Condition(v1alpha1.ConditionProgressing).Message != "0 of 9 pods ready" {
		t.Errorf("status after update: %+v", rc.Status)
	}

	after := &appsv1.StatefulSet{}
	get(t, ns, "grow-shard-1", after)
	if *after.Spec.Replicas != 3 {
		t.Errorf("replicas %d after replicasPerMaster 2", *after.Spec.Replicas)
	}
	if after.Spec.Template.Annotations[builders.AnnotationConfigHash] == before.Spec.Template.Annotations[builders.AnnotationConfigHash] {
		t.Error("config hash on the pod template did not change with the config")
	}
	cm := &corev1.ConfigMap{}
	get(t, ns, "grow-config", cm)
	if !strings.Contains(cm.Data["node.conf"], "maxmemory 64mb\n") {
		t.Errorf("node.conf not updated:\n%s", cm.Data["node.conf"])
	}
	// Disabled PDBs are removed (envtest has no garbage collector: this is
	// the operator's own delete).
	var pdbs policyv1.PodDisruptionBudgetList
	if err := testEnv.c.List(context.Background(), &pdbs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(pdbs.Items) != 0 {
		t.Errorf("%d PDBs left after podDisruptionBudget.enabled=false", len(pdbs.Items))
	}
}

func TestPauseAnnotationStopsReconciliation(t *testing.T) {
	ns := newNamespace(t)
	rc := newCluster(ns, "paused", func(rc *v1alpha1.RedisCluster) {
		rc.Annotations = map[string]string{v1alpha1.PausedAnnotation: "true"}
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	rc = waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionFalse, v1alpha1.ReasonPaused)
	// The reconcile that wrote Paused stopped before making anything.
	var list appsv1.StatefulSetList
	if err := testEnv.c.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 || rc.Condition(v1alpha1.ConditionReady) != nil {
		t.Fatalf("paused cluster got %d StatefulSets, Ready %+v", len(list.Items), rc.Condition(v1alpha1.ConditionReady))
	}

	// Unpaused, it is reconciled.
	delete(rc.Annotations, v1alpha1.PausedAnnotation)
	if err := testEnv.c.Update(context.Background(), rc); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	get(t, ns, "paused-shard-2", &appsv1.StatefulSet{})

	// Paused again, a spec change is not applied.
	if err := testEnv.c.Get(context.Background(), key, rc); err != nil {
		t.Fatal(err)
	}
	rc.Annotations = map[string]string{v1alpha1.PausedAnnotation: "true"}
	rc.Spec.ReplicasPerMaster = 3
	if err := testEnv.c.Update(context.Background(), rc); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionFalse, v1alpha1.ReasonPaused)
	sts := &appsv1.StatefulSet{}
	get(t, ns, "paused-shard-2", sts)
	if *sts.Spec.Replicas != 2 {
		t.Errorf("paused cluster's StatefulSet changed to %d replicas", *sts.Spec.Replicas)
	}
}

func TestExistingSecretIsUsedOrReported(t *testing.T) {
	ns := newNamespace(t)
	rc := newCluster(ns, "byo", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Auth = &v1alpha1.AuthSpec{ExistingSecret: &v1alpha1.SecretKeyRef{Name: "mine", Key: "pw"}}
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	rc = waitCondition(t, key, v1alpha1.ConditionDegraded, metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound)
	if msg := rc.Condition(v1alpha1.ConditionDegraded).Message; !strings.Contains(msg, `Secret mine with key "pw" not found`) {
		t.Errorf("Degraded message %q", msg)
	}

	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mine"}, Data: map[string][]byte{"pw": []byte("hunter2")}})
	// The Secret is not the operator's, so not watched: touch the cluster.
	if err := testEnv.c.Get(context.Background(), key, rc); err != nil {
		t.Fatal(err)
	}
	rc.Annotations = map[string]string{"touch": "1"}
	if err := testEnv.c.Update(context.Background(), rc); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, key, v1alpha1.ConditionDegraded, metav1.ConditionFalse, v1alpha1.ReasonAsExpected)
	sts := &appsv1.StatefulSet{}
	get(t, ns, "byo-shard-0", sts)
	env := sts.Spec.Template.Spec.Containers[0].Env
	found := false
	for _, e := range env {
		if e.Name == builders.PasswordEnv && e.ValueFrom.SecretKeyRef.Name == "mine" && e.ValueFrom.SecretKeyRef.Key == "pw" {
			found = true
		}
	}
	if !found {
		t.Errorf("password env does not reference Secret mine/pw: %+v", env)
	}
	if err := testEnv.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "byo-auth"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("a password Secret was generated although spec.auth names one: %v", err)
	}
}
