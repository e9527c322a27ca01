package acl

import (
	"fmt"
	"strings"
)

// The ACL file (aclfile): one `user <name> [rule ...]` line per user, as
// ACL LIST prints them. ACL LOAD reads it all or nothing, ACL SAVE writes
// it, and the node loads it at start-up.

// errUnknownRule is the reason Redis reports with the rule itself
// (its errno ENOENT), every time; for other reasons only a line's first.
const errUnknownRule = "Unknown command or category name in ACL"

// ParseFile is Redis 7.0's ACLLoadFromFile on a file's text: a new user
// table (over the same command table) from its lines, or, when any line
// is wrong, Redis's error text naming each bad line, ending with the
// warning that nothing changed. name is the file name the errors cite.
// A line is split on single spaces after trimming blanks, as Redis does
// (no quoting, no comments); a missing default user is made as Redis
// starts it (on nopass ~* &* +@all).
func (us *Users) ParseFile(name string, text string) (*Users, string) {
	next := &Users{cmds: us.cmds, byName: map[string]*User{}}
	var errs strings.Builder
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", name, n)
			continue
		}
		uname := argv[1]
		if strings.ContainsAny(uname, " \t\r\n\v\f") {
			fmt.Fprintf(&errs, "'%s:%d: username '%s' contains invalid characters. ", name, n, uname)
			continue
		}
		if next.byName[uname] != nil {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", uname, n)
			continue
		}
		u := next.NewUser(uname)
		next.byName[uname] = u
		rules, open := MergeSelectorArgs(argv[2:])
		if open >= 0 {
			fmt.Fprintf(&errs, "%s:%d: Unmatched parenthesis in selector definition.", name, n)
			continue
		}
		syntaxError := false
		for _, r := range rules {
			r = strings.Trim(r, "\t\r\n")
			if r == "" {
				continue // an empty rule is a no-op
			}
			bad, reason := next.Apply(u, []string{r})
			switch {
			case bad == "":
			case reason == errUnknownRule:
				fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", name, n, r, reason)
			case !syntaxError:
				fmt.Fprintf(&errs, "%s:%d: %s. ", name, n, reason)
				syntaxError = true
			}
		}
	}
	if errs.Len() > 0 {
		errs.WriteString("WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
		return nil, errs.String()
	}
	if next.byName["default"] == nil {
		d := next.NewUser("default")
		next.Apply(d, []string{"on", "nopass", "~*", "&*", "+@all"})
		next.byName["default"] = d
	}
	return next, ""
}

// Adopt makes next's users the table's. The default user keeps its
// identity (the *User clients hold) and takes next's default's
// permissions, as Redis copies the new default into the old one. It
// returns the users replaced: every other user of before, whose clients
// Redis disconnects.
func (us *Users) Adopt(next *Users) (replaced []*User) {
	def := us.byName["default"]
	for name, u := range us.byName {
		if name != "default" {
			replaced = append(replaced, u)
		}
	}
	*def = *next.byName["default"]
	next.byName["default"] = def
	us.byName = next.byName
	return replaced
}

// FileText is ACL SAVE's file: the users' lines, by name.
func (us *Users) FileText() string {
	var b strings.Builder
	for _, line := range us.Lines() {
		b.WriteString(line + "\n")
	}
	return b.String()
}
