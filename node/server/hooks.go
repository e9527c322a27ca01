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

	// Init runs at the end of New, once the databases and the command
	// table exist and before the data set is loaded (the cluster node
	// installs its per-slot key index and reads nodes.conf); an error
	// fails New.
	Init func() error
	// Listen runs from Listen once the client listeners are open (the
	// cluster bus port); an error closes them and fails Listen.
	Listen func() error
	// Route runs in dispatch after the ACL check, before the replication
	// and Guard checks (Redis's processCommand cluster redirection), with
	// the lock held: a non-empty result refuses the command with that
	// reply (MOVED, ASK, CLUSTERDOWN, ...), as is: inside MULTI the
	// transaction then fails with EXECABORT, and a refused EXEC discards
	// its transaction.
	Route func(c *Client, spec *command.Spec, args [][]byte) string
	// ConfigChanged runs after CONFIG SET changed parameters, with the
	// lock held (the cluster node hands its cluster-* changes to the
	// machine).
	ConfigChanged func()
	// Published runs after PUBLISH or SPUBLISH (sharded) delivered a
	// client's message to the local subscribers, lock held
	// (the cluster bus carries it to the other nodes). The engine's own
	// deliveries (Server.Publish, DeliverShard) do not call it.
	Published func(channel, message []byte, sharded bool)
	// Connections adds to INFO's cluster_connections (the bus links).
	Connections func() int
}

// hookSet is the plugged hooks, by kind, in plugin order.
type hookSet struct {
	handlers  []map[string]Handler
	start     []func()
	cron      []func(time.Time)
	guard     []func(*Client, *command.Spec) string
	close     []func()
	commands  []command.Spec
	init      []func() error
	listen    []func() error
	route     []func(*Client, *command.Spec, [][]byte) string
	config    []func()
	published []func(channel, message []byte, sharded bool)
	conns     []func() int
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
	if h.Init != nil {
		s.hooks.init = append(s.hooks.init, h.Init)
	}
	if h.Listen != nil {
		s.hooks.listen = append(s.hooks.listen, h.Listen)
	}
	if h.Route != nil {
		s.hooks.route = append(s.hooks.route, h.Route)
	}
	if h.ConfigChanged != nil {
		s.hooks.config = append(s.hooks.config, h.ConfigChanged)
	}
	if h.Published != nil {
		s.hooks.published = append(s.hooks.published, h.Published)
	}
	if h.Connections != nil {
		s.hooks.conns = append(s.hooks.conns, h.Connections)
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

// routeRefuses is the first non-empty refusal of the Route hooks.
func (s *Server) routeRefuses(c *Client, spec *command.Spec, args [][]byte) string {
	for _, r := range s.hooks.route {
		if msg := r(c, spec, args); msg != "" {
			return msg
		}
	}
	return ""
}

// published runs the Published hooks (PUBLISH, SPUBLISH).
func (s *Server) published(channel, message []byte, sharded bool) {
	for _, f := range s.hooks.published {
		f(channel, message, sharded)
	}
}

// hookConnections is the sum of the Connections hooks.
func (s *Server) hookConnections() int {
	n := 0
	for _, f := range s.hooks.conns {
		n += f()
	}
	return n
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
