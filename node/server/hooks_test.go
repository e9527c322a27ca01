package server

import (
	"errors"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/command"
)

func newPlugged(t *testing.T, plugins ...Plugin) (*Server, error) {
	t.Helper()
	cfg, err := ParseArgs([]string{"--port", "0", "--save", ""})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, enginePlugins(plugins...)...)
	if err == nil {
		t.Cleanup(s.Close)
	}
	return s, err
}

// A plugged Guard refuses before the handler runs, with its error, and
// an INFO section of a plugin is served by name.
func TestHooksGuardAndInfo(t *testing.T) {
	refuse := false
	s, err := newPlugged(t, func(*Server) (Hooks, error) {
		return Hooks{
			Name: "test",
			Guard: func(_ *Client, spec *command.Spec) string {
				if refuse && spec.Is(command.Write) {
					return "ERR refused by the test guard"
				}
				return ""
			},
			Info: map[string]InfoSection{"testsection": func(b *strings.Builder) { b.WriteString("plugged:1\r\n") }},
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := pipeClient(t, s)
	if got := c.do("SET", "k", "1"); got != "+OK\r\n" {
		t.Fatalf("SET before the guard refuses: %q", got)
	}
	refuse = true
	if got := c.do("SET", "k", "2"); got != "-ERR refused by the test guard\r\n" {
		t.Fatalf("SET refused by the guard: %q", got)
	}
	if got := c.do("GET", "k"); got != "$1\r\n1\r\n" {
		t.Fatalf("GET after a refused SET: %q (the refused write ran)", got)
	}
	if got := c.do("INFO", "testsection"); !strings.Contains(got, "plugged:1") {
		t.Fatalf("INFO testsection: %q", got)
	}
}

// A plugin's handler joins the table as the engine's own: one for a name
// the engine serves already is refused, and a plugin's error stops New
// with the plugin's name.
func TestHooksHandlersAndErrors(t *testing.T) {
	_, err := newPlugged(t, func(*Server) (Hooks, error) {
		return Hooks{Handlers: map[string]Handler{"ping": func(c *Client) { c.W.OK() }}}, nil
	})
	if err == nil || !strings.Contains(err.Error(), `two handlers for "ping"`) {
		t.Fatalf("a second PING handler: %v", err)
	}
	_, err = newPlugged(t, func(*Server) (Hooks, error) {
		return Hooks{Name: "broken"}, errors.New("cannot start")
	})
	if err == nil || err.Error() != "broken: cannot start" {
		t.Fatalf("a failing plugin: %v", err)
	}
}
