package builders

import (
	"github.com/shoal-dev/shoal/api/v1alpha1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ShardPDB limits voluntary disruptions of shard i to
// spec.podDisruptionBudget.maxUnavailable pods at a time, so that a drain
// never takes a master and its replicas down together.
func ShardPDB(rc *v1alpha1.RedisCluster, i int) *policyv1.PodDisruptionBudget {
	maxUnavailable := intstr.FromInt32(*rc.Spec.PodDisruptionBudget.MaxUnavailable)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   typeMeta("policy/v1", "PodDisruptionBudget"),
		ObjectMeta: objectMeta(rc, ShardName(rc, i), shardLabels(rc, i)),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &maxUnavailable,
			Selector:       &metav1.LabelSelector{MatchLabels: ShardSelector(rc, i)},
		},
	}
}
