package commands

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/command"
)

func args(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

func TestDefaultTableIsConsistent(t *testing.T) {
	tab := fullTable(t)
	if tab.Count() < 190 { // the served set is checked name by name in node/server (testdata/commands.txt)
		t.Fatalf("only %d commands", tab.Count())
	}
	for id := 0; id < tab.NumIDs(); id++ {
		s := tab.ByID(id)
		if s.ID() != id {
			t.Fatalf("%s has ID %d at %d", s.FullName(), s.ID(), id)
		}
		if s.Arity == 0 {
			t.Errorf("%s has arity 0", s.FullName())
		}
		if s.Is(command.Write) && s.Is(command.ReadOnly) {
			t.Errorf("%s is both write and readonly", s.FullName())
		}
	}
	if _, err := command.NewTable(command.Groups()[0], command.Groups()[0]); err == nil {
		t.Fatal("duplicate commands accepted")
	}
}

func TestLookupIsCaseInsensitiveWithoutAllocating(t *testing.T) {
	tab := fullTable(t)
	for _, name := range []string{"get", "GET", "gEt"} {
		if s := tab.Lookup([]byte(name)); s == nil || s.Name != "get" {
			t.Fatalf("Lookup(%q) = %v", name, s)
		}
	}
	if tab.Lookup([]byte("nosuch")) != nil || tab.Lookup([]byte(strings.Repeat("x", 100))) != nil {
		t.Fatal("unknown command found")
	}
	name := []byte("SET")
	if n := testing.AllocsPerRun(100, func() { tab.Lookup(name) }); n != 0 {
		t.Fatalf("Lookup allocates %.0f times", n)
	}
	s, unknownSub := tab.LookupArgs(args("CONFIG GET maxmemory"))
	if s == nil || s.FullName() != "config|get" || unknownSub {
		t.Fatalf("config get = %v, %v", s, unknownSub)
	}
	if s, unknownSub := tab.LookupArgs(args("CONFIG NOPE")); s.FullName() != "config" || !unknownSub {
		t.Fatal("unknown subcommand not reported")
	}
	if s, unknownSub := tab.LookupArgs(args("CONFIG")); s.FullName() != "config" || unknownSub {
		t.Fatal("bare container should resolve to itself (arity error)")
	}
}

func TestArityAndErrors(t *testing.T) {
	tab := fullTable(t)
	get := tab.Lookup([]byte("get"))
	if get.ArityOK(1) || !get.ArityOK(2) || get.ArityOK(3) {
		t.Fatal("GET arity")
	}
	mset := tab.Lookup([]byte("mset"))
	if mset.ArityOK(2) || !mset.ArityOK(3) || !mset.ArityOK(7) {
		t.Fatal("MSET arity")
	}
	if got := command.ArityError(get); got != "ERR wrong number of arguments for 'get' command" {
		t.Fatal(got)
	}
	sub, _ := tab.LookupArgs(args("CLIENT SETNAME"))
	if got := command.ArityError(sub); got != "ERR wrong number of arguments for 'client|setname' command" {
		t.Fatal(got)
	}
	if got := command.UnknownCommandError(args("foo a b")); got != "ERR unknown command 'foo', with args beginning with: 'a' 'b' " {
		t.Fatalf("%q", got)
	}
	if got := command.UnknownSubcommandError(args("config nope")); got != "ERR unknown subcommand 'nope'. Try CONFIG HELP." {
		t.Fatalf("%q", got)
	}
	long := command.UnknownCommandError(args("foo " + strings.Repeat("y", 300)))
	if !strings.HasSuffix(long, "'"+strings.Repeat("y", 128)+"' ") {
		t.Fatalf("argument not truncated to 128 bytes: %q", long)
	}
}

func TestGetKeys(t *testing.T) {
	tab := fullTable(t)
	cases := []struct {
		cmd  string
		want string
		ok   bool
	}{
		{"GET k", "[1]", true},
		{"MSET a 1 b 2", "[1 3]", true},
		{"DEL a b c", "[1 2 3]", true},
		{"ZUNIONSTORE d 2 a b WEIGHTS 1 2", "[1 3 4]", true},
		{"ZUNIONSTORE d 5 a b", "[1]", false},
		{"ZUNION 2 a b", "[2 3]", true},
		{"LMPOP 2 a b LEFT", "[2 3]", true},
		{"SET a b EX 10", "[1]", true},
		{"BLPOP a b 0", "[1 2]", true},
		{"MIGRATE h 6379 k 0 100", "[3]", true},
		// migrateGetKeys: with KEYS the key argument must be empty, else
		// no key at all (COMMAND GETKEYS: "Invalid arguments").
		{"MIGRATE h 6379 x 0 100 KEYS a b", "[]", true},
	}
	for _, tc := range cases {
		a := args(tc.cmd)
		s, _ := tab.LookupArgs(a)
		if s == nil {
			t.Fatalf("%s: no spec", tc.cmd)
		}
		got, ok := s.GetKeys(a, nil)
		if ok != tc.ok || (ok && fmt.Sprint(got) != tc.want) {
			t.Errorf("%s: keys %v ok %v, want %s %v", tc.cmd, got, ok, tc.want, tc.ok)
		}
	}
}

func TestFlagAndCategoryNames(t *testing.T) {
	if got := fmt.Sprint((command.Write | command.DenyOOM | command.Fast).Names()); got != "[write denyoom fast]" {
		t.Fatal(got)
	}
	if got := fmt.Sprint((command.CatWrite | command.CatString | command.CatFast).Names()); got != "[@write @string @fast]" {
		t.Fatal(got)
	}
	if c, ok := command.CategoryByName("sortedset"); !ok || c != command.CatSortedset {
		t.Fatal("CategoryByName")
	}
}

func TestFlagsOfOursAreNotShown(t *testing.T) {
	if got := (command.NoQueue | command.SubscribedContext | command.OwnGoroutine).Names(); len(got) != 0 {
		t.Fatalf("COMMAND INFO would show %v", got)
	}
	if got := (command.Write | command.NoMulti | command.NoQueue).Names(); strings.Join(got, " ") != "write no_multi" {
		t.Fatalf("Names = %v", got)
	}
}

func TestMovableKeysComputedFromKeySpecs(t *testing.T) {
	tab := fullTable(t)
	for name, want := range map[string]bool{
		"get": false, "mset": false, "zunionstore": true, "lmpop": true, "migrate": true, "set": false,
	} {
		if got := tab.Lookup([]byte(name)).Is(command.MovableKeys); got != want {
			t.Errorf("%s movablekeys = %v, want %v", name, got, want)
		}
	}
}

func TestGetKeysWithFlags(t *testing.T) {
	tab := fullTable(t)
	for _, c := range []struct {
		line string
		want []command.KeyRef
	}{
		{"SET k v", []command.KeyRef{{Pos: 1, Flags: command.KeyOW | command.KeyUpdate}}},
		{"SET k v GET", []command.KeyRef{{Pos: 1, Flags: command.KeyRW | command.KeyAccess | command.KeyUpdate}}},
		{"SMOVE a b m", []command.KeyRef{{Pos: 1, Flags: command.KeyRW | command.KeyAccess | command.KeyDelete}, {Pos: 2, Flags: command.KeyRW | command.KeyInsert}}},
		{"SSUBSCRIBE ch", nil},
	} {
		a := args(c.line)
		got, _ := tab.Lookup(a[0]).GetKeysWithFlags(a, nil)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %v, want %v", c.line, got, c.want)
		}
	}
}

func TestRedactedArgs(t *testing.T) {
	tab := fullTable(t)
	for line, want := range map[string]string{
		"AUTH pw":                             "AUTH (redacted)",
		"AUTH u pw":                           "AUTH (redacted) (redacted)",
		"HELLO 3 AUTH u p SETNAME n":          "HELLO 3 AUTH (redacted) (redacted) SETNAME n",
		"MIGRATE h 1 k 0 10 AUTH2 u p KEYS a": "MIGRATE h 1 k 0 10 AUTH2 (redacted) (redacted) KEYS a",
		"MIGRATE h 1 k 0 10 KEYS AUTH x":      "MIGRATE h 1 k 0 10 KEYS AUTH x",
		"GET k":                               "GET k",
	} {
		a := args(line)
		spec, _ := tab.LookupArgs(a)
		var out []string
		for _, x := range spec.RedactedArgs(a) {
			out = append(out, string(x))
		}
		if got := strings.Join(out, " "); got != want {
			t.Errorf("%s: %s, want %s", line, got, want)
		}
	}
	cs, _ := tab.LookupArgs(args("CONFIG SET requirepass x maxmemory 1"))
	if got := cs.RedactedArgs(args("CONFIG SET requirepass x maxmemory 1")); string(got[3]) != command.Redacted || string(got[5]) != "1" {
		t.Errorf("CONFIG SET: %q", got)
	}
}

func TestMayHaveNeverMissesAFlag(t *testing.T) {
	tab := fullTable(t)
	for _, s := range tab.Commands() {
		for _, name := range []string{s.Name, strings.ToUpper(s.Name)} {
			if !tab.MayHave([]byte(name), s.Flags) {
				t.Errorf("MayHave(%s, %v) = false", name, s.Flags.Names())
			}
		}
	}
	for _, name := range []string{"get", "SET", "hget", "incr"} {
		if tab.MayHave([]byte(name), command.OwnGoroutine) {
			t.Errorf("%s may run on its own goroutine", name)
		}
	}
	if n := testing.AllocsPerRun(100, func() { tab.MayHave([]byte("GET"), command.OwnGoroutine) }); n != 0 {
		t.Fatalf("MayHave allocates %.0f times", n)
	}
}

// fullTable is the node's whole table: the engine's groups and every family.
func fullTable(t *testing.T) *command.Table {
	t.Helper()
	tab, err := command.NewTable(append(command.Groups(), All()...)...)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// Spec and handler are one row: every command and subcommand of every
// family carries its Run, and the families share no name.
func TestEveryFamilySpecHasItsRun(t *testing.T) {
	seen := map[string]bool{}
	var check func(prefix string, specs []command.Spec)
	check = func(prefix string, specs []command.Spec) {
		for _, s := range specs {
			name := prefix + s.Name
			if seen[name] {
				t.Errorf("%s is in two families", name)
			}
			seen[name] = true
			if len(s.Subcommands) > 0 {
				check(name+"|", s.Subcommands)
			} else if s.Run == nil {
				t.Errorf("%s has no Run", name)
			}
		}
	}
	for _, f := range All() {
		check("", f)
	}
	if len(seen) < 140 {
		t.Fatalf("only %d family commands", len(seen))
	}
}
