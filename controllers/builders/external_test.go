package builders

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

func withExternal(ea v1alpha1.ExternalAccessSpec) func(*v1alpha1.RedisCluster) {
	return func(rc *v1alpha1.RedisCluster) { rc.Spec.ExternalAccess = &ea }
}

func TestExternalService(t *testing.T) {
	rc := cluster(withExternal(v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalLoadBalancer, Annotations: map[string]string{"lb": "internal"}}))
	svc := ExternalService(rc, "cache-shard-1-0")
	assertOwned(t, svc)
	if svc.Name != "cache-shard-1-0-ext" || svc.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.Annotations["lb"] != "internal" {
		t.Errorf("service %s type %s annotations %v", svc.Name, svc.Spec.Type, svc.Annotations)
	}
	if want := map[string]string{PodNameLabel: "cache-shard-1-0", LabelCluster: "cache"}; !reflect.DeepEqual(svc.Spec.Selector, want) {
		t.Errorf("selector %v, want %v", svc.Spec.Selector, want)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != RedisPort || svc.Spec.Ports[0].TargetPort.StrVal != RedisPortName {
		t.Errorf("ports %+v: want the client port only (the bus stays on pod addresses)", svc.Spec.Ports)
	}
	for k, v := range ExternalSelector(rc) {
		if svc.Labels[k] != v {
			t.Errorf("label %s=%q, want %q (ExternalSelector finds it)", k, svc.Labels[k], v)
		}
	}
	if !svc.Spec.PublishNotReadyAddresses {
		t.Error("not-ready pods must be reachable while they sync")
	}
}

// TestExternalServiceCurrent: a Service as the API server returns it
// (defaults and a node port filled in) is current; any field the operator
// sets that differs is not, so the reconcile applies it.
func TestExternalServiceCurrent(t *testing.T) {
	rc := cluster(withExternal(v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalNodePort, Annotations: map[string]string{"a": "1"}}))
	rc.UID = "uid-1"
	want := ExternalService(rc, "cache-shard-0-0")
	served := func(change func(*corev1.Service)) *corev1.Service {
		s := want.DeepCopy()
		s.ResourceVersion, s.Spec.ClusterIP, s.Spec.SessionAffinity = "7", "10.96.0.9", corev1.ServiceAffinityNone
		s.Spec.Ports[0].NodePort = 31001
		if change != nil {
			change(s)
		}
		return s
	}
	if !ExternalServiceCurrent(want, served(nil)) {
		t.Error("the Service as served is not current")
	}
	for name, change := range map[string]func(*corev1.Service){
		"type":                 func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer },
		"selector":             func(s *corev1.Service) { s.Spec.Selector[PodNameLabel] = "cache-shard-0-1" },
		"annotation removed":   func(s *corev1.Service) { s.Annotations = nil },
		"annotation added":     func(s *corev1.Service) { s.Annotations["b"] = "2" },
		"label":                func(s *corev1.Service) { s.Labels[LabelExternal] = "false" },
		"port":                 func(s *corev1.Service) { s.Spec.Ports[0].Port = 6380 },
		"second port":          func(s *corev1.Service) { s.Spec.Ports = append(s.Spec.Ports, s.Spec.Ports[0]) },
		"not ready hidden":     func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = false },
		"other owner":          func(s *corev1.Service) { s.OwnerReferences[0].UID = "uid-2" },
		"no owner":             func(s *corev1.Service) { s.OwnerReferences = nil },
		"owner not controller": func(s *corev1.Service) { s.OwnerReferences[0].Controller = nil },
	} {
		if ExternalServiceCurrent(want, served(change)) {
			t.Errorf("%s: a differing Service is taken as current", name)
		}
	}
	if ExternalServiceCurrent(want, nil) {
		t.Error("a missing Service is taken as current")
	}
}

func node(addrs ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "k1"}}
	for i := 0; i+1 < len(addrs); i += 2 {
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeAddressType(addrs[i]), Address: addrs[i+1]})
	}
	return n
}

func nodePortService(np int32) *corev1.Service {
	return &corev1.Service{Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: RedisPortName, Port: RedisPort, NodePort: np}}}}
}

func lbService(ingress ...corev1.LoadBalancerIngress) *corev1.Service {
	s := &corev1.Service{Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: RedisPortName, Port: RedisPort, NodePort: 30999}}}}
	s.Status.LoadBalancer.Ingress = ingress
	return s
}

func TestExternalEndpoint(t *testing.T) {
	np := func(src v1alpha1.ExternalAddressSource, host string) *v1alpha1.ExternalAccessSpec {
		return &v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalNodePort, AddressSource: src, Host: host}
	}
	lb := func(src v1alpha1.ExternalAddressSource) *v1alpha1.ExternalAccessSpec {
		return &v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalLoadBalancer, AddressSource: src}
	}
	both := node("InternalIP", "10.0.0.5", "ExternalIP", "203.0.113.5", "Hostname", "k1")
	internal := node("InternalIP", "10.0.0.5")
	tests := []struct {
		name    string
		ea      *v1alpha1.ExternalAccessSpec
		svc     *corev1.Service
		node    *corev1.Node
		host    string
		port    int32
		waiting string
	}{
		{"NodePort default prefers ExternalIP", np("", ""), nodePortService(31001), both, "203.0.113.5", 31001, ""},
		{"NodePort default falls back to InternalIP", np("", ""), nodePortService(31001), internal, "10.0.0.5", 31001, ""},
		{"NodePort InternalIP", np(v1alpha1.AddressInternalIP, ""), nodePortService(31001), both, "10.0.0.5", 31001, ""},
		{"NodePort ExternalIP missing", np(v1alpha1.AddressExternalIP, ""), nodePortService(31001), internal, "", 0, "no ExternalIP"},
		{"NodePort Host", np(v1alpha1.AddressHost, "redis.example.com"), nodePortService(31002), nil, "redis.example.com", 31002, ""},
		{"NodePort not allocated", np("", ""), nodePortService(0), both, "", 0, "no node port"},
		{"NodePort node unknown", np("", ""), nodePortService(31001), nil, "", 0, "not known"},
		{"NodePort IPv6 only", np("", ""), nodePortService(31001), node("InternalIP", "fd00::5"), "", 0, "cannot be announced"},
		{"no Service yet", np("", ""), nil, both, "", 0, "not created"},
		{"LoadBalancer pending", lb(""), lbService(), nil, "", 0, "waiting for the load balancer"},
		{"LoadBalancer IP", lb(""), lbService(corev1.LoadBalancerIngress{IP: "198.51.100.7"}), nil, "198.51.100.7", RedisPort, ""},
		{"LoadBalancer hostname only", lb(""), lbService(corev1.LoadBalancerIngress{Hostname: "a1.elb.example"}), nil, "a1.elb.example", RedisPort, ""},
		{"LoadBalancer IngressHostname", lb(v1alpha1.AddressIngressHostname), lbService(corev1.LoadBalancerIngress{IP: "198.51.100.7", Hostname: "a1.elb.example"}), nil, "a1.elb.example", RedisPort, ""},
		{"LoadBalancer IngressIP missing", lb(v1alpha1.AddressIngressIP), lbService(corev1.LoadBalancerIngress{Hostname: "a1.elb.example"}), nil, "", 0, "IngressIP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ExternalEndpoint(tt.ea, tt.svc, tt.node)
			if e.Host != tt.host || e.Port != tt.port || !strings.Contains(e.Waiting, tt.waiting) || (tt.waiting == "") != (e.Waiting == "") {
				t.Errorf("ExternalEndpoint = %+v; want host %q port %d waiting ~%q", e, tt.host, tt.port, tt.waiting)
			}
		})
	}
}

func TestAnnounceConfig(t *testing.T) {
	defaults := map[string]string{ConfAnnounceHostname: "", ConfPreferredEndpointType: "ip", ConfAnnounceClientPort: "0", ConfAnnounceClientTLSPort: "0"}
	plain := cluster(withExternal(v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalNodePort}))
	tlsOn := cluster(withExternal(v1alpha1.ExternalAccessSpec{Type: v1alpha1.ExternalNodePort}), func(rc *v1alpha1.RedisCluster) { rc.Spec.TLS = &v1alpha1.TLSSpec{} })
	e := Endpoint{Host: "203.0.113.5", Port: 31001}
	tests := []struct {
		name      string
		rc        *v1alpha1.RedisCluster
		e         Endpoint
		hostnames bool
		want      map[string]string
	}{
		{"off: pod addresses", cluster(), e, false, defaults},
		{"not every endpoint known yet", plain, e, false, defaults},
		{"plain", plain, e, true, map[string]string{ConfAnnounceHostname: "203.0.113.5", ConfPreferredEndpointType: "hostname", ConfAnnounceClientPort: "31001", ConfAnnounceClientTLSPort: "0"}},
		{"TLS", tlsOn, e, true, map[string]string{ConfAnnounceHostname: "203.0.113.5", ConfPreferredEndpointType: "hostname", ConfAnnounceClientPort: "0", ConfAnnounceClientTLSPort: "31001"}},
		{"this node waits, the others announce", plain, Endpoint{Waiting: "x"}, true, map[string]string{ConfAnnounceHostname: "", ConfPreferredEndpointType: "hostname", ConfAnnounceClientPort: "0", ConfAnnounceClientTLSPort: "0"}},
	}
	for _, tt := range tests {
		if got := AnnounceConfig(tt.rc, tt.e, tt.hostnames); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: AnnounceConfig = %v, want %v", tt.name, got, tt.want)
		}
	}
}
