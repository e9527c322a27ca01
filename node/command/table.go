package command

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Table is an immutable set of commands.
type Table struct {
	byName map[string]*Spec
	byID   []*Spec // every command and subcommand, by ID
	top    []*Spec // top-level commands sorted by name
	// byShape is the union of the flags of the top-level commands of each
	// name length and first letter: MayHave answers most names without a
	// lookup.
	byShape [maxShapeLen + 1][26]Flags
}

const maxShapeLen = 32

// Groups returns every command group of the data node, one slice per
// file of this package.
func Groups() [][]Spec {
	return [][]Spec{
		subsystemCommands(),
		connectionCommands(),
		serverCommands(),
		transactionsCommands(),
		pubsubCommands(),
		clusterCommands(),
	}
}

// Default is the table of every command the package knows.
func Default() *Table {
	t, err := NewTable(Groups()...)
	if err != nil {
		panic(err) // the static tables are checked by tests
	}
	return t
}

// NewTable builds a table from groups of specs. Names must be unique.
func NewTable(groups ...[]Spec) (*Table, error) {
	n := 0
	for _, g := range groups {
		n += len(g)
	}
	specs := make([]Spec, 0, n)
	for _, g := range groups {
		specs = append(specs, g...)
	}
	t := &Table{byName: make(map[string]*Spec, n)}
	for i := range specs {
		s := &specs[i]
		if s.Name != strings.ToLower(s.Name) || s.Name == "" {
			return nil, fmt.Errorf("command name %q must be non-empty lower case", s.Name)
		}
		if _, dup := t.byName[s.Name]; dup {
			return nil, fmt.Errorf("duplicate command %q", s.Name)
		}
		s.fullName = s.Name
		s.Flags = withMovableKeys(s)
		s.id = len(t.byID)
		t.byName[s.Name] = s
		t.byID = append(t.byID, s)
		t.top = append(t.top, s)
		if len(s.Subcommands) > 0 {
			s.Subcommands = append([]Spec(nil), s.Subcommands...)
			s.subs = make(map[string]*Spec, len(s.Subcommands))
			for j := range s.Subcommands {
				sub := &s.Subcommands[j]
				if _, dup := s.subs[sub.Name]; dup {
					return nil, fmt.Errorf("duplicate subcommand %s|%s", s.Name, sub.Name)
				}
				sub.parent = s
				sub.Flags = withMovableKeys(sub)
				sub.fullName = s.Name + "|" + sub.Name
				sub.id = len(t.byID)
				s.subs[sub.Name] = sub
				t.byID = append(t.byID, sub)
			}
		}
	}
	sort.Slice(t.top, func(i, j int) bool { return t.top[i].Name < t.top[j].Name })
	for _, s := range t.top {
		if l, c := len(s.Name), s.Name[0]; l <= maxShapeLen && 'a' <= c && c <= 'z' {
			t.byShape[l][c-'a'] |= s.Flags
		}
	}
	return t, nil
}

// MayHave reports whether the top-level command named name may have all
// the flags f; false is sure, true needs a Lookup. It costs no lookup for
// most names (GET and SET are never OwnGoroutine).
func (t *Table) MayHave(name []byte, f Flags) bool {
	if len(name) == 0 || len(name) > maxShapeLen {
		return true
	}
	c := name[0] | 0x20 // lower case for letters
	if c < 'a' || c > 'z' {
		return true
	}
	return t.byShape[len(name)][c-'a']&f == f
}

// withMovableKeys returns the spec's flags with MovableKeys set as Redis
// computes it (populateCommandMovableKeys): the command has a function of
// its own to find its keys, or a key spec that does not start at a fixed
// index or does not end at a fixed range (a keyword, a numkeys).
func withMovableKeys(s *Spec) Flags {
	f := s.Flags &^ MovableKeys
	if s.Keys != nil {
		return f | MovableKeys
	}
	for _, ks := range s.KeySpecs {
		if ks.Begin.Index <= 0 || !ks.Find.Range {
			return f | MovableKeys
		}
	}
	return f
}

// Lookup finds a top-level command case-insensitively without allocating.
func (t *Table) Lookup(name []byte) *Spec {
	var buf [32]byte
	lower, ok := lowerInto(buf[:], name)
	if !ok {
		return nil
	}
	return t.byName[string(lower)]
}

// LookupArgs resolves argv to a command or, for a container with at least
// one argument, to its subcommand. It returns the container itself when
// the subcommand is unknown so the caller can tell the two errors apart.
func (t *Table) LookupArgs(args [][]byte) (spec *Spec, unknownSub bool) {
	s := t.Lookup(args[0])
	if s == nil || len(args) == 1 || s.subs == nil {
		return s, false
	}
	if sub := s.Sub(args[1]); sub != nil {
		return sub, false
	}
	return s, true
}

// ByID returns the command or subcommand with the given ID.
func (t *Table) ByID(id int) *Spec { return t.byID[id] }

// NumIDs is the number of IDs (commands and subcommands).
func (t *Table) NumIDs() int { return len(t.byID) }

// Count is the number of top-level commands (COMMAND COUNT).
func (t *Table) Count() int { return len(t.top) }

// Commands returns the top-level commands sorted by name.
func (t *Table) Commands() []*Spec { return t.top }

// ArityError is Redis's reply to a wrong number of arguments.
func ArityError(s *Spec) string {
	return "ERR wrong number of arguments for '" + s.fullName + "' command"
}

// truncate128 mirrors printf's %.128s.
func truncate128(b []byte) []byte {
	if len(b) > 128 {
		return b[:128]
	}
	return b
}

// UnknownCommandError is Redis's reply to an unknown command.
func UnknownCommandError(args [][]byte) string {
	var a bytes.Buffer
	for _, arg := range args[1:] {
		if a.Len() >= 128 {
			break
		}
		room := 128 - a.Len()
		if len(arg) > room {
			arg = arg[:room]
		}
		a.WriteByte('\'')
		a.Write(arg)
		a.WriteString("' ")
	}
	return "ERR unknown command '" + string(truncate128(args[0])) + "', with args beginning with: " + a.String()
}

// UnknownSubcommandError is Redis's reply to an unknown subcommand of a
// container command.
func UnknownSubcommandError(args [][]byte) string {
	return "ERR unknown subcommand '" + string(truncate128(args[1])) + "'. Try " +
		strings.ToUpper(string(args[0])) + " HELP."
}

// SubcommandSyntaxError is Redis's addReplySubcommandSyntaxError: a known
// subcommand given the wrong number of arguments, or an unknown one.
func SubcommandSyntaxError(args [][]byte) string {
	return "ERR unknown subcommand or wrong number of arguments for '" + string(truncate128(args[1])) +
		"'. Try " + strings.ToUpper(string(args[0])) + " HELP."
}

// GetKeys appends the argument positions of the keys in args (the whole
// argv, name first) to dst. ok is false when the arguments do not fit the
// key specs (COMMAND GETKEYS then says "Invalid arguments specified").
func (s *Spec) GetKeys(args [][]byte, dst []int) (keys []int, ok bool) {
	if s.Keys != nil {
		return s.Keys(args, dst), true
	}
	if s.Flags&MovableKeys == 0 && s.FirstKey > 0 {
		last := s.LastKey
		if last < 0 {
			last += len(args)
		}
		step := s.Step
		if step <= 0 {
			step = 1
		}
		for i := s.FirstKey; i <= last && i < len(args); i += step {
			dst = append(dst, i)
		}
		return dst, true
	}
	argc := len(args)
	for _, ks := range s.KeySpecs {
		first := 0
		switch {
		case ks.Begin.Index > 0:
			first = ks.Begin.Index
		case ks.Begin.Keyword != "":
			start, end := ks.Begin.StartFrom, argc-1
			if start <= 0 {
				start, end = argc+ks.Begin.StartFrom, 1
			}
			for i := start; i != end; {
				if i >= argc || i < 1 {
					break
				}
				if strings.EqualFold(string(args[i]), ks.Begin.Keyword) {
					first = i + 1
					break
				}
				if start <= end {
					i++
				} else {
					i--
				}
			}
			if first == 0 {
				continue
			}
		default:
			continue
		}
		var last, step int
		switch {
		case ks.Find.Range:
			switch {
			case ks.Find.LastKey >= 0:
				last = first + ks.Find.LastKey
			case ks.Find.Limit == 0:
				last = argc + ks.Find.LastKey
			default:
				last = first + ((argc-first)/ks.Find.Limit + ks.Find.LastKey)
			}
			step = ks.Find.KeyStep
		case ks.Find.Keynum:
			idx := first + ks.Find.KeyNumIdx
			if idx >= argc {
				return dst, false
			}
			n, err := strconv.ParseInt(string(args[idx]), 10, 64)
			if err != nil || n < 0 || n > int64(argc) {
				return dst, false
			}
			first += ks.Find.FirstKey
			last = first + int(n) - 1
			step = ks.Find.KeyStep
		default:
			continue
		}
		if last >= argc || last < first || first >= argc {
			return dst, false
		}
		if step <= 0 {
			step = 1
		}
		for i := first; i <= last; i += step {
			dst = append(dst, i)
		}
	}
	return dst, true
}

// KeyRef is one key of a command line: its argument position and the
// flags of the key spec that found it.
type KeyRef struct {
	Pos   int
	Flags KeyFlags
}

// GetKeysWithFlags appends the keys of args with their key spec flags,
// leaving out specs flagged not_key (SSUBSCRIBE's channels), as Redis's
// getKeysFromCommandWithSpecs for ACL checks. Commands with a key function
// of their own (SORT, MIGRATE) get the union of their specs' flags.
// ok is false when the arguments do not fit the key specs.
func (s *Spec) GetKeysWithFlags(args [][]byte, dst []KeyRef) (keys []KeyRef, ok bool) {
	if s.KeyRefs != nil {
		return s.KeyRefs(args, dst), true
	}
	if s.Keys != nil || len(s.KeySpecs) == 0 {
		var all KeyFlags
		for _, ks := range s.KeySpecs {
			all |= ks.Flags
		}
		// The key function finds every key: none is left incomplete.
		all &^= KeyIncomplete | KeyVariableFlags
		if len(s.KeySpecs) == 0 { // legacy positions only: read and write
			all = KeyRW | KeyAccess | KeyUpdate
		}
		if all&KeyNotKey != 0 {
			return dst, true
		}
		pos, ok := s.GetKeys(args, nil)
		for _, p := range pos {
			dst = append(dst, KeyRef{Pos: p, Flags: all})
		}
		return dst, ok
	}
	ok = true
	for i := range s.KeySpecs {
		if s.KeySpecs[i].Flags&KeyNotKey != 0 {
			continue
		}
		one := Spec{Flags: MovableKeys, KeySpecs: s.KeySpecs[i : i+1]}
		pos, fits := one.GetKeys(args, nil)
		ok = ok && fits
		flags := s.KeySpecs[i].Flags
		if v := s.KeySpecs[i].Variable; v != nil {
			flags = v(args)
		}
		for _, p := range pos {
			dst = append(dst, KeyRef{Pos: p, Flags: flags})
		}
	}
	return dst, ok
}

// HasKeyArgs reports whether the command takes arguments that are keys,
// leaving out what its specs flag not_key (SSUBSCRIBE's and SPUBLISH's
// channels, which only route): Redis's doesCommandHaveKeys.
func (s *Spec) HasKeyArgs() bool {
	if s.Keys != nil || (len(s.KeySpecs) == 0 && s.FirstKey > 0) {
		return true
	}
	for _, ks := range s.KeySpecs {
		if ks.Flags&KeyNotKey == 0 {
			return true
		}
	}
	return false
}

// LookupName resolves a command ("get") or subcommand ("config|get") by
// name, case-insensitively, or returns nil.
func (t *Table) LookupName(name string) *Spec {
	top, sub, hasSub := strings.Cut(name, "|")
	spec := t.Lookup([]byte(top))
	if !hasSub || spec == nil {
		return spec
	}
	return spec.Sub([]byte(sub))
}
