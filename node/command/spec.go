package command

// Flags are Redis's command flags (COMMAND INFO shows them by name).
type Flags uint32

// Command flags, in the order Redis prints them.
const (
	Write Flags = 1 << iota
	ReadOnly
	DenyOOM
	Module
	Admin
	PubSub
	NoScript
	Blocking
	Loading
	Stale
	SkipMonitor
	SkipSlowlog
	Asking
	Fast
	NoAuth
	MayReplicate
	NoMandatoryKeys
	NoAsyncLoading
	NoMulti
	MovableKeys
	AllowBusy

	// Flags of ours, not Redis's: COMMAND INFO does not show them. They
	// carry behaviour Redis decides by comparing command procs, so the
	// engine needs no name lists.

	// NoQueue runs the command at once inside MULTI instead of queueing
	// it (Redis: EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
	NoQueue
	// SubscribedContext allows the command while a RESP2 client is
	// subscribed (Redis: PING, the (P|S)(UN)SUBSCRIBE family, QUIT, RESET).
	SubscribedContext
	// OwnGoroutine: the handler hands the connection to other goroutines
	// (replication), makes it async (pub/sub, MONITOR) or gives up the
	// server lock while it waits (MIGRATE), so an event loop gives the
	// connection a goroutine of its own before running it.
	OwnGoroutine
)

var flagNames = [...]string{
	"write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
	"loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
	"may_replicate", "no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys",
	"allow_busy",
}

// Names lists the flags by name in Redis's order. Like Redis 7.0.15's
// COMMAND INFO it does not name may_replicate (EVAL, EVALSHA and FCALL
// carry it, so that a write pause holds them).
func (f Flags) Names() []string {
	var out []string
	for i, n := range flagNames {
		if f&(1<<i) != 0 && Flags(1<<i) != MayReplicate {
			out = append(out, n)
		}
	}
	return out
}

// Category is a set of ACL categories.
type Category uint32

// ACL categories, in the order Redis prints them.
const (
	CatKeyspace Category = 1 << iota
	CatRead
	CatWrite
	CatSet
	CatSortedset
	CatList
	CatHash
	CatString
	CatBitmap
	CatHyperloglog
	CatGeo
	CatStream
	CatPubsub
	CatAdmin
	CatFast
	CatSlow
	CatBlocking
	CatDangerous
	CatConnection
	CatTransaction
	CatScripting
)

var categoryNames = [...]string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
	"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
	"dangerous", "connection", "transaction", "scripting",
}

// Names lists the categories with their '@' prefix in Redis's order.
func (c Category) Names() []string {
	var out []string
	for i, n := range categoryNames {
		if c&(1<<i) != 0 {
			out = append(out, "@"+n)
		}
	}
	return out
}

// CategoryByName returns the category named name (without '@').
func CategoryByName(name string) (Category, bool) {
	for i, n := range categoryNames {
		if n == name {
			return 1 << i, true
		}
	}
	return 0, false
}

// CategoryNames lists every category name (ACL CAT).
func CategoryNames() []string { return categoryNames[:] }

// KeyFlags are the flags of a key spec.
type KeyFlags uint16

// Key spec flags, in Redis's order.
const (
	KeyRO KeyFlags = 1 << iota
	KeyRW
	KeyOW
	KeyRM
	KeyAccess
	KeyUpdate
	KeyInsert
	KeyDelete
	KeyNotKey
	KeyIncomplete
	KeyVariableFlags
)

var keyFlagNames = [...]string{
	"RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key",
	"incomplete", "variable_flags",
}

// Names lists the key flags by name.
func (f KeyFlags) Names() []string {
	var out []string
	for i, n := range keyFlagNames {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// BeginSearch is where a key spec starts looking for keys.
type BeginSearch struct {
	// Index > 0: the first key is at this argument index.
	Index int
	// Keyword != "": the first key follows this keyword, searched from
	// StartFrom (negative: from the end, backwards).
	Keyword   string
	StartFrom int
}

// BeginIndex starts at a fixed argument index.
func BeginIndex(i int) BeginSearch { return BeginSearch{Index: i} }

// BeginKeyword starts after a keyword.
func BeginKeyword(kw string, startFrom int) BeginSearch {
	return BeginSearch{Keyword: kw, StartFrom: startFrom}
}

// Known reports whether the spec can find its start (not "unknown").
func (b BeginSearch) Known() bool { return b.Index > 0 || b.Keyword != "" }

// FindKeys says which arguments after the start are keys.
type FindKeys struct {
	// Range: keys from the start to LastKey (relative to the start;
	// negative counts from the end), every KeyStep; Limit > 0 keeps only
	// 1/Limit of the remaining arguments when LastKey is -1.
	Range            bool
	LastKey, KeyStep int
	Limit            int
	// Keynum: the number of keys is at start+KeyNumIdx, the keys begin at
	// start+FirstKey, every KeyStep.
	Keynum              bool
	KeyNumIdx, FirstKey int
}

// FindRange is a range find_keys spec.
func FindRange(lastKey, keyStep, limit int) FindKeys {
	return FindKeys{Range: true, LastKey: lastKey, KeyStep: keyStep, Limit: limit}
}

// FindKeynum is a keynum find_keys spec.
func FindKeynum(keyNumIdx, firstKey, keyStep int) FindKeys {
	return FindKeys{Keynum: true, KeyNumIdx: keyNumIdx, FirstKey: firstKey, KeyStep: keyStep}
}

// KeySpec is one of a command's key specifications (Redis 7).
type KeySpec struct {
	Notes string
	Flags KeyFlags
	Begin BeginSearch
	Find  FindKeys
	// Variable, for a spec flagged variable_flags, gives the key's flags
	// for one command line (Redis's getkeys proc: SET without GET only
	// overwrites).
	Variable func(args [][]byte) KeyFlags
}

// Doc is the documentation COMMAND DOCS returns.
type Doc struct {
	Group, Since, Summary, Complexity string
	DeprecatedSince, ReplacedBy       string
	DocFlags                          []string
	// History is the list of (version, change) pairs.
	History [][2]string
	// Arguments describe the command's arguments (redis-cli hints, tools
	// that learn argument shapes from COMMAND DOCS).
	Arguments []Arg
}

// Arg is one argument in COMMAND DOCS.
type Arg struct {
	Name, Type, Token      string
	Since, DeprecatedSince string
	// KeySpecIndex, for a key (or SORT's patterns), is the index of its
	// key spec; nil for other arguments.
	KeySpecIndex                      *int
	Optional, Multiple, MultipleToken bool
	Arguments                         []Arg
}

// KeySpecAt is a KeySpecIndex.
func KeySpecAt(i int) *int { return &i }

// Spec describes one command (or one subcommand of a container command).
type Spec struct {
	// Name is lower case; a subcommand's Name is just the subcommand.
	Name string
	// Arity is the number of arguments including the name; negative means
	// at least -Arity.
	Arity int
	Flags Flags
	// FirstKey, LastKey, Step are the legacy key positions (LastKey < 0
	// counts from the end).
	FirstKey, LastKey, Step int
	Categories              Category
	Tips                    []string
	KeySpecs                []KeySpec
	// Keys, when set, extracts the key positions of commands whose key
	// specs cannot (SORT ... STORE, MIGRATE ... KEYS). It appends the
	// positions to dst.
	Keys func(args [][]byte, dst []int) []int
	// KeyRefs, when set beside Keys, gives each key the flags of its own
	// key spec for the ACL check, as Redis's getkeys functions do (SORT's
	// key is read, its STORE destination written); without it every key
	// gets the union of the specs' flags.
	KeyRefs func(args [][]byte, dst []KeyRef) []KeyRef
	// Secrets, when set, appends the positions of arguments that are
	// secrets (passwords): SLOWLOG and MONITOR show them as "(redacted)",
	// as Redis's redactClientCommandArgument.
	Secrets func(args [][]byte, dst []int) []int
	// CallFlags, when set, gives the flags of one call whose arguments
	// decide them (Redis's getCommandFlags: the flags of the script EVAL
	// runs or of the function FCALL calls replace the command's), from
	// the command's flags. The engine asks it where Redis asks
	// getCommandFlags before running (CLIENT PAUSE WRITE).
	CallFlags   func(c *Ctx, args [][]byte, flags Flags) Flags
	Doc         Doc
	Subcommands []Spec
	// Run is the handler, in the same row as the spec (a command family's
	// specs carry theirs). A spec of the engine's own commands has none:
	// node/server joins its handler by name.
	Run Handler

	// Filled by NewTable.
	id       int
	fullName string
	parent   *Spec
	subs     map[string]*Spec
}

// ID is the command's dense index in its Table (for per-command arrays of
// handlers and statistics).
func (s *Spec) ID() int { return s.id }

// FullName is "name" or "container|sub" as Redis reports it.
func (s *Spec) FullName() string { return s.fullName }

// Parent is the container command of a subcommand, or nil.
func (s *Spec) Parent() *Spec { return s.parent }

// IsContainer reports whether the command only exists as subcommands.
func (s *Spec) IsContainer() bool { return len(s.Subcommands) > 0 }

// Is reports whether all flags in f are set.
func (s *Spec) Is(f Flags) bool { return s.Flags&f == f }

// ArityOK reports whether argc (including the name) fits the arity.
func (s *Spec) ArityOK(argc int) bool {
	if s.Arity >= 0 {
		return argc == s.Arity
	}
	return argc >= -s.Arity
}

// Sub finds a subcommand case-insensitively without allocating.
func (s *Spec) Sub(name []byte) *Spec {
	if s.subs == nil {
		return nil
	}
	var buf [64]byte
	lower, ok := lowerInto(buf[:], name)
	if !ok {
		return nil
	}
	return s.subs[string(lower)]
}

// SubSpecs returns the subcommands (pointers into the table).
func (s *Spec) SubSpecs() []*Spec {
	out := make([]*Spec, 0, len(s.Subcommands))
	for i := range s.Subcommands {
		out = append(out, &s.Subcommands[i])
	}
	return out
}

// HasKeys reports whether the command takes keys.
func (s *Spec) HasKeys() bool { return s.FirstKey > 0 || len(s.KeySpecs) > 0 || s.Keys != nil }

func lowerInto(buf []byte, name []byte) ([]byte, bool) {
	if len(name) > len(buf) {
		return nil, false
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(name)], true
}
