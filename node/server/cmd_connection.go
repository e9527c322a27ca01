package server

import (
	"fmt"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/acl"
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
)

// RedisVersion is the Redis version the node is compatible with (command.RedisVersion).
const RedisVersion = command.RedisVersion

func connectionHandlers() map[string]Handler {
	return map[string]Handler{
		"ping":   cmdPing,
		"echo":   cmdEcho,
		"select": cmdSelect,
		"quit":   cmdQuit,
		"auth":   cmdAuth,
		"hello":  cmdHello,
		"reset":  cmdReset,

		"client|id":       cmdClientID,
		"client|setname":  cmdClientSetname,
		"client|getname":  cmdClientGetname,
		"client|list":     cmdClientList,
		"client|info":     cmdClientInfo,
		"client|kill":     cmdClientKill,
		"client|pause":    cmdClientPause,
		"client|unpause":  cmdClientUnpause,
		"client|no-evict": cmdClientNoEvict,
		"client|reply":    cmdClientReply,
		"client|help":     cmdClientHelp,

		"client|tracking":     cmdClientTracking,
		"client|caching":      cmdClientCaching,
		"client|getredir":     cmdClientGetredir,
		"client|trackinginfo": cmdClientTrackinginfo,
	}
}

func cmdPing(c *Client) {
	if len(c.Args) > 2 {
		c.Error("ERR wrong number of arguments for 'ping' command")
		return
	}
	if c.W.Proto() == 2 && c.subscriptions() > 0 {
		c.W.ArrayLen(2)
		c.W.BulkString("pong")
		if len(c.Args) == 2 {
			c.W.Bulk(c.Args[1])
		} else {
			c.W.BulkString("")
		}
		return
	}
	if len(c.Args) == 2 {
		c.W.Bulk(c.Args[1])
		return
	}
	c.W.SimpleString("PONG")
}

func cmdEcho(c *Client) { c.W.Bulk(c.Args[1]) }

func cmdSelect(c *Client) {
	n, ok := c.ParseInt32(c.Args[1], "")
	if !ok {
		return
	}
	if c.srv.cfg.ClusterEnabled && n != 0 {
		c.Error("ERR SELECT is not allowed in cluster mode")
		return
	}
	if n < 0 || n >= int64(len(c.srv.dbs)) {
		c.Error(command.ErrInvalidDB)
		return
	}
	c.DB = c.srv.dbs[n]
	c.W.OK()
}

func cmdQuit(c *Client) {
	c.W.OK()
	c.closeAfter = true
}

// resetAuth logs the client in as the default user when that needs no
// password, and out otherwise (new connections, RESET).
func (c *Client) resetAuth() {
	if c.srv.defaultAuthenticates() {
		c.login(c.srv.acl.users.Default())
		return
	}
	c.authenticated = false
	c.aclUser = nil
	c.user = "default"
	c.rd.Unauthenticated = true
}

func (c *Client) login(u *acl.User) {
	c.authenticated = true
	c.aclUser = u
	c.user = u.Name()
	c.rd.Unauthenticated = false
}

func cmdAuth(c *Client) {
	if len(c.Args) > 3 {
		c.Error(command.ErrSyntax)
		return
	}
	user, pass := "default", c.Args[1]
	if len(c.Args) == 3 {
		user, pass = string(c.Args[1]), c.Args[2]
	} else if c.srv.acl.users.Default().NoPass() {
		c.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
		return
	}
	u := c.srv.authenticate(user, pass)
	if u == nil {
		c.srv.aclLogAuthFailure(c, user)
		c.Error(command.ErrWrongPass)
		return
	}
	c.login(u)
	c.W.OK()
}

func cmdHello(c *Client) {
	ver := int64(0)
	args := c.Args[1:]
	if len(args) > 0 {
		v, ok := strconvInt(args[0])
		if !ok {
			c.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		ver = v
		if ver < 2 || ver > 3 {
			c.Error("NOPROTO unsupported protocol version")
			return
		}
		args = args[1:]
	}
	var user, pass, name []byte
	hasAuth, hasName := false, false
	var authUser *acl.User
	for i := 0; i < len(args); i++ {
		more := len(args) - i - 1
		switch {
		case command.EqFold(args[i], "auth") && more >= 2:
			user, pass, hasAuth = args[i+1], args[i+2], true
			i += 2
		case command.EqFold(args[i], "setname") && more >= 1:
			name, hasName = args[i+1], true
			i++
		default:
			c.Error("ERR Syntax error in HELLO option '" + string(args[i]) + "'")
			return
		}
	}
	if hasAuth {
		if authUser = c.srv.authenticate(string(user), pass); authUser == nil {
			c.srv.aclLogAuthFailure(c, string(user))
			c.Error(command.ErrWrongPass)
			return
		}
	}
	if !c.authenticated && authUser == nil {
		c.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if hasName {
		if msg := validClientName(name); msg != "" {
			c.Error(msg)
			return
		}
		c.name = string(name)
	}
	if authUser != nil {
		c.login(authUser)
	}
	if ver != 0 {
		c.W.SetProto(int(ver))
	}
	w := c.W
	w.MapLen(7)
	w.BulkString("server")
	w.BulkString("redis")
	w.BulkString("version")
	w.BulkString(RedisVersion)
	w.BulkString("proto")
	w.Int(int64(w.Proto()))
	w.BulkString("id")
	w.Int(c.ID)
	w.BulkString("mode")
	if c.srv.cfg.ClusterEnabled {
		w.BulkString("cluster")
	} else {
		w.BulkString("standalone")
	}
	w.BulkString("role")
	w.BulkString("master")
	w.BulkString("modules")
	w.ArrayLen(0)
}

func strconvInt(b []byte) (int64, bool) {
	return keyspace.ParseInt(b)
}

func cmdReset(c *Client) {
	s := c.srv
	s.sunsubscribeAll(c)
	c.cl = clientCluster{}
	if c.multi != nil {
		c.discardTransaction()
	}
	c.unwatchAll()
	s.pubsubUnsubscribeAll(c)
	if c.monitor {
		s.removeMonitor(c)
	}
	c.DB = s.dbs[0]
	c.W.SetProto(2)
	c.name = ""
	c.replyOff, c.replySkipNext = false, false
	c.resetAuth()
	c.W.SimpleString("RESET")
}

// validClientName returns the error for a bad CLIENT SETNAME name.
func validClientName(name []byte) string {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return "ERR Client names cannot contain spaces, newlines or special characters."
		}
	}
	return ""
}

func cmdClientID(c *Client) { c.W.Int(c.ID) }

func cmdClientSetname(c *Client) {
	if msg := validClientName(c.Args[2]); msg != "" {
		c.Error(msg)
		return
	}
	c.name = string(c.Args[2])
	c.W.OK()
}

func cmdClientGetname(c *Client) {
	if c.name == "" {
		c.W.Null()
		return
	}
	c.W.BulkString(c.name)
}

// flags is CLIENT LIST's flags field.
func (c *Client) flagString() string {
	var b strings.Builder
	if c.subscriptions() > 0 {
		b.WriteByte('P')
	}
	if c.monitor {
		b.WriteByte('O')
	}
	if c.multi != nil {
		b.WriteByte('x')
	}
	if c.blk != nil || c.pausedArgs != nil { // Redis blocks paused clients
		b.WriteByte('b')
	}
	b.WriteString(c.trk.flagLetters())
	if c.dirtyCAS {
		b.WriteByte('d')
	}
	if c.closeAfter {
		b.WriteByte('c')
	}
	if c.noEvict {
		b.WriteByte('e')
	}
	if b.Len() == 0 {
		b.WriteByte('N')
	}
	return b.String()
}

// infoLine is one CLIENT LIST line, with Redis 7.0's fields.
func (c *Client) infoLine(now time.Time) string { return c.infoLineFor(now, c.Args) }

// infoLineFor is infoLine with cur the command c is running (its own
// CLIENT LIST or INFO, a command an ACL LOG entry is about), nil for a
// client another one looks at. Memory is counted as Redis counts it where
// the node has the same thing: qbuf the bytes not parsed (the whole batch
// while one of its commands runs), argv-mem the bytes of the arguments
// held (the running, blocked or paused command, or those parsed of one
// still arriving), multi-mem the queued commands' arguments and argv
// pointers; qbuf-free, rbs and tot-mem are the node's own buffers.
func (c *Client) infoLineFor(now time.Time, cur [][]byte) string {
	multi := -1
	if c.multi != nil {
		multi = len(c.multi.cmds)
	}
	cmd := c.lastCmd
	if cmd == "" {
		cmd = "NULL"
	}
	// obl: another client's replies are written once its batch ends (or
	// it is handed a goroutine of its own when the socket is full), so
	// none are pending unless others write to it (pub/sub, MONITOR).
	qbuf, argvMem, qbufCap, obl := c.qbufLen, c.argvPending, c.qbufCap, 0
	switch {
	case cur != nil:
		qbuf, argvMem, qbufCap, obl = c.batchLen, argsLen(cur), c.rd.Cap(), c.W.Len()
	case c.blk != nil:
		argvMem = argsLen(c.blk.args)
	case c.pausedArgs != nil:
		argvMem = argsLen(c.pausedArgs)
	}
	if c.async {
		obl = c.W.Len() // appended under the lock by everyone
	}
	const rbs = 16384
	multiMem := c.multi.memory()
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d multi=%d qbuf=%d qbuf-free=%d argv-mem=%d multi-mem=%d rbs=%d rbp=%d obl=%d oll=0 omem=%d tot-mem=%d events=r cmd=%s user=%s redir=%d resp=%d",
		c.ID, c.addr, c.laddr, 8+c.ID, c.name, int64(now.Sub(c.created).Seconds()), int64(now.Sub(c.lastActive).Seconds()),
		c.flagString(), c.DB.ID, len(c.channels), len(c.patterns), len(c.cl.shardChannels), multi, qbuf, max(qbufCap-qbuf, 0), argvMem, multiMem,
		rbs, rbs, obl, obl, qbufCap+argvMem+multiMem+rbs+obl, cmd, c.user, c.trk.redir(), c.W.Proto())
}

// argsLen is the number of bytes of the arguments.
func argsLen(args [][]byte) int {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	return n
}

func cmdClientList(c *Client) {
	s := c.srv
	var ids []int64
	typ := ""
	// Redis 7.0's CLIENT LIST takes exactly TYPE <type> or ID <id>...,
	// never both (clientCommand).
	args := c.Args[2:]
	switch {
	case len(args) == 2 && command.EqFold(args[0], "type"):
		typ = strings.ToLower(string(args[1]))
		switch typ {
		case "slave":
			typ = "replica"
		case "normal", "master", "replica", "pubsub":
		default:
			c.Error("ERR Unknown client type '" + string(args[1]) + "'")
			return
		}
	case len(args) > 1 && command.EqFold(args[0], "id"):
		for _, a := range args[1:] {
			id, ok := keyspace.ParseInt(a)
			if !ok { // an ID no client has (0, -1) just matches nothing
				c.Error("ERR Invalid client ID")
				return
			}
			ids = append(ids, id)
		}
	case len(args) != 0:
		c.Error(command.ErrSyntax)
		return
	}
	now := time.Now()
	var b strings.Builder
	for _, cl := range s.sortedClients() {
		if ids != nil && !containsID(ids, cl.ID) {
			continue
		}
		if typ != "" && cl.typeName() != typ {
			continue
		}
		b.WriteString(cl.infoLine(now))
		b.WriteByte('\n')
	}
	c.W.Verbatim("txt", b.String())
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func (c *Client) typeName() string {
	if t := c.srv.pluggedClientType(c); t != "" {
		return t
	}
	if c.subscriptions() > 0 {
		return "pubsub"
	}
	return "normal"
}

func (s *Server) sortedClients() []*Client {
	out := make([]*Client, 0, len(s.clients))
	for _, cl := range s.clients {
		out = append(out, cl)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func cmdClientInfo(c *Client) {
	c.W.Verbatim("txt", c.infoLine(time.Now())+"\n")
}

func cmdClientKill(c *Client) {
	s := c.srv
	args := c.Args[2:]
	if len(args) == 1 {
		// Old form: CLIENT KILL addr:port.
		for _, cl := range s.clients {
			if cl.addr == string(args[0]) {
				cl.kill()
				c.W.OK()
				return
			}
		}
		c.Error("ERR No such client")
		return
	}
	if len(args)%2 != 0 {
		c.Error(command.ErrSyntax)
		return
	}
	var id int64
	var addr, laddr, user, typ string
	skipMe := true
	for i := 0; i < len(args); i += 2 {
		v := string(args[i+1])
		switch {
		case command.EqFold(args[i], "id"):
			n, ok := keyspace.ParseInt(args[i+1])
			if !ok || n <= 0 {
				c.Error("ERR client-id should be greater than 0")
				return
			}
			id = n
		case command.EqFold(args[i], "addr"):
			addr = v
		case command.EqFold(args[i], "laddr"):
			laddr = v
		case command.EqFold(args[i], "user"):
			if s.acl.users.Get(v) == nil {
				c.Error("ERR No such user '" + v + "'")
				return
			}
			user = v
		case command.EqFold(args[i], "type"):
			typ = strings.ToLower(v)
			switch typ {
			case "slave":
				typ = "replica"
			case "normal", "master", "replica", "pubsub":
			default:
				c.Error("ERR Unknown client type '" + v + "'")
				return
			}
		case command.EqFold(args[i], "skipme"):
			switch strings.ToLower(v) {
			case "yes":
				skipMe = true
			case "no":
				skipMe = false
			default:
				c.Error(command.ErrSyntax)
				return
			}
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	killed := 0
	for _, cl := range s.sortedClients() {
		if (id != 0 && cl.ID != id) || (addr != "" && cl.addr != addr) || (laddr != "" && cl.laddr != laddr) ||
			(user != "" && cl.user != user) || (typ != "" && cl.typeName() != typ) || (skipMe && cl == c) {
			continue
		}
		cl.kill()
		killed++
	}
	c.W.Int(int64(killed))
}

// cmdClientPause is CLIENT PAUSE timeout [WRITE|ALL], checked in Redis's
// order: the argument count, the mode, then the timeout.
func cmdClientPause(c *Client) {
	if len(c.Args) > 4 {
		c.Error(command.SubcommandSyntaxError(c.Args))
		return
	}
	all := true
	if len(c.Args) == 4 {
		switch {
		case command.EqFold(c.Args[3], "write"):
			all = false
		case command.EqFold(c.Args[3], "all"):
		default:
			c.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	d, ok := c.ParseTimeoutMillis(c.Args[2])
	if !ok {
		return
	}
	c.srv.pauseClients(d, all)
	c.W.OK()
}

func cmdClientUnpause(c *Client) {
	c.srv.unpauseClients()
	c.W.OK()
}

func cmdClientNoEvict(c *Client) {
	switch {
	case command.EqFold(c.Args[2], "on"):
		c.noEvict = true
	case command.EqFold(c.Args[2], "off"):
		c.noEvict = false
	default:
		c.Error(command.ErrSyntax)
		return
	}
	c.W.OK()
}

// cmdClientReply is CLIENT REPLY ON|OFF|SKIP: OFF and SKIP reply nothing
// (Client.run drops the replies), ON clears both and replies OK.
func cmdClientReply(c *Client) {
	switch {
	case command.EqFold(c.Args[2], "on"):
		c.replyOff, c.replySkip, c.replySkipNext = false, false, false
		c.W.OK()
	case command.EqFold(c.Args[2], "off"):
		c.replyOff = true
	case command.EqFold(c.Args[2], "skip"):
		if !c.replyOff {
			c.replySkipNext = true
		}
	default:
		c.Error(command.ErrSyntax)
	}
}

func cmdClientHelp(c *Client) {
	c.ReplyHelp("CLIENT", []string{
		"CACHING (YES|NO)",
		"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
		"GETREDIR",
		"    Return the client ID we are redirecting to when tracking is enabled.",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes).",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"UNPAUSE",
		"    Stop the current client pause, resuming traffic.",
		"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend all, or just write, clients for <timeout> milliseconds.",
		"REPLY (ON|OFF|SKIP)",
		"    Control the replies sent to the current connection.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]",
		"    Unblock the specified blocked client.",
		"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
		"         [OPTIN] [OPTOUT] [NOLOOP]",
		"    Control server assisted client side caching.",
		"TRACKINGINFO",
		"    Report tracking status for the current connection.",
		"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction.",
	})
}
