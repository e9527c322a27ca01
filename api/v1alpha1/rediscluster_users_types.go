package v1alpha1

// UserSpec is one ACL user the operator keeps on every node of the cluster,
// as Redis's ACL SETUSER defines it: the node's user is made equal to this
// entry (reset, then the state, the passwords and the rules, in one atomic
// ACL SETUSER), on every node, including nodes that join later.
type UserSpec struct {
	// Name of the user (AUTH <name> <password>). "default" is the user
	// of clients that send no name: spec.auth controls it. Names starting
	// with "shoal-" are the operator's own.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9_.@-]*$`
	// +kubebuilder:validation:XValidation:rule="self != 'default'",message="the default user is set by spec.auth, not spec.users"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('shoal-')",message="user names starting with shoal- are reserved for the operator"
	Name string `json:"name"`

	// Enabled is the user's state: a disabled user (ACL "off") cannot
	// authenticate; connections already authenticated as it keep working,
	// as in Redis.
	// +kubebuilder:default=true
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// Rules are ACL rules in Redis's grammar, one per entry, applied in
	// order: commands and categories (+get, -flushall, +@read, -@dangerous,
	// +client|setname, allcommands, nocommands), key patterns (~app:*,
	// %R~cache:*, %W~out:*, allkeys, resetkeys) and channel patterns
	// (&news.*, allchannels, resetchannels). A user starts with no rights:
	// no commands, no keys, no channels. The state and the passwords are
	// not rules: see enabled and passwords.
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:items:MaxLength=512
	// +kubebuilder:validation:items:Pattern=`^([+-]@?[A-Za-z0-9_|.:-]+|(~|%R~|%W~|%RW~|&)[!-~]+|allkeys|allchannels|allcommands|nocommands|resetkeys|resetchannels)$`
	// +listType=atomic
	// +optional
	Rules []string `json:"rules,omitempty"`

	// Passwords are keys of Secrets in the RedisCluster's namespace; every
	// one of them is a valid password of the user. A rotation: add the
	// new password (the user then has both), move the clients to it, then
	// remove the old one; no client sees an authentication error. A
	// change of a Secret's data is picked up at the next reconcile (at
	// most a minute later); a change of this list at once.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=4
	// +listType=atomic
	Passwords []SecretKeyRef `json:"passwords"`
}

// IsEnabled reports whether the user may authenticate (unset means yes).
func (u UserSpec) IsEnabled() bool { return u.Enabled == nil || *u.Enabled }

// DefaultUserMode says whether the default user (clients that AUTH with a
// password only, or not at all) is on.
// +kubebuilder:validation:Enum=Enabled;Disabled
type DefaultUserMode string

// The states of the default user.
const (
	// DefaultUserEnabled: the default user authenticates with the
	// password of spec.auth (requirepass), with every right.
	DefaultUserEnabled DefaultUserMode = "Enabled"
	// DefaultUserDisabled: the default user is off and has no password;
	// clients must AUTH as a user of spec.users.
	DefaultUserDisabled DefaultUserMode = "Disabled"
)

// IsDefaultUserDisabled reports whether spec.auth turns the default user
// off.
func (s *RedisClusterSpec) IsDefaultUserDisabled() bool { return s.Auth.isDefaultUserDisabled() }

// IsDefaultUserDisabled reports whether spec.auth turns the default user
// off: the operator, the replicas and the sentinels then authenticate as
// users of their own (shoal-operator, shoal-replication, shoal-sentinel).
func (s *RedisReplicationSpec) IsDefaultUserDisabled() bool { return s.Auth.isDefaultUserDisabled() }

func (a *AuthSpec) isDefaultUserDisabled() bool {
	return a != nil && a.DefaultUser == DefaultUserDisabled
}
