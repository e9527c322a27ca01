// Package gen generates random command lines from command shapes (package
// shape), biased to edge values, over a small pool of keys that a shared
// setup fills with every data type. It is pure: a Generator is a function
// of its seed, the shapes and the Env it is given, so a seed replays the
// same lines on every run. It talks to no server and decides nothing about
// replies.
package gen

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/test/fuzzdiff/shape"
)

// Env is what the generator knows besides the shapes: names learned from
// the reference server (CONFIG GET *), and the time base for unix-time
// arguments.
type Env struct {
	ConfigNames []string // every CONFIG GET * name
	Now         int64    // unix seconds
	// ResetEvery re-creates the setup keys after that many lines (0: never).
	ResetEvery int
	// Payloads are DUMP payloads of the DumpKeys after the setup, as the
	// reference server makes them, and NodePayloads as the node makes
	// them (its own format, which Redis refuses by design): RESTORE gets
	// them whole or mangled, the node's to reach its decoder.
	Payloads, NodePayloads []string
	// Only, when not empty, limits the commands to these names ("restore",
	// "config|set").
	Only []string
}

// Line is one command line and the shape it was generated from (nil for a
// setup line).
type Line struct {
	Cmd  *shape.Command
	Args []string
	// Setup marks a line of the shared setup (or of a reset of it).
	Setup bool
	// Async lines go to a second connection, whose reply is read only
	// after the next line ran on the first: a blocking command there waits
	// while the next line pushes to its key.
	Async bool
	// Loose lines differ from Redis by design (a RESTORE of the node's own
	// payload): only a crash or hang counts.
	Loose bool
}

// Generator produces lines. Not safe for concurrent use.
type Generator struct {
	r        *rand.Rand
	cmds     []*shape.Command // leaves that may be sent, sorted by name
	names    []string         // every leaf name, for COMMAND INFO and friends
	env      Env
	pending  []Line
	sinceRes int
	loose    bool // the line being generated is Loose
}

// New returns a generator for the seed. It drops the commands Skip names.
func New(seed uint64, cmds []*shape.Command, env Env) *Generator {
	g := &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), env: env}
	for _, c := range shape.Leaves(cmds) {
		g.names = append(g.names, strings.ReplaceAll(c.Name, "|", " "))
		if !Skip(c.Name) && (len(env.Only) == 0 || slices.Contains(env.Only, c.Name)) {
			g.cmds = append(g.cmds, c)
		}
	}
	g.names = append(g.names, "nosuchcommand", "", "GET", "config|get")
	return g
}

// Commands returns the commands the generator draws from.
func (g *Generator) Commands() []*shape.Command { return g.cmds }

// Next returns the next line: a pending reset line first, otherwise a new
// random command.
func (g *Generator) Next() Line {
	if len(g.pending) > 0 {
		l := g.pending[0]
		g.pending = g.pending[1:]
		return l
	}
	g.sinceRes++
	if g.env.ResetEvery > 0 && g.sinceRes >= g.env.ResetEvery {
		g.sinceRes = 0
		g.pending = append(g.pending, ResetAll()...)
	}
	c := g.pick()
	g.loose = false
	l := Line{Cmd: c, Args: g.line(c)}
	l.Loose = g.loose
	// A list or sorted-set blocking command (BLPOP... BZMPOP), one time in
	// four, waits on a second connection while the next line pushes.
	if c.Flags["blocking"] && c.Name[0] == 'b' && g.r.IntN(4) == 0 {
		if key, ok := poolKey(l.Args[len(c.Words):]); ok {
			l.Async = true
			setTimeout(c, l.Args, "0.2")
			g.pending = append(g.pending, Line{Args: g.pusher(c, key)})
		}
	}
	g.pending = append(g.pending, followUps(l)...)
	return l
}

// poolKey is the first argument that is a key of the pool.
func poolKey(args []string) (string, bool) {
	for _, a := range args {
		if slices.Contains(KeyPool, a) {
			return a, true
		}
	}
	return "", false
}

// setTimeout sets the timeout of a blocking line (the first argument of
// BLMPOP and BZMPOP, the last of the others) to t.
func setTimeout(c *shape.Command, args []string, t string) {
	switch c.Name {
	case "blmpop", "bzmpop":
		args[len(c.Words)] = t
	default:
		args[len(args)-1] = t
	}
}

// pusher is a line that may wake a client blocked on key: a push of the
// kind the blocked command waits for, mostly, or a write that does not
// serve it (another type, a delete).
func (g *Generator) pusher(c *shape.Command, key string) []string {
	if g.r.IntN(5) == 0 {
		return g.oneOfLines([][]string{{"DEL", key}, {"SET", key, "x"}, {"SADD", key, "a"}, {"EXPIRE", key, "0"}})
	}
	if strings.HasPrefix(c.Name, "bz") {
		return g.oneOfLines([][]string{{"ZADD", key, "1", "a"}, {"ZADD", key, "2", "b", "3", "c"}, {"ZINCRBY", key, "inf", "z"}})
	}
	return g.oneOfLines([][]string{{"LPUSH", key, "a"}, {"RPUSH", key, "a", "b"}, {"LMOVE", "list", key, "LEFT", "RIGHT"},
		{"RPOPLPUSH", "biglist", key}, {"LPUSH", key, aaaa, "b", "c"}})
}

func (g *Generator) oneOfLines(ls [][]string) []string { return slices.Clone(ls[g.r.IntN(len(ls))]) }

// pick draws a command uniformly, but FLUSHALL and FLUSHDB (which empty
// the pool) twenty times less often.
func (g *Generator) pick() *shape.Command {
	for {
		c := g.cmds[g.r.IntN(len(g.cmds))]
		if c.Name != "flushall" && c.Name != "flushdb" || g.r.IntN(20) == 0 {
			return c
		}
	}
}

func (g *Generator) line(c *shape.Command) []string {
	args := slices.Clone(c.Words)
	switch {
	case c.Name == "command|getkeys" || c.Name == "command|getkeysandflags":
		return append(args, g.inner()...)
	case c.Name == "acl|dryrun":
		return append(append(args, g.oneOf(userNames)), g.inner()...)
	case len(c.Args) == 0:
		args = append(args, g.byArity(c)...)
	default:
		args = append(args, g.args(c, c.Args)...)
	}
	if g.r.IntN(10) == 0 && mutable(c) {
		args = g.mutate(args, len(c.Words))
	}
	return Safe(c.Name, args)
}

// mutable reports whether a line of the command may be damaged at random:
// not MIGRATE (a damaged line could name another host) nor a blocking
// command or WAIT (a damaged line could wait for good).
func mutable(c *shape.Command) bool {
	return c.Name != "migrate" && c.Name != "wait" && !c.Flags["blocking"]
}

// inner is a whole generated command line of another command, for the
// commands that take one as arguments (COMMAND GETKEYS, ACL DRYRUN).
func (g *Generator) inner() []string {
	c := g.cmds[g.r.IntN(len(g.cmds))]
	if len(c.Args) == 0 {
		return append(slices.Clone(c.Words), g.byArity(c)...)
	}
	return append(slices.Clone(c.Words), g.args(c, c.Args)...)
}

// byArity makes arguments for a command without documented ones: as many
// as its arity asks, a few more when it is variadic.
func (g *Generator) byArity(c *shape.Command) []string {
	n := c.Arity - len(c.Words)
	if c.Arity < 0 {
		n = -c.Arity - len(c.Words) + g.r.IntN(3)
	}
	var out []string
	for i := 0; i < n; i++ {
		if i == 0 && c.FirstKey > 0 {
			out = append(out, g.key())
			continue
		}
		out = append(out, g.oneOf(edgeStrings))
	}
	return out
}

// args generates a sequence of sibling arguments. A "numkeys" integer is
// set to the number of values of the multiple argument after it, most of
// the time.
func (g *Generator) args(c *shape.Command, as []shape.Arg) []string {
	var out []string
	for i := 0; i < len(as); i++ {
		a := as[i]
		if a.Optional && g.r.IntN(10) >= 4 {
			continue
		}
		if (a.Name == "numkeys" || a.Name == "numfields") && i+1 < len(as) && as[i+1].Multiple {
			next := g.arg(c, as[i+1])
			n := len(next)
			if as[i+1].Token != "" && !as[i+1].MultipleToken {
				n--
			}
			count := strconv.Itoa(n)
			if g.r.IntN(5) == 0 {
				count = g.value(c, a)
			}
			out = append(out, g.token(a)...)
			out = append(out, count)
			out = append(out, next...)
			i++
			continue
		}
		out = append(out, g.arg(c, a)...)
	}
	return out
}

// arg generates one argument with its token, repeated when multiple.
func (g *Generator) arg(c *shape.Command, a shape.Arg) []string {
	n := 1
	if a.Multiple {
		n = 1 + g.r.IntN(3)
		switch g.r.IntN(20) {
		case 0:
			n = 0
		case 1:
			n = 4 + g.r.IntN(6)
		}
	}
	var out []string
	for i := 0; i < n; i++ {
		if a.Type == shape.TypePureToken {
			out = append(out, g.token(a)...)
			continue
		}
		if i == 0 || a.MultipleToken {
			out = append(out, g.token(a)...)
		}
		switch a.Type {
		case shape.TypeOneOf:
			if len(a.Args) > 0 {
				out = append(out, g.arg(c, a.Args[g.r.IntN(len(a.Args))])...)
			}
		case shape.TypeBlock:
			out = append(out, g.args(c, a.Args)...)
		default:
			out = append(out, g.value(c, a))
		}
	}
	return out
}

// token is the argument's keyword, sometimes in lower case (Redis matches
// keywords case-insensitively).
func (g *Generator) token(a shape.Arg) []string {
	if a.Token == "" {
		return nil
	}
	if g.r.IntN(6) == 0 {
		return []string{strings.ToLower(a.Token)}
	}
	return []string{a.Token}
}

func (g *Generator) oneOf(vs []string) string { return vs[g.r.IntN(len(vs))] }

// value generates one scalar for the argument, by what the command and the
// argument's name and type say it is.
func (g *Generator) value(c *shape.Command, a shape.Arg) string {
	name := a.Name
	switch {
	case c.Flags["blocking"] && (name == "timeout" || a.Token == "BLOCK"):
		return g.oneOf(smallBlockTimeouts)
	case c.Name == "wait" && name == "timeout", c.Name == "migrate" && name == "timeout":
		return g.oneOf([]string{"1", "10", "-1", "abc"})
	case c.Name == "migrate" && name == "host":
		return "127.0.0.1" // never another host
	case c.Name == "migrate" && name == "port":
		return g.oneOf([]string{"1", "0", "-1", "65536", "abc"})
	case name == "protover":
		return g.oneOf([]string{"2", "3", "1", "4", "-1", "abc"})
	case name == "username" && c.Name == "acl|setuser":
		return g.oneOf(userNames)
	case name == "username":
		return g.oneOf(append([]string{"default", "nouser"}, userNames...))
	case name == "rule":
		return g.oneOf(aclRules)
	case name == "parameter" && c.Name == "config|set":
		return g.settableConfig()
	case name == "parameter":
		if g.r.IntN(3) == 0 {
			return g.oneOf(edgePatterns)
		}
		return g.oneOf(g.env.ConfigNames)
	case c.Name == "config|set" && name == "value":
		return g.oneOf(configValues)
	case name == "command-name" || name == "command":
		return g.oneOf(g.names)
	case name == "category" || name == "categoryname":
		return g.oneOf([]string{"read", "write", "keyspace", "dangerous", "string", "bogus", "", "@read"})
	case name == "type":
		return g.oneOf(typeNames)
	case name == "encoding" && strings.HasPrefix(c.Name, "bitfield"):
		return g.oneOf(bitfieldEncodings)
	case name == "offset" && strings.HasPrefix(c.Name, "bitfield"):
		return g.oneOf(bitfieldOffsets)
	case name == "count" && (c.Name == "srandmember" || c.Name == "hrandfield" || c.Name == "zrandmember"):
		return safeCount(g.integer())
	case name == "id" || name == "last-id" || name == "max_deleted_entry_id":
		return g.oneOf(streamIDs)
	case name == "serialized-value" && len(g.env.Payloads) > 0:
		p := g.oneOf(g.env.Payloads)
		if len(g.env.NodePayloads) > 0 && g.r.IntN(2) == 0 {
			p, g.loose = g.oneOf(g.env.NodePayloads), true
		}
		if g.r.IntN(10) < 3 {
			return p
		}
		return Mangle(g.r, p)
	case name == "script" || name == "function-code":
		return g.oneOf(scripts)
	case name == "sha1":
		return g.oneOf([]string{strings.Repeat("a", 40), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "x"})
	case name == "host" || name == "ip" || name == "ip:port":
		return "127.0.0.1:1"
	case name == "password":
		return g.oneOf([]string{"pass", "", "wrong"})
	case name == "clientname" || name == "connection-name":
		return g.oneOf([]string{"fuzz", "", "with space", "a\nb"})
	case name == "channel" || name == "shardchannel" || name == "group" || name == "consumer" ||
		name == "groupname" || name == "consumername" || name == "library-name" || name == "function":
		return g.oneOf([]string{"ch1", "g1", "c1", "lib", "f", "", aaaa})
	case name == "yes/no":
		return g.oneOf([]string{"yes", "no", "maybe"})
	}
	switch a.Type {
	case shape.TypeKey:
		return g.key()
	case shape.TypeInteger:
		return g.integer()
	case shape.TypeDouble:
		return g.float()
	case shape.TypePattern:
		return g.oneOf(edgePatterns)
	case shape.TypeUnixTime:
		return g.oneOf([]string{
			strconv.FormatInt(g.env.Now+1000, 10), strconv.FormatInt(g.env.Now-1000, 10),
			strconv.FormatInt((g.env.Now+1000)*1000, 10), "0", "-1", "1", "9223372036854775807",
			"-9223372036854775808", "abc",
		})
	}
	switch name {
	case "min", "max", "start", "stop", "end":
		return g.oneOf(edgeRanges)
	case "value", "member", "element", "field", "pivot", "message", "arg":
		return g.str()
	}
	return g.str()
}

func (g *Generator) settableConfig() string {
	for range 20 {
		if n := g.oneOf(g.env.ConfigNames); ConfigSettable(n) {
			return n
		}
	}
	return "maxmemory-policy"
}

// integer is a small number about half of the time, else an edge value or
// something that is not quite an integer.
func (g *Generator) integer() string {
	switch n := g.r.IntN(20); {
	case n < 9:
		return strconv.Itoa(g.r.IntN(14) - 3)
	case n < 16:
		return g.oneOf(edgeInts)
	}
	return g.oneOf(notInts)
}

func (g *Generator) float() string {
	switch g.r.IntN(10) {
	case 0, 1, 2:
		return strconv.Itoa(g.r.IntN(14) - 3)
	case 3, 4:
		return strconv.FormatFloat(float64(g.r.IntN(2000)-1000)/8, 'g', -1, 64)
	}
	return g.oneOf(edgeFloats)
}

// str is a member-like value most of the time, an edge string otherwise;
// the 1 MB string one time in 400.
func (g *Generator) str() string {
	switch n := g.r.IntN(400); {
	case n == 0:
		return bigString
	case n < 200:
		return g.oneOf([]string{"a", "b", "c", "d", "1", "2", "3", "-5", "100", "e0", "f1", "m1", "v1", aaaa})
	case n < 230:
		b := make([]byte, g.r.IntN(24))
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		return string(b)
	case n < 280:
		return g.integer()
	case n < 300:
		return g.float()
	}
	return g.oneOf(edgeStrings)
}

// key is a key of the pool, mostly one the setup filled.
func (g *Generator) key() string {
	return KeyPool[g.r.IntN(len(KeyPool))]
}

// mutate damages a line: drops, repeats, swaps or inserts an argument
// after the command words, so argument errors are exercised too.
func (g *Generator) mutate(args []string, words int) []string {
	n := len(args) - words
	switch op := g.r.IntN(4); {
	case op == 0 && n > 0:
		i := words + g.r.IntN(n)
		return slices.Delete(args, i, i+1)
	case op == 1 && n > 0:
		i := words + g.r.IntN(n)
		return slices.Insert(args, i, args[i])
	case op == 2 && n > 1:
		i, j := words+g.r.IntN(n), words+g.r.IntN(n)
		args[i], args[j] = args[j], args[i]
		return args
	}
	pool := [][]string{edgeInts, notInts, edgeFloats, edgeStrings, edgePatterns}
	return slices.Insert(args, words+g.r.IntN(n+1), g.oneOf(pool[g.r.IntN(len(pool))]))
}
