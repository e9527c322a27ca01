package server

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
)

func serverHandlers() map[string]Handler {
	return map[string]Handler{
		"command":         cmdCommand,
		"command|count":   cmdCommandCount,
		"command|info":    cmdCommandInfo,
		"command|docs":    cmdCommandDocs,
		"command|getkeys": cmdCommandGetkeys,
		"command|list":    cmdCommandList,
		"command|help":    cmdCommandHelp,
		"dbsize":          cmdDbsize,
		"flushdb":         cmdFlushdb,
		"flushall":        cmdFlushall,
		"swapdb":          cmdSwapdb,
		"time":            cmdTime,
		"info":            cmdInfo,
		"lastsave":        cmdLastsave,
		"save":            cmdSave,
		"bgsave":          cmdBgsave,
		"bgrewriteaof":    cmdBgrewriteaof,
		"shutdown":        cmdShutdown,
		"monitor":         cmdMonitor,

		"config|get":       cmdConfigGet,
		"config|set":       cmdConfigSet,
		"config|resetstat": cmdConfigResetstat,
		"config|rewrite":   cmdConfigRewrite,
		"config|help":      cmdConfigHelp,

		"slowlog|get":   cmdSlowlogGet,
		"slowlog|len":   cmdSlowlogLen,
		"slowlog|reset": cmdSlowlogReset,
		"slowlog|help":  cmdSlowlogHelp,

		"memory|usage": cmdMemoryUsage,
		"memory|help":  cmdMemoryHelp,

		"debug": cmdDebug,

		"command|getkeysandflags": cmdCommandGetkeysandflags,
	}
}

// ---- COMMAND ----

func cmdCommand(c *Client) {
	cmds := c.srv.cmds.Commands()
	c.W.ArrayLen(len(cmds))
	for _, s := range cmds {
		writeCommandInfo(c, s)
	}
}

func cmdCommandCount(c *Client) { c.W.Int(int64(c.srv.cmds.Count())) }

func writeCommandInfo(c *Client, s *command.Spec) {
	w := c.W
	w.ArrayLen(10)
	w.BulkString(s.FullName())
	w.Int(int64(s.Arity))
	flags := s.Flags.Names()
	w.SetLen(len(flags))
	for _, f := range flags {
		w.SimpleString(f)
	}
	w.Int(int64(s.FirstKey))
	w.Int(int64(s.LastKey))
	w.Int(int64(s.Step))
	cats := s.Categories.Names()
	w.SetLen(len(cats))
	for _, f := range cats {
		w.SimpleString(f)
	}
	w.SetLen(len(s.Tips))
	for _, t := range s.Tips {
		w.BulkString(t)
	}
	w.SetLen(len(s.KeySpecs))
	for _, ks := range s.KeySpecs {
		writeKeySpec(c, ks)
	}
	subs := s.SubSpecs()
	w.SetLen(len(subs))
	for _, sub := range subs {
		writeCommandInfo(c, sub)
	}
}

func writeKeySpec(c *Client, ks command.KeySpec) {
	w := c.W
	n := 3
	if ks.Notes != "" {
		n++
	}
	w.MapLen(n)
	if ks.Notes != "" {
		w.BulkString("notes")
		w.BulkString(ks.Notes)
	}
	w.BulkString("flags")
	names := ks.Flags.Names()
	w.SetLen(len(names))
	for _, f := range names {
		w.SimpleString(f)
	}
	w.BulkString("begin_search")
	w.MapLen(2)
	w.BulkString("type")
	switch {
	case ks.Begin.Index > 0:
		w.BulkString("index")
		w.BulkString("spec")
		w.MapLen(1)
		w.BulkString("index")
		w.Int(int64(ks.Begin.Index))
	case ks.Begin.Keyword != "":
		w.BulkString("keyword")
		w.BulkString("spec")
		w.MapLen(2)
		w.BulkString("keyword")
		w.BulkString(ks.Begin.Keyword)
		w.BulkString("startfrom")
		w.Int(int64(ks.Begin.StartFrom))
	default:
		w.BulkString("unknown")
		w.BulkString("spec")
		w.MapLen(0)
	}
	w.BulkString("find_keys")
	w.MapLen(2)
	w.BulkString("type")
	switch {
	case ks.Find.Range:
		w.BulkString("range")
		w.BulkString("spec")
		w.MapLen(3)
		w.BulkString("lastkey")
		w.Int(int64(ks.Find.LastKey))
		w.BulkString("keystep")
		w.Int(int64(ks.Find.KeyStep))
		w.BulkString("limit")
		w.Int(int64(ks.Find.Limit))
	case ks.Find.Keynum:
		w.BulkString("keynum")
		w.BulkString("spec")
		w.MapLen(3)
		w.BulkString("keynumidx")
		w.Int(int64(ks.Find.KeyNumIdx))
		w.BulkString("firstkey")
		w.Int(int64(ks.Find.FirstKey))
		w.BulkString("keystep")
		w.Int(int64(ks.Find.KeyStep))
	default:
		w.BulkString("unknown")
		w.BulkString("spec")
		w.MapLen(0)
	}
}

func cmdCommandInfo(c *Client) {
	if len(c.Args) == 2 {
		cmdCommand(c)
		return
	}
	c.W.ArrayLen(len(c.Args) - 2)
	for _, name := range c.Args[2:] {
		s := c.srv.cmds.LookupName(string(name))
		if s == nil {
			c.W.Null()
			continue
		}
		writeCommandInfo(c, s)
	}
}

// mapField is one entry of a map reply whose entries are optional.
type mapField struct {
	key   string
	write func()
}

// writeMap writes the entries as one map reply.
func writeMap(c *Client, fields []mapField) {
	c.W.MapLen(len(fields))
	for _, f := range fields {
		c.W.BulkString(f.key)
		f.write()
	}
}

// bulkField is a map entry with a bulk string value.
func bulkField(c *Client, key, value string) mapField {
	return mapField{key, func() { c.W.BulkString(value) }}
}

// flagsField is a map entry with a set of simple strings.
func flagsField(c *Client, key string, flags []string) mapField {
	return mapField{key, func() {
		c.W.SetLen(len(flags))
		for _, f := range flags {
			c.W.SimpleString(f)
		}
	}}
}

// writeCommandDoc writes a COMMAND DOCS entry in Redis's field order.
func writeCommandDoc(c *Client, s *command.Spec) {
	w := c.W
	d := s.Doc
	fields := []mapField{bulkField(c, "summary", d.Summary), bulkField(c, "since", d.Since), bulkField(c, "group", d.Group)}
	if d.Complexity != "" { // Redis omits it where its JSON has none (SYNC)
		fields = append(fields, bulkField(c, "complexity", d.Complexity))
	}
	if len(d.DocFlags) > 0 {
		fields = append(fields, flagsField(c, "doc_flags", d.DocFlags))
	}
	if d.DeprecatedSince != "" {
		fields = append(fields, bulkField(c, "deprecated_since", d.DeprecatedSince), bulkField(c, "replaced_by", d.ReplacedBy))
	}
	if len(d.History) > 0 {
		fields = append(fields, mapField{"history", func() {
			w.SetLen(len(d.History))
			for _, h := range d.History {
				w.ArrayLen(2)
				w.BulkString(h[0])
				w.BulkString(h[1])
			}
		}})
	}
	if len(d.Arguments) > 0 {
		fields = append(fields, mapField{"arguments", func() { writeDocArgs(c, d.Arguments) }})
	}
	if subs := s.SubSpecs(); len(subs) > 0 {
		fields = append(fields, mapField{"subcommands", func() {
			w.MapLen(len(subs))
			for _, sub := range subs {
				w.BulkString(sub.FullName())
				writeCommandDoc(c, sub)
			}
		}})
	}
	writeMap(c, fields)
}

// writeDocArgs writes COMMAND DOCS arguments in Redis's field order.
func writeDocArgs(c *Client, args []command.Arg) {
	c.W.ArrayLen(len(args))
	for _, a := range args {
		fields := []mapField{bulkField(c, "name", a.Name), bulkField(c, "type", a.Type)}
		if a.KeySpecIndex != nil {
			i := int64(*a.KeySpecIndex)
			fields = append(fields, mapField{"key_spec_index", func() { c.W.Int(i) }})
		}
		// A pure token always has its token, even the empty one of MIGRATE.
		if a.Token != "" || a.Type == "pure-token" {
			fields = append(fields, bulkField(c, "token", a.Token))
		}
		if a.Since != "" {
			fields = append(fields, bulkField(c, "since", a.Since))
		}
		if a.DeprecatedSince != "" {
			fields = append(fields, bulkField(c, "deprecated_since", a.DeprecatedSince))
		}
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{a.Optional, "optional"}, {a.Multiple, "multiple"}, {a.MultipleToken, "multiple_token"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		if len(flags) > 0 {
			fields = append(fields, flagsField(c, "flags", flags))
		}
		if len(a.Arguments) > 0 {
			sub := a.Arguments
			fields = append(fields, mapField{"arguments", func() { writeDocArgs(c, sub) }})
		}
		writeMap(c, fields)
	}
}

func cmdCommandDocs(c *Client) {
	var specs []*command.Spec
	if len(c.Args) == 2 {
		specs = c.srv.cmds.Commands()
	} else {
		for _, name := range c.Args[2:] {
			if s := c.srv.cmds.LookupName(string(name)); s != nil {
				specs = append(specs, s)
			}
		}
	}
	c.W.MapLen(len(specs))
	for _, s := range specs {
		c.W.BulkString(s.FullName())
		writeCommandDoc(c, s)
	}
}

func cmdCommandGetkeys(c *Client)         { commandGetkeys(c, false) }
func cmdCommandGetkeysandflags(c *Client) { commandGetkeys(c, true) }

// commandGetkeys is COMMAND GETKEYS and GETKEYSANDFLAGS: the keys of a
// command line (with their key spec flags), as Redis finds them for ACL.
func commandGetkeys(c *Client, withFlags bool) {
	args := c.Args[2:]
	spec, unknownSub := c.srv.cmds.LookupArgs(args)
	if spec == nil || unknownSub {
		c.Error("ERR Invalid command specified")
		return
	}
	if !spec.HasKeyArgs() {
		c.Error("ERR The command has no key arguments")
		return
	}
	if !spec.ArityOK(len(args)) {
		c.Error("ERR Invalid number of arguments specified for command")
		return
	}
	keys, ok := spec.GetKeysWithFlags(args, nil)
	if !ok || len(keys) == 0 {
		if spec.Is(command.NoMandatoryKeys) {
			c.W.ArrayLen(0)
			return
		}
		c.Error("ERR Invalid arguments specified for command")
		return
	}
	c.W.ArrayLen(len(keys))
	for _, k := range keys {
		if !withFlags {
			c.W.Bulk(args[k.Pos])
			continue
		}
		c.W.ArrayLen(2)
		c.W.Bulk(args[k.Pos])
		names := k.Flags.Names()
		c.W.SetLen(len(names))
		for _, f := range names {
			c.W.SimpleString(f)
		}
	}
}

func cmdCommandList(c *Client) {
	var pat []byte
	filter := ""
	if len(c.Args) == 5 && command.EqFold(c.Args[2], "filterby") {
		switch {
		case command.EqFold(c.Args[3], "pattern"):
			pat = c.Args[4]
			filter = "pattern"
		case command.EqFold(c.Args[3], "aclcat"):
			filter = "aclcat"
		case command.EqFold(c.Args[3], "module"):
			c.W.ArrayLen(0)
			return
		default:
			c.Error(command.ErrSyntax)
			return
		}
	} else if len(c.Args) != 2 {
		c.Error(command.ErrSyntax)
		return
	}
	var cat command.Category
	if filter == "aclcat" {
		var ok bool
		if cat, ok = command.CategoryByName(strings.ToLower(string(c.Args[4]))); !ok {
			c.W.ArrayLen(0)
			return
		}
	}
	var names []string
	add := func(s *command.Spec) {
		switch filter {
		case "pattern":
			if !command.GlobMatch(pat, []byte(s.FullName()), true) {
				return
			}
		case "aclcat":
			if s.Categories&cat == 0 {
				return
			}
		}
		names = append(names, s.FullName())
	}
	for _, s := range c.srv.cmds.Commands() {
		add(s)
		for _, sub := range s.SubSpecs() {
			add(sub)
		}
	}
	c.W.StringArray(names...)
}

func cmdCommandHelp(c *Client) {
	c.ReplyHelp("COMMAND", []string{
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	})
}

// ---- databases ----

func cmdDbsize(c *Client) { c.W.Int(int64(c.DB.Len())) }

// parseFlushMode accepts the optional ASYNC|SYNC argument.
func (c *Client) parseFlushMode() bool {
	if len(c.Args) > 2 || (len(c.Args) == 2 && !command.EqFold(c.Args[1], "async") && !command.EqFold(c.Args[1], "sync")) {
		c.Error(command.ErrSyntax)
		return false
	}
	return true
}

func (s *Server) flushDB(db *keyspace.DB) int {
	s.touchAllWatchedInDB(db.ID, func(key string) bool { return db.Peek([]byte(key)) != nil })
	return db.Flush()
}

func cmdFlushdb(c *Client) {
	if !c.parseFlushMode() {
		return
	}
	n := c.srv.flushDB(c.DB)
	c.srv.trackingFlush()
	c.AddDirty(int64(n) + 1)
	c.W.OK()
}

func cmdFlushall(c *Client) {
	if !c.parseFlushMode() {
		return
	}
	n := 0
	for _, db := range c.srv.dbs {
		n += c.srv.flushDB(db)
	}
	c.srv.trackingFlush()
	c.AddDirty(int64(n) + 1)
	c.W.OK()
}

func cmdSwapdb(c *Client) {
	s := c.srv
	if s.cfg.ClusterEnabled {
		c.Error("ERR SWAPDB is not allowed in cluster mode")
		return
	}
	a, ok := c.ParseInt32(c.Args[1], "ERR invalid first DB index")
	if !ok {
		return
	}
	b, ok := c.ParseInt32(c.Args[2], "ERR invalid second DB index")
	if !ok {
		return
	}
	if a < 0 || a >= int64(len(s.dbs)) || b < 0 || b >= int64(len(s.dbs)) {
		c.Error(command.ErrInvalidDB)
		return
	}
	if a != b {
		s.dbs[a].SwapWith(s.dbs[b])
		s.touchAllWatchedInDB(int(a), nil)
		s.touchAllWatchedInDB(int(b), nil)
		for _, dk := range []int64{a, b} {
			for key := range s.blocking.byKey {
				if key.db == int(dk) {
					s.signalReady(key.db, []byte(key.key))
				}
			}
		}
	}
	c.AddDirty(1)
	c.W.OK()
}

func cmdTime(c *Client) {
	now := time.Now()
	c.W.ArrayLen(2)
	c.W.BulkString(strconv.FormatInt(now.Unix(), 10))
	c.W.BulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

// ---- persistence hooks ----

// Persistence is what SAVE, BGSAVE, LASTSAVE and BGREWRITEAOF need from
// the snapshot/AOF subsystem (Hooks.Persistence). Until one is installed
// they answer as a server with nothing configured would. All run with the
// lock held; an error's text follows "ERR " in the reply.
type Persistence interface {
	Save() error   // called with the lock held
	BGSave() error // must not hold the lock for long
	LastSave() int64
	// BGRewriteAOF starts (or schedules) an AOF rewrite and returns the
	// status reply.
	BGRewriteAOF() (string, error)
	// LastBGSaveFailed reports whether the last background save failed
	// (stop-writes-on-bgsave-error then refuses writes with MISCONF).
	LastBGSaveFailed() bool
}

// ErrMisconf is Redis's reply to a write while the last background save
// failed and stop-writes-on-bgsave-error is yes.
const ErrMisconf = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."

// diskErrorRefuses is Redis's writeCommandsDeniedByDiskError check: a
// master with save points whose last background save failed refuses
// writes (and PING, as Redis does) while stop-writes-on-bgsave-error is
// yes. A queued EXEC is checked by the writes it holds.
func (s *Server) diskErrorRefuses(c *Client, spec *command.Spec) bool {
	if s.persistence == nil || !s.cfg.Inert.StopWritesOnBgsaveError || s.cfg.Save == "" || s.IsReplica() ||
		!s.persistence.LastBGSaveFailed() {
		return false
	}
	return spec.Is(command.Write) || spec == s.pingSpec || (spec == s.execSpec && c.multiHasWrite())
}

// SetPersistence installs the persistence subsystem.
func (s *Server) SetPersistence(p Persistence) {
	s.mu.Lock()
	s.persistence = p
	s.mu.Unlock()
}

func cmdLastsave(c *Client) {
	if p := c.srv.persistence; p != nil {
		c.W.Int(p.LastSave())
		return
	}
	c.W.Int(c.srv.start.Unix())
}

func cmdSave(c *Client) {
	if p := c.srv.persistence; p != nil {
		if err := p.Save(); err != nil {
			c.Error("ERR " + err.Error())
			return
		}
	}
	c.srv.dirty = 0
	c.W.OK()
}

func cmdBgsave(c *Client) {
	// BGSAVE [SCHEDULE]: anything else is a syntax error, as in Redis.
	if len(c.Args) > 2 || (len(c.Args) == 2 && !command.EqFold(c.Args[1], "schedule")) {
		c.Error(command.ErrSyntax)
		return
	}
	if p := c.srv.persistence; p != nil {
		if err := p.BGSave(); err != nil {
			c.Error("ERR " + err.Error())
			return
		}
	}
	c.W.SimpleString("Background saving started")
}

func cmdBgrewriteaof(c *Client) {
	p := c.srv.persistence
	if p == nil {
		c.Error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
		return
	}
	msg, err := p.BGRewriteAOF()
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	c.W.SimpleString(msg)
}

func cmdShutdown(c *Client) {
	save := c.srv.cfg.Save != ""
	nosave := false
	for _, a := range c.Args[1:] {
		switch {
		case command.EqFold(a, "nosave"):
			save, nosave = false, true
		case command.EqFold(a, "save"):
			save = true
		case command.EqFold(a, "now"), command.EqFold(a, "force"), command.EqFold(a, "abort"):
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	s := c.srv
	if msg := s.shutdownDuringScript(nosave); msg != "" {
		c.Error(msg)
		return
	}
	if err := s.runShutdown(save); err != nil {
		c.Error("ERR Errors trying to SHUTDOWN. Check logs.")
		return
	}
	s.log.Printf("User requested shutdown...")
	// Close outside the lock; the client's connection closes with the rest.
	go func() {
		s.Close()
		if s.Exit != nil {
			s.Exit()
		}
	}()
	c.closeAfter = true
}

func cmdMonitor(c *Client) {
	if c.multi != nil || c.inExec {
		c.Error("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	if c.monitor {
		c.W.OK()
		return
	}
	c.makeAsync()
	c.monitor = true
	c.srv.monitors = append(c.srv.monitors, c)
	c.W.OK()
}

// ---- SLOWLOG ----

func cmdSlowlogGet(c *Client) {
	l := &c.srv.slowlog
	n := int64(10)
	if len(c.Args) > 3 {
		c.Error("ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.")
		return
	}
	if len(c.Args) == 3 {
		v, ok := keyspace.ParseInt(c.Args[2])
		if !ok || v < -1 {
			c.Error("ERR count should be greater than or equal to -1")
			return
		}
		n = v
	}
	if n == -1 || n > int64(len(l.entries)) {
		n = int64(len(l.entries))
	}
	c.W.ArrayLen(int(n))
	for _, e := range l.entries[:n] {
		c.W.ArrayLen(6)
		c.W.Int(e.id)
		c.W.Int(e.time)
		c.W.Int(e.duration)
		c.W.StringArray(e.args...)
		c.W.BulkString(e.addr)
		c.W.BulkString(e.name)
	}
}

func cmdSlowlogLen(c *Client) { c.W.Int(int64(len(c.srv.slowlog.entries))) }

func cmdSlowlogReset(c *Client) {
	c.srv.slowlog.entries = nil
	c.W.OK()
}

func cmdSlowlogHelp(c *Client) {
	c.ReplyHelp("SLOWLOG", []string{
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
	})
}

// ---- MEMORY ----

// cmdMemoryUsage is MEMORY USAGE key [SAMPLES count]..., options checked
// as Redis's memoryCommand (repeatable, a negative count is a syntax error).
func cmdMemoryUsage(c *Client) {
	for j := 3; j < len(c.Args); j += 2 {
		if !command.EqFold(c.Args[j], "samples") || j+1 >= len(c.Args) {
			c.Error(command.ErrSyntax)
			return
		}
		n, ok := c.ParseInt(c.Args[j+1])
		if !ok {
			return
		}
		if n < 0 {
			c.Error(command.ErrSyntax)
			return
		}
	}
	e := c.DB.PeekNoExpire(c.Args[2]) // Redis's dictFind: an expired key not yet removed counts
	if e == nil {
		c.W.Null()
		return
	}
	c.W.Int(keyspace.MemoryUsage(e))
}

func cmdMemoryHelp(c *Client) {
	c.ReplyHelp("MEMORY", []string{
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
	})
}

// ---- DEBUG ----

func cmdDebug(c *Client) {
	switch c.srv.cfg.EnableDebugCommand {
	case "yes":
	case "local":
		if !c.isLocal() {
			c.Error(errDebugDisabled)
			return
		}
	default:
		c.Error(errDebugDisabled)
		return
	}
	sub := c.Args[1]
	switch {
	case command.EqFold(sub, "sleep") && len(c.Args) == 3:
		f, ok := c.ParseFloat(c.Args[2])
		if !ok {
			return
		}
		time.Sleep(time.Duration(f * float64(time.Second)))
		c.W.OK()
	case command.EqFold(sub, "set-active-expire") && len(c.Args) == 3:
		c.srv.noActiveExpire = string(c.Args[2]) == "0"
		c.W.OK()
	case command.EqFold(sub, "populate") && len(c.Args) >= 3:
		cmdDebugPopulate(c)
	default:
		c.Error("ERR unknown subcommand or wrong number of arguments for '" + string(sub) + "'. Try DEBUG HELP.")
	}
}

const errDebugDisabled = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."

// isLocal reports whether the client connects over loopback.
func (c *Client) isLocal() bool {
	ta, ok := c.conn.RemoteAddr().(*net.TCPAddr)
	return !ok || ta.IP.IsLoopback()
}

// cmdDebugPopulate is DEBUG POPULATE count [prefix] [size].
func cmdDebugPopulate(c *Client) {
	n, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	prefix := "key"
	if len(c.Args) > 3 {
		prefix = string(c.Args[3])
	}
	size := int64(-1)
	if len(c.Args) > 4 {
		if size, ok = c.ParseInt(c.Args[4]); !ok {
			return
		}
	}
	var kb, vb []byte
	for i := int64(0); i < n; i++ {
		kb = strconv.AppendInt(append(append(kb[:0], prefix...), ':'), i, 10)
		if c.DB.Peek(kb) != nil {
			continue
		}
		vb = strconv.AppendInt(append(vb[:0], "value:"...), i, 10)
		if size >= 0 {
			for int64(len(vb)) < size {
				vb = append(vb, 0)
			}
			vb = vb[:size]
		}
		c.DB.AddString(kb, vb)
	}
	c.W.OK()
}
