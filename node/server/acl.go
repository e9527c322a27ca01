package server

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/shoal-dev/shoal/node/acl"
	"github.com/shoal-dev/shoal/node/command"
)

// The engine's side of ACL: the node's users and log (the model is
// node/acl), dispatch's permission check, and the ACL command. Each
// client keeps the user it is authenticated as (Client.aclUser).

type aclState struct {
	users *acl.Users
	log   acl.Log
}

func (s *Server) initACL() error {
	s.acl.users = acl.New(s.cmds)
	if s.cfg.RequirePass != "" {
		s.acl.users.SetRequirePass(s.cfg.RequirePass)
	}
	for _, line := range s.cfg.Users {
		if err := s.acl.users.LoadConfigured(line[0], line[1:]); err != nil {
			return err
		}
	}
	return s.loadACLFileAtStart()
}

// userLines are the `user` lines CONFIG REWRITE writes: ACL LIST's, or
// none with an aclfile (the users are the file's, as Redis's
// rewriteConfigUserOption drops them from the config).
func (s *Server) userLines() []string {
	if s.cfg.ACLFile != "" {
		return nil
	}
	return s.acl.users.Lines()
}

// syncRequirePass makes the default user follow requirepass (CONFIG SET).
func (s *Server) syncRequirePass() { s.acl.users.SetRequirePass(s.cfg.RequirePass) }

// authenticate checks a user/password pair (AUTH, HELLO AUTH).
func (s *Server) authenticate(name string, pass []byte) *acl.User {
	return s.acl.users.Authenticate(name, pass)
}

// defaultAuthenticates reports whether new connections are logged in as
// the default user without AUTH (it is on and has nopass).
func (s *Server) defaultAuthenticates() bool { return s.acl.users.DefaultAuthenticates() }

// checkPermission returns the NOPERM error for a command the client's user
// may not run (and logs it in ACL LOG), or "".
func (c *Client) checkPermission(spec *command.Spec, args [][]byte) string {
	if reason := c.aclDenial(spec, args); reason != acl.OK {
		return acl.NoPermError(reason, spec)
	}
	return ""
}

// aclDenial checks the command against the client's user and logs a
// denial in ACL LOG; it returns the reason (acl.OK when allowed).
func (c *Client) aclDenial(spec *command.Spec, args [][]byte) acl.Reason {
	u := c.aclUser
	if u == nil || u.Unrestricted() {
		return acl.OK
	}
	reason, pos := u.Check(spec, args)
	if reason != acl.OK {
		c.srv.aclLogAdd(c, args, reason, acl.DeniedObject(reason, spec, args, pos), u.Name())
	}
	return reason
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
	users := c.srv.acl.users
	name := string(c.Args[2])
	u := users.Get(name)
	created := false
	if u == nil {
		u = users.NewUser(name)
		created = true
	}
	rules := make([]string, 0, len(c.Args)-3)
	for _, a := range c.Args[3:] {
		rules = append(rules, string(a))
	}
	rules, open := acl.MergeSelectorArgs(rules)
	if open >= 0 {
		c.Error("ERR Unmatched parenthesis in acl selector starting at '" + string(c.Args[3+open]) + "'.")
		return
	}
	before := u.ChannelRules()
	if bad, msg := users.Apply(u, rules); bad != "" {
		c.Error("ERR Error in ACL SETUSER modifier '" + bad + "': " + msg)
		return
	}
	if created {
		users.Add(u)
	}
	// Connections already authenticated keep working when the user is
	// turned off, as in Redis; subscribers lose what they may no longer
	// listen to.
	c.srv.killRevokedSubscribers(u, before)
	c.W.OK()
}

// killRevokedSubscribers disconnects the user's subscribers that listen to
// a channel or pattern its new permissions no longer allow (Redis's
// ACLKillPubsubClientsIfNeeded). Nothing changes when the new patterns
// still include all the old ones.
func (s *Server) killRevokedSubscribers(u *acl.User, before []string) {
	after := u.ChannelRules()
	if !acl.ChannelsLost(before, after) {
		return
	}
	for _, cl := range s.clients {
		if cl.aclUser != u || cl.subscriptions()+len(cl.cl.shardChannels) == 0 {
			continue
		}
		kill := false
		for p := range cl.patterns {
			kill = kill || !acl.ChannelAllowed(after, []byte(p), true)
		}
		for _, chans := range []map[string]struct{}{cl.channels, cl.cl.shardChannels} {
			for ch := range chans {
				kill = kill || !acl.ChannelAllowed(after, []byte(ch), false)
			}
		}
		if kill {
			cl.kill()
		}
	}
}

// writeSelector writes a selector's commands, keys and channels as ACL
// GETUSER shows them.
func writeSelector(c *Client, sel *acl.Selector) {
	w := c.W
	w.BulkString("commands")
	w.BulkString(c.srv.acl.users.CommandsDescription(sel))
	w.BulkString("keys")
	w.BulkString(strings.Join(sel.KeysDescription(), " "))
	w.BulkString("channels")
	w.BulkString(strings.Join(sel.ChannelsDescription(), " "))
}

func cmdACLGetuser(c *Client) {
	u := c.srv.acl.users.Get(string(c.Args[2]))
	if u == nil {
		c.W.Null()
		return
	}
	w := c.W
	w.MapLen(6)
	w.BulkString("flags")
	flags := u.Flags()
	w.SetLen(len(flags))
	for _, f := range flags {
		w.BulkString(f)
	}
	w.BulkString("passwords")
	w.StringArray(u.Passwords()...)
	writeSelector(c, u.Root())
	w.BulkString("selectors")
	sels := u.Selectors()
	w.ArrayLen(len(sels))
	for i := range sels {
		w.MapLen(3)
		writeSelector(c, &sels[i])
	}
}

// cmdACLDryrun is ACL DRYRUN user command [arg ...]: whether the user may
// run the command, without running or logging it.
func cmdACLDryrun(c *Client) {
	s := c.srv
	u := s.acl.users.Get(string(c.Args[2]))
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
	if reason, pos := u.Check(spec, args); reason != acl.OK {
		c.W.BulkString(acl.DryRunDenial(reason, spec, args, pos))
		return
	}
	c.W.OK()
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
		if u := s.acl.users.Delete(string(a)); u != nil {
			s.killUserClients(u)
			n++
		}
	}
	c.W.Int(int64(n))
}

// killUserClients disconnects the clients authenticated as u.
func (s *Server) killUserClients(u *acl.User) {
	for _, cl := range s.clients {
		if cl.aclUser == u {
			cl.kill()
		}
	}
}

func cmdACLList(c *Client) {
	users := c.srv.acl.users.Sorted()
	c.W.ArrayLen(len(users))
	for _, u := range users {
		c.W.BulkString(c.srv.acl.users.Describe(u))
	}
}

func cmdACLUsers(c *Client) {
	users := c.srv.acl.users.Sorted()
	c.W.ArrayLen(len(users))
	for _, u := range users {
		c.W.BulkString(u.Name())
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
	c.W.StringArray(acl.CategoryCommands(c.srv.cmds, cat)...)
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
		"LOAD",
		"    Reload users from the ACL file.",
		"LOG [<count> | RESET]",
		"    Show the ACL log entries.",
		"SAVE",
		"    Save the current config to the ACL file.",
		"SETUSER <username> <attribute> [<attribute> ...]",
		"    Create or modify a user with the specified attributes.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.",
	})
}
