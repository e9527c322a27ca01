// Package chart tests the Helm chart of the operator: helm lint, and the
// objects helm template renders for typical values.
package chart

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

const namespace = "shoal-system"

// helmBinary is the pinned helm: $HELM (the Makefile sets it; a relative
// path is taken from the repository root), else the one `make helm` installs
// into ./bin. There is no skipping: without helm the chart is untested, so
// the test fails.
func helmBinary(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		if !filepath.IsAbs(h) && strings.ContainsRune(h, filepath.Separator) {
			return filepath.Join("..", "..", h)
		}
		return h
	}
	found, _ := filepath.Glob(filepath.Join("..", "..", "bin", "helm-v*"))
	if len(found) == 0 {
		t.Fatal("helm not found: run `make helm` (installs the pinned helm into ./bin) or set HELM to a helm binary")
	}
	slices.Sort(found)
	return found[len(found)-1]
}

func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(helmBinary(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

// rendered is the output of helm template, by kind and name.
type rendered map[string]*unstructured.Unstructured

func render(t *testing.T, set ...string) rendered {
	t.Helper()
	args := []string{"template", "shoal", ".", "--namespace", namespace}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm %v: %v\n%s", args, err, out)
	}
	objs := rendered{}
	for _, doc := range strings.Split(out, "\n---") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("rendered YAML: %v\n%s", err, doc)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		key := u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
		if _, dup := objs[key]; dup {
			t.Fatalf("%s rendered twice", key)
		}
		objs[key] = u
	}
	return objs
}

func (r rendered) kinds() []string {
	var out []string
	for k := range r {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (r rendered) get(t *testing.T, kind, ns, name string, into any) {
	t.Helper()
	u, ok := r[kind+"/"+ns+"/"+name]
	if !ok {
		t.Fatalf("no %s %s/%s among %v", kind, ns, name, r.kinds())
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatal(err)
	}
}

func (r rendered) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	r.get(t, "Deployment", namespace, "shoal", d)
	return d
}

func TestHelmLint(t *testing.T) {
	for _, set := range [][]string{nil, {"watchNamespaces={a,b}", "metrics.serviceMonitor.enabled=true"}} {
		args := []string{"lint", "--strict", "."}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		if out, err := helm(t, args...); err != nil || !strings.Contains(out, "0 chart(s) failed") {
			t.Errorf("helm %v: %v\n%s", args, err, out)
		}
	}
}

func TestDefaultValues(t *testing.T) {
	r := render(t)
	want := []string{
		"ClusterRole//shoal-manager",
		"ClusterRoleBinding//shoal-manager",
		"Deployment/shoal-system/shoal",
		"Role/shoal-system/shoal-leader-election",
		"RoleBinding/shoal-system/shoal-leader-election",
		"Service/shoal-system/shoal-metrics",
		"ServiceAccount/shoal-system/shoal",
	}
	if got := r.kinds(); !slices.Equal(got, want) {
		t.Fatalf("rendered %v\nwant %v", got, want)
	}

	d := r.deployment(t)
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	if c.Image != "shoal/operator:dev" || c.Command[0] != "/shoal-operator" {
		t.Errorf("image %s command %v", c.Image, c.Command)
	}
	for _, arg := range []string{"--leader-elect", "--leader-election-namespace=shoal-system", "--metrics-bind-address=:8080",
		"--health-probe-bind-address=:8081", "--default-node-image=shoal/node:dev", "--zap-log-level=info"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("args %v lack %s", c.Args, arg)
		}
	}
	if slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--watch-namespaces") }) {
		t.Errorf("all namespaces are watched by default, args %v", c.Args)
	}
	if sel, _ := metav1.LabelSelectorAsSelector(d.Spec.Selector); !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Error("Deployment selector does not match its pods")
	}
	if c.SecurityContext == nil || !*c.SecurityContext.ReadOnlyRootFilesystem || *c.SecurityContext.AllowPrivilegeEscalation ||
		pod.SecurityContext == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("security contexts %+v %+v", pod.SecurityContext, c.SecurityContext)
	}
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Error("probes must use the manager's /healthz and /readyz")
	}
	if c.Resources.Limits.Memory().String() != "256Mi" {
		t.Errorf("resources %+v", c.Resources)
	}

	sa := &corev1.ServiceAccount{}
	r.get(t, "ServiceAccount", namespace, "shoal", sa)
	if pod.ServiceAccountName != sa.Name {
		t.Errorf("pods run as %q, the chart makes %q", pod.ServiceAccountName, sa.Name)
	}

	svc := &corev1.Service{}
	r.get(t, "Service", namespace, "shoal-metrics", svc)
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) ||
		svc.Spec.Ports[0].Port != 8080 || svc.Spec.Ports[0].TargetPort.String() != "metrics" ||
		!slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "metrics" && p.ContainerPort == 8080 }) {
		t.Errorf("metrics Service %+v does not reach the container ports %+v", svc.Spec, c.Ports)
	}

	crb := &rbacv1.ClusterRoleBinding{}
	r.get(t, "ClusterRoleBinding", "", "shoal-manager", crb)
	if crb.RoleRef.Name != "shoal-manager" || crb.Subjects[0].Name != sa.Name || crb.Subjects[0].Namespace != namespace {
		t.Errorf("ClusterRoleBinding %+v", crb)
	}
	le := &rbacv1.Role{}
	r.get(t, "Role", namespace, "shoal-leader-election", le)
	if !slices.Contains(le.Rules[0].Resources, "leases") || le.Rules[0].APIGroups[0] != "coordination.k8s.io" {
		t.Errorf("leader election Role %+v", le.Rules)
	}
}

// TestClusterRoleMatchesGeneratedRBAC keeps the chart's rules equal to the
// ones controller-gen generates from the +kubebuilder:rbac markers.
func TestClusterRoleMatchesGeneratedRBAC(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	generated := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(raw, generated); err != nil {
		t.Fatal(err)
	}
	chart := &rbacv1.ClusterRole{}
	render(t).get(t, "ClusterRole", "", "shoal-manager", chart)
	if !equality.Semantic.DeepEqual(chart.Rules, generated.Rules) {
		t.Errorf("charts/shoal/templates/rbac.yaml rules differ from config/rbac/role.yaml (make manifests):\nchart     %+v\ngenerated %+v",
			chart.Rules, generated.Rules)
	}
}

func TestWatchNamespaces(t *testing.T) {
	r := render(t, "watchNamespaces={team-a,team-b}")
	for _, ns := range []string{"team-a", "team-b"} {
		rb := &rbacv1.RoleBinding{}
		r.get(t, "RoleBinding", ns, "shoal-manager", rb)
		if rb.RoleRef.Kind != "ClusterRole" || rb.RoleRef.Name != "shoal-manager" || rb.Subjects[0].Namespace != namespace {
			t.Errorf("RoleBinding in %s: %+v", ns, rb)
		}
	}
	if _, ok := r["ClusterRoleBinding//shoal-manager"]; ok {
		t.Error("watching some namespaces must not bind the operator cluster-wide")
	}
	if args := r.deployment(t).Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--watch-namespaces=team-a,team-b") {
		t.Errorf("args %v", args)
	}
}

func TestValues(t *testing.T) {
	r := render(t, "image.tag=v1.2.3", "image.repository=registry.example/shoal/operator", "nodeImage.tag=v9",
		"logLevel=debug", "leaderElection.enabled=false", "metrics.serviceMonitor.enabled=true",
		"metrics.serviceMonitor.labels.release=prom", "resources.limits.memory=1Gi")
	c := r.deployment(t).Spec.Template.Spec.Containers[0]
	if c.Image != "registry.example/shoal/operator:v1.2.3" {
		t.Errorf("image %s", c.Image)
	}
	for _, arg := range []string{"--default-node-image=shoal/node:v9", "--zap-log-level=debug"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("args %v lack %s", c.Args, arg)
		}
	}
	if slices.Contains(c.Args, "--leader-elect") {
		t.Errorf("leader election disabled, args %v", c.Args)
	}
	if _, ok := r["Role/shoal-system/shoal-leader-election"]; ok {
		t.Error("no leader election Role without leader election")
	}
	if c.Resources.Limits.Memory().String() != "1Gi" {
		t.Errorf("resources %+v", c.Resources)
	}
	sm, ok := r["ServiceMonitor/shoal-system/shoal"]
	if !ok {
		t.Fatalf("no ServiceMonitor among %v", r.kinds())
	}
	if sm.GetLabels()["release"] != "prom" {
		t.Errorf("ServiceMonitor labels %v", sm.GetLabels())
	}
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(endpoints) != 1 || endpoints[0].(map[string]any)["port"] != "metrics" {
		t.Errorf("ServiceMonitor endpoints %v", endpoints)
	}

	off := render(t, "metrics.enabled=false")
	if _, ok := off["Service/shoal-system/shoal-metrics"]; ok {
		t.Error("metrics Service rendered with metrics disabled")
	}
	if args := off.deployment(t).Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--metrics-bind-address=0") {
		t.Errorf("metrics disabled, args %v", args)
	}
}

func TestTwoReplicasNeedLeaderElection(t *testing.T) {
	out, err := helm(t, "template", "shoal", ".", "--set", "replicaCount=2", "--set", "leaderElection.enabled=false")
	if err == nil || !strings.Contains(out, "replicaCount > 1 needs leaderElection.enabled") {
		t.Errorf("two replicas without leader election rendered: %v\n%s", err, out)
	}
}

// TestCRDsAreTheGeneratedOnes checks that crds/ holds exactly what
// controller-gen wrote into config/crd/bases, and that helm installs it.
func TestCRDsAreTheGeneratedOnes(t *testing.T) {
	bases, err := filepath.Glob(filepath.Join("..", "..", "config", "crd", "bases", "*.yaml"))
	if err != nil || len(bases) == 0 {
		t.Fatalf("no generated CRDs: %v", err)
	}
	for _, b := range bases {
		want, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("crds", filepath.Base(b)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("crds/%s differs from %s (make manifests copies it): %v", filepath.Base(b), b, err)
		}
	}
	out, err := helm(t, "template", "shoal", ".", "--include-crds")
	if err != nil || !strings.Contains(out, "name: redisclusters.redis.shoal.dev") {
		t.Errorf("helm template --include-crds: %v", err)
	}
}
