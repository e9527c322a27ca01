package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// TestReplicationAdmissionRefusesImpossibleSpecs checks the
// RedisReplication CRD's schema and CEL rules in the real API server.
func TestReplicationAdmissionRefusesImpossibleSpecs(t *testing.T) {
	ns := newNamespace(t)
	tests := []struct {
		name    string
		rrName  string
		change  func(*v1alpha1.RedisReplication)
		wantMsg string
	}{
		{"no data node", "", func(rr *v1alpha1.RedisReplication) { rr.Spec.Replicas = -1 },
			"spec.replicas in body should be greater than or equal to 1"},
		{"too many data nodes", "", func(rr *v1alpha1.RedisReplication) { rr.Spec.Replicas = 101 },
			"spec.replicas in body should be less than or equal to 100"},
		{"too many sentinels", "", func(rr *v1alpha1.RedisReplication) { rr.Spec.Sentinel.Replicas = 10 },
			"spec.sentinel.replicas in body should be less than or equal to 9"},
		{"quorum above the sentinels", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Sentinel.Replicas, rr.Spec.Sentinel.Quorum = 3, ptr.To[int32](4)
		}, "sentinel.quorum must not exceed sentinel.replicas"},
		{"quorum 0", "", func(rr *v1alpha1.RedisReplication) { rr.Spec.Sentinel.Quorum = ptr.To[int32](0) },
			"spec.sentinel.quorum in body should be greater than or equal to 1"},
		{"down-after too short", "", func(rr *v1alpha1.RedisReplication) { rr.Spec.Sentinel.DownAfterMilliseconds = 10 },
			"spec.sentinel.downAfterMilliseconds in body should be greater than or equal to 100"},
		{"failover-timeout too short", "", func(rr *v1alpha1.RedisReplication) { rr.Spec.Sentinel.FailoverTimeout = 10 },
			"spec.sentinel.failoverTimeout in body should be greater than or equal to 1000"},
		{"parallel-syncs 0", "", func(rr *v1alpha1.RedisReplication) { rr.Spec.Sentinel.ParallelSyncs = -1 },
			"spec.sentinel.parallelSyncs in body should be greater than or equal to 1"},
		{"cluster config key", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Config = map[string]v1alpha1.ConfigValue{"cluster-node-timeout": "5000"}
		}, "config key cluster-node-timeout is not supported or is managed by the operator"},
		{"config key the operator owns", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Config = map[string]v1alpha1.ConfigValue{"replicaof": "a 6379"}
		}, "config key replicaof is not supported or is managed by the operator"},
		{"config value smuggling a directive", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Config = map[string]v1alpha1.ConfigValue{"maxmemory": "1gb\nreplicaof x 1"}
		}, `spec.config.maxmemory in body should match '^[^\r\n]*$'`},
		{"operator label on pods", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.PodTemplate.Labels = map[string]string{"redis.shoal.dev/role": "master"}
		}, "podTemplate.labels cannot set redis.shoal.dev/*"},
		{"name too long", strings.Repeat("a", 41), nil, "metadata.name must be a DNS-1035 label of at most 40 characters"},
		{"tls Secret and issuer both", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.TLS = &v1alpha1.TLSSpec{SecretName: "mine", IssuerRef: &v1alpha1.TLSIssuerRef{Name: "ca"}}
		}, "secretName and issuerRef are exclusive"},
		{"tls authClients unknown", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.TLS = &v1alpha1.TLSSpec{AuthClients: "maybe"}
		}, `spec.tls.authClients: Unsupported value: "maybe"`},
		{"tls issuer of an unknown kind", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.TLS = &v1alpha1.TLSSpec{IssuerRef: &v1alpha1.TLSIssuerRef{Name: "ca", Kind: "Vault"}}
		}, `spec.tls.issuerRef.kind: Unsupported value: "Vault"`},
		{"user named default", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Users = []v1alpha1.UserSpec{{Name: "default", Passwords: []v1alpha1.SecretKeyRef{{Name: "s"}}}}
		}, "the default user is set by spec.auth, not spec.users"},
		{"user with the operator's prefix", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Users = []v1alpha1.UserSpec{{Name: "shoal-me", Passwords: []v1alpha1.SecretKeyRef{{Name: "s"}}}}
		}, "user names starting with shoal- are reserved for the operator"},
		{"user without a password", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Users = []v1alpha1.UserSpec{{Name: "app"}}
		}, "spec.users[0].passwords"},
		{"user rule outside the grammar", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Users = []v1alpha1.UserSpec{{Name: "app", Rules: []string{"on >secret"}, Passwords: []v1alpha1.SecretKeyRef{{Name: "s"}}}}
		}, "spec.users[0].rules[0] in body should match"},
		{"the same user twice", "", func(rr *v1alpha1.RedisReplication) {
			u := v1alpha1.UserSpec{Name: "app", Passwords: []v1alpha1.SecretKeyRef{{Name: "s"}}}
			rr.Spec.Users = []v1alpha1.UserSpec{u, u}
		}, `spec.users[1]: Duplicate value`},
		{"monitoring on the client port", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Monitoring = &v1alpha1.MonitoringSpec{Enabled: true, Port: 6379}
		}, "monitoring.port must differ from the client (6379), bus (16379) and sentinel (26379) ports"},
		{"monitoring on the sentinel port", "", func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Monitoring = &v1alpha1.MonitoringSpec{Enabled: true, Port: 26379}
		}, "monitoring.port must differ from the client (6379), bus (16379) and sentinel (26379) ports"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.rrName
			if name == "" {
				name = "bad"
			}
			rr := &v1alpha1.RedisReplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
			if tc.change != nil {
				tc.change(rr)
			}
			err := testEnv.c.Create(context.Background(), rr)
			if err == nil {
				_ = testEnv.c.Delete(context.Background(), rr)
				t.Fatalf("accepted; want refusal with %q", tc.wantMsg)
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %v; want Invalid with %q", err, tc.wantMsg)
			}
		})
	}
}

// TestReplicationAdmissionAcceptsMonitoring: monitoring: {enabled: true}
// is accepted as it stands, with the PodMonitor and the PrometheusRule
// defaulted on (both are made for this kind).
func TestReplicationAdmissionAcceptsMonitoring(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	rr := &v1alpha1.RedisReplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "monitored"},
		Spec: v1alpha1.RedisReplicationSpec{Monitoring: &v1alpha1.MonitoringSpec{Enabled: true}}}
	if err := testEnv.c.Create(ctx, rr); err != nil {
		t.Fatalf("monitoring: {enabled: true} refused: %v", err)
	}
	got := &v1alpha1.RedisReplication{}
	if err := testEnv.c.Get(ctx, client.ObjectKeyFromObject(rr), got); err != nil {
		t.Fatal(err)
	}
	if m := got.Spec.Monitoring; !ptr.Deref(m.PrometheusRule, false) || !ptr.Deref(m.PodMonitor, false) || m.Port != v1alpha1.DefaultMetricsPort {
		t.Fatalf("monitoring defaults %+v", m)
	}
}

// TestReplicationAdmissionDefaults: an empty spec gets the documented
// defaults from the API server, the same ones Default applies, and
// auth.existingSecret, auth.defaultUser and the presence of spec.tls
// cannot be changed.
func TestReplicationAdmissionDefaults(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	rr := &v1alpha1.RedisReplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "defaults"},
		Spec: v1alpha1.RedisReplicationSpec{Auth: &v1alpha1.AuthSpec{ExistingSecret: &v1alpha1.SecretKeyRef{Name: "a"}}}}
	if err := testEnv.c.Create(ctx, rr); err != nil {
		t.Fatal(err)
	}
	got := &v1alpha1.RedisReplication{}
	if err := testEnv.c.Get(ctx, client.ObjectKeyFromObject(rr), got); err != nil {
		t.Fatal(err)
	}
	want := got.Spec.DeepCopy()
	want.Default("")
	if got.Spec.Replicas != v1alpha1.DefaultReplicationReplicas || got.Spec.Sentinel.Replicas != v1alpha1.DefaultSentinelReplicas ||
		got.Spec.Sentinel.DownAfterMilliseconds != v1alpha1.DefaultSentinelDownAfterMillis ||
		got.Spec.Sentinel.FailoverTimeout != v1alpha1.DefaultSentinelFailoverTimeout ||
		got.Spec.Sentinel.ParallelSyncs != v1alpha1.DefaultSentinelParallelSyncs ||
		got.Spec.Storage.Size.String() != v1alpha1.DefaultStorageSize || got.Spec.Auth.ExistingSecret.Key != "password" {
		t.Fatalf("API server defaults %+v", got.Spec)
	}
	if want.Replicas != got.Spec.Replicas || !equality.Semantic.DeepEqual(want.Sentinel, got.Spec.Sentinel) || got.Spec.Sentinel.QuorumOrMajority() != 2 {
		t.Fatalf("Default disagrees with the CRD: %+v vs %+v", want, got.Spec)
	}
	err := updateReplication(t, got, func(rr *v1alpha1.RedisReplication) { rr.Spec.Auth.ExistingSecret.Name = "b" })
	if err == nil || !strings.Contains(err.Error(), "auth.existingSecret is immutable") {
		t.Fatalf("existingSecret changed: %v", err)
	}
	// spec.tls is set at creation only, in either direction.
	err = updateReplication(t, got, func(rr *v1alpha1.RedisReplication) { rr.Spec.TLS = &v1alpha1.TLSSpec{} })
	if err == nil || !strings.Contains(err.Error(), "spec.tls cannot be added or removed after creation") {
		t.Fatalf("spec.tls added: %v", err)
	}
	withTLS := &v1alpha1.RedisReplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "with-tls"},
		Spec: v1alpha1.RedisReplicationSpec{TLS: &v1alpha1.TLSSpec{SecretName: "mine"}}}
	if err := testEnv.c.Create(ctx, withTLS); err != nil {
		t.Fatal(err)
	}
	err = updateReplication(t, withTLS, func(rr *v1alpha1.RedisReplication) { rr.Spec.TLS = nil })
	if err == nil || !strings.Contains(err.Error(), "spec.tls cannot be added or removed after creation") {
		t.Fatalf("spec.tls removed: %v", err)
	}
	// Its fields may change (another Secret, on a rotation).
	if err := updateReplication(t, withTLS, func(rr *v1alpha1.RedisReplication) { rr.Spec.TLS.SecretName = "other" }); err != nil {
		t.Fatalf("spec.tls.secretName changed: %v", err)
	}
	// auth.defaultUser Disabled is accepted at creation, and is
	// immutable in either direction.
	err = updateReplication(t, got, func(rr *v1alpha1.RedisReplication) { rr.Spec.Auth.DefaultUser = v1alpha1.DefaultUserDisabled })
	if err == nil || !strings.Contains(err.Error(), "auth.defaultUser is immutable") {
		t.Fatalf("defaultUser turned off: %v", err)
	}
	off := &v1alpha1.RedisReplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-default-user"},
		Spec: v1alpha1.RedisReplicationSpec{Auth: &v1alpha1.AuthSpec{DefaultUser: v1alpha1.DefaultUserDisabled}}}
	if err := testEnv.c.Create(ctx, off); err != nil {
		t.Fatalf("defaultUser Disabled refused: %v", err)
	}
	err = updateReplication(t, off, func(rr *v1alpha1.RedisReplication) { rr.Spec.Auth.DefaultUser = v1alpha1.DefaultUserEnabled })
	if err == nil || !strings.Contains(err.Error(), "auth.defaultUser is immutable") {
		t.Fatalf("defaultUser turned on: %v", err)
	}
}

// updateReplication reads rr, applies change and updates it; the
// reconciler may update the object between the Get and the Update (a
// conflict, not the refusal looked for), so it tries again for a while.
func updateReplication(t *testing.T, rr *v1alpha1.RedisReplication, change func(*v1alpha1.RedisReplication)) error {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if err := testEnv.c.Get(ctx, client.ObjectKeyFromObject(rr), rr); err != nil {
			t.Fatal(err)
		}
		change(rr)
		err := testEnv.c.Update(ctx, rr)
		if !apierrors.IsConflict(err) || time.Now().After(deadline) {
			return err
		}
	}
}
