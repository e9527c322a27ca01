package v1alpha1

// ExternalAccessType is the type of the per-pod Services that let clients
// outside the Kubernetes cluster reach every node.
// +kubebuilder:validation:Enum=NodePort;LoadBalancer
type ExternalAccessType string

// The external access types.
const (
	ExternalNodePort     ExternalAccessType = "NodePort"
	ExternalLoadBalancer ExternalAccessType = "LoadBalancer"
)

// ExternalAddressSource says which address of a pod's Service (or of the
// Kubernetes node it runs on) the node announces to clients.
// +kubebuilder:validation:Enum=ExternalIP;InternalIP;Host;IngressIP;IngressHostname
type ExternalAddressSource string

// The address sources. ExternalIP, InternalIP and Host go with NodePort;
// IngressIP and IngressHostname with LoadBalancer.
const (
	// AddressExternalIP is the ExternalIP of the Kubernetes node the pod
	// runs on.
	AddressExternalIP ExternalAddressSource = "ExternalIP"
	// AddressInternalIP is the InternalIP of that node.
	AddressInternalIP ExternalAddressSource = "InternalIP"
	// AddressHost is spec.externalAccess.host, the same for every pod (a
	// name or address in front of all nodes, such as a proxy).
	AddressHost ExternalAddressSource = "Host"
	// AddressIngressIP is the load balancer's ingress IP.
	AddressIngressIP ExternalAddressSource = "IngressIP"
	// AddressIngressHostname is the load balancer's ingress hostname.
	AddressIngressHostname ExternalAddressSource = "IngressHostname"
)

// ExternalAccessSpec exposes every node outside the Kubernetes cluster:
// one Service per pod (selecting it by statefulset.kubernetes.io/pod-name)
// with the client port (and the TLS port with spec.tls), and every node
// announces that Service's address and ports to clients
// (cluster-announce-hostname, cluster-preferred-endpoint-type hostname,
// cluster-announce-client-port / -client-tls-port), so the addresses in
// CLUSTER SLOTS, CLUSTER SHARDS and MOVED/ASK replies work from outside.
// The cluster bus, replication, MIGRATE and the operator keep using the pod
// addresses. A change of the Service's address is set on the live node
// (CONFIG SET), without a restart.
// +kubebuilder:validation:XValidation:rule="!has(self.addressSource) || (self.type == 'NodePort' ? self.addressSource in ['ExternalIP', 'InternalIP', 'Host'] : self.addressSource in ['IngressIP', 'IngressHostname'])",message="externalAccess.addressSource: NodePort takes ExternalIP, InternalIP or Host; LoadBalancer takes IngressIP or IngressHostname"
// +kubebuilder:validation:XValidation:rule="(has(self.addressSource) && self.addressSource == 'Host') == has(self.host)",message="externalAccess.host is set exactly when addressSource is Host"
type ExternalAccessSpec struct {
	// Type of the per-pod Services: NodePort or LoadBalancer.
	Type ExternalAccessType `json:"type"`

	// Annotations of the per-pod Services (a cloud load balancer's
	// settings, for example).
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// AddressSource: which address the nodes announce. NodePort:
	// ExternalIP or InternalIP of the pod's Kubernetes node, or Host;
	// unset means the node's ExternalIP, or its InternalIP when it has
	// none. LoadBalancer: IngressIP or IngressHostname of the Service;
	// unset means the ingress IP, or its hostname when it has no IP.
	// +optional
	AddressSource ExternalAddressSource `json:"addressSource,omitempty"`

	// Host is the address every node announces with addressSource Host
	// (a DNS name or an IPv4 address: letters, digits, '-' and '.').
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-.a-zA-Z0-9]+$`
	// +optional
	Host string `json:"host,omitempty"`
}

// ExternalEndpoint is where clients outside the Kubernetes cluster reach
// one node, and whether the node announces it yet.
type ExternalEndpoint struct {
	// Pod of the node.
	Pod string `json:"pod"`
	// Service exposing the pod.
	Service string `json:"service"`
	// Host the node announces (cluster-announce-hostname); empty until the
	// Service has an address.
	// +optional
	Host string `json:"host,omitempty"`
	// Port the node announces for plain TCP clients.
	// +optional
	Port int32 `json:"port,omitempty"`
	// TLSPort the node announces for TLS clients (spec.tls).
	// +optional
	TLSPort int32 `json:"tlsPort,omitempty"`
	// Announced is true once the node announces this endpoint.
	// +optional
	Announced bool `json:"announced,omitempty"`
	// Message says what the endpoint waits for (a load balancer address,
	// a node without the address type asked for).
	// +optional
	Message string `json:"message,omitempty"`
}

// ConditionExternalAccess (with spec.externalAccess) is True when every
// node announces its external endpoint.
const ConditionExternalAccess ConditionType = "ExternalAccess"

// The reasons of ConditionExternalAccess.
const (
	ReasonEndpointsAnnounced ConditionReason = "EndpointsAnnounced"
	ReasonWaitingForAddress  ConditionReason = "WaitingForAddress"
)
