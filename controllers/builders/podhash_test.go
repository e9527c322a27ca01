package builders

import (
	"testing"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// templateHash is the pod-template hash of shard 0 of rc, built the way the
// reconciler builds it (the config hash leaves the live keys out).
func templateHash(rc *v1alpha1.RedisCluster) string {
	sts := ShardStatefulSet(rc, 0, RestartConfigHash(rc))
	return sts.Spec.Template.Annotations[AnnotationPodTemplateHash]
}

func TestPodTemplateHashRollsOnlyForRestartChanges(t *testing.T) {
	base := templateHash(cluster())
	if len(base) != 16 || base != templateHash(cluster()) {
		t.Fatalf("hash %q is not a stable 16-hex-digit hash", base)
	}
	tests := []struct {
		name   string
		change func(*v1alpha1.RedisCluster)
		rolls  bool
	}{
		{"new image", func(rc *v1alpha1.RedisCluster) { rc.Spec.Image = "shoal/node:v2" }, true},
		{"resources", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
		}, true},
		{"pod annotation", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.PodTemplate.Annotations = map[string]string{"team": "cache"}
		}, true},
		{"restart-requiring config (event-loop-busy-poll)", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Config = map[string]v1alpha1.ConfigValue{"event-loop-busy-poll": "0"}
		}, true},
		{"live config (maxmemory-policy, slowlog-max-len)", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Config = map[string]v1alpha1.ConfigValue{"maxmemory-policy": "allkeys-lru", "slowlog-max-len": "512"}
		}, false},
		{"live default overridden (appendonly no)", func(rc *v1alpha1.RedisCluster) {
			rc.Spec.Config = map[string]v1alpha1.ConfigValue{"appendonly": "no"}
		}, false},
		{"more replicas", func(rc *v1alpha1.RedisCluster) { rc.Spec.ReplicasPerMaster = 2 }, false},
		{"more masters", func(rc *v1alpha1.RedisCluster) { rc.Spec.Masters = 5 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := templateHash(cluster(tt.change)) != base; got != tt.rolls {
				t.Errorf("template hash changed = %v, want %v", got, tt.rolls)
			}
		})
	}
}

func TestPodTemplateHashIgnoresItself(t *testing.T) {
	tmpl := ShardStatefulSet(cluster(), 0, "h").Spec.Template
	if got := PodTemplateHash(tmpl); got != tmpl.Annotations[AnnotationPodTemplateHash] {
		t.Errorf("hash of the finished template %q != its annotation %q", got, tmpl.Annotations[AnnotationPodTemplateHash])
	}
}

func TestLiveConfig(t *testing.T) {
	rc := cluster(func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Config = map[string]v1alpha1.ConfigValue{"maxmemory": "64mb", "event-loop-busy-poll": "0"}
	})
	got := LiveConfig(rc)
	want := map[string]string{"maxmemory": "64mb", "appendonly": "yes"}
	if len(got) != len(want) || got["maxmemory"] != "64mb" || got["appendonly"] != "yes" {
		t.Errorf("LiveConfig = %v, want %v", got, want)
	}
	if IsLiveConfig("event-loop-busy-poll") || IsLiveConfig("tcp-backlog") || !IsLiveConfig("slowlog-max-len") {
		t.Error("IsLiveConfig: event-loop-busy-poll and tcp-backlog need a restart, slowlog-max-len is live")
	}
}
