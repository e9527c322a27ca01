package v1alpha1

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// TestCRDDefaultsMatchGoDefaults keeps the +kubebuilder:default markers (what
// the API server fills in) and Default (what the operator assumes for unset
// fields) from drifting apart.
func TestCRDDefaultsMatchGoDefaults(t *testing.T) {
	spec := loadCRDSpecSchema(t)
	defaultAt := func(path string) string {
		s := spec
		for _, p := range strings.Split(path, ".") {
			s = s.Properties[p]
		}
		if s.Default == nil {
			t.Fatalf("%s has no default in the CRD", path)
		}
		var v any
		if err := json.Unmarshal(s.Default.Raw, &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		return strings.Trim(string(b), `"`)
	}

	var s RedisClusterSpec
	s.Auth = &AuthSpec{ExistingSecret: &SecretKeyRef{}}
	s.Default("img")
	tests := []struct{ path, goValue string }{
		{"masters", jsonOf(s.Masters)},
		{"replicasPerMaster", jsonOf(int32(DefaultReplicasPerMaster))},
		{"nodeTimeout", s.NodeTimeout.Duration.String()},
		{"storage.size", s.Storage.Size.String()},
		{"storage.retentionPolicy", string(s.Storage.RetentionPolicy)},
		{"service.type", string(s.Service.Type)},
		{"podDisruptionBudget.enabled", jsonOf(*s.PodDisruptionBudget.Enabled)},
		{"podDisruptionBudget.maxUnavailable", jsonOf(*s.PodDisruptionBudget.MaxUnavailable)},
		{"auth.existingSecret.key", s.Auth.ExistingSecret.Key},
		{"migration.keysPerBatch", jsonOf(*s.Migration.KeysPerBatch)},
		{"migration.slotsInFlight", jsonOf(*s.Migration.SlotsInFlight)},
		{"rebalance.mode", string(s.Rebalance.Mode)},
		{"rebalance.thresholdPercent", jsonOf(*s.Rebalance.ThresholdPercent)},
		{"updateStrategy.maxConcurrentShards", jsonOf(*s.UpdateStrategy.MaxConcurrentShards)},
		{"scaling.coolDown", s.Scaling.CoolDown.Duration.String()},
	}
	for _, tt := range tests {
		if got := defaultAt(tt.path); got != tt.goValue {
			t.Errorf("spec.%s: CRD default %s, Go default %s", tt.path, got, tt.goValue)
		}
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAuthSecret(t *testing.T) {
	rc := &RedisCluster{}
	rc.Name = "cache"
	if ref, generated := rc.AuthSecret(); !generated || ref.Name != "cache-auth" || ref.Key != "password" {
		t.Errorf("generated: %+v %v", ref, generated)
	}
	rc.Spec.Auth = &AuthSpec{ExistingSecret: &SecretKeyRef{Name: "mine"}}
	if ref, generated := rc.AuthSecret(); generated || ref.Name != "mine" || ref.Key != "password" {
		t.Errorf("existing: %+v %v", ref, generated)
	}
}

func TestIsPaused(t *testing.T) {
	rc := &RedisCluster{}
	for _, v := range []string{"", "false", "yes"} {
		rc.Annotations = map[string]string{PausedAnnotation: v}
		if rc.IsPaused() {
			t.Errorf("paused with %q", v)
		}
	}
	rc.Annotations[PausedAnnotation] = "true"
	if !rc.IsPaused() {
		t.Error("not paused with \"true\"")
	}
}

// loadCRDSpecSchema reads the generated CRD and returns the schema of spec.
func loadCRDSpecSchema(t *testing.T) apiextensionsv1.JSONSchemaProps {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "redis.shoal.dev_redisclusters.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		t.Fatal(err)
	}
	return crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
}
