package builders

import (
	"fmt"
	"maps"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// External access (spec.externalAccess): a Service per pod, and the
// announce parameters that make the node send clients to it.

const (
	// LabelExternal marks the per-pod Services of external access, so the
	// operator finds and removes the ones no longer wanted.
	LabelExternal = "redis.shoal.dev/external"
	// PodNameLabel is the label the StatefulSet controller puts on every
	// pod with its name: the per-pod Service's selector.
	PodNameLabel = "statefulset.kubernetes.io/pod-name"

	externalNameTail = "-ext"
)

// The node parameters external access sets on every node, live.
const (
	ConfAnnounceHostname      = "cluster-announce-hostname"
	ConfPreferredEndpointType = "cluster-preferred-endpoint-type"
	ConfAnnounceClientPort    = "cluster-announce-client-port"
	ConfAnnounceClientTLSPort = "cluster-announce-client-tls-port"
)

// ExternalServiceName is the name of pod's external Service.
func ExternalServiceName(pod string) string { return pod + externalNameTail }

// ExternalService is the Service that exposes one pod outside the
// Kubernetes cluster: the client port only (TLS on that port with
// spec.tls). The cluster bus is not exposed: nodes gossip over pod
// addresses. Not-ready pods are published so that a node can be reached
// while it syncs, as through the headless Service.
func ExternalService(rc *v1alpha1.RedisCluster, pod string) *corev1.Service {
	ea := rc.Spec.ExternalAccess
	labels := ClusterLabels(rc)
	labels[LabelExternal] = "true"
	meta := objectMeta(rc, ExternalServiceName(pod), labels)
	meta.Annotations = copyMap(ea.Annotations)
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: meta,
		Spec: corev1.ServiceSpec{
			Type:                     corev1.ServiceType(ea.Type),
			PublishNotReadyAddresses: true,
			Selector:                 map[string]string{PodNameLabel: pod, LabelCluster: rc.Name},
			Ports:                    []corev1.ServicePort{servicePort(RedisPortName, RedisPort)},
		},
	}
}

// ExternalServiceCurrent reports whether live already is what
// ExternalService built (want): its type, selector, client port, labels,
// annotations and controller. Then applying want again would change
// nothing, and a reconcile skips the API call (one per pod, every
// reconcile: during a slot move, one reconcile per batch). What the API
// server fills in (cluster IP, node port) is not compared; anything else
// differing, an annotation a cloud controller added included, means apply.
func ExternalServiceCurrent(want, live *corev1.Service) bool {
	if live == nil || live.Spec.Type != want.Spec.Type ||
		live.Spec.PublishNotReadyAddresses != want.Spec.PublishNotReadyAddresses ||
		!maps.Equal(live.Spec.Selector, want.Spec.Selector) ||
		!maps.Equal(live.Labels, want.Labels) || !maps.Equal(live.Annotations, want.Annotations) ||
		len(live.Spec.Ports) != len(want.Spec.Ports) || len(live.OwnerReferences) != len(want.OwnerReferences) {
		return false
	}
	for i, w := range want.Spec.Ports {
		l := live.Spec.Ports[i]
		if l.Name != w.Name || l.Port != w.Port || l.TargetPort != w.TargetPort || l.Protocol != w.Protocol {
			return false
		}
	}
	for i, w := range want.OwnerReferences {
		l := live.OwnerReferences[i]
		if l.UID != w.UID || l.Kind != w.Kind || l.APIVersion != w.APIVersion || l.Name != w.Name ||
			l.Controller == nil || *l.Controller != *w.Controller {
			return false
		}
	}
	return true
}

// ExternalSelector selects the external Services of a cluster.
func ExternalSelector(rc *v1alpha1.RedisCluster) map[string]string {
	return map[string]string{LabelCluster: rc.Name, LabelExternal: "true"}
}

// Endpoint is where clients outside the Kubernetes cluster reach a node:
// Host and Port, or Waiting saying why it is not known yet.
type Endpoint struct {
	Host    string
	Port    int32
	Waiting string
}

// ExternalEndpoint computes a pod's external endpoint from its Service (as
// the API server filled it in: node port, load balancer ingress) and the
// Kubernetes node the pod runs on (nil when unknown).
func ExternalEndpoint(ea *v1alpha1.ExternalAccessSpec, svc *corev1.Service, node *corev1.Node) Endpoint {
	if svc == nil {
		return Endpoint{Waiting: "Service not created yet"}
	}
	port := servicePortOf(svc)
	if port == nil {
		return Endpoint{Waiting: "Service has no client port"}
	}
	var e Endpoint
	switch ea.Type {
	case v1alpha1.ExternalNodePort:
		if port.NodePort == 0 {
			return Endpoint{Waiting: "no node port allocated yet"}
		}
		e.Port = port.NodePort
		e.Host, e.Waiting = nodeAddress(ea, node)
	case v1alpha1.ExternalLoadBalancer:
		e.Port = port.Port
		e.Host, e.Waiting = ingressAddress(ea, svc.Status.LoadBalancer.Ingress)
	default:
		return Endpoint{Waiting: fmt.Sprintf("unknown type %q", ea.Type)}
	}
	if e.Waiting == "" && !announcable(e.Host) {
		e.Host, e.Waiting = "", fmt.Sprintf("address %q cannot be announced (cluster-announce-hostname takes letters, digits, '-' and '.'; IPv6 is not supported)", e.Host)
	}
	if e.Waiting != "" {
		e.Port = 0
	}
	return e
}

func servicePortOf(svc *corev1.Service) *corev1.ServicePort {
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Name == RedisPortName {
			return &svc.Spec.Ports[i]
		}
	}
	return nil
}

// nodeAddress is the address of the pod's Kubernetes node that
// addressSource names (unset: ExternalIP, else InternalIP), or Host.
func nodeAddress(ea *v1alpha1.ExternalAccessSpec, node *corev1.Node) (string, string) {
	if ea.AddressSource == v1alpha1.AddressHost {
		return ea.Host, ""
	}
	if node == nil {
		return "", "the pod's Kubernetes node is not known yet"
	}
	find := func(t corev1.NodeAddressType) string {
		for _, a := range node.Status.Addresses {
			if a.Type == t && a.Address != "" {
				return a.Address
			}
		}
		return ""
	}
	switch ea.AddressSource {
	case v1alpha1.AddressExternalIP, v1alpha1.AddressInternalIP:
		if a := find(corev1.NodeAddressType(ea.AddressSource)); a != "" {
			return a, ""
		}
		return "", fmt.Sprintf("node %s has no %s address", node.Name, ea.AddressSource)
	}
	for _, t := range []corev1.NodeAddressType{corev1.NodeExternalIP, corev1.NodeInternalIP} {
		if a := find(t); a != "" {
			return a, ""
		}
	}
	return "", fmt.Sprintf("node %s has neither an ExternalIP nor an InternalIP address", node.Name)
}

// ingressAddress is the load balancer's address that addressSource names
// (unset: the IP, else the hostname).
func ingressAddress(ea *v1alpha1.ExternalAccessSpec, ingress []corev1.LoadBalancerIngress) (string, string) {
	for _, in := range ingress {
		switch ea.AddressSource {
		case v1alpha1.AddressIngressIP:
			if in.IP != "" {
				return in.IP, ""
			}
		case v1alpha1.AddressIngressHostname:
			if in.Hostname != "" {
				return in.Hostname, ""
			}
		default:
			if in.IP != "" {
				return in.IP, ""
			}
			if in.Hostname != "" {
				return in.Hostname, ""
			}
		}
	}
	what := "an address"
	if ea.AddressSource != "" {
		what = "an " + string(ea.AddressSource)
	}
	return "", "waiting for the load balancer to have " + what
}

// announcable says whether host can be cluster-announce-hostname (Redis's
// isValidAnnouncedHostname: letters, digits, '-' and '.', under 256
// bytes). An IPv4 address can; an IPv6 one cannot.
func announcable(host string) bool {
	if host == "" || len(host) >= 256 {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return net.ParseIP(host) == nil || net.ParseIP(host).To4() != nil
}

// AnnounceConfig is the announce parameters a node is given. With
// hostnames (external access on, and every node's endpoint known once),
// clients are sent to hostnames (cluster-preferred-endpoint-type
// hostname): this node's endpoint host as its cluster-announce-hostname
// and its port as the client port (the TLS one with spec.tls); a node
// whose endpoint is not known yet announces none, and peers show "?" for
// it as Redis does. Without hostnames, Redis's defaults: the node
// announces its pod address. cluster-announce-ip, -port and -bus-port stay
// unset: the bus, replication and the operator use the pod's address and
// ports.
func AnnounceConfig(rc *v1alpha1.RedisCluster, e Endpoint, hostnames bool) map[string]string {
	out := map[string]string{
		ConfAnnounceHostname:      "",
		ConfPreferredEndpointType: "ip",
		ConfAnnounceClientPort:    "0",
		ConfAnnounceClientTLSPort: "0",
	}
	if !hostnames {
		return out
	}
	out[ConfPreferredEndpointType] = "hostname"
	if e.Host == "" || e.Port == 0 {
		return out
	}
	out[ConfAnnounceHostname] = e.Host
	key := ConfAnnounceClientPort
	if rc.Spec.TLS != nil {
		key = ConfAnnounceClientTLSPort
	}
	out[key] = strconv.Itoa(int(e.Port))
	return out
}
