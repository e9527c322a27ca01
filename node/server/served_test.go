package server

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/command"
)

// servedCommandsFile is the checked-in list of every command and
// subcommand the node serves, one full name a line. A change to the
// served set changes this file in the same commit, so it is deliberate.
// SHOAL_UPDATE_TESTDATA=1 rewrites it from the table.
var servedCommandsFile = filepath.Join("testdata", "served_commands.txt")

func servedNames(t *command.Table) []string {
	var names []string
	for id := 0; id < t.NumIDs(); id++ {
		names = append(names, t.ByID(id).FullName())
	}
	sort.Strings(names)
	return names
}

func TestServedCommandsAreTheCheckedList(t *testing.T) {
	s := newInProcess(t)
	got := servedNames(s.Commands())
	if os.Getenv("SHOAL_UPDATE_TESTDATA") == "1" {
		if err := os.WriteFile(servedCommandsFile, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(servedCommandsFile)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(b))
	gotSet, wantSet := map[string]bool{}, map[string]bool{}
	for _, n := range got {
		gotSet[n] = true
	}
	for _, n := range want {
		wantSet[n] = true
		if !gotSet[n] {
			t.Errorf("%s is in %s but not served", n, servedCommandsFile)
		}
	}
	for _, n := range got {
		if !wantSet[n] {
			t.Errorf("%s is served but not in %s (add it there in the same change)", n, servedCommandsFile)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d names served, %d listed", len(got), len(want))
	}
}

// The table of node/command and the handlers match one to one (New
// refuses to start otherwise; this names the mismatches).
func TestEverySpecHasAHandlerAndBack(t *testing.T) {
	tab, err := command.NewTable(command.Groups()...)
	if err != nil {
		t.Fatal(err)
	}
	// The plugged subsystems' handlers (replication's) join the engine's.
	hs, err := mergeHandlers(append(handlerGroups(), newInProcess(t).hooks.handlers...))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkServed(tab, hs); err != nil {
		t.Fatal(err)
	}
}

// The check itself must refuse both kinds of mismatch, and a misspelled
// subcommand handler, naming each.
func TestCheckServedRefusesMismatches(t *testing.T) {
	tab, err := command.NewTable([]command.Spec{
		{Name: "get", Arity: 2},
		{Name: "client", Arity: -2, Subcommands: []command.Spec{{Name: "list", Arity: -2}, {Name: "id", Arity: 2}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := func(*Client) {}
	for _, tc := range []struct {
		name     string
		handlers map[string]Handler
		want     []string
	}{
		{"complete", map[string]Handler{"get": h, "client|list": h, "client|id": h}, nil},
		{"container with its own handler", map[string]Handler{"get": h, "client": h, "client|list": h, "client|id": h}, nil},
		{"spec without handler", map[string]Handler{"client|list": h, "client|id": h}, []string{`spec "get" has no handler`}},
		{"subcommand without handler", map[string]Handler{"get": h, "client|list": h}, []string{`spec "client|id" has no handler`}},
		{"misspelled handler", map[string]Handler{"get": h, "client|list": h, "client|id": h, "gte": h}, []string{`handler "gte" matches no spec`}},
		{"misspelled subcommand handler", map[string]Handler{"get": h, "client|list": h, "client|idd": h},
			[]string{`handler "client|idd" matches no spec`, `spec "client|id" has no handler`}},
		{"upper-case handler name", map[string]Handler{"GET": h, "client|list": h, "client|id": h},
			[]string{`handler "GET" matches no spec`, `spec "get" has no handler`}},
	} {
		err := checkServed(tab, tc.handlers)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %s", tc.name, err, w)
			}
		}
	}
}
