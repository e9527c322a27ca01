package clusternode

import (
	"bufio"
	"errors"
	"github.com/shoal-dev/shoal/node/tlsconf"
	"math"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/persistence"
	"github.com/shoal-dev/shoal/node/resp"
	"github.com/shoal-dev/shoal/node/server"
)

// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
// [AUTH password] [AUTH2 username password] [KEYS key [key ...]]
//
// As Redis's migrateCommand: the values are serialized with DUMP's format
// and sent as RESTORE (RESTORE-ASKING in cluster mode, so the target
// accepts them in an IMPORTING slot) on a connection cached per target;
// a key is deleted here only after the target acknowledged it. Redis
// runs the whole exchange in its event loop, so no command can change a
// key between its DUMP and its deletion, which is what makes the move of
// each key atomic. Here the values are serialized under the server lock,
// the round trip to the target runs without it while the keys are held
// (server.Client.Unlocked: a command that may write one of them waits for
// the end of the exchange and then runs as it would after Redis's
// MIGRATE), and the acknowledged keys are deleted under the lock again:
// the move of each key is as atomic, and the other clients are not kept
// waiting for the target.

const (
	migrateCacheTTL  = 10 * time.Second // MIGRATE_SOCKET_CACHE_TTL
	migrateCacheSize = 64               // MIGRATE_SOCKET_CACHE_ITEMS
)

// migrateConn is a cached connection to a MIGRATE target.
type migrateConn struct {
	// buf is the last request's buffer, for the next one (the connection
	// serves one MIGRATE at a time).
	buf     []byte
	conn    net.Conn
	rd      *bufio.Reader
	lastDB  int // -1: SELECT needed
	lastUse time.Time
}

// migrateCache holds the connections by "host:port".
type migrateCache struct {
	conns map[string]*migrateConn
}

// take returns the cached connection to addr, taken out of the cache
// while one MIGRATE uses it (it runs without the lock: another MIGRATE to
// the same target meanwhile connects anew), or connects within timeout.
// tlsc, when not nil, wraps a new connection in TLS (tls-cluster).
func (mc *migrateCache) take(addr string, timeout time.Duration, tlsc *tlsconf.Store) (*migrateConn, error) {
	if c := mc.conns[addr]; c != nil {
		delete(mc.conns, addr)
		return c, nil
	}
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if tlsc != nil {
		if conn, err = tlsc.Client(conn, timeout); err != nil {
			return nil, err
		}
	}
	setNoDelay(conn)
	return &migrateConn{conn: conn, rd: bufio.NewReader(conn), lastDB: -1}, nil
}

// put caches a connection taken (or made) by take, unless one is cached
// for addr already.
func (mc *migrateCache) put(addr string, c *migrateConn) {
	if mc.conns[addr] != nil {
		c.conn.Close()
		return
	}
	if len(mc.conns) >= migrateCacheSize {
		// Too many items: drop one at random (Redis does the same).
		for k, old := range mc.conns {
			old.conn.Close()
			delete(mc.conns, k)
			break
		}
	}
	c.lastUse = time.Now()
	mc.conns[addr] = c
}

func (mc *migrateCache) close(addr string) {
	if c := mc.conns[addr]; c != nil {
		c.conn.Close()
		delete(mc.conns, addr)
	}
}

// closeIdle closes connections unused for migrateCacheTTL (cron).
func (mc *migrateCache) closeIdle(now time.Time) {
	for addr, c := range mc.conns {
		if now.Sub(c.lastUse) > migrateCacheTTL {
			c.conn.Close()
			delete(mc.conns, addr)
		}
	}
}

func (mc *migrateCache) closeAll() {
	for addr := range mc.conns {
		mc.close(addr)
	}
}

// migrateArgs are MIGRATE's parsed arguments.
type migrateArgs struct {
	addr           string
	db             int64
	timeout        time.Duration
	copy, replace  bool
	user, password string
	auth           bool
	keys           [][]byte
}

// parseMigrate parses the options, replying the error itself.
func parseMigrate(c *server.Client) (migrateArgs, bool) {
	args := c.Args
	a := migrateArgs{addr: net.JoinHostPort(string(args[1]), string(args[2]))}
	firstKey, numKeys := 3, 1
	for j := 6; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case command.EqFold(args[j], "copy"):
			a.copy = true
		case command.EqFold(args[j], "replace"):
			a.replace = true
		case command.EqFold(args[j], "auth"):
			if more < 1 {
				c.Error(command.ErrSyntax)
				return a, false
			}
			j++
			a.auth, a.user, a.password = true, "", string(args[j])
		case command.EqFold(args[j], "auth2"):
			if more < 2 {
				c.Error(command.ErrSyntax)
				return a, false
			}
			a.auth, a.user, a.password = true, string(args[j+1]), string(args[j+2])
			j += 2
		case command.EqFold(args[j], "keys"):
			if len(args[3]) != 0 {
				c.Error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
				return a, false
			}
			firstKey, numKeys = j+1, len(args)-j-1
			j = len(args)
		default:
			c.Error(command.ErrSyntax)
			return a, false
		}
	}
	timeout, ok := c.ParseInt(args[5])
	if !ok {
		return a, false
	}
	if a.db, ok = c.ParseInt(args[4]); !ok {
		return a, false
	}
	if timeout <= 0 {
		timeout = 1000
	}
	// A timeout in ms beyond time.Duration's range is as good as forever
	// (multiplied, it would wrap to a negative duration: no wait at all).
	a.timeout = time.Duration(min(timeout, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond
	a.keys = args[firstKey : firstKey+numKeys]
	return a, true
}

// migrateKey is a key to send and its value.
type migrateKey struct {
	key   []byte
	entry *keyspace.Entry
}

func (p *plugin) cmdMigrate(c *server.Client) {
	a, ok := parseMigrate(c)
	if !ok {
		return
	}
	restore := "RESTORE"
	if p.node != nil {
		restore = "RESTORE-ASKING"
	}
	for retry := true; ; retry = false {
		// Looked up again for a retry: the first attempt ran without
		// the lock (a key may have expired or been flushed meanwhile).
		keys := migrateLookup(c, a.keys)
		if len(keys) == 0 {
			c.W.SimpleString("NOKEY")
			return
		}
		mc, err := p.migrate.take(a.addr, a.timeout, p.migrateTLS())
		if err != nil {
			c.Error("IOERR error or timeout connecting to the client")
			return
		}
		req, ok := p.migrateRequest(c, mc, a, keys, restore)
		if !ok {
			p.migrate.put(a.addr, mc)
			return
		}
		// The exchange runs without the lock, the keys held (their
		// writers wait): the other clients are served meanwhile, not
		// after the target's reply, as Redis's would be.
		var ex migrateExchange
		exchange := func() { ex = mc.exchange(req, a.timeout) }
		if !c.Unlocked(req.keyNames(), exchange) {
			exchange()
		}
		res := p.migrateApply(c, mc, a, req, ex)
		if cap(req.buf) <= maxKeptRequest {
			mc.buf = req.buf[:0]
		}
		if res.ioErr == "" {
			if res.keepConn {
				p.migrate.put(a.addr, mc)
			} else {
				mc.conn.Close()
			}
			return
		}
		// Nothing was acknowledged and the cached connection may just
		// have been stale: retry once, unless it was a timeout.
		mc.conn.Close()
		if !(retry && res.acked == 0 && !res.timeout) {
			c.Error(res.ioErr)
			return
		}
	}
}

// maxKeptRequest is the largest request buffer a cached connection keeps
// for its next MIGRATE.
const maxKeptRequest = 4 << 20

// migrateLookup finds the keys that exist.
func migrateLookup(c *server.Client, names [][]byte) []migrateKey {
	var keys []migrateKey
	for _, k := range names {
		if e := c.LookupRead(k); e != nil {
			keys = append(keys, migrateKey{k, e})
		}
	}
	return keys
}

// migrateResult is how one attempt went: ioErr is the IOERR to reply (the
// attempt replied nothing else) when the connection failed; keepConn
// when the connection may serve the next MIGRATE.
type migrateResult struct {
	ioErr    string
	timeout  bool
	acked    int
	keepConn bool
}

// migrateReq is what one attempt sends: the commands, and the keys whose
// RESTORE is among them, in order.
type migrateReq struct {
	buf      []byte
	auth     bool
	selectDB bool
	sent     []migrateKey
}

// replies is how many reply lines the request asks for.
func (r *migrateReq) replies() int {
	n := len(r.sent)
	if r.auth {
		n++
	}
	if r.selectDB {
		n++
	}
	return n
}

// keyNames are the names of the keys sent.
func (r *migrateReq) keyNames() [][]byte {
	names := make([][]byte, len(r.sent))
	for i, k := range r.sent {
		names[i] = k.key
	}
	return names
}

// migrateRequest serializes the keys as RESTORE commands (with AUTH and
// SELECT when needed); false when a value cannot be (the error replied).
// Called with the lock held.
func (p *plugin) migrateRequest(c *server.Client, mc *migrateConn, a migrateArgs, keys []migrateKey, restore string) (migrateReq, bool) {
	req := migrateReq{auth: a.auth, selectDB: mc.lastDB != int(a.db), buf: mc.buf[:0]}
	if a.auth {
		if a.user != "" {
			req.buf = resp.AppendCommand(req.buf, [][]byte{[]byte("AUTH"), []byte(a.user), []byte(a.password)})
		} else {
			req.buf = resp.AppendCommand(req.buf, [][]byte{[]byte("AUTH"), []byte(a.password)})
		}
	}
	if req.selectDB {
		req.buf = resp.AppendCommand(req.buf, [][]byte{[]byte("SELECT"), strconv.AppendInt(nil, a.db, 10)})
	}
	now := c.Now()
	for _, k := range keys {
		ttl := int64(0)
		if at := k.entry.ExpireAt(); at != 0 {
			ttl = at - now
			if ttl < 0 {
				continue // expired meanwhile
			}
			ttl = max(ttl, 1)
		}
		t, v, err := persistence.EntryValue(k.entry)
		if err == nil {
			p.scratch.payload, err = p.s.Codecs().AppendDumpOf(p.scratch.payload[:0], t, v)
		}
		if err != nil {
			c.Error("ERR " + err.Error())
			return migrateReq{}, false
		}
		// The scratch buffers are the lock's: the command is copied into
		// req.buf at once.
		p.scratch.ttl = strconv.AppendInt(p.scratch.ttl[:0], ttl, 10)
		cmd := append(p.scratch.cmd[:0], []byte(restore), k.key, p.scratch.ttl, p.scratch.payload)
		if a.replace {
			cmd = append(cmd, []byte("REPLACE"))
		}
		p.scratch.cmd = cmd
		req.buf = resp.AppendCommand(req.buf, cmd)
		req.sent = append(req.sent, k)
	}
	clear(p.scratch.cmd) // no key or payload kept alive by it
	if cap(p.scratch.payload) > maxKeptRequest {
		p.scratch.payload = nil // one big value's room is not kept
	}
	return req, true
}

// migrateExchange is what the target answered: the reply lines read, in
// order, and the error that stopped the exchange (writeErr: before
// anything was sent).
type migrateExchange struct {
	lines    []string
	err      error
	writeErr bool
}

// exchange sends the request and reads its replies, without touching the
// server (it runs without the lock).
func (mc *migrateConn) exchange(req migrateReq, timeout time.Duration) migrateExchange {
	_ = mc.conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := mc.conn.Write(req.buf); err != nil {
		return migrateExchange{err: err, writeErr: true}
	}
	n := req.replies()
	ex := migrateExchange{lines: make([]string, 0, n)}
	for range n {
		_ = mc.conn.SetReadDeadline(time.Now().Add(timeout))
		line, err := mc.rd.ReadString('\n')
		if err != nil {
			ex.err = err
			return ex
		}
		if len(line) >= 2 && line[len(line)-2] == '\r' {
			line = line[:len(line)-2]
		}
		ex.lines = append(ex.lines, line)
	}
	return ex
}

// migrateApply deletes each acknowledged key (unless COPY) and replies OK
// or the target's error. A key is deleted only if it is still the value
// sent: what happened meanwhile without the lock (an expiry, a FLUSHALL,
// a full resync) won over the move. Called with the lock held.
func (p *plugin) migrateApply(c *server.Client, mc *migrateConn, a migrateArgs, req migrateReq, ex migrateExchange) migrateResult {
	if ex.writeErr {
		return migrateResult{ioErr: "IOERR error or timeout writing to target instance", timeout: isTimeout(ex.err)}
	}
	readErr := migrateResult{ioErr: "IOERR error or timeout reading to target instance", timeout: isTimeout(ex.err)}
	lines := ex.lines
	next := func() (string, bool) {
		if len(lines) == 0 {
			return "", false
		}
		line := lines[0]
		lines = lines[1:]
		return line, true
	}
	var authReply, selectReply string
	if req.auth {
		var ok bool
		if authReply, ok = next(); !ok {
			return readErr
		}
	}
	if req.selectDB {
		var ok bool
		if selectReply, ok = next(); !ok {
			return readErr
		}
	}
	targetErr := ""
	var deleted [][]byte
	acked := 0
	for _, k := range req.sent {
		line, ok := next()
		if !ok {
			if acked == 0 && targetErr == "" {
				return readErr
			}
			// Some keys moved: report what happened to them, then the
			// socket error.
			migrateDeleted(c, deleted)
			c.Error("IOERR error or timeout reading to target instance")
			return migrateResult{}
		}
		acked++
		switch {
		case req.auth && len(authReply) > 0 && authReply[0] == '-':
			line = authReply
		case req.selectDB && len(selectReply) > 0 && selectReply[0] == '-':
			line = selectReply
		}
		if len(line) > 0 && line[0] == '-' {
			if targetErr == "" {
				mc.lastDB = -1
				targetErr = "ERR Target instance replied with error: " + line[1:]
			}
			continue
		}
		if !a.copy {
			if e := c.DB.Peek(k.key); e != nil && e == k.entry {
				c.DB.DeleteEntry(e)
				c.Modified(k.key)
				c.Notify(command.NotifyGeneric, "del", c.DB.ID, k.key)
				deleted = append(deleted, k.key)
			}
		}
	}
	migrateDeleted(c, deleted)
	if targetErr != "" {
		c.Error(targetErr)
		return migrateResult{keepConn: true}
	}
	mc.lastDB = int(a.db)
	c.W.OK()
	return migrateResult{keepConn: true}
}

// migrateDeleted makes MIGRATE propagate as DEL of the keys it moved
// (nothing when it moved none).
func migrateDeleted(c *server.Client, deleted [][]byte) {
	if len(deleted) == 0 {
		c.PreventPropagation()
		return
	}
	c.Rewrite(append([][]byte{[]byte("DEL")}, deleted...)...)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}
