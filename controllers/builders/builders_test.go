package builders

import (
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
)

const testImage = "shoal/node:test"

// cluster returns a defaulted RedisCluster "cache" in namespace "ns", changed
// by the given functions before defaulting.
func cluster(changes ...func(*v1alpha1.RedisCluster)) *v1alpha1.RedisCluster {
	rc := &v1alpha1.RedisCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "cache", Namespace: "ns", UID: "uid-1"},
		Spec:       v1alpha1.RedisClusterSpec{Masters: 3, ReplicasPerMaster: 1},
	}
	for _, c := range changes {
		c(rc)
	}
	rc.Spec.Default(testImage)
	return rc
}

func assertOwned(t *testing.T, obj metav1.Object) {
	t.Helper()
	refs := obj.GetOwnerReferences()
	if len(refs) != 1 {
		t.Fatalf("%s: want 1 owner reference, got %d", obj.GetName(), len(refs))
	}
	r := refs[0]
	if r.Kind != "RedisCluster" || r.APIVersion != "redis.shoal.dev/v1alpha1" || r.Name != "cache" || r.UID != "uid-1" ||
		!ptr.Deref(r.Controller, false) || !ptr.Deref(r.BlockOwnerDeletion, false) {
		t.Errorf("%s: owner reference %+v", obj.GetName(), r)
	}
	if obj.GetNamespace() != "ns" {
		t.Errorf("%s: namespace %q", obj.GetName(), obj.GetNamespace())
	}
}

func TestNodeConfig(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*v1alpha1.RedisCluster)
		want    []string // lines that must appear, in this order
		notWant []string
	}{
		{
			name: "operator-owned directives and defaults",
			want: []string{
				"port 6379", "cluster-enabled yes", "cluster-port 16379",
				"cluster-config-file nodes.conf", "cluster-node-timeout 15000",
				"appendonly yes",
			},
		},
		{
			name:   "nodeTimeout is written in milliseconds",
			change: func(rc *v1alpha1.RedisCluster) { rc.Spec.NodeTimeout = &metav1.Duration{Duration: 2500 * 1e6} },
			want:   []string{"cluster-node-timeout 2500"},
		},
		{
			name: "config passthrough overrides defaults and is sorted by key",
			change: func(rc *v1alpha1.RedisCluster) {
				rc.Spec.Config = map[string]v1alpha1.ConfigValue{
					"maxmemory-policy": "allkeys-lru", "appendonly": "no", "maxmemory": "100mb",
				}
			},
			want:    []string{"cluster-node-timeout 15000", "appendonly no", "maxmemory 100mb", "maxmemory-policy allkeys-lru"},
			notWant: []string{"appendonly yes"},
		},
		{
			name:   "an empty value is written as an empty quoted string",
			change: func(rc *v1alpha1.RedisCluster) { rc.Spec.Config = map[string]v1alpha1.ConfigValue{"save": ""} },
			want:   []string{`save ""`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var changes []func(*v1alpha1.RedisCluster)
			if tt.change != nil {
				changes = append(changes, tt.change)
			}
			conf := NodeConfig(cluster(changes...))
			lines := strings.Split(conf, "\n")
			at := 0
			for _, w := range tt.want {
				found := false
				for ; at < len(lines); at++ {
					if lines[at] == w {
						found = true
						break
					}
				}
				if !found {
					t.Fatalf("line %q missing or out of order in:\n%s", w, conf)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(conf, nw+"\n") {
					t.Errorf("unexpected line %q in:\n%s", nw, conf)
				}
			}
		})
	}
}

func TestNodeConfigIsDeterministic(t *testing.T) {
	change := func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Config = map[string]v1alpha1.ConfigValue{"a-key": "1", "b-key": "2", "c-key": "3", "hz": "10"}
	}
	first := NodeConfig(cluster(change))
	for range 20 {
		if got := NodeConfig(cluster(change)); got != first {
			t.Fatalf("NodeConfig changed between calls:\n%s\nvs\n%s", first, got)
		}
	}
	if ConfigHash(first) != ConfigHash(NodeConfig(cluster(change))) || ConfigHash(first) == ConfigHash(first+"x") {
		t.Fatal("ConfigHash must depend on the content only")
	}
}

func TestConfigMapAndSecret(t *testing.T) {
	rc := cluster()
	cm := ConfigMap(rc)
	assertOwned(t, cm)
	if cm.Name != "cache-config" || cm.Data[ConfigFileKey] != NodeConfig(rc) {
		t.Errorf("ConfigMap %s data %v", cm.Name, cm.Data)
	}
	s := AuthSecret(rc, "s3cret")
	assertOwned(t, s)
	if s.Name != "cache-auth" || string(s.Data["password"]) != "s3cret" {
		t.Errorf("Secret %s data %v", s.Name, s.Data)
	}
}

func TestServices(t *testing.T) {
	tests := []struct {
		name         string
		svc          *corev1.Service
		wantName     string
		wantType     corev1.ServiceType
		wantHeadless bool
		wantPorts    []int32
	}{
		{"headless", HeadlessService(cluster()), "cache-nodes", "", true, []int32{6379, 16379}},
		{"client default", ClientService(cluster()), "cache", corev1.ServiceTypeClusterIP, false, []int32{6379}},
		{"client load balancer", ClientService(cluster(func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Service.Type = corev1.ServiceTypeLoadBalancer
		})), "cache", corev1.ServiceTypeLoadBalancer, false, []int32{6379}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertOwned(t, tt.svc)
			if tt.svc.Name != tt.wantName || tt.svc.Spec.Type != tt.wantType {
				t.Errorf("name %q type %q", tt.svc.Name, tt.svc.Spec.Type)
			}
			if headless := tt.svc.Spec.ClusterIP == corev1.ClusterIPNone; headless != tt.wantHeadless {
				t.Errorf("headless = %v", headless)
			}
			if tt.wantHeadless && !tt.svc.Spec.PublishNotReadyAddresses {
				t.Error("headless Service must publish not-ready addresses (nodes MEET before they are ready)")
			}
			var ports []int32
			for _, p := range tt.svc.Spec.Ports {
				ports = append(ports, p.Port)
			}
			if !equality.Semantic.DeepEqual(ports, tt.wantPorts) {
				t.Errorf("ports %v, want %v", ports, tt.wantPorts)
			}
			if !equality.Semantic.DeepEqual(tt.svc.Spec.Selector, map[string]string{LabelCluster: "cache", LabelComponent: "node"}) {
				t.Errorf("selector %v", tt.svc.Spec.Selector)
			}
		})
	}
}

func TestClientServiceAnnotations(t *testing.T) {
	svc := ClientService(cluster(func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Service.Annotations = map[string]string{"lb.example/internal": "true"}
	}))
	if svc.Annotations["lb.example/internal"] != "true" {
		t.Errorf("annotations %v", svc.Annotations)
	}
}

func TestShardStatefulSet(t *testing.T) {
	tests := []struct {
		name   string
		change func(*v1alpha1.RedisCluster)
		check  func(t *testing.T, sts *appsv1.StatefulSet)
	}{
		{
			name: "one master plus replicasPerMaster pods, OnDelete, parallel, governed by the headless Service",
			check: func(t *testing.T, sts *appsv1.StatefulSet) {
				if sts.Name != "cache-shard-1" || *sts.Spec.Replicas != 2 || sts.Spec.ServiceName != "cache-nodes" {
					t.Errorf("name %s replicas %d service %s", sts.Name, *sts.Spec.Replicas, sts.Spec.ServiceName)
				}
				if sts.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType {
					t.Errorf("update strategy %q", sts.Spec.UpdateStrategy.Type)
				}
				if sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
					t.Errorf("pod management %q", sts.Spec.PodManagementPolicy)
				}
			},
		},
		{
			name:   "zero replicas per master is one pod",
			change: func(rc *v1alpha1.RedisCluster) { rc.Spec.ReplicasPerMaster = 0 },
			check: func(t *testing.T, sts *appsv1.StatefulSet) {
				if *sts.Spec.Replicas != 1 {
					t.Errorf("replicas %d", *sts.Spec.Replicas)
				}
			},
		},
		{
			name: "persistent storage is a claim template with size and class; Delete retention",
			change: func(rc *v1alpha1.RedisCluster) {
				rc.Spec.Storage.Size = ptr.To(resource.MustParse("5Gi"))
				rc.Spec.Storage.StorageClassName = ptr.To("fast")
			},
			check: func(t *testing.T, sts *appsv1.StatefulSet) {
				if len(sts.Spec.VolumeClaimTemplates) != 1 {
					t.Fatalf("claim templates %d", len(sts.Spec.VolumeClaimTemplates))
				}
				c := sts.Spec.VolumeClaimTemplates[0]
				if c.Name != "data" || ptr.Deref(c.Spec.StorageClassName, "") != "fast" ||
					c.Spec.Resources.Requests.Storage().Cmp(resource.MustParse("5Gi")) != 0 {
					t.Errorf("claim %+v", c)
				}
				if hasVolume(sts, "data") {
					t.Error("persistent storage must not also have a data volume")
				}
				p := sts.Spec.PersistentVolumeClaimRetentionPolicy
				if p == nil || p.WhenDeleted != appsv1.DeletePersistentVolumeClaimRetentionPolicyType ||
					p.WhenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
					t.Errorf("retention %+v", p)
				}
			},
		},
		{
			name:   "Retain keeps claims on deletion but not on scale-in",
			change: func(rc *v1alpha1.RedisCluster) { rc.Spec.Storage.RetentionPolicy = v1alpha1.StorageRetentionRetain },
			check: func(t *testing.T, sts *appsv1.StatefulSet) {
				p := sts.Spec.PersistentVolumeClaimRetentionPolicy
				if p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType ||
					p.WhenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
					t.Errorf("retention %+v", p)
				}
			},
		},
		{
			name: "ephemeral storage is an emptyDir limited to the size",
			change: func(rc *v1alpha1.RedisCluster) {
				rc.Spec.Storage.Ephemeral = true
				rc.Spec.Storage.Size = ptr.To(resource.MustParse("64Mi"))
			},
			check: func(t *testing.T, sts *appsv1.StatefulSet) {
				if len(sts.Spec.VolumeClaimTemplates) != 0 || sts.Spec.PersistentVolumeClaimRetentionPolicy != nil {
					t.Error("ephemeral storage must not have claim templates")
				}
				v := volume(sts, "data")
				if v == nil || v.EmptyDir == nil || v.EmptyDir.SizeLimit.Cmp(resource.MustParse("64Mi")) != 0 {
					t.Errorf("data volume %+v", v)
				}
			},
		},
		{
			name: "default security: non-root, read-only root filesystem, no escalation, no service account token",
			check: func(t *testing.T, sts *appsv1.StatefulSet) {
				pod := sts.Spec.Template.Spec
				c := pod.Containers[0]
				if !ptr.Deref(pod.SecurityContext.RunAsNonRoot, false) || ptr.Deref(pod.SecurityContext.RunAsUser, 0) != 65532 ||
					ptr.Deref(pod.SecurityContext.FSGroup, 0) != 65532 {
					t.Errorf("pod security context %+v", pod.SecurityContext)
				}
				if !ptr.Deref(c.SecurityContext.ReadOnlyRootFilesystem, false) || ptr.Deref(c.SecurityContext.AllowPrivilegeEscalation, true) ||
					len(c.SecurityContext.Capabilities.Drop) != 1 || c.SecurityContext.Capabilities.Drop[0] != "ALL" {
					t.Errorf("container security context %+v", c.SecurityContext)
				}
				if ptr.Deref(pod.AutomountServiceAccountToken, true) {
					t.Error("node pods do not need a service account token")
				}
				if !hasMount(c, "/tmp") {
					t.Error("a read-only root filesystem needs a writable /tmp")
				}
			},
		},
		{
			name: "user security contexts replace the defaults",
			change: func(rc *v1alpha1.RedisCluster) {
				rc.Spec.PodSecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000)}
				rc.Spec.SecurityContext = &corev1.SecurityContext{ReadOnlyRootFilesystem: ptr.To(false)}
			},
			check: func(t *testing.T, sts *appsv1.StatefulSet) {
				pod := sts.Spec.Template.Spec
				if ptr.Deref(pod.SecurityContext.RunAsUser, 0) != 1000 || ptr.Deref(pod.Containers[0].SecurityContext.ReadOnlyRootFilesystem, true) {
					t.Errorf("security contexts %+v %+v", pod.SecurityContext, pod.Containers[0].SecurityContext)
				}
			},
		},
		{
			name: "default topology spread keeps a shard's pods apart on hosts and zones, without blocking scheduling",
			check: func(t *testing.T, sts *appsv1.StatefulSet) {
				tsc := sts.Spec.Template.Spec.TopologySpreadConstraints
				if len(tsc) != 2 || tsc[0].TopologyKey != corev1.LabelHostname || tsc[1].TopologyKey != corev1.LabelTopologyZone {
					t.Fatalf("spread %+v", tsc)
				}
				for _, c := range tsc {
					if c.WhenUnsatisfiable != corev1.ScheduleAnyway || c.LabelSelector.MatchLabels[LabelShard] != "1" {
						t.Errorf("spread %+v", c)
					}
				}
			},
		},
		{
			name: "scheduling fields are passed through",
			change: func(rc *v1alpha1.RedisCluster) {
				rc.Spec.Scheduling = v1alpha1.SchedulingSpec{
					NodeSelector:              map[string]string{"disk": "ssd"},
					Tolerations:               []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}},
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 2, TopologyKey: "rack", WhenUnsatisfiable: corev1.DoNotSchedule}},
					Affinity:                  &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}},
				}
				rc.Spec.PriorityClassName = "high"
			},
			check: func(t *testing.T, sts *appsv1.StatefulSet) {
				pod := sts.Spec.Template.Spec
				if pod.NodeSelector["disk"] != "ssd" || len(pod.Tolerations) != 1 || pod.Affinity == nil ||
					len(pod.TopologySpreadConstraints) != 1 || pod.TopologySpreadConstraints[0].TopologyKey != "rack" ||
					pod.PriorityClassName != "high" {
					t.Errorf("pod spec %+v", pod)
				}
			},
		},
		{
			name: "pod labels and annotations are added, the operator's labels win",
			change: func(rc *v1alpha1.RedisCluster) {
				rc.Spec.PodTemplate.Labels = map[string]string{"team": "a", LabelShard: "9"}
				rc.Spec.PodTemplate.Annotations = map[string]string{"scrape": "yes"}
			},
			check: func(t *testing.T, sts *appsv1.StatefulSet) {
				m := sts.Spec.Template.ObjectMeta
				if m.Labels["team"] != "a" || m.Labels[LabelShard] != "1" || m.Annotations["scrape"] != "yes" ||
					m.Annotations[AnnotationConfigHash] != "hash" {
					t.Errorf("template metadata %+v", m)
				}
			},
		},
		{
			name: "the node container runs the node binary with its config, ports and probes",
			change: func(rc *v1alpha1.RedisCluster) {
				rc.Spec.Auth = &v1alpha1.AuthSpec{ExistingSecret: &v1alpha1.SecretKeyRef{Name: "mine", Key: "pw"}}
			},
			check: func(t *testing.T, sts *appsv1.StatefulSet) {
				c := sts.Spec.Template.Spec.Containers[0]
				if c.Image != testImage || c.Command[0] != "/shoal-node" || strings.Join(c.Args[:3], " ") != "/etc/shoal/node.conf --dir /data" {
					t.Errorf("image %s command %v args %v", c.Image, c.Command, c.Args)
				}
				if len(c.Ports) != 2 || c.Ports[0].ContainerPort != 6379 || c.Ports[1].ContainerPort != 16379 {
					t.Errorf("ports %+v", c.Ports)
				}
				if c.ReadinessProbe == nil || c.LivenessProbe == nil || c.StartupProbe == nil {
					t.Error("probes missing")
				}
				var pw *corev1.SecretKeySelector
				for _, e := range c.Env {
					if e.Name == PasswordEnv {
						pw = e.ValueFrom.SecretKeyRef
					}
				}
				if pw == nil || pw.Name != "mine" || pw.Key != "pw" {
					t.Errorf("password env %+v", pw)
				}
				if !hasMount(c, "/data") || !hasMount(c, "/etc/shoal") {
					t.Errorf("mounts %+v", c.VolumeMounts)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var changes []func(*v1alpha1.RedisCluster)
			if tt.change != nil {
				changes = append(changes, tt.change)
			}
			sts := ShardStatefulSet(cluster(changes...), 1, "hash")
			assertOwned(t, sts)
			sel, err := metav1.LabelSelectorAsSelector(sts.Spec.Selector)
			if err != nil {
				t.Fatal(err)
			}
			if !sel.Matches(labels.Set(sts.Spec.Template.Labels)) {
				t.Fatalf("selector %v does not match template labels %v", sel, sts.Spec.Template.Labels)
			}
			tt.check(t, sts)
		})
	}
}

func TestShardSelectorsDoNotOverlap(t *testing.T) {
	rc := cluster(func(rc *v1alpha1.RedisCluster) { rc.Spec.Masters = 12 })
	for i := range 12 {
		sel := labels.SelectorFromSet(ShardSelector(rc, i))
		for j := range 12 {
			matches := sel.Matches(labels.Set(ShardStatefulSet(rc, j, "h").Spec.Template.Labels))
			if matches != (i == j) {
				t.Errorf("selector of shard %d matches pods of shard %d: %v", i, j, matches)
			}
		}
	}
}

func TestShardPDB(t *testing.T) {
	tests := []struct {
		name string
		max  int32
	}{{"default", 1}, {"two", 2}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pdb := ShardPDB(cluster(func(rc *v1alpha1.RedisCluster) {
				rc.Spec.PodDisruptionBudget.MaxUnavailable = ptr.To(tt.max)
			}), 2)
			assertOwned(t, pdb)
			if pdb.Name != "cache-shard-2" || pdb.Spec.MaxUnavailable.IntValue() != int(tt.max) ||
				pdb.Spec.Selector.MatchLabels[LabelShard] != "2" || pdb.Spec.MinAvailable != nil {
				t.Errorf("pdb %+v", pdb.Spec)
			}
		})
	}
}

func volume(sts *appsv1.StatefulSet, name string) *corev1.Volume {
	for i := range sts.Spec.Template.Spec.Volumes {
		if sts.Spec.Template.Spec.Volumes[i].Name == name {
			return &sts.Spec.Template.Spec.Volumes[i]
		}
	}
	return nil
}

func hasVolume(sts *appsv1.StatefulSet, name string) bool { return volume(sts, name) != nil }

func hasMount(c corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return true
		}
	}
	return false
}
