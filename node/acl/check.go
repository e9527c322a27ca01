package acl

import (
	"github.com/shoal-dev/shoal/node/command"
)

// Reason is why a command is denied, OK when it is not. The denials are
// ordered as Redis orders them when no selector allows a command: the
// highest wins.
type Reason int

// The reasons.
const (
	OK Reason = iota
	DeniedCmd
	DeniedKey
	DeniedAuth
	DeniedChannel
)

// String is the reason's name in ACL LOG: command, key, auth, channel.
func (r Reason) String() string {
	switch r {
	case DeniedCmd:
		return "command"
	case DeniedKey:
		return "key"
	case DeniedAuth:
		return "auth"
	case DeniedChannel:
		return "channel"
	}
	return ""
}

// Check reports whether the user may run a command (spec with its
// arguments, args[0] the command name): OK when the root or one of the
// selectors allows the command with all its keys (by their key specs'
// flags) and channels, else the most relevant denial and the argument
// it is about (Redis's ACLCheckAllUserCommandPerm).
func (u *User) Check(spec *command.Spec, args [][]byte) (reason Reason, pos int) {
	if u.unrestricted {
		return OK, 0
	}
	reason, pos = u.root.check(spec, args)
	for i := 0; reason != OK && i < len(u.selectors); i++ {
		r, p := u.selectors[i].check(spec, args)
		if r == OK || r > reason || (r == reason && p > pos) {
			reason, pos = r, p
		}
	}
	return reason, pos
}

// FullKeyAccess is Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess for
// read access: whether a selector that allows the command also lets it
// read any key (allkeys, or a readable "*" pattern). SORT's BY and GET
// read keys named by the data, which only such a user may do.
func (u *User) FullKeyAccess(spec *command.Spec, args [][]byte) bool {
	if u.unrestricted {
		return true
	}
	if r, _ := u.root.check(spec, args); r == OK && u.root.readsAnyKey() {
		return true
	}
	for i := range u.selectors {
		if r, _ := u.selectors[i].check(spec, args); r == OK && u.selectors[i].readsAnyKey() {
			return true
		}
	}
	return false
}

// readsAnyKey is ACLSelectorHasUnrestrictedKeyAccess for read access.
func (sel *Selector) readsAnyKey() bool {
	if sel.allKeys {
		return true
	}
	for _, k := range sel.keys {
		if k.read && k.pattern == "*" {
			return true
		}
	}
	return false
}

// check is Redis's ACLSelectorCheckCmd.
func (sel *Selector) check(spec *command.Spec, args [][]byte) (reason Reason, pos int) {
	if !sel.allowed[spec.ID()] && !spec.Is(command.NoAuth) && !sel.firstArgAllowed(spec.ID(), args) {
		return DeniedCmd, 0
	}
	if !sel.allKeys && spec.HasKeyArgs() {
		keys, _ := spec.GetKeysWithFlags(args, nil)
		for _, k := range keys {
			if !sel.keyAllowed(args[k.Pos], k.Flags) {
				return DeniedKey, k.Pos
			}
		}
	}
	if !sel.allChans {
		first, last, pattern := channelArgs(spec, len(args))
		for i := first; i <= last; i++ {
			if !ChannelAllowed(sel.channels, args[i], pattern) {
				return DeniedChannel, i
			}
		}
	}
	return OK, 0
}

// channelArgs says which arguments of a command are channels (none when
// first > last) and whether they are patterns.
func channelArgs(spec *command.Spec, argc int) (first, last int, pattern bool) {
	name := spec.Name
	if p := spec.Parent(); p != nil {
		name = p.Name
	}
	switch name {
	case "publish", "spublish":
		return 1, 1, false
	case "subscribe", "ssubscribe":
		return 1, argc - 1, false
	case "psubscribe":
		return 1, argc - 1, true
	}
	return 1, 0, false
}

// keyAllowed is Redis's ACLSelectorCheckKey: the key spec's flags say
// which permissions the key needs (access: read; insert, delete, update:
// write; neither, as EXISTS: any pattern that matches).
func (sel *Selector) keyAllowed(key []byte, flags command.KeyFlags) bool {
	needRead := flags&command.KeyAccess != 0
	needWrite := flags&(command.KeyInsert|command.KeyDelete|command.KeyUpdate) != 0
	for _, k := range sel.keys {
		if (needWrite && !k.write) || (needRead && !k.read) {
			continue
		}
		if command.GlobMatch([]byte(k.pattern), key, false) {
			return true
		}
	}
	return false
}

// ChannelAllowed reports whether channel patterns allow a channel, or,
// when pattern is true, a pattern (PSUBSCRIBE), which only the same
// pattern allows.
func ChannelAllowed(patterns []string, ch []byte, pattern bool) bool {
	for _, p := range patterns {
		if pattern {
			if p == string(ch) {
				return true
			}
			continue
		}
		if command.GlobMatch([]byte(p), ch, false) {
			return true
		}
	}
	return false
}

// DeniedObject is what a denial is about in ACL LOG: the command, or the
// key or channel argument.
func DeniedObject(reason Reason, spec *command.Spec, args [][]byte, pos int) string {
	if reason == DeniedCmd {
		return spec.FullName()
	}
	return string(args[pos])
}

// NoPermError is the NOPERM error a denied command gets.
func NoPermError(reason Reason, spec *command.Spec) string {
	switch reason {
	case DeniedKey:
		return "NOPERM this user has no permissions to access one of the keys used as arguments"
	case DeniedChannel:
		return "NOPERM this user has no permissions to access one of the channels used as arguments"
	}
	return "NOPERM this user has no permissions to run the '" + spec.FullName() + "' command"
}

// ExecDenialError is the error EXEC replies for a queued command whose
// permissions were taken away after it was queued.
func ExecDenialError(reason Reason) string {
	why := ""
	switch reason {
	case DeniedCmd:
		why = "no permission to execute the command or subcommand"
	case DeniedKey:
		why = "no permission to touch the specified keys"
	case DeniedChannel:
		why = "no permission to access one of the channels used as arguments"
	}
	return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " + why
}

// DryRunDenial is ACL DRYRUN's reply (a bulk string) for a denial.
func DryRunDenial(reason Reason, spec *command.Spec, args [][]byte, pos int) string {
	switch reason {
	case DeniedCmd:
		return "This user has no permissions to run the '" + spec.FullName() + "' command"
	case DeniedKey:
		return "This user has no permissions to access the '" + string(args[pos]) + "' key"
	}
	return "This user has no permissions to access the '" + string(args[pos]) + "' channel"
}
