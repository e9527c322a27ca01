package users

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// SetUser is the ACL SETUSER of one spec.users entry with its passwords:
// "reset" first, so that the node's user is exactly the spec whatever it
// was (ACL SETUSER applies all its rules at once: no client sees the user
// half changed), then on/off, a "#<sha256>" per password (the password
// itself never travels), then the rules as written.
func SetUser(u v1alpha1.UserSpec, passwords []string) clusteradmin.ACLUser {
	rules := make([]string, 0, 2+len(passwords)+len(u.Rules))
	rules = append(rules, "reset")
	if u.IsEnabled() {
		rules = append(rules, "on")
	} else {
		rules = append(rules, "off")
	}
	var hashes []string
	for _, p := range passwords {
		h := PasswordHash(p)
		if !slices.Contains(hashes, h) {
			hashes = append(hashes, h)
		}
	}
	rules = append(rules, hashes...)
	rules = append(rules, u.Rules...)
	return clusteradmin.ACLUser{Name: u.Name, Rules: rules}
}

// PasswordHash is the ACL rule adding a password by its SHA-256 hash
// ("#<64 hex digits>"), as Redis stores passwords.
func PasswordHash(password string) string {
	sum := sha256.Sum256([]byte(password))
	return "#" + hex.EncodeToString(sum[:])
}

// Plan is what every node is sent, and what status.managedUsers becomes.
type Plan struct {
	// Set are the users to (re)define on every node.
	Set []clusteradmin.ACLUser
	// Delete are users the operator made that the spec no longer lists.
	Delete []string
	// Keep are the names that stay managed whatever happens to this
	// pass: the spec's users, including those whose passwords could not
	// be read (not applied now, and not deleted either).
	Keep []string
}

// PlanUsers compares the users to apply (set), the spec's users left out
// for now (held: a Secret missing), and the users the operator made
// (managed, from status): what is managed and neither set nor held is
// deleted. Users the operator never made are never touched.
func PlanUsers(set []clusteradmin.ACLUser, held, managed []string) Plan {
	p := Plan{Set: set}
	for _, u := range set {
		p.Keep = append(p.Keep, u.Name)
	}
	p.Keep = append(p.Keep, held...)
	for _, n := range managed {
		if !slices.Contains(p.Keep, n) && !slices.Contains(p.Delete, n) {
			p.Delete = append(p.Delete, n)
		}
	}
	slices.Sort(p.Keep)
	p.Keep = slices.Compact(p.Keep)
	slices.Sort(p.Delete)
	return p
}

// Managed is status.managedUsers after a pass: the kept users, and the
// deleted ones unless every node has deleted them (allDeleted).
func (p Plan) Managed(allDeleted bool) []string {
	out := slices.Clone(p.Keep)
	if !allDeleted {
		out = append(out, p.Delete...)
		slices.Sort(out)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
