package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// installMonitoringCRDs installs the Prometheus Operator's PodMonitor and
// PrometheusRule kinds (schemaless stand-ins for its CRDs: the operator
// only creates and deletes them) and waits until they are served.
func installMonitoringCRDs(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, gvk := range []schema.GroupVersionKind{builders.PodMonitorGVK, builders.PrometheusRuleGVK} {
		plural := strings.ToLower(gvk.Kind) + "s"
		crd := &apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{Name: plural + "." + gvk.Group},
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{
				Group: gvk.Group,
				Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Kind: gvk.Kind, ListKind: gvk.Kind + "List"},
				Scope: apiextensionsv1.NamespaceScoped,
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: gvk.Version, Served: true, Storage: true,
					Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
						Type: "object", XPreserveUnknownFields: ptr.To(true)}}}},
			},
		}
		if _, err := envtest.InstallCRDs(testEnv.cfg, envtest.CRDInstallOptions{CRDs: []*apiextensionsv1.CustomResourceDefinition{crd}}); err != nil {
			t.Fatal(err)
		}
		eventually(t, func() error {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
			return testEnv.c.List(ctx, l)
		})
	}
}

// TestMonitoringObjects: spec.monitoring serves the metrics on a named
// port (node.conf's metrics-port) and makes the PodMonitor and the
// PrometheusRule, owned by the cluster; turning them off deletes them.
func TestMonitoringObjects(t *testing.T) {
	installMonitoringCRDs(t)
	ns := newNamespace(t)
	rc := newCluster(ns, "watched", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Monitoring = &v1alpha1.MonitoringSpec{Enabled: true, Labels: map[string]string{"release": "prom"}}
	})
	create(t, rc)
	get(t, ns, rc.Name, rc)
	if rc.Spec.Monitoring.Port != 9121 || rc.Spec.Monitoring.Interval != "30s" || !ptr.Deref(rc.Spec.Monitoring.PodMonitor, false) {
		t.Errorf("defaults not applied: %+v", rc.Spec.Monitoring)
	}

	assertServesMetrics(t, ns, "watched-config", "watched-shard-0")

	pm := getMonitoringObject(t, builders.PodMonitorGVK, ns, "watched-nodes")
	assertControlledBy(t, pm, rc)
	endpoints, _, _ := unstructured.NestedSlice(pm.Object, "spec", "podMetricsEndpoints")
	if len(endpoints) != 1 || endpoints[0].(map[string]any)["port"] != "metrics" || endpoints[0].(map[string]any)["interval"] != "30s" {
		t.Errorf("podMetricsEndpoints %v", endpoints)
	}
	sel, _, _ := unstructured.NestedStringMap(pm.Object, "spec", "selector", "matchLabels")
	if sel[builders.LabelCluster] != "watched" {
		t.Errorf("selector %v", sel)
	}

	pr := getMonitoringObject(t, builders.PrometheusRuleGVK, ns, "watched-alerts")
	assertControlledBy(t, pr, rc)
	alerts := alertExprs(t, pr)
	for _, a := range []string{"RedisClusterStateNotOK", "RedisMasterWithoutReplica", "RedisReplicaLinkDown", "RedisReplicaLagHigh",
		"RedisMemoryNearMax", "RedisPersistenceWriteErrors", "RedisClusterNodeDown", "ShoalMigrationNotProgressing", "ShoalRolloutNotProgressing"} {
		if !strings.Contains(alerts[a], fmt.Sprintf(`rediscluster="watched"`)) {
			t.Errorf("alert %s: %q", a, alerts[a])
		}
	}

	// Off: the objects go, the port stays off the pods.
	eventually(t, func() error {
		if err := testEnv.c.Get(context.Background(), client.ObjectKeyFromObject(rc), rc); err != nil {
			return err
		}
		rc.Spec.Monitoring.PodMonitor = ptr.To(false)
		rc.Spec.Monitoring.PrometheusRule = ptr.To(false)
		return testEnv.c.Update(context.Background(), rc)
	})
	waitGone(t, pm, pr)
}

// getMonitoringObject gets the object ns/name of kind gvk and checks that
// it carries spec.monitoring's labels (the tests' release: prom).
func getMonitoringObject(t *testing.T, gvk schema.GroupVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	get(t, ns, name, u)
	if u.GetLabels()["release"] != "prom" {
		t.Errorf("%s %s labels %v", gvk.Kind, name, u.GetLabels())
	}
	return u
}

// alertExprs are the alerts of PrometheusRule pr's one group, by name.
func alertExprs(t *testing.T, pr *unstructured.Unstructured) map[string]string {
	t.Helper()
	groups, _, _ := unstructured.NestedSlice(pr.Object, "spec", "groups")
	if len(groups) != 1 {
		t.Fatalf("groups %v", groups)
	}
	alerts := map[string]string{}
	for _, r := range groups[0].(map[string]any)["rules"].([]any) {
		m := r.(map[string]any)
		alerts[m["alert"].(string)] = m["expr"].(string)
	}
	return alerts
}

// waitGone waits until each of objs is deleted.
func waitGone(t *testing.T, objs ...*unstructured.Unstructured) {
	t.Helper()
	for _, u := range objs {
		eventually(t, func() error {
			err := testEnv.c.Get(context.Background(), client.ObjectKeyFromObject(u), u.DeepCopy())
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("%s %s still there (%v)", u.GetKind(), u.GetName(), err)
		})
	}
}

// TestReplicationMonitoringObjects: a RedisReplication's spec.monitoring
// serves the data nodes' metrics on the named port (node.conf's
// metrics-port) and makes their PodMonitor, owned by the
// RedisReplication and labelled by it and the node's role, serves the
// sentinels' too (sentinel.conf's metrics-port) with a PodMonitor of
// their own, and their
// PrometheusRule, whose alerts select its series; prometheusRule: false
// deletes the PrometheusRule only, and turned off, the PodMonitor goes.
func TestReplicationMonitoringObjects(t *testing.T) {
	installMonitoringCRDs(t)
	ns := newNamespace(t)
	rr := &v1alpha1.RedisReplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "rwatch"},
		Spec: v1alpha1.RedisReplicationSpec{Monitoring: &v1alpha1.MonitoringSpec{Enabled: true,
			Labels: map[string]string{"release": "prom"}}}}
	create(t, rr)

	assertServesMetrics(t, ns, "rwatch-config", "rwatch-node")
	assertServesMetricsFrom(t, ns, "rwatch-config", "sentinel.conf", "rwatch-sentinel")
	sm := getMonitoringObject(t, builders.PodMonitorGVK, ns, "rwatch-sentinels")
	assertControlledByReplication(t, sm, rr)
	if sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels"); sel[builders.LabelReplication] != "rwatch" || sel[builders.LabelComponent] != "sentinel" {
		t.Errorf("selector %v: not the sentinels of rwatch", sel)
	}

	pm := getMonitoringObject(t, builders.PodMonitorGVK, ns, "rwatch-nodes")
	assertControlledByReplication(t, pm, rr)
	sel, _, _ := unstructured.NestedStringMap(pm.Object, "spec", "selector", "matchLabels")
	if sel[builders.LabelReplication] != "rwatch" || sel[builders.LabelComponent] != "node" {
		t.Errorf("selector %v: not the data nodes of rwatch", sel)
	}
	endpoints, _, _ := unstructured.NestedSlice(pm.Object, "spec", "podMetricsEndpoints")
	if len(endpoints) != 1 || !strings.Contains(fmt.Sprint(endpoints[0]), "targetLabel:"+builders.MetricLabelReplication) ||
		!strings.Contains(fmt.Sprint(endpoints[0]), "targetLabel:"+builders.MetricLabelRole) {
		t.Errorf("podMetricsEndpoints %v", endpoints)
	}

	pr := getMonitoringObject(t, builders.PrometheusRuleGVK, ns, "rwatch-alerts")
	assertControlledByReplication(t, pr, rr)
	alerts := alertExprs(t, pr)
	for _, a := range []string{"RedisReplicationNodeDown", "RedisReplicationMasterCountNotOne", "RedisMasterWithoutReplica",
		"RedisReplicaLinkDown", "RedisReplicaLagHigh", "RedisMemoryNearMax", "RedisPersistenceWriteErrors",
		"RedisSentinelDown", "RedisSentinelMasterDown", "RedisSentinelQuorumAtRisk"} {
		if !strings.Contains(alerts[a], fmt.Sprintf(`namespace=%q,redisreplication="rwatch"`, ns)) {
			t.Errorf("alert %s: %q", a, alerts[a])
		}
	}

	// prometheusRule: false: the PrometheusRule goes, the PodMonitor stays.
	setReplicationMonitoring(t, rr, func(m *v1alpha1.MonitoringSpec) { m.PrometheusRule = ptr.To(false) })
	waitGone(t, pr)
	get(t, ns, "rwatch-nodes", pm)

	// Off: the PodMonitors go too.
	setReplicationMonitoring(t, rr, func(m *v1alpha1.MonitoringSpec) { m.Enabled = false })
	waitGone(t, pm)
	waitGone(t, sm)
}

// setReplicationMonitoring changes rr's spec.monitoring (again on a
// conflict with the reconciler).
func setReplicationMonitoring(t *testing.T, rr *v1alpha1.RedisReplication, change func(*v1alpha1.MonitoringSpec)) {
	t.Helper()
	eventually(t, func() error {
		if err := testEnv.c.Get(context.Background(), client.ObjectKeyFromObject(rr), rr); err != nil {
			return err
		}
		change(rr.Spec.Monitoring)
		return testEnv.c.Update(context.Background(), rr)
	})
}

// assertControlledByReplication checks that obj's controller is rr.
func assertControlledByReplication(t *testing.T, obj client.Object, rr *v1alpha1.RedisReplication) {
	t.Helper()
	if ref := metav1.GetControllerOf(obj); ref == nil || ref.UID != rr.UID || ref.Kind != "RedisReplication" {
		t.Errorf("%s %s: controller %+v, want RedisReplication %s", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), ref, rr.Name)
	}
}

// assertServesMetrics checks that the node.conf of ConfigMap configMap
// has metrics-port 9121 and that the first container of StatefulSet sts
// has a "metrics" port 9121.
func assertServesMetrics(t *testing.T, ns, configMap, sts string) {
	t.Helper()
	assertServesMetricsFrom(t, ns, configMap, "node.conf", sts)
}

// assertServesMetricsFrom: the ConfigMap's file key sets metrics-port
// 9121 and the StatefulSet's container has it as its metrics port.
func assertServesMetricsFrom(t *testing.T, ns, configMap, key, sts string) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	get(t, ns, configMap, cm)
	if !strings.Contains(cm.Data[key], "metrics-port 9121\n") {
		t.Errorf("%s lacks metrics-port:\n%s", key, cm.Data[key])
	}
	set := &appsv1.StatefulSet{}
	get(t, ns, sts, set)
	if ports := set.Spec.Template.Spec.Containers[0].Ports; !slices.ContainsFunc(ports, func(p corev1.ContainerPort) bool {
		return p.Name == "metrics" && p.ContainerPort == 9121
	}) {
		t.Errorf("%s container ports %+v", sts, ports)
	}
}
