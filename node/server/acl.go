package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/shoal-dev/shoal/node/command"
)

// ACL users, as Redis 7.0's ACL: per user a state (on/off), passwords
// (SHA-256) and permissions: the root selector plus any number of
// selectors, each with allowed commands (by command ID, from
// +cmd/-cmd/+@category rules applied in order), key patterns (~, %R~,
// %W~, %RW~) and channel patterns (&). A command passes when the root or
// any selector allows it with all its keys and channels.

type keyPattern struct {
	pattern     string
	read, write bool
}

// aclSelector is a set of permissions (Redis's aclSelector).
type aclSelector struct {
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

type aclUser struct {
	name      string
	enabled   bool
	nopass    bool
	sanitize  string   // "", "sanitize-payload" or "skip-sanitize-payload"
	passwords []string // sha256 hex, in insertion order
	root      aclSelector
	selectors []aclSelector
	// unrestricted: +@all ~* &* at the root (the permission check is skipped).
	unrestricted bool
}

type aclState struct {
	users map[string]*aclUser
	log   aclLog
}

func (s *Server) initACL() error {
	s.acl.users = map[string]*aclUser{}
	u := s.newUser("default")
	s.applyUserRules(u, []string{"on", "nopass", "~*", "&*", "+@all"})
	if s.cfg.RequirePass != "" {
		s.applyUserRules(u, []string{"resetpass", ">" + s.cfg.RequirePass})
	}
	s.acl.users["default"] = u
	for _, line := range s.cfg.Users {
		if err := s.loadConfiguredUser(line[0], line[1:]); err != nil {
			return err
		}
	}
	return nil
}

// loadConfiguredUser applies a config file's `user name rule...` line to a
// new user, or to the default user after a reset (Redis's
// ACLLoadConfiguredUsers).
func (s *Server) loadConfiguredUser(name string, args []string) error {
	rules, open := mergeSelectorArgs(args)
	if open >= 0 {
		return fmt.Errorf("Error in user declaration '%s': Unmatched parenthesis in acl selector starting at '%s'.", name, args[open])
	}
	u := s.acl.users[name]
	if u == nil {
		u = s.newUser(name)
	} else {
		s.applyRule(u, "reset")
	}
	if bad, msg := s.applyUserRules(u, rules); bad != "" {
		return fmt.Errorf("Error loading ACL rule '%s' for the user named '%s': %s\nCritical error while loading ACLs. Exiting.", bad, name, msg)
	}
	s.acl.users[name] = u
	return nil
}

// userLines are the `user` lines CONFIG REWRITE writes: ACL LIST's.
func (s *Server) userLines() []string {
	var out []string
	for _, u := range s.sortedUsers() {
		out = append(out, s.describe(u))
	}
	return out
}

func (s *Server) newUser(name string) *aclUser {
	return &aclUser{name: name, root: s.newSelector()}
}

func (s *Server) newSelector() aclSelector {
	return aclSelector{allowed: make([]bool, s.cmds.NumIDs())}
}

// clone is a deep copy of the selector.
func (sel aclSelector) clone() aclSelector {
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
// subcommands (Redis's ACLChangeSelectorPerm).
// Allowed first arguments of the command are dropped.
func (sel *aclSelector) setCommand(spec *command.Spec, allow bool) {
	sel.setID(spec.ID(), allow)
	for _, sub := range spec.SubSpecs() {
		sel.setID(sub.ID(), allow)
	}
}

// setID allows or denies one command ID, dropping its allowed first
// arguments.
func (sel *aclSelector) setID(id int, allow bool) {
	sel.allowed[id] = allow
	delete(sel.firstArgs, id)
}

// allowFirstArg allows a first argument of an otherwise denied command.
func (sel *aclSelector) allowFirstArg(id int, arg string) {
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
func (sel *aclSelector) firstArgAllowed(id int, args [][]byte) bool {
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

// setCategory allows or denies every command and subcommand of a category.
func (s *Server) setCategory(sel *aclSelector, cat command.Category, allow bool) {
	for id := 0; id < s.cmds.NumIDs(); id++ {
		if s.cmds.ByID(id).Categories&cat != 0 {
			sel.setID(id, allow)
		}
	}
}

// The reasons of ACL SETUSER errors, as Redis words them.
const (
	aclErrSyntax       = "Syntax error"
	aclErrUnknown      = "Unknown command or category name in ACL"
	aclErrKeyAfterAll  = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	aclErrChanAfterAll = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	aclErrNoPassword   = "The password you are trying to remove from the user does not exist"
	aclErrBadHash      = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	aclErrSubFirstArg  = "Allowing first-arg of a subcommand is not supported"
)

// mergeSelectorArgs joins the arguments of a selector split over several
// arguments ("(+get" "~a)") into one, as Redis's
// ACLMergeSelectorArguments. bad is the argument that opens a selector
// never closed (-1 if none).
func mergeSelectorArgs(args []string) (merged []string, bad int) {
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

// applyUserRules applies ACL SETUSER rules in order. It returns the
// offending rule and Redis's reason on error (nothing is applied then).
func (s *Server) applyUserRules(u *aclUser, rules []string) (string, string) {
	// Validate on a copy so a bad rule changes nothing.
	c := *u
	c.passwords = append([]string(nil), u.passwords...)
	c.root = u.root.clone()
	c.selectors = make([]aclSelector, len(u.selectors))
	for i, sel := range u.selectors {
		c.selectors[i] = sel.clone()
	}
	for _, r := range rules {
		if msg := s.applyRule(&c, r); msg != "" {
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
func (s *Server) applyRule(u *aclUser, r string) string {
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
			s.applyRule(u, x)
		}
	case strings.HasPrefix(r, ">"):
		h := hashPassword([]byte(r[1:]))
		u.nopass = false
		if !contains(u.passwords, h) {
			u.passwords = append(u.passwords, h)
		}
	case strings.HasPrefix(r, "#"):
		if !isHex64(r[1:]) {
			return aclErrBadHash
		}
		u.nopass = false
		if !contains(u.passwords, r[1:]) {
			u.passwords = append(u.passwords, r[1:])
		}
	case strings.HasPrefix(r, "<"):
		h := hashPassword([]byte(r[1:]))
		if !contains(u.passwords, h) {
			return aclErrNoPassword
		}
		u.passwords = remove(u.passwords, h)
	case strings.HasPrefix(r, "!"):
		if !isHex64(r[1:]) {
			return aclErrBadHash
		}
		if !contains(u.passwords, r[1:]) {
			return aclErrNoPassword
		}
		u.passwords = remove(u.passwords, r[1:])
	case len(r) >= 2 && r[0] == '(' && r[len(r)-1] == ')':
		sel := s.newSelector()
		for _, op := range strings.Split(r[1:len(r)-1], " ") {
			if op == "" {
				continue
			}
			if msg := s.applySelectorRule(&sel, op); msg != "" {
				return msg
			}
		}
		u.selectors = append(u.selectors, sel)
	default:
		return s.applySelectorRule(&u.root, r)
	}
	return ""
}

// applySelectorRule applies one permission rule to a selector (Redis's
// ACLSetSelector).
func (s *Server) applySelectorRule(sel *aclSelector, r string) string {
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
			return aclErrKeyAfterAll
		}
		kp, ok := parseKeyPattern(r)
		if !ok {
			return aclErrSyntax
		}
		sel.addKeyPattern(kp)
	case strings.HasPrefix(r, "&"):
		if sel.allChans {
			return aclErrChanAfterAll
		}
		if strings.ContainsRune(r, ' ') {
			return aclErrSyntax
		}
		if !contains(sel.channels, r[1:]) {
			sel.channels = append(sel.channels, r[1:])
		}
	case strings.HasPrefix(r, "+@") || strings.HasPrefix(r, "-@"):
		cat, ok := command.CategoryByName(lr[2:])
		if !ok {
			return aclErrUnknown
		}
		s.setCategory(sel, cat, r[0] == '+')
	case strings.HasPrefix(r, "+") && strings.Contains(r, "|"):
		return s.allowWithFirstArg(sel, r[1:])
	case strings.HasPrefix(r, "+") || strings.HasPrefix(r, "-"):
		spec := s.lookupSpecByName([]byte(lr[1:]))
		if spec == nil {
			return aclErrUnknown
		}
		sel.setCommand(spec, r[0] == '+')
	default:
		return aclErrSyntax
	}
	return ""
}

// allowWithFirstArg applies +name|arg: a subcommand of a container, or
// else an allowed first argument (+select|0), as Redis 7.0.
func (s *Server) allowWithFirstArg(sel *aclSelector, rule string) string {
	i := strings.LastIndexByte(rule, '|')
	spec := s.lookupSpecByName([]byte(strings.ToLower(rule[:i])))
	switch {
	case spec == nil:
		return aclErrUnknown
	case spec.Parent() != nil:
		return aclErrSubFirstArg
	case i == len(rule)-1:
		return aclErrSyntax
	case spec.IsContainer():
		sub := s.lookupSpecByName([]byte(strings.ToLower(rule)))
		if sub == nil {
			return aclErrUnknown
		}
		sel.setCommand(sub, true)
	default:
		sel.allowFirstArg(spec.ID(), rule[i+1:])
	}
	return ""
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

// addKeyPattern adds a pattern; one already there gains the new
// permissions instead.
func (sel *aclSelector) addKeyPattern(kp keyPattern) {
	for i := range sel.keys {
		if sel.keys[i].pattern == kp.pattern {
			sel.keys[i].read = sel.keys[i].read || kp.read
			sel.keys[i].write = sel.keys[i].write || kp.write
			return
		}
	}
	sel.keys = append(sel.keys, kp)
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

// commandsDescription is the "commands" field of ACL LIST/GETUSER, made
// from the allowed commands as Redis 7.0's ACLDescribeSelectorCommandRules:
// +@all or -@all, then the categories that fit best, then single
// commands for the differences.
func (s *Server) commandsDescription(sel *aclSelector) string {
	fake := s.newSelector()
	rules := []string{"-@all"}
	additive := !sel.allCommands
	if !additive {
		rules[0] = "+@all"
		s.applySelectorRule(&fake, "+@all")
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
			on, off := s.countCategory(&temp, cat)
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
		s.setCategory(&fake, cat, additive)
		s.setCategory(&temp, cat, !additive)
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
	for _, spec := range s.cmds.Commands() {
		fix(spec)
		for _, sub := range spec.SubSpecs() {
			fix(sub)
		}
	}
	return strings.Join(rules, " ")
}

// countCategory counts the commands and subcommands of a category the
// selector allows (on) and denies (off).
func (s *Server) countCategory(sel *aclSelector, cat command.Category) (on, off int) {
	for id := 0; id < s.cmds.NumIDs(); id++ {
		if s.cmds.ByID(id).Categories&cat == 0 {
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

func (sel *aclSelector) keysDescription() []string {
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

func (sel *aclSelector) channelsDescription() []string {
	if sel.allChans {
		return []string{"&*"}
	}
	var out []string
	for _, c := range sel.channels {
		out = append(out, "&"+c)
	}
	return out
}

// describeSelector is a selector in ACL LIST (Redis's ACLDescribeSelector).
func (s *Server) describeSelector(sel *aclSelector) string {
	parts := sel.keysDescription()
	if !sel.allChans {
		parts = append(parts, "resetchannels")
	}
	parts = append(parts, sel.channelsDescription()...)
	parts = append(parts, s.commandsDescription(sel))
	return strings.Join(parts, " ")
}

// flags are the user's flags as ACL GETUSER and ACL LIST show them.
func (u *aclUser) flags() []string {
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

// describe is the ACL LIST line of a user.
func (s *Server) describe(u *aclUser) string {
	parts := append([]string{"user", u.name}, u.flags()...)
	for _, p := range u.passwords {
		parts = append(parts, "#"+p)
	}
	parts = append(parts, s.describeSelector(&u.root))
	for i := range u.selectors {
		parts = append(parts, "("+s.describeSelector(&u.selectors[i])+")")
	}
	return strings.Join(parts, " ")
}

// The ACL denial reasons, ordered as Redis orders them when no selector
// allows a command: the highest wins.
const (
	aclOK = iota
	aclDeniedCmd
	aclDeniedKey
	aclDeniedAuth
	aclDeniedChannel
)

// checkPermission returns the NOPERM error for a command the client's user
// may not run (and logs it in ACL LOG), or "".
func (c *Client) checkPermission(spec *command.Spec, args [][]byte) string {
	if reason := c.aclDenial(spec, args); reason != aclOK {
		return noPermError(reason, spec)
	}
	return ""
}

// aclDenial checks the command against the client's user and logs a
// denial in ACL LOG; it returns the reason (aclOK when allowed).
func (c *Client) aclDenial(spec *command.Spec, args [][]byte) int {
	u := c.aclUser
	if u == nil || u.unrestricted {
		return aclOK
	}
	reason, pos := c.userPermits(u, spec, args)
	if reason != aclOK {
		c.srv.aclLogAdd(c, args, reason, deniedObject(reason, spec, args, pos), u.name)
	}
	return reason
}

// deniedObject is what a denial is about: the command, or the key or
// channel argument.
func deniedObject(reason int, spec *command.Spec, args [][]byte, pos int) string {
	if reason == aclDeniedCmd {
		return spec.FullName()
	}
	return string(args[pos])
}

// noPermError is the NOPERM error for a denial.
func noPermError(reason int, spec *command.Spec) string {
	switch reason {
	case aclDeniedKey:
		return "NOPERM this user has no permissions to access one of the keys used as arguments"
	case aclDeniedChannel:
		return "NOPERM this user has no permissions to access one of the channels used as arguments"
	}
	return "NOPERM this user has no permissions to run the '" + spec.FullName() + "' command"
}

// userPermits checks the root selector, then each selector (Redis's
// ACLCheckAllUserCommandPerm): aclOK when one allows the command, else
// the most relevant denial and the argument it is about.
func (c *Client) userPermits(u *aclUser, spec *command.Spec, args [][]byte) (reason, pos int) {
	reason, pos = c.selectorPermits(&u.root, spec, args)
	for i := 0; reason != aclOK && i < len(u.selectors); i++ {
		r, p := c.selectorPermits(&u.selectors[i], spec, args)
		if r == aclOK || r > reason || (r == reason && p > pos) {
			reason, pos = r, p
		}
	}
	return reason, pos
}

// selectorPermits is Redis's ACLSelectorCheckCmd.
func (c *Client) selectorPermits(sel *aclSelector, spec *command.Spec, args [][]byte) (reason, pos int) {
	if !sel.allowed[spec.ID()] && !spec.Is(command.NoAuth) && !sel.firstArgAllowed(spec.ID(), args) {
		return aclDeniedCmd, 0
	}
	if !sel.allKeys && spec.HasKeyArgs() {
		keys, _ := spec.GetKeysWithFlags(args, nil)
		for _, k := range keys {
			if !sel.keyAllowed(args[k.Pos], k.Flags) {
				return aclDeniedKey, k.Pos
			}
		}
	}
	if !sel.allChans {
		first, last, pattern := channelArgs(spec, len(args))
		for i := first; i <= last; i++ {
			if !sel.channelAllowed(args[i], pattern) {
				return aclDeniedChannel, i
			}
		}
	}
	return aclOK, 0
}

// channelArgs says which arguments of a command are channels (none when
// first > last) and whether they are patterns.
func channelArgs(spec *command.Spec, argc int) (first, last int, pattern bool) {
	switch specName(spec) {
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
func (sel *aclSelector) keyAllowed(key []byte, flags command.KeyFlags) bool {
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

func (sel *aclSelector) channelAllowed(ch []byte, pattern bool) bool {
	for _, p := range sel.channels {
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
		"acl|dryrun":  cmdACLDryrun,
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
	rules, open := mergeSelectorArgs(rules)
	if open >= 0 {
		c.Error("ERR Unmatched parenthesis in acl selector starting at '" + string(c.Args[3+open]) + "'.")
		return
	}
	before := u.channelRules()
	if bad, msg := s.applyUserRules(u, rules); bad != "" {
		c.Error("ERR Error in ACL SETUSER modifier '" + bad + "': " + msg)
		return
	}
	if created {
		s.acl.users[name] = u
	}
	// Connections already authenticated keep working when the user is
	// turned off, as in Redis; subscribers lose what they may no longer
	// listen to.
	s.killRevokedSubscribers(u, before)
	c.W.OK()
}

// channelRules is every channel pattern of the user's selectors, nil
// when one of them allows all channels.
func (u *aclUser) channelRules() []string {
	var out []string
	for _, sel := range append([]aclSelector{u.root}, u.selectors...) {
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

// killRevokedSubscribers disconnects the user's subscribers that listen to
// a channel or pattern its new permissions no longer allow (Redis's
// ACLKillPubsubClientsIfNeeded). Nothing changes when the new patterns
// still include all the old ones.
func (s *Server) killRevokedSubscribers(u *aclUser, before []string) {
	after := u.channelRules()
	if after == nil {
		return
	}
	lost := before == nil
	for _, p := range before {
		lost = lost || !contains(after, p)
	}
	if !lost {
		return
	}
	all := aclSelector{channels: after}
	for _, cl := range s.clients {
		if cl.aclUser != u || cl.subscriptions()+len(cl.cl.shardChannels) == 0 {
			continue
		}
		kill := false
		for p := range cl.patterns {
			kill = kill || !all.channelAllowed([]byte(p), true)
		}
		for _, chans := range []map[string]struct{}{cl.channels, cl.cl.shardChannels} {
			for ch := range chans {
				kill = kill || !all.channelAllowed([]byte(ch), false)
			}
		}
		if kill {
			cl.kill()
		}
	}
}

// writeSelector writes a selector's commands, keys and channels as ACL
// GETUSER shows them.
func writeSelector(c *Client, sel *aclSelector) {
	w := c.W
	w.BulkString("commands")
	w.BulkString(c.srv.commandsDescription(sel))
	w.BulkString("keys")
	w.BulkString(strings.Join(sel.keysDescription(), " "))
	w.BulkString("channels")
	w.BulkString(strings.Join(sel.channelsDescription(), " "))
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
	flags := u.flags()
	w.SetLen(len(flags))
	for _, f := range flags {
		w.BulkString(f)
	}
	w.BulkString("passwords")
	w.StringArray(u.passwords...)
	writeSelector(c, &u.root)
	w.BulkString("selectors")
	w.ArrayLen(len(u.selectors))
	for i := range u.selectors {
		w.MapLen(3)
		writeSelector(c, &u.selectors[i])
	}
}

// cmdACLDryrun is ACL DRYRUN user command [arg ...]: whether the user may
// run the command, without running or logging it.
func cmdACLDryrun(c *Client) {
	s := c.srv
	u := s.acl.users[string(c.Args[2])]
	if u == nil {
		c.Error("ERR User '" + string(c.Args[2]) + "' not found")
		return
	}
	args := c.Args[3:]
	spec, unknownSub := s.cmds.LookupArgs(args)
	if spec == nil || unknownSub {
		c.Error("ERR Command '" + string(args[0]) + "' not found")
		return
	}
	if !spec.ArityOK(len(args)) {
		c.Error(command.ArityError(spec))
		return
	}
	if u.unrestricted {
		c.W.OK()
		return
	}
	switch reason, pos := c.userPermits(u, spec, args); reason {
	case aclOK:
		c.W.OK()
	case aclDeniedCmd:
		c.W.BulkString("This user has no permissions to run the '" + spec.FullName() + "' command")
	case aclDeniedKey:
		c.W.BulkString("This user has no permissions to access the '" + string(args[pos]) + "' key")
	default:
		c.W.BulkString("This user has no permissions to access the '" + string(args[pos]) + "' channel")
	}
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
		c.W.BulkString(c.srv.describe(u))
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
		n, ok := c.ParseInt(c.Args[2])
		if !ok {
			return
		}
		if n <= 0 || n > 4096 {
			c.Error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
			return
		}
		bits = n
	}
	b := make([]byte, (bits+7)/8)
	_, _ = rand.Read(b)
	c.W.BulkString(hex.EncodeToString(b)[:(bits+3)/4])
}

func cmdACLHelp(c *Client) {
	c.ReplyHelp("ACL", []string{
		"CAT [<category>]",
		"    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DELUSER <username> [<username> ...]",
		"    Delete a list of users.",
		"DRYRUN <username> <command> [<arg> ...]",
		"    Returns whether the user can execute the given command without executing the command.",
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
