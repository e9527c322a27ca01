package acl

import (
	"strings"

	"github.com/shoal-dev/shoal/node/command"
)

// The reasons of ACL SETUSER errors, as Redis words them.
const (
	ErrSyntax       = "Syntax error"
	ErrUnknown      = "Unknown command or category name in ACL"
	ErrKeyAfterAll  = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	ErrChanAfterAll = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	ErrNoPassword   = "The password you are trying to remove from the user does not exist"
	ErrBadHash      = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	ErrSubFirstArg  = "Allowing first-arg of a subcommand is not supported"
)

// MergeSelectorArgs joins the arguments of a selector split over several
// arguments ("(+get" "~a)") into one, as Redis's
// ACLMergeSelectorArguments. bad is the argument that opens a selector
// never closed (-1 if none).
func MergeSelectorArgs(args []string) (merged []string, bad int) {
	open := -1
	var cur string
	for j, op := range args {
		if open == -1 && strings.HasPrefix(op, "(") && !strings.HasSuffix(op, ")") {
			open, cur = j, op
			continue
		}
		if open != -1 {
			cur += " " + op
			if strings.HasSuffix(op, ")") {
				open = -1
				merged = append(merged, cur)
			}
			continue
		}
		merged = append(merged, op)
	}
	return merged, open
}

// Apply applies ACL SETUSER rules (merged by MergeSelectorArgs) to a user
// in order. It returns the offending rule and Redis's reason on error
// (nothing is applied then).
func (us *Users) Apply(u *User, rules []string) (bad, reason string) {
	// Validate on a copy so a bad rule changes nothing.
	c := u.clone()
	for _, r := range rules {
		if msg := us.applyRule(&c, r); msg != "" {
			return r, msg
		}
	}
	c.unrestricted = c.root.allKeys && c.root.allChans && allTrue(c.root.allowed)
	*u = c
	return "", ""
}

func allTrue(b []bool) bool {
	for _, x := range b {
		if !x {
			return false
		}
	}
	return true
}

// applyRule applies one user rule (Redis's ACLSetUser); what is not about
// the user itself applies to its root selector.
func (us *Users) applyRule(u *User, r string) string {
	lr := strings.ToLower(r)
	switch {
	case lr == "on":
		u.enabled = true
	case lr == "off":
		u.enabled = false
	case lr == "skip-sanitize-payload" || lr == "sanitize-payload":
		u.sanitize = lr
	case lr == "nopass":
		u.nopass = true
		u.passwords = nil
	case lr == "resetpass":
		u.nopass = false
		u.passwords = nil
	case lr == "clearselectors":
		u.selectors = nil
	case lr == "reset":
		for _, x := range []string{"resetpass", "resetkeys", "resetchannels", "off", "sanitize-payload", "clearselectors", "-@all"} {
			us.applyRule(u, x)
		}
	case strings.HasPrefix(r, ">"):
		h := hashPassword([]byte(r[1:]))
		u.nopass = false
		if !contains(u.passwords, h) {
			u.passwords = append(u.passwords, h)
		}
	case strings.HasPrefix(r, "#"):
		if !isHex64(r[1:]) {
			return ErrBadHash
		}
		u.nopass = false
		if !contains(u.passwords, r[1:]) {
			u.passwords = append(u.passwords, r[1:])
		}
	case strings.HasPrefix(r, "<"):
		h := hashPassword([]byte(r[1:]))
		if !contains(u.passwords, h) {
			return ErrNoPassword
		}
		u.passwords = remove(u.passwords, h)
	case strings.HasPrefix(r, "!"):
		if !isHex64(r[1:]) {
			return ErrBadHash
		}
		if !contains(u.passwords, r[1:]) {
			return ErrNoPassword
		}
		u.passwords = remove(u.passwords, r[1:])
	case len(r) >= 2 && r[0] == '(' && r[len(r)-1] == ')':
		sel := us.newSelector()
		for _, op := range strings.Split(r[1:len(r)-1], " ") {
			if op == "" {
				continue
			}
			if msg := us.applySelectorRule(&sel, op); msg != "" {
				return msg
			}
		}
		u.selectors = append(u.selectors, sel)
	default:
		return us.applySelectorRule(&u.root, r)
	}
	return ""
}

// applySelectorRule applies one permission rule to a selector (Redis's
// ACLSetSelector).
func (us *Users) applySelectorRule(sel *Selector, r string) string {
	lr := strings.ToLower(r)
	switch {
	case lr == "allkeys" || r == "~*":
		sel.allKeys = true
		sel.keys = nil
	case lr == "resetkeys":
		sel.allKeys = false
		sel.keys = nil
	case lr == "allchannels" || r == "&*":
		sel.allChans = true
		sel.channels = nil
	case lr == "resetchannels":
		sel.allChans = false
		sel.channels = nil
	case lr == "allcommands" || lr == "+@all":
		for i := range sel.allowed {
			sel.allowed[i] = true
		}
		sel.allCommands, sel.firstArgs = true, nil
	case lr == "nocommands" || lr == "-@all":
		for i := range sel.allowed {
			sel.allowed[i] = false
		}
		sel.allCommands, sel.firstArgs = false, nil
	case strings.HasPrefix(r, "~") || strings.HasPrefix(r, "%"):
		if sel.allKeys {
			return ErrKeyAfterAll
		}
		kp, ok := parseKeyPattern(r)
		if !ok {
			return ErrSyntax
		}
		sel.addKeyPattern(kp)
	case strings.HasPrefix(r, "&"):
		if sel.allChans {
			return ErrChanAfterAll
		}
		if strings.ContainsRune(r, ' ') {
			return ErrSyntax
		}
		if !contains(sel.channels, r[1:]) {
			sel.channels = append(sel.channels, r[1:])
		}
	case strings.HasPrefix(r, "+@") || strings.HasPrefix(r, "-@"):
		cat, ok := command.CategoryByName(lr[2:])
		if !ok {
			return ErrUnknown
		}
		us.setCategory(sel, cat, r[0] == '+')
	case strings.HasPrefix(r, "+") && strings.Contains(r, "|"):
		return us.allowWithFirstArg(sel, r[1:])
	case strings.HasPrefix(r, "+") || strings.HasPrefix(r, "-"):
		spec := us.lookupName(lr[1:])
		if spec == nil {
			return ErrUnknown
		}
		sel.setCommand(spec, r[0] == '+')
	default:
		return ErrSyntax
	}
	return ""
}

// allowWithFirstArg applies +name|arg: a subcommand of a container, or
// else an allowed first argument (+select|0), as Redis 7.0.
func (us *Users) allowWithFirstArg(sel *Selector, rule string) string {
	i := strings.LastIndexByte(rule, '|')
	spec := us.lookupName(strings.ToLower(rule[:i]))
	switch {
	case spec == nil:
		return ErrUnknown
	case spec.Parent() != nil:
		return ErrSubFirstArg
	case i == len(rule)-1:
		return ErrSyntax
	case spec.IsContainer():
		sub := us.lookupName(strings.ToLower(rule))
		if sub == nil {
			return ErrUnknown
		}
		sel.setCommand(sub, true)
	default:
		sel.allowFirstArg(spec.ID(), rule[i+1:])
	}
	return ""
}

// lookupName resolves "get" or "config|get".
func (us *Users) lookupName(name string) *command.Spec {
	base, sub, ok := strings.Cut(name, "|")
	spec := us.cmds.Lookup([]byte(base))
	if !ok || spec == nil {
		return spec
	}
	return spec.Sub([]byte(sub))
}

// setCommand allows or denies a command ID and, for a container, all of its
// subcommands (Redis's ACLChangeSelectorPerm).
// Allowed first arguments of the command are dropped.
func (sel *Selector) setCommand(spec *command.Spec, allow bool) {
	sel.setID(spec.ID(), allow)
	for _, sub := range spec.SubSpecs() {
		sel.setID(sub.ID(), allow)
	}
}

// setCategory allows or denies every command and subcommand of a category.
func (us *Users) setCategory(sel *Selector, cat command.Category, allow bool) {
	for id := 0; id < us.cmds.NumIDs(); id++ {
		if us.cmds.ByID(id).Categories&cat != 0 {
			sel.setID(id, allow)
		}
	}
}

// parseKeyPattern parses ~pattern and %R~, %W~, %RW~ patterns.
func parseKeyPattern(r string) (keyPattern, bool) {
	var kp keyPattern
	off := 1
	if r[0] == '%' {
		for ; off < len(r); off++ {
			switch c := r[off]; {
			case (c == 'R' || c == 'r') && !kp.read:
				kp.read = true
			case (c == 'W' || c == 'w') && !kp.write:
				kp.write = true
			case c == '~':
			default:
				return kp, false
			}
			if r[off] == '~' {
				off++
				break
			}
		}
		if !kp.read && !kp.write {
			return kp, false
		}
	} else {
		kp.read, kp.write = true, true
	}
	kp.pattern = r[off:]
	if strings.ContainsRune(kp.pattern, ' ') {
		return kp, false
	}
	return kp, true
}
