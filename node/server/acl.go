package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/shoal-dev/shoal/node/command"
)

// ACL users, as Redis 7's ACL without selectors: per user a state
// (on/off), passwords (SHA-256), allowed commands (by command ID, from
// +cmd/-cmd/+@category rules applied in order), key patterns (~, %R~,
// %W~) and channel patterns (&).

type keyPattern struct {
	pattern     string
	read, write bool
}

type aclUser struct {
	name      string
	enabled   bool
	nopass    bool
	passwords []string // sha256 hex, in insertion order
	allowed   []bool   // by command ID
	cmdRules  []string // as given, for ACL LIST / GETUSER
	keys      []keyPattern
	channels  []string
	allKeys   bool
	allChans  bool
	// unrestricted: +@all ~* &* (the permission check is skipped).
	unrestricted bool
}

type aclState struct {
	users map[string]*aclUser
}

func (s *Server) initACL() {
	s.acl.users = map[string]*aclUser{}
	u := s.newUser("default")
	s.applyUserRules(u, []string{"on", "nopass", "~*", "&*", "+@all"})
	if s.cfg.RequirePass != "" {
		s.applyUserRules(u, []string{"resetpass", ">" + s.cfg.RequirePass})
	}
	s.acl.users["default"] = u
}

func (s *Server) newUser(name string) *aclUser {
	return &aclUser{name: name, allowed: make([]bool, s.cmds.NumIDs())}
}

// syncRequirePass makes the default user follow requirepass (CONFIG SET).
func (s *Server) syncRequirePass() {
	u := s.acl.users["default"]
	if s.cfg.RequirePass == "" {
		s.applyUserRules(u, []string{"nopass"})
		return
	}
	s.applyUserRules(u, []string{"resetpass", ">" + s.cfg.RequirePass})
}

func hashPassword(p []byte) string {
	h := sha256.Sum256(p)
	return hex.EncodeToString(h[:])
}

// authenticate checks a user/password pair (AUTH, HELLO AUTH).
func (s *Server) authenticate(name string, pass []byte) *aclUser {
	u := s.acl.users[name]
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

// defaultAuthenticates reports whether new connections are logged in as
// the default user without AUTH (it is on and has nopass).
func (s *Server) defaultAuthenticates() bool {
	u := s.acl.users["default"]
	return u.enabled && u.nopass
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

// setCommand allows or denies a command ID and, for a container, all of its
// subcommands.
func (s *Server) setCommand(u *aclUser, spec *command.Spec, allow bool) {
	u.allowed[spec.ID()] = allow
	for _, sub := range spec.SubSpecs() {
		u.allowed[sub.ID()] = allow
	}
}

// applyUserRules applies ACL SETUSER rules in order. It returns the
// offending rule and Redis's reason on error (nothing is applied then).
func (s *Server) applyUserRules(u *aclUser, rules []string) (string, string) {
	// Validate on a copy so a bad rule changes nothing.
	c := *u
	c.allowed = append([]bool(nil), u.allowed...)
	c.passwords = append([]string(nil), u.passwords...)
	c.cmdRules = append([]string(nil), u.cmdRules...)
	c.keys = append([]keyPattern(nil), u.keys...)
	c.channels = append([]string(nil), u.channels...)
	for _, r := range rules {
		if msg := s.applyRule(&c, r); msg != "" {
			return r, msg
		}
	}
	c.unrestricted = c.allKeys && c.allChans && allTrue(c.allowed)
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

func (s *Server) applyRule(u *aclUser, r string) string {
	lr := strings.ToLower(r)
	switch {
	case lr == "on":
		u.enabled = true
	case lr == "off":
		u.enabled = false
	case lr == "nopass":
		u.nopass = true
		u.passwords = nil
	case lr == "resetpass":
		u.nopass = false
		u.passwords = nil
	case lr == "allkeys" || r == "~*":
		u.allKeys = true
		u.keys = []keyPattern{{pattern: "*", read: true, write: true}}
	case lr == "resetkeys":
		u.allKeys = false
		u.keys = nil
	case lr == "allchannels" || r == "&*":
		u.allChans = true
		u.channels = []string{"*"}
	case lr == "resetchannels":
		u.allChans = false
		u.channels = nil
	case lr == "allcommands" || lr == "+@all":
		for i := range u.allowed {
			u.allowed[i] = true
		}
		u.cmdRules = []string{"+@all"}
	case lr == "nocommands" || lr == "-@all":
		for i := range u.allowed {
			u.allowed[i] = false
		}
		u.cmdRules = []string{"-@all"}
	case lr == "reset":
		for _, x := range []string{"resetpass", "resetkeys", "resetchannels", "off", "-@all"} {
			s.applyRule(u, x)
		}
	case lr == "sanitize-payload" || lr == "skip-sanitize-payload":
	case strings.HasPrefix(r, ">"):
		h := hashPassword([]byte(r[1:]))
		u.nopass = false
		if !contains(u.passwords, h) {
			u.passwords = append(u.passwords, h)
		}
	case strings.HasPrefix(r, "#"):
		if !isHex64(r[1:]) {
			return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
		}
		u.nopass = false
		if !contains(u.passwords, r[1:]) {
			u.passwords = append(u.passwords, r[1:])
		}
	case strings.HasPrefix(r, "<"):
		h := hashPassword([]byte(r[1:]))
		if !contains(u.passwords, h) {
			return "no such password"
		}
		u.passwords = remove(u.passwords, h)
	case strings.HasPrefix(r, "!"):
		if !contains(u.passwords, r[1:]) {
			return "no such password"
		}
		u.passwords = remove(u.passwords, r[1:])
	case strings.HasPrefix(r, "~"):
		if u.allKeys {
			return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
		}
		u.keys = append(u.keys, keyPattern{pattern: r[1:], read: true, write: true})
	case strings.HasPrefix(r, "%"):
		i := strings.IndexByte(r, '~')
		if i < 2 {
			return "Syntax error"
		}
		kp := keyPattern{pattern: r[i+1:]}
		for _, f := range strings.ToUpper(r[1:i]) {
			switch f {
			case 'R':
				kp.read = true
			case 'W':
				kp.write = true
			default:
				return "Syntax error"
			}
		}
		if u.allKeys {
			return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
		}
		u.keys = append(u.keys, kp)
	case strings.HasPrefix(r, "&"):
		if u.allChans {
			return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
		}
		u.channels = append(u.channels, r[1:])
	case strings.HasPrefix(r, "+@") || strings.HasPrefix(r, "-@"):
		cat, ok := command.CategoryByName(lr[2:])
		if !ok {
			return "Unknown command or category name in ACL"
		}
		allow := r[0] == '+'
		for id := 0; id < s.cmds.NumIDs(); id++ {
			if s.cmds.ByID(id).Categories&cat != 0 {
				u.allowed[id] = allow
			}
		}
		u.cmdRules = append(u.cmdRules, lr)
	case strings.HasPrefix(r, "+") || strings.HasPrefix(r, "-"):
		spec := s.lookupSpecByName([]byte(lr[1:]))
		if spec == nil {
			return "Unknown command or category name in ACL"
		}
		s.setCommand(u, spec, r[0] == '+')
		u.cmdRules = append(u.cmdRules, lr)
	default:
		return "Syntax error"
	}
	return ""
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

// commandsDescription is the "commands" field of ACL LIST/GETUSER.
func (u *aclUser) commandsDescription() string {
	rules := u.cmdRules
	if len(rules) == 0 {
		return "-@all"
	}
	if rules[0] != "+@all" && rules[0] != "-@all" {
		rules = append([]string{"-@all"}, rules...)
	}
	return strings.Join(rules, " ")
}

func (u *aclUser) keysDescription() []string {
	var out []string
	for _, k := range u.keys {
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

func (u *aclUser) channelsDescription() []string {
	var out []string
	for _, c := range u.channels {
		out = append(out, "&"+c)
	}
	return out
}

// describe is the ACL LIST line of a user.
func (u *aclUser) describe() string {
	parts := []string{"user", u.name}
	if u.enabled {
		parts = append(parts, "on")
	} else {
		parts = append(parts, "off")
	}
	if u.nopass {
		parts = append(parts, "nopass")
	}
	for _, p := range u.passwords {
		parts = append(parts, "#"+p)
	}
	if k := u.keysDescription(); len(k) > 0 {
		parts = append(parts, k...)
	} else {
		parts = append(parts, "resetkeys")
	}
	if c := u.channelsDescription(); len(c) > 0 {
		parts = append(parts, c...)
	} else {
		parts = append(parts, "resetchannels")
	}
	parts = append(parts, u.commandsDescription())
	return strings.Join(parts, " ")
}

// checkPermission returns the NOPERM error for a command the client's user
// may not run, or "".
func (c *Client) checkPermission(spec *command.Spec, args [][]byte) string {
	u := c.aclUser
	if u == nil || u.unrestricted {
		return ""
	}
	if !u.allowed[spec.ID()] && !spec.Is(command.NoAuth) {
		return "NOPERM this user has no permissions to run the '" + spec.FullName() + "' command"
	}
	if !u.allKeys && spec.HasKeys() {
		write := spec.Is(command.Write)
		keys, _ := spec.GetKeys(args, c.keysBuf[:0])
		c.keysBuf = keys
		for _, i := range keys {
			if !u.keyAllowed(args[i], write) {
				return "NOPERM this user has no permissions to access one of the keys used as arguments"
			}
		}
	}
	if !u.allChans {
		var chans [][]byte
		pattern := false
		switch specName(spec) {
		case "publish", "spublish":
			chans = args[1:2]
		case "subscribe", "ssubscribe":
			chans = args[1:]
		case "psubscribe":
			chans, pattern = args[1:], true
		}
		for _, ch := range chans {
			if !u.channelAllowed(ch, pattern) {
				return "NOPERM this user has no permissions to access one of the channels used as arguments"
			}
		}
	}
	return ""
}

func (u *aclUser) keyAllowed(key []byte, write bool) bool {
	for _, k := range u.keys {
		if (write && !k.write) || (!write && !k.read) {
			continue
		}
		if GlobMatch([]byte(k.pattern), key, false) {
			return true
		}
	}
	return false
}

func (u *aclUser) channelAllowed(ch []byte, pattern bool) bool {
	for _, p := range u.channels {
		if pattern {
			if p == string(ch) {
				return true
			}
			continue
		}
		if GlobMatch([]byte(p), ch, false) {
			return true
		}
	}
	return false
}

// ---- ACL command ----

func aclHandlers() map[string]Handler {
	return map[string]Handler{
		"acl|setuser": cmdACLSetuser,
		"acl|getuser": cmdACLGetuser,
		"acl|deluser": cmdACLDeluser,
		"acl|list":    cmdACLList,
		"acl|users":   cmdACLUsers,
		"acl|whoami":  cmdACLWhoami,
		"acl|cat":     cmdACLCat,
		"acl|genpass": cmdACLGenpass,
		"acl|log":     cmdACLLog,
		"acl|help":    cmdACLHelp,
	}
}

func cmdACLSetuser(c *Client) {
	s := c.srv
	name := string(c.Args[2])
	u := s.acl.users[name]
	created := false
	if u == nil {
		u = s.newUser(name)
		created = true
	}
	rules := make([]string, 0, len(c.Args)-3)
	for _, a := range c.Args[3:] {
		rules = append(rules, string(a))
	}
	if bad, msg := s.applyUserRules(u, rules); bad != "" {
		c.Error("ERR Error in ACL SETUSER modifier '" + bad + "': " + msg)
		return
	}
	if created {
		s.acl.users[name] = u
	}
	if !u.enabled {
		s.killUserClients(u)
	}
	c.W.OK()
}

func cmdACLGetuser(c *Client) {
	u := c.srv.acl.users[string(c.Args[2])]
	if u == nil {
		c.W.Null()
		return
	}
	w := c.W
	w.MapLen(6)
	w.BulkString("flags")
	flags := []string{"off"}
	if u.enabled {
		flags[0] = "on"
	}
	if u.nopass {
		flags = append(flags, "nopass")
	}
	w.SetLen(len(flags))
	for _, f := range flags {
		w.BulkString(f)
	}
	w.BulkString("passwords")
	w.StringArray(u.passwords...)
	w.BulkString("commands")
	w.BulkString(u.commandsDescription())
	w.BulkString("keys")
	w.BulkString(strings.Join(u.keysDescription(), " "))
	w.BulkString("channels")
	w.BulkString(strings.Join(u.channelsDescription(), " "))
	w.BulkString("selectors")
	w.ArrayLen(0)
}

func cmdACLDeluser(c *Client) {
	s := c.srv
	n := 0
	for _, a := range c.Args[2:] {
		name := string(a)
		if name == "default" {
			c.Error("ERR The 'default' user cannot be removed")
			return
		}
	}
	for _, a := range c.Args[2:] {
		if u := s.acl.users[string(a)]; u != nil {
			delete(s.acl.users, u.name)
			s.killUserClients(u)
			n++
		}
	}
	c.W.Int(int64(n))
}

// killUserClients disconnects the clients authenticated as u.
func (s *Server) killUserClients(u *aclUser) {
	for _, cl := range s.clients {
		if cl.aclUser == u {
			cl.kill()
		}
	}
}

func (s *Server) sortedUsers() []*aclUser {
	out := make([]*aclUser, 0, len(s.acl.users))
	for _, u := range s.acl.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func cmdACLList(c *Client) {
	users := c.srv.sortedUsers()
	c.W.ArrayLen(len(users))
	for _, u := range users {
		c.W.BulkString(u.describe())
	}
}

func cmdACLUsers(c *Client) {
	users := c.srv.sortedUsers()
	c.W.ArrayLen(len(users))
	for _, u := range users {
		c.W.BulkString(u.name)
	}
}

func cmdACLWhoami(c *Client) { c.W.BulkString(c.user) }

func cmdACLCat(c *Client) {
	if len(c.Args) == 2 {
		c.W.StringArray(command.CategoryNames()...)
		return
	}
	cat, ok := command.CategoryByName(strings.ToLower(string(c.Args[2])))
	if !ok {
		c.Error("ERR Unknown category '" + string(c.Args[2]) + "'")
		return
	}
	var names []string
	for _, s := range c.srv.cmds.Commands() {
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
	c.W.StringArray(names...)
}

func cmdACLGenpass(c *Client) {
	bits := int64(256)
	if len(c.Args) == 3 {
		n, ok := keyspaceInt(c.Args[2])
		if !ok || n <= 0 || n > 4096 {
			c.Error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
			return
		}
		bits = n
	}
	b := make([]byte, (bits+7)/8)
	_, _ = rand.Read(b)
	c.W.BulkString(hex.EncodeToString(b)[:(bits+3)/4])
}

func cmdACLLog(c *Client) {
	if len(c.Args) == 3 && eqFold(c.Args[2], "reset") {
		c.W.OK()
		return
	}
	if len(c.Args) == 3 {
		if _, ok := parseLongLong(c.Args[2]); !ok {
			c.Error(ErrNotInteger)
			return
		}
	}
	c.W.ArrayLen(0)
}

func cmdACLHelp(c *Client) {
	replyHelp(c, "ACL", []string{
		"CAT [<category>]",
		"    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DELUSER <username> [<username> ...]",
		"    Delete a list of users.",
		"GETUSER <username>",
		"    Get the user's details.",
		"GENPASS [<bits>]",
		"    Generate a secure 256-bit user password. The optional `bits` argument can",
		"    be used to specify a different size.",
		"LIST",
		"    Show users details in config file format.",
		"LOG [<count> | RESET]",
		"    Show the ACL log entries.",
		"SETUSER <username> <attribute> [<attribute> ...]",
		"    Create or modify a user with the specified attributes.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.",
	})
}
