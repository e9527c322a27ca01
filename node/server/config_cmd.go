package server

import (
	"strings"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/config"
)

// CONFIG GET/SET/REWRITE/RESETSTAT/HELP.

func cmdConfigGet(c *Client) {
	patterns := make([]string, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		patterns = append(patterns, string(a))
	}
	pairs := c.srv.params.Get(c.srv.cfg, patterns)
	c.W.MapLen(len(pairs))
	for _, kv := range pairs {
		c.W.BulkString(kv[0])
		c.W.BulkString(kv[1])
	}
}

// cmdConfigSet is Redis 7's CONFIG SET: every name is checked (known,
// settable, not given twice) before any value is parsed, then the values
// are set in order on a copy of the configuration, which replaces the
// running one only if every value was accepted.
func cmdConfigSet(c *Client) {
	s := c.srv
	args := c.Args[2:]
	if len(args)%2 != 0 {
		c.Error(command.ErrSyntax)
		return
	}
	t := s.params
	found := make([]*config.Param, 0, len(args)/2)
	seen := make(map[string]bool, len(args)/2)
	for i := 0; i < len(args); i += 2 {
		// The first refused name decides the error, in argument order.
		name := string(args[i])
		p := t.Lookup(name)
		switch {
		case p == nil:
			c.Error("ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'")
			return
		case p.Is(config.FlagImmutable):
			c.Error(configSetError(name, "can't set immutable config"))
			return
		case p.Is(config.FlagProtected) && !protectedActionAllowed(s.cfg.EnableProtectedConfigs, c):
			c.Error(configSetError(name, "can't set protected config"))
			return
		case seen[strings.ToLower(name)]: // a name and its alias are two parameters to Redis
			c.Error(configSetError(name, "duplicate parameter"))
			return
		}
		seen[strings.ToLower(name)] = true
		found = append(found, p)
	}
	next := *s.cfg
	for i, p := range found {
		v := string(args[2*i+1])
		vals := []string{v}
		if p.Is(config.FlagMultiArg) {
			vals = splitConfigValue(v)
		}
		if err := p.Set(&next, vals); err != nil {
			c.Error(configSetError(strings.ToLower(string(args[2*i])), err.Error()))
			return
		}
	}
	for i, p := range found {
		if err := p.Apply(s.cfg, &next); err != nil {
			c.Error(configSetError(strings.ToLower(string(args[2*i])), err.Error()))
			return
		}
	}
	*s.cfg = next
	for _, p := range found {
		if p.Name() == "requirepass" {
			s.syncRequirePass()
		}
	}
	s.configChanged()
	c.W.OK()
}

func configSetError(name, reason string) string {
	return "ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + reason
}

// splitConfigValue splits a multi-argument CONFIG SET value on single
// spaces, as Redis's sdssplitlen (so "a  b" has an empty argument and ""
// has none).
func splitConfigValue(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, " ")
}

// protectedActionAllowed is Redis's allowProtectedAction for
// enable-protected-configs and enable-debug-command: yes, or local for a
// client on the loopback or a unix socket.
func protectedActionAllowed(setting string, c *Client) bool {
	return setting == "yes" || (setting == "local" && c.isLocal())
}

// configChanged applies parameters that act at runtime.
func (s *Server) configChanged() {
	s.applyEvictionPolicy()
	s.applyGC()
	s.noteShutdownTimeout()
	s.applyNotifyConfig()
	s.applyLatencyConfig()
	for _, changed := range s.hooks.config {
		changed()
	}
	for _, cl := range s.clients {
		cl.rd.MaxBulkLen = s.cfg.ProtoMaxBulkLen
	}
	if s.cfg.MaxMemory > 0 {
		s.performEvictions()
	}
}

func cmdConfigResetstat(c *Client) {
	s := c.srv
	s.stats.reset()
	for i := range s.cmdStats {
		s.cmdStats[i] = cmdStat{}
	}
	c.W.OK()
}

func cmdConfigRewrite(c *Client) {
	if c.srv.cfg.File == "" {
		c.Error("ERR The server is running without a config file")
		return
	}
	if err := c.srv.params.Rewrite(c.srv.cfg.File, c.srv.cfg, c.srv.userLines()); err != nil {
		c.Error("ERR Rewriting config file: " + config.ErrnoText(err))
		return
	}
	c.W.OK()
}

func cmdConfigHelp(c *Client) {
	c.ReplyHelp("CONFIG", []string{
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
	})
}
