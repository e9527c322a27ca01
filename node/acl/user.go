package acl

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// keyPattern is a key pattern of a selector and the access it grants:
// ~pattern grants both, %R~ reading, %W~ writing.
type keyPattern struct {
	pattern     string
	read, write bool
}

// Selector is a set of permissions (Redis's aclSelector).
type Selector struct {
	allowed []bool // by command ID
	// allCommands is Redis's reserved "future commands" bit: set by
	// +@all, cleared by -@all. ACL LIST then starts from +@all.
	allCommands bool
	// firstArgs are the first arguments allowed of a command otherwise
	// denied (+select|0), by command ID.
	firstArgs map[int][]string
	keys      []keyPattern
	channels  []string
	allKeys   bool
	allChans  bool
}

// User is an ACL user.
type User struct {
	name      string
	enabled   bool
	nopass    bool
	sanitize  string   // "", "sanitize-payload" or "skip-sanitize-payload"
	passwords []string // sha256 hex, in insertion order
	root      Selector
	selectors []Selector
	// unrestricted: +@all ~* &* at the root (the permission check is skipped).
	unrestricted bool
}

// Name is the user's name.
func (u *User) Name() string { return u.name }

// Enabled reports whether the user is on.
func (u *User) Enabled() bool { return u.enabled }

// NoPass reports whether any password authenticates the user.
func (u *User) NoPass() bool { return u.nopass }

// Unrestricted reports whether the root selector allows every command,
// key and channel (+@all ~* &*): then Check always allows.
func (u *User) Unrestricted() bool { return u.unrestricted }

// Passwords are the SHA-256 hashes (hex) of the user's passwords, in the
// order they were added.
func (u *User) Passwords() []string { return u.passwords }

// Root is the user's root selector.
func (u *User) Root() *Selector { return &u.root }

// Selectors are the user's selectors beyond the root, in order.
func (u *User) Selectors() []Selector { return u.selectors }

// Flags are the user's flags as ACL GETUSER and ACL LIST show them.
func (u *User) Flags() []string {
	flags := []string{"off"}
	if u.enabled {
		flags[0] = "on"
	}
	if u.nopass {
		flags = append(flags, "nopass")
	}
	if u.sanitize != "" {
		flags = append(flags, u.sanitize)
	}
	return flags
}

// clone is a deep copy of the user.
func (u *User) clone() User {
	c := *u
	c.passwords = append([]string(nil), u.passwords...)
	c.root = u.root.clone()
	c.selectors = make([]Selector, len(u.selectors))
	for i, sel := range u.selectors {
		c.selectors[i] = sel.clone()
	}
	return c
}

// clone is a deep copy of the selector.
func (sel Selector) clone() Selector {
	sel.allowed = append([]bool(nil), sel.allowed...)
	sel.keys = append([]keyPattern(nil), sel.keys...)
	sel.channels = append([]string(nil), sel.channels...)
	fa := make(map[int][]string, len(sel.firstArgs))
	for id, args := range sel.firstArgs {
		fa[id] = append([]string(nil), args...)
	}
	sel.firstArgs = fa
	return sel
}

// hashPassword is the hash a password is kept as (#<hash> rules).
func hashPassword(p []byte) string {
	h := sha256.Sum256(p)
	return hex.EncodeToString(h[:])
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// setID allows or denies one command ID, dropping its allowed first
// arguments.
func (sel *Selector) setID(id int, allow bool) {
	sel.allowed[id] = allow
	delete(sel.firstArgs, id)
}

// allowFirstArg allows a first argument of an otherwise denied command.
func (sel *Selector) allowFirstArg(id int, arg string) {
	for _, a := range sel.firstArgs[id] {
		if strings.EqualFold(a, arg) {
			return
		}
	}
	if sel.firstArgs == nil {
		sel.firstArgs = map[int][]string{}
	}
	sel.firstArgs[id] = append(sel.firstArgs[id], arg)
}

// firstArgAllowed reports whether args[1] is an allowed first argument.
func (sel *Selector) firstArgAllowed(id int, args [][]byte) bool {
	if len(args) < 2 {
		return false
	}
	for _, a := range sel.firstArgs[id] {
		if strings.EqualFold(a, string(args[1])) {
			return true
		}
	}
	return false
}

// addKeyPattern adds a pattern; one already there gains the new
// permissions instead.
func (sel *Selector) addKeyPattern(kp keyPattern) {
	for i := range sel.keys {
		if sel.keys[i].pattern == kp.pattern {
			sel.keys[i].read = sel.keys[i].read || kp.read
			sel.keys[i].write = sel.keys[i].write || kp.write
			return
		}
	}
	sel.keys = append(sel.keys, kp)
}

// ChannelRules is every channel pattern of the user's selectors, nil
// when one of them allows all channels.
func (u *User) ChannelRules() []string {
	var out []string
	for _, sel := range append([]Selector{u.root}, u.selectors...) {
		if sel.allChans {
			return nil
		}
		out = append(out, sel.channels...)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// ChannelsLost reports whether the channel rules after a change (of
// ChannelRules) no longer include all of those before: then the user's
// subscribers must be checked again (Redis's
// ACLKillPubsubClientsIfNeeded).
func ChannelsLost(before, after []string) bool {
	if after == nil {
		return false
	}
	lost := before == nil
	for _, p := range before {
		lost = lost || !contains(after, p)
	}
	return lost
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func remove(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
