package v1alpha1

import (
	"regexp"
	"slices"
	"testing"
)

// TestConfigKeysMatchCRD keeps the Go lists of config keys and the lists in
// the CEL rules of spec.config (what admission enforces) identical.
func TestConfigKeysMatchCRD(t *testing.T) {
	rules := loadCRDSpecSchema(t).Properties["config"].XValidations
	list := regexp.MustCompile(`^(!?)self\.(exists|all)\(k, k in \[([^\]]*)\]\)$`)
	quoted := regexp.MustCompile(`'([^']*)'`)
	var managed, allowed []string
	for _, r := range rules {
		m := list.FindStringSubmatch(r.Rule)
		if m == nil {
			continue
		}
		var keys []string
		for _, q := range quoted.FindAllStringSubmatch(m[3], -1) {
			keys = append(keys, q[1])
		}
		if m[2] == "exists" {
			managed = keys
		} else {
			allowed = keys
		}
	}
	if !slices.Equal(managed, ManagedConfigKeys()) {
		t.Errorf("CEL managed keys %v\n!= ManagedConfigKeys %v", managed, ManagedConfigKeys())
	}
	if want := append(ManagedConfigKeys(), SupportedConfigKeys()...); !slices.Equal(allowed, want) {
		t.Errorf("CEL allowed keys %v\n!= managed + supported %v", allowed, want)
	}
}
