package builders

import (
	"maps"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestStoreObjectsMountTheClaimAndShareTheirName(t *testing.T) {
	owner := metav1.OwnerReference{APIVersion: "redis.shoal.dev/v1alpha1", Kind: "RedisBackup", Name: "b1", UID: types.UID("u1")}
	d := StoreDeployment("ns", "backups", "shoal/operator:v1", owner)
	svc := StoreService("ns", "backups", owner)
	sec := StoreSecret("ns", "backups", "tok", owner)
	for _, m := range []metav1.Object{d, svc, sec} {
		if m.GetName() != "shoal-store-backups" || m.GetNamespace() != "ns" || len(m.GetOwnerReferences()) != 1 || m.GetOwnerReferences()[0].UID != "u1" {
			t.Errorf("%T metadata %+v", m, m)
		}
		if m.GetOwnerReferences()[0].Controller != nil {
			t.Errorf("%T: a store is shared, so its owners do not control it", m)
		}
		if m.GetLabels()[LabelManagedBy] != managedByValue {
			t.Errorf("%T lacks the managed-by label (the caches select by it)", m)
		}
	}
	pod := d.Spec.Template.Spec
	if v := pod.Volumes; len(v) != 1 || v[0].PersistentVolumeClaim == nil || v[0].PersistentVolumeClaim.ClaimName != "backups" {
		t.Fatalf("volumes %+v", v)
	}
	c := pod.Containers[0]
	if c.Image != "shoal/operator:v1" || len(c.Command) < 2 || c.Command[0] != OperatorBinary || c.Command[1] != StoreSubcommand {
		t.Errorf("container %+v", c)
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != StoreRoot || c.VolumeMounts[0].Name != pod.Volumes[0].Name {
		t.Errorf("mounts %+v", c.VolumeMounts)
	}
	if e := c.Env; len(e) != 1 || e[0].Name != StoreTokenEnv || e[0].ValueFrom.SecretKeyRef.Name != sec.Name || e[0].ValueFrom.SecretKeyRef.Key != StoreTokenKey {
		t.Errorf("env %+v", e)
	}
	if string(sec.Data[StoreTokenKey]) != "tok" {
		t.Errorf("secret data %q", sec.Data)
	}
	labels := d.Spec.Template.Labels
	sel := svc.Spec.Selector
	if !maps.Equal(d.Spec.Selector.MatchLabels, sel) {
		t.Errorf("deployment selector %v, service selector %v", d.Spec.Selector.MatchLabels, sel)
	}
	for k, v := range sel {
		if labels[k] != v {
			t.Errorf("the pod labels %v do not match the selector %v", labels, sel)
		}
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType || *d.Spec.Replicas != 1 {
		t.Errorf("a ReadWriteOnce claim needs one pod replaced by Recreate: %+v", d.Spec.Strategy)
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
		t.Errorf("readiness probe %+v", p)
	}
}

func TestStoreReady(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
	tests := []struct {
		status appsv1.DeploymentStatus
		want   bool
	}{
		{appsv1.DeploymentStatus{}, false},
		{appsv1.DeploymentStatus{ObservedGeneration: 1, ReadyReplicas: 1, UpdatedReplicas: 1}, false},
		{appsv1.DeploymentStatus{ObservedGeneration: 2, ReadyReplicas: 0, UpdatedReplicas: 1}, false},
		{appsv1.DeploymentStatus{ObservedGeneration: 2, ReadyReplicas: 1, UpdatedReplicas: 1}, true},
	}
	for _, tt := range tests {
		d.Status = tt.status
		if got := StoreReady(d); got != tt.want {
			t.Errorf("StoreReady(%+v) = %v", tt.status, got)
		}
	}
}
