package server

import (
	"fmt"
	"time"

	"github.com/shoal-dev/shoal/node/command"
)

// Plugin builds the hooks of a subsystem (replication, persistence, the
// cluster node, the event loops) for a server under construction: New
// calls each plugin once, in order, before it builds the command table.
// A plugin keeps s for later but must not use the databases, the
// command table or the lock before its Start hook (or a handler) runs.
type Plugin func(s *Server) (Hooks, error)

// Hooks is how a subsystem plugs into the engine, instead of call sites
// in engine files. Every field is optional. The engine calls each hook at
// one place, in the order the plugins were given to New.
type Hooks struct {
	// Name names the subsystem in errors.
	Name string
	// Handlers serve commands whose specs are in node/command, by full
	// name ("psync", "cluster|nodes"); they join the engine's own as if
	// listed in handlerGroups (checkServed applies to them).
	Handlers map[string]Handler
	// Commands are specs with their handlers (Run): a command family
	// (node/commands/<family>) plugs in this way (CommandFamilies).
	Commands []command.Spec
	// Info adds INFO sections by name (as SetInfoSection).
	Info map[string]InfoSection
	// Start runs from Serve once the data set is loaded, before clients
	// are served anything but -LOADING's answers; the lock is not held.
	Start func()
	// Cron runs at every serverCron tick after expiry and client
	// timeouts, with the lock held (not while loading).
	Cron func(now time.Time)
	// Guard runs in dispatch after the cluster routing, with the lock
	// held: a non-empty result refuses the command with that error reply.
	Guard func(c *Client, spec *command.Spec) string
	// Close runs from Close with the lock held, after the listeners
	// closed and before the clients are disconnected.
	Close func()
}

// hookSet is the plugged hooks, by kind, in plugin order.
type hookSet struct {
	commands []command.Spec
	handlers []map[string]Handler
	start    []func()
	cron     []func(time.Time)
	guard    []func(*Client, *command.Spec) string
	close    []func()
}

// plug runs the plugins and files their hooks.
func (s *Server) plug(plugins []Plugin) error {
	for _, p := range plugins {
		h, err := p(s)
		if err != nil {
			if h.Name != "" {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
			return err
		}
		s.addHooks(h)
	}
	return nil
}

func (s *Server) addHooks(h Hooks) {
	s.hooks.commands = append(s.hooks.commands, h.Commands...)
	if h.Handlers != nil {
		s.hooks.handlers = append(s.hooks.handlers, h.Handlers)
	}
	for name, f := range h.Info {
		if s.infoSections == nil {
			s.infoSections = map[string]InfoSection{}
		}
		s.infoSections[name] = f
	}
	if h.Start != nil {
		s.hooks.start = append(s.hooks.start, h.Start)
	}
	if h.Cron != nil {
		s.hooks.cron = append(s.hooks.cron, h.Cron)
	}
	if h.Guard != nil {
		s.hooks.guard = append(s.hooks.guard, h.Guard)
	}
	if h.Close != nil {
		s.hooks.close = append(s.hooks.close, h.Close)
	}
}

// guardRefuses is the first non-empty refusal of the Guard hooks.
func (s *Server) guardRefuses(c *Client, spec *command.Spec) string {
	for _, g := range s.hooks.guard {
		if msg := g(c, spec); msg != "" {
			return msg
		}
	}
	return ""
}

// CommandFamilies plugs command families into the engine: each family is
// the specs of a node/commands package, every one with its Run.
func CommandFamilies(families ...[]command.Spec) Plugin {
	return func(*Server) (Hooks, error) {
		var all []command.Spec
		for _, f := range families {
			all = append(all, f...)
		}
		return Hooks{Name: "commands", Commands: all}, nil
	}
}
