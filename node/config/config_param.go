package config

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/node/keyspace"
)

// Flags are the flags of Redis 7.0's standardConfig that the node
// honours.
type Flags uint8

const (
	// FlagImmutable: CONFIG SET refuses it ("can't set immutable config").
	FlagImmutable Flags = 1 << iota
	// FlagProtected: CONFIG SET refuses it unless enable-protected-configs
	// allows the client ("can't set protected config").
	FlagProtected
	// FlagMultiArg: the value is several words (save, bind, ...): the
	// file gives them as arguments, CONFIG SET splits its value on spaces.
	FlagMultiArg
)

// Kind is the type of a parameter as Redis declares it. The
// differential test derives its invalid values from it.
type Kind uint8

const (
	KindBool Kind = iota
	KindInt
	KindMemory
	KindEnum
	KindString
	KindSpecial
)

// Param is one configuration parameter (a row of Redis's config table).
type Param struct {
	name  string
	alias string // the other name Redis accepts for it ("" = none)
	flags Flags
	kind  Kind
	// get is the CONFIG GET value.
	get func(c *Config) string
	// set parses the arguments of a config-file line (or of CONFIG SET,
	// split on spaces for a multi-arg parameter) into c. It returns the
	// reason Redis gives for a refused value.
	set func(c *Config, args []string) error
	// rewrite is what CONFIG REWRITE writes for it (nil: one line "name
	// value" from fileValue, forced when it differs from the default).
	rewrite func(c, def *Config) []rewriteLine
	// fileValue formats the value for the config file (nil: get).
	fileValue func(c *Config) string
	// apply runs on CONFIG SET after every value was parsed (Redis's apply
	// functions): it may adjust next (repl-backlog-size's floor) or refuse
	// the change, which then leaves the configuration as it was.
	apply func(old, next *Config) error
	// noEffect says why the node accepts the parameter but does nothing
	// with it ("" = it has its Redis effect).
	noEffect string
	// enum lists the values of a KindEnum parameter.
	enum []string
}

// rewriteLine is one line CONFIG REWRITE writes for a parameter; force
// writes it even where the old file has no line for the parameter.
type rewriteLine struct {
	text  string
	force bool
}

func (p *Param) is(f Flags) bool { return p.flags&f != 0 }

// lines is what CONFIG REWRITE writes for p.
func (p *Param) lines(c, def *Config) []rewriteLine {
	if p.rewrite != nil {
		return p.rewrite(c, def)
	}
	val := p.get
	if p.fileValue != nil {
		val = p.fileValue
	}
	v := val(c)
	return []rewriteLine{{p.name + " " + v, v != val(def)}}
}

// setOne wraps a single-argument setter: a config-file line with more or
// fewer arguments is refused as Redis refuses it.
func setOne(f func(c *Config, v string) error) func(c *Config, args []string) error {
	return func(c *Config, args []string) error {
		if len(args) != 1 {
			return errors.New("wrong number of arguments")
		}
		return f(c, args[0])
	}
}

func boolParam(name, alias string, flags Flags, f func(c *Config) *bool) Param {
	return Param{name: name, alias: alias, flags: flags, kind: KindBool,
		get: func(c *Config) string { return yesNo(*f(c)) },
		set: setOne(func(c *Config, v string) error {
			b, ok := parseYesNo(v)
			if !ok {
				return errors.New("argument must be 'yes' or 'no'")
			}
			*f(c) = b
			return nil
		})}
}

func parseYesNo(v string) (bool, bool) {
	switch {
	case strings.EqualFold(v, "yes"):
		return true, true
	case strings.EqualFold(v, "no"):
		return false, true
	}
	return false, false
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// numSpec is a numeric parameter's type: its bounds and how its value is
// written (Redis's numericConfigData).
type numSpec struct {
	min, max int64
	// unsigned bounds compare as unsigned (size_t, unsigned int, unsigned
	// long long), so -1 is out of range with the unsigned bound printed.
	unsigned bool
	memory   bool // 1gb, 100mb, 10k... (memtoull)
	percent  bool // "10%", stored negative
	octal    bool // unixsocketperm
}

// Bounds of Redis's C types.
const (
	intMax   = math.MaxInt32
	intMin   = math.MinInt32
	uintMax  = math.MaxUint32
	longMax  = math.MaxInt64
	ullongOK = -1 // ULLONG_MAX as an int64 bound of an unsigned spec
)

func ints(min, max int64) numSpec { return numSpec{min: min, max: max} }

func sizes(min, max int64) numSpec { return numSpec{min: min, max: max, unsigned: true} }

func memory(min, max int64) numSpec { return numSpec{min: min, max: max, memory: true} }

func memorySizes(min, max int64) numSpec {
	return numSpec{min: min, max: max, memory: true, unsigned: true}
}

// parse is Redis's numericParseString and numericBoundaryCheck.
func (n numSpec) parse(v string) (int64, error) {
	ll, err := n.parseValue(v)
	if err != nil {
		return 0, err
	}
	return ll, n.check(ll)
}

func (n numSpec) parseValue(v string) (int64, error) {
	if n.memory {
		if u, ok := memtoull(v); ok {
			return int64(u), nil
		}
	}
	if n.percent && len(v) > 1 && v[len(v)-1] == '%' {
		if p, ok := keyspace.ParseInt([]byte(v[:len(v)-1])); ok && p >= 0 {
			return -p, nil
		}
	}
	if n.octal {
		if o, ok := strtollFull(v, 8); ok {
			return o, nil
		}
	}
	if !n.memory && !n.percent && !n.octal {
		if i, ok := keyspace.ParseInt([]byte(v)); ok {
			return i, nil
		}
	}
	switch {
	case n.memory && n.percent:
		return 0, errors.New("argument must be a memory or percent value")
	case n.memory:
		return 0, errors.New("argument must be a memory value")
	case n.octal:
		return 0, errors.New("argument couldn't be parsed as an octal number")
	}
	return 0, errors.New("argument couldn't be parsed into an integer")
}

func (n numSpec) check(ll int64) error {
	if n.unsigned {
		if uint64(ll) > uint64(n.max) || uint64(ll) < uint64(n.min) {
			if n.octal {
				return fmt.Errorf("argument must be between %o and %o inclusive", uint64(n.min), uint64(n.max))
			}
			return fmt.Errorf("argument must be between %d and %d inclusive", uint64(n.min), uint64(n.max))
		}
		return nil
	}
	if n.percent && ll < 0 {
		if ll < n.min {
			return fmt.Errorf("percentage argument must be less or equal to %d", -n.min)
		}
		return nil
	}
	if ll > n.max || ll < n.min {
		return fmt.Errorf("argument must be between %d and %d inclusive", n.min, n.max)
	}
	return nil
}

// format is the CONFIG GET form of a stored value.
func (n numSpec) format(ll int64) string {
	switch {
	case n.percent && ll < 0:
		return strconv.FormatInt(-ll, 10) + "%"
	case n.memory || n.unsigned:
		return strconv.FormatUint(uint64(ll), 10)
	case n.octal:
		return strconv.FormatUint(uint64(ll), 8)
	}
	return strconv.FormatInt(ll, 10)
}

// fileFormat is the config-file form of a stored value (CONFIG REWRITE:
// memory as 1gb/10mb/4kb where exact).
func (n numSpec) fileFormat(ll int64) string {
	switch {
	case n.percent && ll < 0:
		return strconv.FormatInt(-ll, 10) + "%"
	case n.memory:
		return formatMemory(ll)
	case n.octal:
		return strconv.FormatUint(uint64(ll), 8)
	}
	return strconv.FormatInt(ll, 10)
}

// formatMemory is Redis's rewriteConfigFormatMemory.
func formatMemory(b int64) string {
	const kb, mb, gb = 1 << 10, 1 << 20, 1 << 30
	switch {
	case b != 0 && b%gb == 0:
		return strconv.FormatInt(b/gb, 10) + "gb"
	case b != 0 && b%mb == 0:
		return strconv.FormatInt(b/mb, 10) + "mb"
	case b != 0 && b%kb == 0:
		return strconv.FormatInt(b/kb, 10) + "kb"
	}
	return strconv.FormatInt(b, 10)
}

func numParam[T int | int64](name, alias string, flags Flags, n numSpec, f func(c *Config) *T) Param {
	kind := KindInt
	if n.memory {
		kind = KindMemory
	}
	return Param{name: name, alias: alias, flags: flags, kind: kind,
		get:       func(c *Config) string { return n.format(int64(*f(c))) },
		fileValue: func(c *Config) string { return n.fileFormat(int64(*f(c))) },
		set: setOne(func(c *Config, v string) error {
			ll, err := n.parse(v)
			if err != nil {
				return err
			}
			*f(c) = T(ll)
			return nil
		})}
}

func intParam(name, alias string, flags Flags, min, max int64, f func(c *Config) *int) Param {
	return numParam(name, alias, flags, ints(min, max), f)
}

// stringParam is a free string. A validate func may refuse values.
func stringParam(name, alias string, flags Flags, f func(c *Config) *string, validate func(string) error) Param {
	return Param{name: name, alias: alias, flags: flags, kind: KindString,
		get:       func(c *Config) string { return *f(c) },
		fileValue: func(c *Config) string { return QuoteRepr(*f(c)) },
		set: setOne(func(c *Config, v string) error {
			if validate != nil {
				if err := validate(v); err != nil {
					return err
				}
			}
			*f(c) = v
			return nil
		})}
}

// nullString marks a string parameter Redis stores as NULL when empty: an
// empty value is left out of the rewritten file rather than written "".
func nullString(p Param, f func(c *Config) *string) Param {
	p.rewrite = func(c, def *Config) []rewriteLine {
		if *f(c) == "" {
			return nil
		}
		return []rewriteLine{{p.name + " " + QuoteRepr(*f(c)), true}}
	}
	return p
}

// enumParam matches values case-insensitively and stores the value as
// listed.
func enumParam(name, alias string, flags Flags, values []string, f func(c *Config) *string) Param {
	return Param{name: name, alias: alias, flags: flags, kind: KindEnum, enum: values,
		get: func(c *Config) string { return *f(c) },
		set: setOne(func(c *Config, v string) error {
			for _, ok := range values {
				if strings.EqualFold(v, ok) {
					*f(c) = ok
					return nil
				}
			}
			return fmt.Errorf("argument(s) must be one of the following: %s", strings.Join(values, ", "))
		})}
}

// memtoull is Redis's memtoull: digits and an optional unit (b, k, kb, m,
// mb, g, gb; any case). An empty number is 0; an overflowing number is
// the largest value, as strtoull leaves it.
func memtoull(s string) (uint64, bool) {
	if strings.HasPrefix(s, "-") {
		return 0, false
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	var mul uint64
	switch u := strings.ToLower(s[i:]); u {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	if i >= 128 {
		return 0, false
	}
	var val uint64
	if i > 0 {
		v, err := strconv.ParseUint(s[:i], 10, 64)
		if err != nil {
			v = math.MaxUint64 // strtoull saturates
		}
		val = v
	}
	if val > math.MaxUint64/mul {
		return 0, false
	}
	return val * mul, true
}

// ParseMemory parses a memory amount as redis.conf does: 1k = 1000,
// 1kb = 1024, and m/mb, g/gb alike. Values beyond int64 are refused.
func ParseMemory(s string) (int64, bool) {
	u, ok := memtoull(s)
	if !ok || u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// strtollFull is C's strtoll(s, &end, base) with *end == '\0' required:
// leading spaces and a sign are allowed, no digits is 0 only for "",
// overflow saturates.
func strtollFull(s string, base int) (int64, bool) {
	if s == "" {
		return 0, true
	}
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if t == "" {
		return 0, false
	}
	for _, ch := range t {
		if ch < '0' || int(ch-'0') >= base {
			return 0, false
		}
	}
	u, err := strconv.ParseUint(t, base, 64)
	switch {
	case err != nil || (!neg && u > math.MaxInt64):
		if neg {
			return math.MinInt64, true
		}
		return math.MaxInt64, true
	case neg && u > math.MaxInt64:
		return math.MinInt64, true
	case neg:
		return -int64(u), true
	}
	return int64(u), true
}

// QuoteRepr is Redis's sdscatrepr: a double-quoted string with C escapes,
// as CONFIG REWRITE writes string values.
func QuoteRepr(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if ch >= 0x20 && ch < 0x7f {
				b.WriteByte(ch)
			} else {
				fmt.Fprintf(&b, `\x%02x`, ch)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Table is the parameter table with its lookup by either name.
type Table struct {
	params []Param
	byName map[string]*Param // lower-case name or alias
	names  []string          // every name and alias, sorted
}

func newParamTable(ps []Param) *Table {
	t := &Table{params: ps, byName: make(map[string]*Param, 2*len(ps))}
	for i := range t.params {
		p := &t.params[i]
		for _, n := range []string{p.name, p.alias} {
			if n == "" {
				continue
			}
			if _, dup := t.byName[n]; dup {
				panic("config: parameter listed twice: " + n)
			}
			t.byName[n] = p
			t.names = append(t.names, n)
		}
	}
	sort.Strings(t.names)
	return t
}

// lookup finds a parameter by name or alias, in any case.
func (t *Table) lookup(name string) *Param {
	return t.byName[strings.ToLower(name)]
}
