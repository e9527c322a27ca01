package v1alpha1

// TLSSpec turns TLS on for client, replication and cluster-bus traffic
// (tls-port, tls-replication yes, tls-cluster yes on every node). The
// certificates come from one source: a Secret the user provides
// (secretName), a cert-manager Issuer (issuerRef), or, when neither is
// named, the operator's own CA (a Secret it generates and rotates before
// expiry). Nodes reload rotated certificates without a restart.
// +kubebuilder:validation:XValidation:rule="!(has(self.secretName) && has(self.issuerRef))",message="secretName and issuerRef are exclusive"
type TLSSpec struct {
	// SecretName names a Secret of the cluster's namespace holding
	// tls.crt, tls.key (the nodes' certificate, valid for server and
	// client use) and ca.crt (the CA clients and nodes are verified
	// against).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// IssuerRef names a cert-manager Issuer or ClusterIssuer: the operator
	// creates a Certificate whose Secret the nodes mount.
	// +optional
	IssuerRef *TLSIssuerRef `json:"issuerRef,omitempty"`

	// AuthClients is tls-auth-clients: whether clients must present a
	// certificate signed by the CA.
	// +kubebuilder:validation:Enum=yes;no;optional
	// +kubebuilder:default=yes
	// +optional
	AuthClients string `json:"authClients,omitempty"`
}

// TLSIssuerRef names a cert-manager issuer.
type TLSIssuerRef struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// +kubebuilder:validation:Enum=Issuer;ClusterIssuer
	// +kubebuilder:default=Issuer
	// +optional
	Kind string `json:"kind,omitempty"`
	// +kubebuilder:default=cert-manager.io
	// +optional
	Group string `json:"group,omitempty"`
}

// TLSSecretName is the Secret the nodes mount: the user's, or the one the
// operator (its own CA) or cert-manager writes.
func (rc *RedisCluster) TLSSecretName() string { return tlsSecretName(rc.Spec.TLS, rc.Name) }

// TLSCASecretName is the Secret of the operator's own CA for this cluster.
func (rc *RedisCluster) TLSCASecretName() string { return rc.Name + "-tls-ca" }

// TLSSecretName is the Secret the data nodes and sentinels mount, as a
// RedisCluster's.
func (rr *RedisReplication) TLSSecretName() string { return tlsSecretName(rr.Spec.TLS, rr.Name) }

// TLSCASecretName is the Secret of the operator's own CA for rr.
func (rr *RedisReplication) TLSCASecretName() string { return rr.Name + "-tls-ca" }

// tlsSecretName is "" without spec.tls, the user's Secret, or
// <owner>-tls.
func tlsSecretName(spec *TLSSpec, owner string) string {
	if spec == nil {
		return ""
	}
	if spec.SecretName != "" {
		return spec.SecretName
	}
	return owner + "-tls"
}
