package clusteradmin

import (
	"context"
	"fmt"
)

// ACLAdmin keeps ACL users on a node: ACL SETUSER and ACL DELUSER, sent in
// one pipeline (one round trip per node, whatever the number of users).
type ACLAdmin interface {
	// ApplyUsers sends ACL SETUSER <name> <rules...> for every entry of
	// set, in order, then ACL DELUSER of the names in del (an absent user
	// is no error). The first failing command's error is returned.
	ApplyUsers(ctx context.Context, set []ACLUser, del []string) error
}

// ACLUser is one ACL SETUSER: a user name and its rules, as Redis's ACL
// grammar writes them ("reset", "on", "#<sha256>", "~app:*", "+@read").
type ACLUser struct {
	Name  string
	Rules []string
}

var _ ACLAdmin = (*NodeClient)(nil)

// ApplyUsers implements ACLAdmin.
func (c *NodeClient) ApplyUsers(ctx context.Context, set []ACLUser, del []string) error {
	if len(set) == 0 && len(del) == 0 {
		return nil
	}
	pipe := c.rdb.Pipeline()
	for _, u := range set {
		args := make([]any, 0, 3+len(u.Rules))
		args = append(args, "ACL", "SETUSER", u.Name)
		for _, r := range u.Rules {
			args = append(args, r)
		}
		pipe.Do(ctx, args...)
	}
	if len(del) > 0 {
		args := make([]any, 0, 2+len(del))
		args = append(args, "ACL", "DELUSER")
		for _, n := range del {
			args = append(args, n)
		}
		pipe.Do(ctx, args...)
	}
	cmds, err := pipe.Exec(ctx)
	if err == nil {
		return nil
	}
	for i, cmd := range cmds {
		if cmd.Err() == nil {
			continue
		}
		// The rules may hold password hashes: name the user, not the rules.
		if i < len(set) {
			return fmt.Errorf("ACL SETUSER %s on %s: %w", set[i].Name, c.rdb.Options().Addr, cmd.Err())
		}
		return fmt.Errorf("ACL DELUSER %v on %s: %w", del, c.rdb.Options().Addr, cmd.Err())
	}
	return fmt.Errorf("ACL SETUSER/DELUSER on %s: %w", c.rdb.Options().Addr, err)
}
