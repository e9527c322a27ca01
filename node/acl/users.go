package acl

import (
	"crypto/subtle"
	"fmt"
	"sort"

	"github.com/shoal-dev/shoal/node/command"
)

// Users is the user table of a node, over its command table (selectors
// allow commands by the table's IDs).
type Users struct {
	cmds   *command.Table
	byName map[string]*User
}

// New is a user table holding the default user, as Redis starts:
// on nopass ~* &* +@all.
func New(cmds *command.Table) *Users {
	us := &Users{cmds: cmds, byName: map[string]*User{}}
	u := us.NewUser("default")
	us.Apply(u, []string{"on", "nopass", "~*", "&*", "+@all"})
	us.byName["default"] = u
	return us
}

// NewUser is a new user with no permissions (off, no password, no
// command, key or channel), not yet in the table: Add it.
func (us *Users) NewUser(name string) *User {
	return &User{name: name, root: us.newSelector()}
}

func (us *Users) newSelector() Selector {
	return Selector{allowed: make([]bool, us.cmds.NumIDs())}
}

// Get is the user of that name, nil if none.
func (us *Users) Get(name string) *User { return us.byName[name] }

// Default is the default user.
func (us *Users) Default() *User { return us.byName["default"] }

// Add puts a user in the table.
func (us *Users) Add(u *User) { us.byName[u.name] = u }

// Delete removes a user and returns it (nil if there was none).
func (us *Users) Delete(name string) *User {
	u := us.byName[name]
	delete(us.byName, name)
	return u
}

// Sorted is every user, by name.
func (us *Users) Sorted() []*User {
	out := make([]*User, 0, len(us.byName))
	for _, u := range us.byName {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// LoadConfigured applies a config file's `user name rule...` line to a
// new user, or to the default user after a reset (Redis's
// ACLLoadConfiguredUsers).
func (us *Users) LoadConfigured(name string, args []string) error {
	rules, open := MergeSelectorArgs(args)
	if open >= 0 {
		return fmt.Errorf("Error in user declaration '%s': Unmatched parenthesis in acl selector starting at '%s'.", name, args[open])
	}
	u := us.byName[name]
	if u == nil {
		u = us.NewUser(name)
	} else {
		us.applyRule(u, "reset")
	}
	if bad, msg := us.Apply(u, rules); bad != "" {
		return fmt.Errorf("Error loading ACL rule '%s' for the user named '%s': %s\nCritical error while loading ACLs. Exiting.", bad, name, msg)
	}
	us.byName[name] = u
	return nil
}

// Lines are the `user` lines CONFIG REWRITE writes: ACL LIST's.
func (us *Users) Lines() []string {
	var out []string
	for _, u := range us.Sorted() {
		out = append(out, us.Describe(u))
	}
	return out
}

// SetRequirePass makes the default user follow requirepass: its only
// password, or nopass when pass is empty.
func (us *Users) SetRequirePass(pass string) {
	u := us.Default()
	if pass == "" {
		us.Apply(u, []string{"nopass"})
		return
	}
	us.Apply(u, []string{"resetpass", ">" + pass})
}

// Authenticate checks a user/password pair (AUTH, HELLO AUTH): the user,
// or nil when it does not exist, is off, or the password is wrong.
func (us *Users) Authenticate(name string, pass []byte) *User {
	u := us.byName[name]
	if u == nil || !u.enabled {
		return nil
	}
	if u.nopass {
		return u
	}
	h := hashPassword(pass)
	for _, p := range u.passwords {
		if subtle.ConstantTimeCompare([]byte(p), []byte(h)) == 1 {
			return u
		}
	}
	return nil
}

// DefaultAuthenticates reports whether new connections are logged in as
// the default user without AUTH (it is on and has nopass).
func (us *Users) DefaultAuthenticates() bool {
	u := us.Default()
	return u.enabled && u.nopass
}

// CategoryCommands are the names of the commands and subcommands of a
// category, as ACL CAT <category> lists them.
func CategoryCommands(t *command.Table, cat command.Category) []string {
	var names []string
	for _, s := range t.Commands() {
		if s.IsContainer() {
			for _, sub := range s.SubSpecs() {
				if sub.Categories&cat != 0 {
					names = append(names, sub.FullName())
				}
			}
			continue
		}
		if s.Categories&cat != 0 {
			names = append(names, s.Name)
		}
	}
	return names
}
