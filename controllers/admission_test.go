package controllers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// TestAdmissionRefusesImpossibleSpecs checks the CRD's schema and CEL rules
// in the real API server: each bad spec is refused with a message that says
// what is wrong.
func TestAdmissionRefusesImpossibleSpecs(t *testing.T) {
	ns := newNamespace(t)
	tests := []struct {
		name    string
		rcName  string
		change  func(*v1alpha1.RedisCluster)
		wantMsg string
	}{
		{"fewer than 3 masters", "", func(rc *v1alpha1.RedisCluster) { rc.Spec.Masters = 2 },
			"spec.masters: Invalid value: 2: spec.masters in body should be greater than or equal to 3"},
		{"more than 1000 masters", "", func(rc *v1alpha1.RedisCluster) { rc.Spec.Masters = 1001 },
			"spec.masters in body should be less than or equal to 1000"},
		{"too many nodes in total", "", func(rc *v1alpha1.RedisCluster) { rc.Spec.Masters, rc.Spec.ReplicasPerMaster = 334, 2 },
			"masters x (1 + replicasPerMaster) must not exceed 1000 nodes, the Redis Cluster size limit"},
		{"negative replicas", "", func(rc *v1alpha1.RedisCluster) { rc.Spec.ReplicasPerMaster = -1 },
			"spec.replicasPerMaster in body should be greater than or equal to 0"},
		{"config key the operator owns", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Config = map[string]v1alpha1.ConfigValue{"port": "7000", "maxmemory": "1gb"}
		}, "spec.config: Invalid value: \"object\": config key port is managed by the operator and cannot be set"},
		{"unknown config key", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Config = map[string]v1alpha1.ConfigValue{"maxmemory": "1gb", "enable-debug-command": "yes"}
		}, "config key enable-debug-command is not supported (kubectl explain redisclusters.spec.config lists the supported keys)"},
		{"config value smuggling a directive on a new line", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Config = map[string]v1alpha1.ConfigValue{"maxmemory": "1gb\ndir /"}
		}, `spec.config.maxmemory in body should match '^[^\r\n]*$'`},
		{"placement key repeated", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Placement = &v1alpha1.PlacementSpec{TopologyKeys: []string{"rack", "rack"}}
		}, "placement.topologyKeys must not repeat a key"},
		{"placement spread mode unknown", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Placement = &v1alpha1.PlacementSpec{ShardSpread: "Always"}
		}, `spec.placement.shardSpread: Unsupported value: "Always"`},
		{"external access NodePort with a load balancer address", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.ExternalAccess = &v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalNodePort, AddressSource: v1alpha1.AddressIngressIP}
		}, "externalAccess.addressSource: NodePort takes ExternalIP, InternalIP or Host; LoadBalancer takes IngressIP or IngressHostname"},
		{"external access LoadBalancer with a node address", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.ExternalAccess = &v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalLoadBalancer, AddressSource: v1alpha1.AddressInternalIP}
		}, "externalAccess.addressSource: NodePort takes ExternalIP, InternalIP or Host; LoadBalancer takes IngressIP or IngressHostname"},
		{"external access Host without a host", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.ExternalAccess = &v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalNodePort, AddressSource: v1alpha1.AddressHost}
		}, "externalAccess.host is set exactly when addressSource is Host"},
		{"external access host without Host", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.ExternalAccess = &v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalNodePort, Host: "redis.example.com"}
		}, "externalAccess.host is set exactly when addressSource is Host"},
		{"external access host that cannot be announced", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.ExternalAccess = &v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalNodePort, AddressSource: v1alpha1.AddressHost, Host: "redis_1.example.com"}
		}, "spec.externalAccess.host in body should match"},
		{"external access type ClusterIP", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.ExternalAccess = &v1alpha1.ExternalAccessSpec{Type: "ClusterIP"}
		}, `spec.externalAccess.type: Unsupported value: "ClusterIP"`},
		{"scaling cool-down too long", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Scaling.CoolDown = &metav1.Duration{Duration: 48 * 3600e9}
		}, "scaling.coolDown must be between 0s and 24h"},
		{"migration pacing below the timer resolution", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Migration.MaxLatencyImpact = &metav1.Duration{Duration: 10e3}
		}, "migration.maxLatencyImpact must be between 100us and 10s"},
		{"migration pacing beyond a client timeout", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Migration.MaxLatencyImpact = &metav1.Duration{Duration: 60e9}
		}, "migration.maxLatencyImpact must be between 100us and 10s"},
		{"nodeTimeout too short", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.NodeTimeout = &metav1.Duration{Duration: 100e6}
		}, "nodeTimeout must be between 1s and 10m"},
		{"storage too small", "", func(rc *v1alpha1.RedisCluster) { rc.Spec.Storage.Size = ptr.To(resource.MustParse("1k")) },
			"spec.storage: Invalid value: \"object\": storage.size must be at least 1Mi"},
		{"operator label on pods", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.PodTemplate.Labels = map[string]string{"redis.shoal.dev/shard": "0"}
		}, "podTemplate.labels cannot set redis.shoal.dev/*"},
		{"unknown service type", "", func(rc *v1alpha1.RedisCluster) { rc.Spec.Service.Type = "ExternalName" },
			`spec.service.type: Unsupported value: "ExternalName"`},
		{"name too long for the objects named after it", strings.Repeat("a", 41), nil,
			"metadata.name must be a DNS-1035 label of at most 40 characters"},
		{"name starting with a digit", "1cache", nil,
			"metadata.name must be a DNS-1035 label"},
		{"pdb maxUnavailable 0", "", func(rc *v1alpha1.RedisCluster) { rc.Spec.PodDisruptionBudget.MaxUnavailable = ptr.To[int32](0) },
			"spec.podDisruptionBudget.maxUnavailable in body should be greater than or equal to 1"},
		{"weights not one per master", "", func(rc *v1alpha1.RedisCluster) { rc.Spec.Rebalance.Weights = []int32{1, 2} },
			"rebalance.weights must have one entry per master (spec.masters)"},
		{"all weights zero", "", func(rc *v1alpha1.RedisCluster) { rc.Spec.Rebalance.Weights = []int32{0, 0, 0} },
			"rebalance.weights needs at least one positive weight"},
		{"unknown rebalance mode", "", func(rc *v1alpha1.RedisCluster) { rc.Spec.Rebalance.Mode = "Sometimes" },
			`spec.rebalance.mode: Unsupported value: "Sometimes"`},
		{"keysPerBatch 0", "", func(rc *v1alpha1.RedisCluster) { rc.Spec.Migration.KeysPerBatch = ptr.To[int32](0) },
			"spec.migration.keysPerBatch in body should be greater than or equal to 1"},
		{"no shard may restart", "", func(rc *v1alpha1.RedisCluster) { rc.Spec.UpdateStrategy.MaxConcurrentShards = ptr.To[int32](0) },
			"spec.updateStrategy.maxConcurrentShards in body should be greater than or equal to 1"},
		{"existing secret without a name", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Auth = &v1alpha1.AuthSpec{ExistingSecret: &v1alpha1.SecretKeyRef{Name: ""}}
		}, "spec.auth.existingSecret.name"},
		{"the same library source twice", "", func(rc *v1alpha1.RedisCluster) {
			ref := v1alpha1.ConfigMapKeyRef{Name: "libs", Key: "lock.lua"}
			rc.Spec.Functions = []v1alpha1.FunctionLibrarySource{{ConfigMapRef: ref}, {ConfigMapRef: ref}}
		}, "functions: each ConfigMap key may be listed once"},
		{"a ConfigMap key that cannot exist", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Functions = []v1alpha1.FunctionLibrarySource{{ConfigMapRef: v1alpha1.ConfigMapKeyRef{Name: "libs", Key: "a/b.lua"}}}
		}, "spec.functions[0].configMapRef.key in body should match"},
		{"a function source without a ConfigMap name", "", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Functions = []v1alpha1.FunctionLibrarySource{{ConfigMapRef: v1alpha1.ConfigMapKeyRef{Key: "a.lua"}}}
		}, "spec.functions[0].configMapRef.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := tt.rcName
			if name == "" {
				name = "bad"
			}
			rc := newCluster(ns, name)
			if tt.change != nil {
				tt.change(rc)
			}
			err := testEnv.c.Create(context.Background(), rc)
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q\ndoes not say %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

func TestAdmissionAcceptsAGoodSpec(t *testing.T) {
	ns := newNamespace(t)
	rc := newCluster(ns, "good", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Masters, rc.Spec.ReplicasPerMaster = 333, 2 // 999 nodes
		rc.Spec.Config = map[string]v1alpha1.ConfigValue{"maxmemory": "1gb", "maxmemory-policy": "allkeys-lru", "save": ""}
		rc.Spec.NodeTimeout = &metav1.Duration{Duration: 5e9}
		rc.Spec.PodTemplate.Labels = map[string]string{"app.kubernetes.io/part-of": "shop"}
		rc.Spec.ExternalAccess = &v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalLoadBalancer, AddressSource: v1alpha1.AddressIngressHostname,
			Annotations: map[string]string{"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}}
		rc.Spec.Scaling.CoolDown = &metav1.Duration{Duration: 10 * 60e9}
		rc.Spec.Migration.MaxLatencyImpact = &metav1.Duration{Duration: 2e6}
		rc.Annotations = map[string]string{v1alpha1.PausedAnnotation: "true"} // nothing to reconcile
	})
	if err := testEnv.c.Create(context.Background(), rc); err != nil {
		t.Fatal(err)
	}
}

// TestImmutableFieldsStayImmutable updates fields that cannot change after
// creation and checks the API server refuses each with its message.
func TestImmutableFieldsStayImmutable(t *testing.T) {
	ns := newNamespace(t)
	rc := newCluster(ns, "fixed", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Storage.StorageClassName = ptr.To("fast")
		rc.Annotations = map[string]string{v1alpha1.PausedAnnotation: "true"}
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	// Let the operator write its status first, so updates do not conflict.
	waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionFalse, v1alpha1.ReasonPaused)
	tests := []struct {
		name    string
		change  func(*v1alpha1.RedisCluster)
		wantMsg string
	}{
		{"storageClassName", func(rc *v1alpha1.RedisCluster) { rc.Spec.Storage.StorageClassName = ptr.To("slow") },
			"storage.storageClassName is immutable"},
		{"storageClassName removed", func(rc *v1alpha1.RedisCluster) { rc.Spec.Storage.StorageClassName = nil },
			"storage.storageClassName is immutable"},
		{"ephemeral", func(rc *v1alpha1.RedisCluster) { rc.Spec.Storage.Ephemeral = true },
			"storage.ephemeral is immutable"},
		{"size", func(rc *v1alpha1.RedisCluster) { rc.Spec.Storage.Size = ptr.To(resource.MustParse("5Gi")) },
			"storage.size is immutable"},
		{"auth", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Auth = &v1alpha1.AuthSpec{ExistingSecret: &v1alpha1.SecretKeyRef{Name: "other"}}
		}, "auth.existingSecret is immutable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := &v1alpha1.RedisCluster{}
			if err := testEnv.c.Get(context.Background(), key, cur); err != nil {
				t.Fatal(err)
			}
			tt.change(cur)
			err := testEnv.c.Update(context.Background(), cur)
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("update: %v\nwant Invalid saying %q", err, tt.wantMsg)
			}
		})
	}

	// Mutable fields do change.
	cur := &v1alpha1.RedisCluster{}
	if err := testEnv.c.Get(context.Background(), key, cur); err != nil {
		t.Fatal(err)
	}
	cur.Spec.ReplicasPerMaster = 2
	cur.Spec.Service.Type = corev1.ServiceTypeNodePort
	if err := testEnv.c.Update(context.Background(), cur); err != nil {
		t.Errorf("updating mutable fields: %v", err)
	}
}

// TestScaleSubresource scales masters through /scale, as kubectl scale and
// autoscalers do, and checks the same limits apply there.
func TestScaleSubresource(t *testing.T) {
	ns := newNamespace(t)
	rc := newCluster(ns, "scaled", func(rc *v1alpha1.RedisCluster) {
		rc.Annotations = map[string]string{v1alpha1.PausedAnnotation: "true"}
	})
	create(t, rc)
	ctx := context.Background()
	waitCondition(t, client.ObjectKeyFromObject(rc), v1alpha1.ConditionProgressing, metav1.ConditionFalse, v1alpha1.ReasonPaused)

	scale := &autoscalingv1.Scale{}
	if err := testEnv.c.SubResource("scale").Get(ctx, rc, scale); err != nil {
		t.Fatal(err)
	}
	if scale.Spec.Replicas != 3 {
		t.Fatalf("scale.spec.replicas = %d, want 3", scale.Spec.Replicas)
	}
	scale.Spec.Replicas = 5
	if err := testEnv.c.SubResource("scale").Update(ctx, rc, client.WithSubResourceBody(scale)); err != nil {
		t.Fatal(err)
	}
	if err := testEnv.c.Get(ctx, client.ObjectKeyFromObject(rc), rc); err != nil {
		t.Fatal(err)
	}
	if rc.Spec.Masters != 5 {
		t.Errorf("spec.masters = %d after scaling to 5", rc.Spec.Masters)
	}
	// The operator records the new generation in status; then scale again.
	waitCondition(t, client.ObjectKeyFromObject(rc), v1alpha1.ConditionProgressing, metav1.ConditionFalse, v1alpha1.ReasonPaused)
	if err := testEnv.c.SubResource("scale").Get(ctx, rc, scale); err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 2
	err := testEnv.c.SubResource("scale").Update(ctx, rc, client.WithSubResourceBody(scale))
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "greater than or equal to 3") {
		t.Errorf("scaling to 2 masters: %v", err)
	}
}

// TestSamplesAreAccepted creates every sample of config/samples as it is.
func TestSamplesAreAccepted(t *testing.T) {
	ns := newNamespace(t)
	files, err := filepath.Glob(filepath.Join("..", "config", "samples", "redis_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(raw, &tm); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var obj client.Object
		switch tm.Kind {
		case "RedisCluster":
			obj = &v1alpha1.RedisCluster{}
		case "RedisReplication":
			obj = &v1alpha1.RedisReplication{}
		default:
			t.Fatalf("%s: a sample of kind %q", f, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(raw, obj); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		obj.SetNamespace(ns)
		if err := testEnv.c.Create(context.Background(), obj); err != nil {
			t.Errorf("%s refused: %v", f, err)
		}
	}
}
