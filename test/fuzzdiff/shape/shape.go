// Package shape turns Redis's COMMAND DOCS and COMMAND INFO replies into
// command shapes: each command's arity, flags, tips and argument tree, the
// input of the generator. It is pure: it parses replies it is given and asks
// no server.
package shape

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/test/fuzzdiff/resp"
)

// Argument types of COMMAND DOCS.
const (
	TypeKey       = "key"
	TypeString    = "string"
	TypeInteger   = "integer"
	TypeDouble    = "double"
	TypePattern   = "pattern"
	TypeUnixTime  = "unix-time"
	TypePureToken = "pure-token"
	TypeOneOf     = "oneof"
	TypeBlock     = "block"
)

// Arg is one node of a command's argument tree (COMMAND DOCS "arguments").
type Arg struct {
	Name          string
	Type          string
	Token         string // a keyword that precedes the value ("EX"), or the pure token
	Optional      bool
	Multiple      bool
	MultipleToken bool // the token repeats with each value ("GET p1 GET p2")
	Args          []Arg
}

// Command is one command or subcommand. Name is lower case; a subcommand
// is "container|sub" (as in ACL rules), and Words is what a client sends
// for it ("CONFIG", "SET").
type Command struct {
	Name     string
	Words    []string
	Group    string
	Arity    int
	Flags    map[string]bool
	Tips     map[string]bool
	FirstKey int
	Args     []Arg
	Subs     []*Command
}

// HasTip reports whether Redis marks the command with the tip
// ("nondeterministic_output", "nondeterministic_output_order", ...).
func (c *Command) HasTip(tip string) bool { return c.Tips[tip] }

// pairs walks a map reply (a RESP3 map or a RESP2 flat array of
// alternating keys and values).
func pairs(v resp.Value) map[string]resp.Value {
	m := map[string]resp.Value{}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		m[strings.ToLower(v.Elems[i].Str)] = v.Elems[i+1]
	}
	return m
}

func strs(v resp.Value) []string {
	out := make([]string, 0, len(v.Elems))
	for _, e := range v.Elems {
		out = append(out, e.Str)
	}
	return out
}

func set(words []string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[strings.ToLower(w)] = true
	}
	return m
}

// ParseArgs parses a COMMAND DOCS "arguments" array.
func ParseArgs(v resp.Value) []Arg {
	out := make([]Arg, 0, len(v.Elems))
	for _, e := range v.Elems {
		m := pairs(e)
		flags := set(strs(m["flags"]))
		a := Arg{
			Name:          m["name"].Str,
			Type:          m["type"].Str,
			Token:         m["token"].Str,
			Optional:      flags["optional"],
			Multiple:      flags["multiple"],
			MultipleToken: flags["multiple_token"],
		}
		if sub, ok := m["arguments"]; ok {
			a.Args = ParseArgs(sub)
		}
		out = append(out, a)
	}
	return out
}

// info is one COMMAND INFO entry.
type info struct {
	arity    int
	flags    []string
	firstKey int
	tips     []string
	subs     map[string]info
}

func parseInfo(e resp.Value) (string, info, error) {
	if len(e.Elems) < 10 {
		return "", info{}, fmt.Errorf("shape: COMMAND INFO entry with %d fields, want 10", len(e.Elems))
	}
	arity, err1 := strconv.Atoi(e.Elems[1].Str)
	first, err2 := strconv.Atoi(e.Elems[3].Str)
	if err1 != nil || err2 != nil {
		return "", info{}, fmt.Errorf("shape: COMMAND INFO entry %q: bad arity or first key", e.Elems[0].Str)
	}
	in := info{arity: arity, flags: strs(e.Elems[2]), firstKey: first, tips: strs(e.Elems[7]), subs: map[string]info{}}
	for _, s := range e.Elems[9].Elems {
		name, si, err := parseInfo(s)
		if err != nil {
			return "", info{}, err
		}
		in.subs[name] = si
	}
	return strings.ToLower(e.Elems[0].Str), in, nil
}

// Parse builds the command shapes from the replies of COMMAND INFO (no
// arguments: every command) and COMMAND DOCS (likewise). A command that
// has docs but no info is dropped; subcommands are nested under their
// container, which keeps its own arity and flags. The result is sorted by
// name, so a seed generates the same commands on every run.
func Parse(infoReply, docsReply resp.Value) ([]*Command, error) {
	infos := map[string]info{}
	for _, e := range infoReply.Elems {
		if e.Null || e.Kind == '_' {
			continue
		}
		name, in, err := parseInfo(e)
		if err != nil {
			return nil, err
		}
		infos[name] = in
	}
	docs := pairs(docsReply)
	var out []*Command
	for name, d := range docs {
		in, ok := infos[name]
		if !ok {
			continue
		}
		out = append(out, build(name, nil, in, pairs(d)))
	}
	sortCommands(out)
	return out, nil
}

func build(name string, container *Command, in info, doc map[string]resp.Value) *Command {
	c := &Command{
		Name:     name,
		Group:    doc["group"].Str,
		Arity:    in.arity,
		Flags:    set(in.flags),
		Tips:     set(in.tips),
		FirstKey: in.firstKey,
		Args:     ParseArgs(doc["arguments"]),
	}
	if container == nil {
		c.Words = []string{strings.ToUpper(name)}
	} else {
		_, sub, _ := strings.Cut(name, "|")
		c.Words = []string{container.Words[0], strings.ToUpper(sub)}
	}
	for subName, sd := range pairs(doc["subcommands"]) {
		si, ok := in.subs[subName]
		if !ok {
			continue
		}
		c.Subs = append(c.Subs, build(subName, c, si, pairs(sd)))
	}
	sortCommands(c.Subs)
	return c
}

func sortCommands(cs []*Command) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
}

// Leaves are the commands a client can send: every command without
// subcommands, and every subcommand, sorted by name.
func Leaves(cs []*Command) []*Command {
	var out []*Command
	for _, c := range cs {
		if len(c.Subs) == 0 {
			out = append(out, c)
			continue
		}
		out = append(out, c.Subs...)
	}
	return out
}

// ParseRaw parses COMMAND INFO and COMMAND DOCS replies given as raw RESP
// bytes (a stored capture, as in testdata/).
func ParseRaw(infoRaw, docsRaw []byte) ([]*Command, error) {
	info, err := resp.Read(bufio.NewReader(bytes.NewReader(infoRaw)))
	if err != nil {
		return nil, fmt.Errorf("shape: COMMAND INFO reply: %w", err)
	}
	docs, err := resp.Read(bufio.NewReader(bytes.NewReader(docsRaw)))
	if err != nil {
		return nil, fmt.Errorf("shape: COMMAND DOCS reply: %w", err)
	}
	return Parse(info, docs)
}
