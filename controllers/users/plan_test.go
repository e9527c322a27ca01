package users

import (
	"slices"
	"testing"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

func TestSetUserResetsThenStatePasswordsRules(t *testing.T) {
	off := false
	tests := []struct {
		name      string
		u         v1alpha1.UserSpec
		passwords []string
		want      []string
	}{
		{"enabled, one password", v1alpha1.UserSpec{Name: "app", Rules: []string{"~app:*", "+@read"}}, []string{"pw"},
			[]string{"reset", "on", PasswordHash("pw"), "~app:*", "+@read"}},
		{"rotation: two passwords, in order", v1alpha1.UserSpec{Name: "app"}, []string{"new", "old"},
			[]string{"reset", "on", PasswordHash("new"), PasswordHash("old")}},
		{"the same password twice is one hash", v1alpha1.UserSpec{Name: "app"}, []string{"pw", "pw"},
			[]string{"reset", "on", PasswordHash("pw")}},
		{"disabled", v1alpha1.UserSpec{Name: "app", Enabled: &off, Rules: []string{"+ping"}}, []string{"pw"},
			[]string{"reset", "off", PasswordHash("pw"), "+ping"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SetUser(tt.u, tt.passwords)
			if got.Name != tt.u.Name || !slices.Equal(got.Rules, tt.want) {
				t.Errorf("SetUser = %s %q, want %q", got.Name, got.Rules, tt.want)
			}
		})
	}
}

func TestPasswordHashIsRedisSHA256Rule(t *testing.T) {
	// echo -n foobar | sha256sum
	const want = "#c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2"
	if got := PasswordHash("foobar"); got != want {
		t.Errorf("PasswordHash(foobar) = %s, want %s", got, want)
	}
}

func TestPlanUsersDeletesOnlyManagedUsersTheSpecDropped(t *testing.T) {
	set := []clusteradmin.ACLUser{{Name: "b"}, {Name: "a"}}
	tests := []struct {
		name        string
		held        []string
		managed     []string
		wantDelete  []string
		wantKeep    []string
		wantPartial []string // Managed(false)
	}{
		{"first pass", nil, nil, nil, []string{"a", "b"}, []string{"a", "b"}},
		{"a user removed from the spec", nil, []string{"a", "b", "c"}, []string{"c"}, []string{"a", "b"}, []string{"a", "b", "c"}},
		{"a user whose Secret is missing is neither applied nor deleted", []string{"c"}, []string{"a", "b", "c"}, nil,
			[]string{"a", "b", "c"}, []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PlanUsers(set, tt.held, tt.managed)
			if !slices.Equal(p.Delete, tt.wantDelete) || !slices.Equal(p.Keep, tt.wantKeep) {
				t.Errorf("delete %q keep %q, want %q %q", p.Delete, p.Keep, tt.wantDelete, tt.wantKeep)
			}
			if got := p.Managed(true); !slices.Equal(got, tt.wantKeep) {
				t.Errorf("Managed(all deleted) = %q, want %q", got, tt.wantKeep)
			}
			if got := p.Managed(false); !slices.Equal(got, tt.wantPartial) {
				t.Errorf("Managed(some node failed) = %q, want %q", got, tt.wantPartial)
			}
		})
	}
	if got := PlanUsers(nil, nil, []string{"x"}).Managed(true); got != nil {
		t.Errorf("all users removed: Managed = %q, want nil", got)
	}
}
