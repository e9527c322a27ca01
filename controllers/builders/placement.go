package builders

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// scheduling is the affinity and topology spread of shard i's pods. Without
// spec.placement: the user's scheduling fields, and when those have no
// spread, DefaultTopologySpread. With it (PlacementScheduling) the shard's
// members keep off each other's failure domains and the cluster's pods
// spread over all of them.
func scheduling(rc *v1alpha1.RedisCluster, i int) (*corev1.Affinity, []corev1.TopologySpreadConstraint) {
	spread := rc.Spec.Scheduling.TopologySpreadConstraints
	if rc.Spec.Placement == nil {
		if len(spread) == 0 {
			spread = DefaultTopologySpread(rc, i)
		}
		return rc.Spec.Scheduling.Affinity, spread
	}
	return PlacementScheduling(rc, i)
}

// PlacementScheduling turns spec.placement into scheduling rules for shard
// i, added to the user's:
//   - the first topology key (a node by default) is a pod anti-affinity
//     among the shard's members: required with shardSpread Required (a
//     member that cannot get a node of its own stays Pending), preferred
//     with weight 100 otherwise;
//   - every other key (the zone by default) is a topology spread of the
//     shard with maximum skew 1: DoNotSchedule when Required (the shard
//     spans every zone before it repeats one; with one zone it still
//     schedules), ScheduleAnyway otherwise;
//   - every key is also a ScheduleAnyway spread of the whole cluster's
//     pods, so shards do not pile onto the same domains (with Preferred,
//     the first key only: a pod spec has one constraint per key and
//     action).
//
// The user's topologySpreadConstraints, when given, replace the last two.
func PlacementScheduling(rc *v1alpha1.RedisCluster, i int) (*corev1.Affinity, []corev1.TopologySpreadConstraint) {
	p := rc.Spec.Placement
	keys := p.Keys()
	shard := &metav1.LabelSelector{MatchLabels: ShardSelector(rc, i)}
	aff := rc.Spec.Scheduling.Affinity.DeepCopy()
	if aff == nil {
		aff = &corev1.Affinity{}
	}
	if aff.PodAntiAffinity == nil {
		aff.PodAntiAffinity = &corev1.PodAntiAffinity{}
	}
	term := corev1.PodAffinityTerm{LabelSelector: shard, TopologyKey: keys[0]}
	if p.Required() {
		anti := aff.PodAntiAffinity
		anti.RequiredDuringSchedulingIgnoredDuringExecution = append(anti.RequiredDuringSchedulingIgnoredDuringExecution, term)
	} else {
		anti := aff.PodAntiAffinity
		anti.PreferredDuringSchedulingIgnoredDuringExecution = append(anti.PreferredDuringSchedulingIgnoredDuringExecution,
			corev1.WeightedPodAffinityTerm{Weight: 100, PodAffinityTerm: term})
	}
	if spread := rc.Spec.Scheduling.TopologySpreadConstraints; len(spread) > 0 {
		return aff, spread
	}
	shardWhen := corev1.ScheduleAnyway
	if p.Required() {
		shardWhen = corev1.DoNotSchedule
	}
	var spread []corev1.TopologySpreadConstraint
	for _, key := range keys[1:] {
		spread = append(spread, corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: key, WhenUnsatisfiable: shardWhen, LabelSelector: shard})
	}
	// A pod spec holds one constraint per (key, action): with Preferred
	// the shard's ScheduleAnyway spread of a key stands for the cluster's.
	cluster := &metav1.LabelSelector{MatchLabels: ClusterSelector(rc)}
	for i, key := range keys {
		if i > 0 && shardWhen == corev1.ScheduleAnyway {
			continue
		}
		spread = append(spread, corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: key, WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: cluster})
	}
	return aff, spread
}
