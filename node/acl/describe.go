package acl

import (
	"strings"

	"github.com/shoal-dev/shoal/node/command"
)

// Describe is the ACL LIST line of a user (the `user` line of a config
// file), made from its permissions, not from the rules as typed.
func (us *Users) Describe(u *User) string {
	parts := append([]string{"user", u.name}, u.Flags()...)
	for _, p := range u.passwords {
		parts = append(parts, "#"+p)
	}
	parts = append(parts, us.describeSelector(&u.root))
	for i := range u.selectors {
		parts = append(parts, "("+us.describeSelector(&u.selectors[i])+")")
	}
	return strings.Join(parts, " ")
}

// describeSelector is a selector in ACL LIST (Redis's ACLDescribeSelector).
func (us *Users) describeSelector(sel *Selector) string {
	parts := sel.KeysDescription()
	if !sel.allChans {
		parts = append(parts, "resetchannels")
	}
	parts = append(parts, sel.ChannelsDescription()...)
	parts = append(parts, us.CommandsDescription(sel))
	return strings.Join(parts, " ")
}

// KeysDescription are the selector's key patterns as ACL LIST and
// GETUSER show them.
func (sel *Selector) KeysDescription() []string {
	if sel.allKeys {
		return []string{"~*"}
	}
	var out []string
	for _, k := range sel.keys {
		switch {
		case k.read && k.write:
			out = append(out, "~"+k.pattern)
		case k.read:
			out = append(out, "%R~"+k.pattern)
		default:
			out = append(out, "%W~"+k.pattern)
		}
	}
	return out
}

// ChannelsDescription are the selector's channel patterns as ACL LIST
// and GETUSER show them.
func (sel *Selector) ChannelsDescription() []string {
	if sel.allChans {
		return []string{"&*"}
	}
	var out []string
	for _, c := range sel.channels {
		out = append(out, "&"+c)
	}
	return out
}

// CommandsDescription is the "commands" field of ACL LIST/GETUSER, made
// from the allowed commands as Redis 7.0's ACLDescribeSelectorCommandRules:
// +@all or -@all, then the categories that fit best, then single
// commands for the differences.
func (us *Users) CommandsDescription(sel *Selector) string {
	fake := us.newSelector()
	rules := []string{"-@all"}
	additive := !sel.allCommands
	if !additive {
		rules[0] = "+@all"
		us.applySelectorRule(&fake, "+@all")
	}
	temp := sel.clone()
	applied := make([]bool, len(command.CategoryNames()))
	for {
		best, mindiff, maxsame := -1, int(^uint(0)>>1), 0
		for j, name := range command.CategoryNames() {
			if applied[j] {
				continue
			}
			cat, _ := command.CategoryByName(name)
			on, off := us.countCategory(&temp, cat)
			diff, same := off, on
			if !additive {
				diff, same = on, off
			}
			if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
				best, mindiff, maxsame = j, diff, same
			}
		}
		if best == -1 {
			break
		}
		cat, _ := command.CategoryByName(command.CategoryNames()[best])
		us.setCategory(&fake, cat, additive)
		us.setCategory(&temp, cat, !additive)
		op := "-@"
		if additive {
			op = "+@"
		}
		rules = append(rules, op+command.CategoryNames()[best])
		applied[best] = true
	}
	fix := func(spec *command.Spec) {
		if user, got := sel.allowed[spec.ID()], fake.allowed[spec.ID()]; user != got {
			op := "-"
			if user {
				op = "+"
			}
			rules = append(rules, op+spec.FullName())
			fake.setCommand(spec, user)
		}
		if !sel.allowed[spec.ID()] {
			for _, a := range sel.firstArgs[spec.ID()] {
				rules = append(rules, "+"+spec.FullName()+"|"+a)
			}
		}
	}
	for _, spec := range us.cmds.Commands() {
		fix(spec)
		for _, sub := range spec.SubSpecs() {
			fix(sub)
		}
	}
	return strings.Join(rules, " ")
}

// countCategory counts the commands and subcommands of a category the
// selector allows (on) and denies (off).
func (us *Users) countCategory(sel *Selector, cat command.Category) (on, off int) {
	for id := 0; id < us.cmds.NumIDs(); id++ {
		if us.cmds.ByID(id).Categories&cat == 0 {
			continue
		}
		if sel.allowed[id] {
			on++
		} else {
			off++
		}
	}
	return on, off
}
