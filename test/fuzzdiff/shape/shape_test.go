package shape

import (
	"os"
	"testing"
)

// sample parses the stored replies of Redis 7.0.15 to
// COMMAND INFO|DOCS set zadd zintercard blpop config migrate srandmember
// smembers spop scan getex bitfield hgetall ttl lmpop wait shutdown command acl.
func sample(t *testing.T) map[string]*Command {
	t.Helper()
	info, err1 := os.ReadFile("../testdata/command-info.resp")
	docs, err2 := os.ReadFile("../testdata/command-docs.resp")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	cmds, err := ParseRaw(info, docs)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Command{}
	for _, c := range cmds {
		byName[c.Name] = c
		for _, s := range c.Subs {
			byName[s.Name] = s
		}
	}
	return byName
}

func TestParseSampleTopLevel(t *testing.T) {
	cmds := sample(t)
	set := cmds["set"]
	if set == nil || set.Arity != -3 || !set.Flags["write"] || set.FirstKey != 1 || set.Group != "string" {
		t.Fatalf("set = %+v", set)
	}
	var names []string
	for _, a := range set.Args {
		names = append(names, a.Name+":"+a.Type)
	}
	want := []string{"key:key", "value:string", "condition:oneof", "get:pure-token", "expiration:oneof"}
	if len(names) != len(want) {
		t.Fatalf("set args = %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Errorf("set arg %d = %s, want %s", i, names[i], want[i])
		}
	}
	cond := set.Args[2]
	if !cond.Optional || len(cond.Args) != 2 || cond.Args[0].Token != "NX" || cond.Args[1].Token != "XX" {
		t.Errorf("set condition = %+v", cond)
	}
	if !cmds["blpop"].Flags["blocking"] {
		t.Error("blpop lacks the blocking flag")
	}
	if !cmds["srandmember"].HasTip("nondeterministic_output") || !cmds["smembers"].HasTip("nondeterministic_output_order") {
		t.Error("tips not parsed")
	}
	keys := cmds["zintercard"].Args[1]
	if keys.Name != "key" || !keys.Multiple {
		t.Errorf("zintercard keys = %+v", keys)
	}
}

func TestParseSampleSubcommands(t *testing.T) {
	cmds := sample(t)
	cs := cmds["config|set"]
	if cs == nil || len(cs.Words) != 2 || cs.Words[0] != "CONFIG" || cs.Words[1] != "SET" || cs.Arity != -4 {
		t.Fatalf("config|set = %+v", cs)
	}
	block := cs.Args[0]
	if block.Type != TypeBlock || !block.Multiple || len(block.Args) != 2 || block.Args[0].Name != "parameter" {
		t.Errorf("config|set args = %+v", cs.Args)
	}
	leaves := Leaves([]*Command{cmds["config"], cmds["set"]})
	if len(leaves) < 5 || leaves[len(leaves)-1].Name != "set" {
		t.Errorf("Leaves: %d commands, last %q", len(leaves), leaves[len(leaves)-1].Name)
	}
	for _, l := range leaves {
		if len(l.Subs) != 0 {
			t.Errorf("leaf %s has subcommands", l.Name)
		}
	}
}
