package builders

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

func TestPlacementScheduling(t *testing.T) {
	t.Run("unset keeps the default spread and the pod template", func(t *testing.T) {
		rc := cluster()
		spec := ShardStatefulSet(rc, 1, "hash").Spec.Template.Spec
		if spec.Affinity != nil || !reflect.DeepEqual(spec.TopologySpreadConstraints, DefaultTopologySpread(rc, 1)) {
			t.Errorf("affinity %v spread %v, want none and the default", spec.Affinity, spec.TopologySpreadConstraints)
		}
	})
	t.Run("required", func(t *testing.T) {
		rc := cluster()
		rc.Spec.Placement = &v1alpha1.PlacementSpec{ShardSpread: v1alpha1.PlacementRequired}
		rc.Spec.Scheduling.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}}
		spec := ShardStatefulSet(rc, 1, "hash").Spec.Template.Spec
		if spec.Affinity.NodeAffinity == nil {
			t.Error("the user's node affinity was dropped")
		}
		req := spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
		if len(req) != 1 || req[0].TopologyKey != corev1.LabelHostname ||
			!reflect.DeepEqual(req[0].LabelSelector.MatchLabels, ShardSelector(rc, 1)) {
			t.Errorf("required anti-affinity %+v, want the shard's members on distinct hosts", req)
		}
		want := []struct {
			key   string
			when  corev1.UnsatisfiableConstraintAction
			shard bool
		}{
			{corev1.LabelTopologyZone, corev1.DoNotSchedule, true},
			{corev1.LabelHostname, corev1.ScheduleAnyway, false},
			{corev1.LabelTopologyZone, corev1.ScheduleAnyway, false},
		}
		if len(spec.TopologySpreadConstraints) != len(want) {
			t.Fatalf("spread %+v", spec.TopologySpreadConstraints)
		}
		for i, w := range want {
			c := spec.TopologySpreadConstraints[i]
			sel := ClusterSelector(rc)
			if w.shard {
				sel = ShardSelector(rc, 1)
			}
			if c.TopologyKey != w.key || c.WhenUnsatisfiable != w.when || c.MaxSkew != 1 || !reflect.DeepEqual(c.LabelSelector.MatchLabels, sel) {
				t.Errorf("spread %d = %+v, want %+v", i, c, w)
			}
		}
		if rc.Spec.Scheduling.Affinity.PodAntiAffinity != nil {
			t.Error("the spec's affinity was changed in place")
		}
	})
	t.Run("preferred with own keys and the user's spread", func(t *testing.T) {
		rc := cluster()
		rc.Spec.Placement = &v1alpha1.PlacementSpec{TopologyKeys: []string{"rack"}, BalanceMasters: ptr.To(false)}
		rc.Spec.Scheduling.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 2, TopologyKey: "row"}}
		spec := ShardStatefulSet(rc, 0, "hash").Spec.Template.Spec
		pref := spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		if len(pref) != 1 || pref[0].Weight != 100 || pref[0].PodAffinityTerm.TopologyKey != "rack" ||
			spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
			t.Errorf("anti-affinity %+v, want a preferred one on rack", spec.Affinity.PodAntiAffinity)
		}
		if len(spec.TopologySpreadConstraints) != 1 || spec.TopologySpreadConstraints[0].TopologyKey != "row" {
			t.Errorf("spread %+v, want the user's", spec.TopologySpreadConstraints)
		}
		if rc.Spec.Placement.Balances() {
			t.Error("balanceMasters false still balances")
		}
	})
}

// TestPlacementSpreadIsValid: no two constraints share the (topologyKey,
// whenUnsatisfiable) pair the API server keys the list by.
func TestPlacementSpreadIsValid(t *testing.T) {
	for _, mode := range []v1alpha1.PlacementMode{v1alpha1.PlacementPreferred, v1alpha1.PlacementRequired} {
		for _, keys := range [][]string{nil, {"a"}, {"a", "b", "c"}} {
			rc := cluster()
			rc.Spec.Placement = &v1alpha1.PlacementSpec{ShardSpread: mode, TopologyKeys: keys}
			seen := map[string]bool{}
			for _, c := range ShardStatefulSet(rc, 0, "h").Spec.Template.Spec.TopologySpreadConstraints {
				k := c.TopologyKey + "/" + string(c.WhenUnsatisfiable)
				if seen[k] {
					t.Errorf("%s %v: two constraints for %s", mode, keys, k)
				}
				seen[k] = true
			}
		}
	}
}
