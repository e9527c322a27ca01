// Command specgen writes the command-table files of package command from
// the COMMAND INFO and COMMAND DOCS replies of a reference Redis 7 server,
// so arity, flags, key specs and ACL categories match Redis exactly:
//
//	redis-cli -p PORT --json COMMAND INFO > /tmp/info.json
//	redis-cli -p PORT --json COMMAND DOCS > /tmp/docs.json
//	go run ./node/command/internal/specgen -info /tmp/info.json -docs /tmp/docs.json -out node/command
//
// It only writes the groups listed in -groups, each to its own file. The
// files are then owned by hand (handlers may need flags Redis lacks).
//
// With -family PKG it writes a command family's specs.go instead (package
// PKG, identifiers of package command qualified, a Run: cmd<Name> in every
// row, for the handlers the family then defines), e.g. for streams:
//
//	go run ./node/command/internal/specgen -info /tmp/info.json -docs /tmp/docs.json \
//	    -groups stream=stream -family stream -out node/commands/stream
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"go/scanner"
	"go/token"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type keySpec struct {
	Notes       string   `json:"notes"`
	Flags       []string `json:"flags"`
	BeginSearch struct {
		Type string `json:"type"`
		Spec struct {
			Index     int    `json:"index"`
			Keyword   string `json:"keyword"`
			StartFrom int    `json:"startfrom"`
		} `json:"spec"`
	} `json:"begin_search"`
	FindKeys struct {
		Type string `json:"type"`
		Spec struct {
			LastKey   int `json:"lastkey"`
			KeyStep   int `json:"keystep"`
			Limit     int `json:"limit"`
			KeyNumIdx int `json:"keynumidx"`
			FirstKey  int `json:"firstkey"`
		} `json:"spec"`
	} `json:"find_keys"`
}

type info struct {
	Name              string
	Arity             int
	Flags             []string
	First, Last, Step int
	ACL               []string
	Tips              []string
	KeySpecs          []keySpec
	Subcommands       []info
}

func (c *info) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) < 10 {
		return fmt.Errorf("short COMMAND INFO entry %s", b)
	}
	fields := []any{&c.Name, &c.Arity, &c.Flags, &c.First, &c.Last, &c.Step, &c.ACL, &c.Tips, &c.KeySpecs, &c.Subcommands}
	for i, f := range fields {
		if err := json.Unmarshal(raw[i], f); err != nil {
			return fmt.Errorf("field %d of %s: %w", i, b, err)
		}
	}
	return nil
}

type doc struct {
	Summary         string         `json:"summary"`
	Since           string         `json:"since"`
	Group           string         `json:"group"`
	Complexity      string         `json:"complexity"`
	DeprecatedSince string         `json:"deprecated_since"`
	ReplacedBy      string         `json:"replaced_by"`
	DocFlags        []string       `json:"doc_flags"`
	History         [][2]string    `json:"history"`
	Arguments       []arg          `json:"arguments"`
	Subcommands     map[string]doc `json:"subcommands"`
}

type arg struct {
	Name            string   `json:"name"`
	Type            string   `json:"type"`
	Token           string   `json:"token"`
	Since           string   `json:"since"`
	DeprecatedSince string   `json:"deprecated_since"`
	KeySpecIndex    *int     `json:"key_spec_index"`
	Flags           []string `json:"flags"`
	Arguments       []arg    `json:"arguments"`
}

// writeArgs writes COMMAND DOCS arguments as []Arg elements.
func writeArgs(b *bytes.Buffer, args []arg) {
	for _, a := range args {
		fmt.Fprintf(b, "{Name: %q, Type: %q", a.Name, a.Type)
		for _, f := range []struct{ field, v string }{{"Token", a.Token}, {"Since", a.Since}, {"DeprecatedSince", a.DeprecatedSince}} {
			if f.v != "" {
				fmt.Fprintf(b, ", %s: %q", f.field, f.v)
			}
		}
		if a.KeySpecIndex != nil {
			fmt.Fprintf(b, ", KeySpecIndex: KeySpecAt(%d)", *a.KeySpecIndex)
		}
		for _, f := range a.Flags {
			switch f {
			case "optional":
				b.WriteString(", Optional: true")
			case "multiple":
				b.WriteString(", Multiple: true")
			case "multiple_token":
				b.WriteString(", MultipleToken: true")
			default:
				log.Fatalf("unknown argument flag %q", f)
			}
		}
		if len(a.Arguments) > 0 {
			b.WriteString(", Arguments: []Arg{\n")
			writeArgs(b, a.Arguments)
			b.WriteString("}")
		}
		b.WriteString("},\n")
	}
}

var flagNames = map[string]string{
	"write": "Write", "readonly": "ReadOnly", "denyoom": "DenyOOM", "module": "Module",
	"admin": "Admin", "pubsub": "PubSub", "noscript": "NoScript", "blocking": "Blocking",
	"loading": "Loading", "stale": "Stale", "skip_monitor": "SkipMonitor",
	"skip_slowlog": "SkipSlowlog", "asking": "Asking", "fast": "Fast", "no_auth": "NoAuth",
	"may_replicate": "MayReplicate", "no_mandatory_keys": "NoMandatoryKeys",
	"no_async_loading": "NoAsyncLoading", "no_multi": "NoMulti", "movablekeys": "MovableKeys",
	"allow_busy": "AllowBusy",
}

var keyFlagNames = map[string]string{
	"RO": "KeyRO", "RW": "KeyRW", "OW": "KeyOW", "RM": "KeyRM", "access": "KeyAccess",
	"update": "KeyUpdate", "insert": "KeyInsert", "delete": "KeyDelete", "not_key": "KeyNotKey",
	"incomplete": "KeyIncomplete", "variable_flags": "KeyVariableFlags",
}

func camel(s string) string {
	var b strings.Builder
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

func orFlags(names []string, table map[string]string, prefix string) string {
	if len(names) == 0 {
		return "0"
	}
	var parts []string
	for _, n := range names {
		if table != nil {
			v, ok := table[n]
			if !ok {
				log.Fatalf("unknown flag %q", n)
			}
			parts = append(parts, v)
		} else {
			parts = append(parts, prefix+camel(strings.TrimPrefix(n, "@")))
		}
	}
	return strings.Join(parts, " | ")
}

func writeSpec(b *bytes.Buffer, c info, d doc, sub, withRun bool) {
	name := c.Name
	if sub {
		name = name[strings.IndexByte(name, '|')+1:]
	}
	run := ""
	if withRun && len(c.Subcommands) == 0 {
		run = " Run: " + handlerName(c.Name) + ","
	}
	fmt.Fprintf(b, "{Name: %q,%s Arity: %d, Flags: %s, FirstKey: %d, LastKey: %d, Step: %d,\n",
		name, run, c.Arity, orFlags(c.Flags, flagNames, ""), c.First, c.Last, c.Step)
	fmt.Fprintf(b, "Categories: %s,\n", orFlags(c.ACL, nil, "Cat"))
	if len(c.Tips) > 0 {
		fmt.Fprintf(b, "Tips: %#v,\n", c.Tips)
	}
	if len(c.KeySpecs) > 0 {
		b.WriteString("KeySpecs: []KeySpec{\n")
		for _, k := range c.KeySpecs {
			b.WriteString("{")
			if k.Notes != "" {
				fmt.Fprintf(b, "Notes: %q, ", k.Notes)
			}
			fmt.Fprintf(b, "Flags: %s, ", orFlags(k.Flags, keyFlagNames, ""))
			switch k.BeginSearch.Type {
			case "index":
				fmt.Fprintf(b, "Begin: BeginIndex(%d), ", k.BeginSearch.Spec.Index)
			case "keyword":
				fmt.Fprintf(b, "Begin: BeginKeyword(%q, %d), ", k.BeginSearch.Spec.Keyword, k.BeginSearch.Spec.StartFrom)
			default:
				b.WriteString("Begin: BeginSearch{}, ")
			}
			switch k.FindKeys.Type {
			case "range":
				s := k.FindKeys.Spec
				fmt.Fprintf(b, "Find: FindRange(%d, %d, %d)", s.LastKey, s.KeyStep, s.Limit)
			case "keynum":
				s := k.FindKeys.Spec
				fmt.Fprintf(b, "Find: FindKeynum(%d, %d, %d)", s.KeyNumIdx, s.FirstKey, s.KeyStep)
			default:
				b.WriteString("Find: FindKeys{}")
			}
			b.WriteString("},\n")
		}
		b.WriteString("},\n")
	}
	fmt.Fprintf(b, "Doc: Doc{Group: %q, Since: %q, Summary: %q, Complexity: %q", d.Group, d.Since, d.Summary, d.Complexity)
	if d.DeprecatedSince != "" {
		fmt.Fprintf(b, ", DeprecatedSince: %q, ReplacedBy: %q", d.DeprecatedSince, d.ReplacedBy)
	}
	if len(d.DocFlags) > 0 {
		fmt.Fprintf(b, ", DocFlags: %#v", d.DocFlags)
	}
	if len(d.History) > 0 {
		fmt.Fprintf(b, ", History: %#v", d.History)
	}
	if len(d.Arguments) > 0 {
		b.WriteString(", Arguments: []Arg{\n")
		writeArgs(b, d.Arguments)
		b.WriteString("}")
	}
	b.WriteString("},\n")
	if len(c.Subcommands) > 0 {
		sort.Slice(c.Subcommands, func(i, j int) bool { return c.Subcommands[i].Name < c.Subcommands[j].Name })
		b.WriteString("Subcommands: []Spec{\n")
		for _, s := range c.Subcommands {
			writeSpec(b, s, d.Subcommands[s.Name], true, withRun)
		}
		b.WriteString("},\n")
	}
	b.WriteString("},\n")
}

func main() {
	infoPath := flag.String("info", "", "COMMAND INFO as JSON (redis-cli --json)")
	docsPath := flag.String("docs", "", "COMMAND DOCS as JSON (redis-cli --json)")
	out := flag.String("out", "node/command", "output directory")
	groups := flag.String("groups", "generic=generic,string=string,bitmap=string,connection=connection,server=server,transactions=transactions,pubsub=pubsub,list=list,hash=hash,set=set,sorted-set=zset,cluster=cluster", "redis group=file pairs")
	only := flag.String("only", "", "comma-separated files to write (default all)")
	family := flag.String("family", "", "write a command family's specs.go in this package (node/commands/<family>)")
	flag.Parse()

	var infos []info
	var docs map[string]doc
	for path, v := range map[string]any{*infoPath: &infos, *docsPath: &docs} {
		b, err := os.ReadFile(path)
		if err != nil {
			log.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			log.Fatalf("%s: %v", path, err)
		}
	}
	fileOf := map[string]string{}
	for _, kv := range strings.Split(*groups, ",") {
		g, f, _ := strings.Cut(kv, "=")
		fileOf[g] = f
	}
	byFile := map[string][]info{}
	for _, c := range infos {
		if f, ok := fileOf[docs[c.Name].Group]; ok {
			byFile[f] = append(byFile[f], c)
		}
	}
	want := map[string]bool{}
	for _, f := range strings.Split(*only, ",") {
		if f != "" {
			want[f] = true
		}
	}
	for file, cmds := range byFile {
		if len(want) > 0 && !want[file] {
			continue
		}
		sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
		var b bytes.Buffer
		name := file + ".go"
		if *family == "" {
			fmt.Fprintf(&b, "package command\n\n// %sCommands returns the specs of the %s commands, generated by specgen\n// from Redis 7.0's COMMAND INFO and COMMAND DOCS, then owned by hand.\nfunc %sCommands() []Spec {\nreturn []Spec{\n", file, file, file)
		} else {
			name = "specs.go"
			fmt.Fprintf(&b, "package %s\n\nimport \"github.com/shoal-dev/shoal/node/command\"\n\n// Commands returns the specs of the %s commands with their handlers, generated by specgen\n// from Redis 7.0's COMMAND INFO and COMMAND DOCS, then owned by hand.\nfunc Commands() []Spec {\nreturn []Spec{\n", *family, file)
		}
		for _, c := range cmds {
			writeSpec(&b, c, docs[c.Name], false, *family != "")
		}
		b.WriteString("}\n}\n")
		raw := b.Bytes()
		if *family != "" {
			raw = qualify(raw)
		}
		src, err := format.Source(raw)
		if err != nil {
			log.Fatalf("%s: %v\n%s", file, err, raw)
		}
		if err := os.WriteFile(filepath.Join(*out, name), src, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// handlerName is the Go name of a command's handler: "xadd" -> cmdXadd,
// "xinfo|stream" -> cmdXinfoStream.
func handlerName(full string) string {
	var b strings.Builder
	b.WriteString("cmd")
	for _, part := range strings.FieldsFunc(full, func(r rune) bool { return r == '|' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// qualify prefixes with "command." every exported identifier of src that
// is not a field name (followed by ':'), outside string literals: the
// generated rows use only package command's names.
func qualify(src []byte) []byte {
	fset := token.NewFileSet()
	f := fset.AddFile("specs.go", -1, len(src))
	var sc scanner.Scanner
	sc.Init(f, src, nil, 0)
	var at []int
	var prev struct {
		off int
		ok  bool
	}
	for {
		pos, tok, lit := sc.Scan()
		if tok == token.EOF {
			break
		}
		if prev.ok && tok != token.COLON {
			at = append(at, prev.off)
		}
		prev.ok = tok == token.IDENT && lit[0] >= 'A' && lit[0] <= 'Z' && lit != "Commands"
		prev.off = f.Offset(pos)
	}
	var out []byte
	last := 0
	for _, off := range at {
		out = append(append(out, src[last:off]...), "command."...)
		last = off
	}
	return append(out, src[last:]...)
}
