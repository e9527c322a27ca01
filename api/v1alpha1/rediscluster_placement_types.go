package v1alpha1

// PlacementMode says whether a placement rule binds the scheduler
// (Required: a pod that cannot meet it stays Pending) or only guides it
// (Preferred: it is met when the nodes allow).
// +kubebuilder:validation:Enum=Preferred;Required
type PlacementMode string

// The placement modes.
const (
	PlacementPreferred PlacementMode = "Preferred"
	PlacementRequired  PlacementMode = "Required"
)

// PlacementSpec keeps the cluster's failure domains apart: a master and its
// replicas never on one Kubernetes node (nor one zone when the cluster
// spans several), and the masters of the cluster spread over the domains
// as evenly as the pods allow, kept so after failovers by planned
// switchovers.
type PlacementSpec struct {
	// ShardSpread: how strictly the members of one shard (a master and
	// its replicas) are kept on different nodes and zones. Preferred
	// (default): the scheduler avoids sharing a domain when it can.
	// Required: a replica that would share a node with another member of
	// its shard is not scheduled (it stays Pending and the Placement
	// condition says why); zones are then spread with a maximum skew of
	// one, so a shard spans every zone before it repeats one.
	// +kubebuilder:default=Preferred
	// +optional
	ShardSpread PlacementMode `json:"shardSpread,omitempty"`

	// TopologyKeys are the node labels that name failure domains, the
	// most important first. Default: kubernetes.io/hostname,
	// topology.kubernetes.io/zone.
	// +kubebuilder:validation:MaxItems=4
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=316
	// +kubebuilder:validation:XValidation:rule="self.all(k, self.exists_one(j, j == k))",message="placement.topologyKeys must not repeat a key"
	// +optional
	TopologyKeys []string `json:"topologyKeys,omitempty"`

	// BalanceMasters: when failovers leave more masters of this cluster
	// in one failure domain than an even spread needs, the operator moves
	// a master role to a replica in a less crowded domain with a planned
	// switchover (CLUSTER FAILOVER: no data moves, no acknowledged write
	// lost), one at a time, never during a slot migration or a rolling
	// update. Default true.
	// +optional
	BalanceMasters *bool `json:"balanceMasters,omitempty"`
}

// Keys is the topology keys in force: spec.placement.topologyKeys, or
// kubernetes.io/hostname and topology.kubernetes.io/zone.
func (p *PlacementSpec) Keys() []string {
	if p == nil || len(p.TopologyKeys) == 0 {
		return []string{"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
	}
	return p.TopologyKeys
}

// Balances says whether master roles are rebalanced over failure domains.
func (p *PlacementSpec) Balances() bool {
	return p != nil && (p.BalanceMasters == nil || *p.BalanceMasters)
}

// Required says whether the shard spread binds the scheduler.
func (p *PlacementSpec) Required() bool {
	return p != nil && p.ShardSpread == PlacementRequired
}

// MemberPlacement is where one member of a shard runs.
type MemberPlacement struct {
	// Node is the Kubernetes node the pod runs on.
	// +optional
	Node string `json:"node,omitempty"`
	// Zone is the node's topology.kubernetes.io/zone label (or the second
	// topology key's), when it has one.
	// +optional
	Zone string `json:"zone,omitempty"`
}
