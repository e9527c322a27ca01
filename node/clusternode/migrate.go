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
// each key atomic. Here the keys are held from the lookup to the deletion
// (server.Client.Unlocked: a command that may write one of them waits for
// the end of the MIGRATE and then runs as it would after Redis's), the
// values are serialized (about 32 KB per lock hold) and the acknowledged
// keys deleted (128 per lock hold) in short steps under the lock, and the
// round trip to the target (and a new connection's dial) runs without
// it: the move of each key is as atomic, and the other clients wait
// neither for the target nor for a whole batch's serialization.

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

// take returns the cached connection to addr (nil: none), taken out of
// the cache while one MIGRATE uses it (it runs without the lock: another
// MIGRATE to the same target meanwhile connects anew).
func (mc *migrateCache) take(addr string) *migrateConn {
	c := mc.conns[addr]
	delete(mc.conns, addr)
	return c
}

// dialMigrate connects to a MIGRATE target within timeout; tlsc, when not
// nil, wraps the connection in TLS (tls-cluster).
func dialMigrate(addr string, timeout time.Duration, tlsc *tlsconf.Store) (*migrateConn, error) {
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
	tlsc := p.migrateTLS()
	for retry := true; ; retry = false {
		// Looked up again for a retry: the first attempt ran without
		// the lock (a key may have expired or been flushed meanwhile).
		keys := migrateLookup(c, a.keys)
		if len(keys) == 0 {
			c.W.SimpleString("NOKEY")
			return
		}
		// The move runs without the lock, the keys held (their writers
		// wait), in short steps under it: the other clients are served
		// meanwhile, not after the target's reply or a whole batch's
		// serialization, as Redis's would be.
		mc := p.migrate.take(a.addr)
		var run migrateRun
		work := func(locked func(step func())) { run = p.migrateKeys(c, mc, a, keys, restore, tlsc, locked) }
		if !c.Unlocked(migrateKeyNames(keys), work) {
			work(func(step func()) { step() })
		}
		keepConn := run.reply(c, a)
		if run.mc == nil {
			return
		}
		if cap(run.req.buf) <= maxKeptRequest {
			run.mc.buf = run.req.buf[:0]
		}
		if run.out.ioErr == "" {
			if keepConn {
				p.migrate.put(a.addr, run.mc)
			} else {
				run.mc.conn.Close()
			}
			return
		}
		// Nothing was acknowledged and the cached connection may just
		// have been stale: retry once, unless it was a timeout.
		run.mc.conn.Close()
		if !(retry && !run.out.timeout) {
			c.Error(run.out.ioErr)
			return
		}
	}
}

// migrateStepBytes is about how much of a MIGRATE one lock hold
// serializes, migrateStepKeys how many keys one deletes: enough to
// amortise taking the lock, short enough (tens of microseconds) that the
// other clients barely wait for it.
const (
	migrateStepBytes = 32 << 10
	migrateStepKeys  = 128
)

// migrateRun is what one attempt did without the lock: mc is nil when no
// connection could be made (connectErr); valueErr is a value that could
// not be serialized (nothing was sent); otherwise out is what the target
// answered and deleted the keys this node deleted for it.
type migrateRun struct {
	mc         *migrateConn
	connectErr bool
	valueErr   string
	req        migrateReq
	out        migrateOutcome
	deleted    [][]byte
}

// migrateKeys connects (when no connection was cached), serializes the
// keys, exchanges them with the target and deletes the acknowledged ones
// (unless COPY). It runs without the lock, but for the steps it passes to
// locked.
func (p *plugin) migrateKeys(c *server.Client, mc *migrateConn, a migrateArgs, keys []migrateKey, restore string,
	tlsc *tlsconf.Store, locked func(step func())) migrateRun {
	if mc == nil {
		var err error
		if mc, err = dialMigrate(a.addr, a.timeout, tlsc); err != nil {
			return migrateRun{connectErr: true}
		}
	}
	run := migrateRun{mc: mc}
	run.req, run.valueErr = p.migrateRequest(c, mc, a, keys, restore, locked)
	if run.valueErr != "" {
		return run
	}
	ex := mc.exchange(run.req, a.timeout)
	run.out = migrateOutcomeOf(run.req, ex)
	if !a.copy {
		run.deleted = migrateDelete(c, run.req.sent, run.out.moved, locked)
	}
	return run
}

// migrateDelete deletes the moved keys, a step's worth per lock hold,
// each only if it is still the value sent: what happened meanwhile
// without the lock (an expiry, a FLUSHALL, a full resync) won over the
// move. It returns the names deleted.
func migrateDelete(c *server.Client, sent []migrateKey, moved []int, locked func(step func())) [][]byte {
	var deleted [][]byte
	for i := 0; i < len(moved); {
		locked(func() {
			for n := 0; i < len(moved) && n < migrateStepKeys; i, n = i+1, n+1 {
				k := sent[moved[i]]
				if e := c.DB.Peek(k.key); e != nil && e == k.entry {
					c.DB.DeleteEntry(e)
					c.Modified(k.key)
					c.Notify(command.NotifyGeneric, "del", c.DB.ID, k.key)
					deleted = append(deleted, k.key)
				}
			}
		})
	}
	return deleted
}

// reply answers the command for what the attempt did, and propagates it
// as DEL of the keys deleted; it reports whether the connection may serve
// the next MIGRATE. When r.out.ioErr is set nothing moved and it replies
// nothing: the caller retries the attempt or replies that error. Called
// with the lock held.
func (r *migrateRun) reply(c *server.Client, a migrateArgs) (keepConn bool) {
	switch {
	case r.connectErr:
		c.Error("IOERR error or timeout connecting to the client")
		return false
	case r.valueErr != "":
		c.Error(r.valueErr)
		return true
	case r.out.ioErr != "":
		return false
	}
	migrateDeleted(c, r.deleted)
	switch {
	case r.out.lateIOErr:
		// Some keys moved: reported as moved (propagated), then the
		// socket's error.
		c.Error("IOERR error or timeout reading to target instance")
		return false
	case r.out.targetErr != "":
		r.mc.lastDB = -1
		c.Error(r.out.targetErr)
	default:
		r.mc.lastDB = int(a.db)
		c.W.OK()
	}
	return true
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

// migrateKeyNames are the keys' names.
func migrateKeyNames(keys []migrateKey) [][]byte {
	names := make([][]byte, len(keys))
	for i, k := range keys {
		names[i] = k.key
	}
	return names
}

// migrateRequest serializes the keys as RESTORE commands (with AUTH and
// SELECT when needed), a step's worth per lock hold, skipping a key whose
// value is no longer the one looked up (expired, flushed or evicted since)
// or whose time to live ran out; it returns the error to reply when a
// value cannot be serialized.
func (p *plugin) migrateRequest(c *server.Client, mc *migrateConn, a migrateArgs, keys []migrateKey, restore string,
	locked func(step func())) (migrateReq, string) {
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
	var errMsg string
	for i := 0; i < len(keys) && errMsg == ""; {
		locked(func() {
			errMsg = p.appendRestores(c, &req, a, keys, &i, restore)
		})
	}
	return req, errMsg
}

// appendRestores appends keys[*i:]'s RESTOREs to req until a step's worth
// is serialized, advancing *i. Called with the lock held.
func (p *plugin) appendRestores(c *server.Client, req *migrateReq, a migrateArgs, keys []migrateKey, i *int, restore string) string {
	defer func() {
		clear(p.scratch.cmd) // no key or payload kept alive by it
		if cap(p.scratch.payload) > maxKeptRequest {
			p.scratch.payload = nil // one big value's room is not kept
		}
	}()
	now := c.Now()
	for start := len(req.buf); *i < len(keys) && len(req.buf)-start < migrateStepBytes; *i++ {
		k := keys[*i]
		if c.DB.Peek(k.key) != k.entry {
			continue
		}
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
			return "ERR " + err.Error()
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
	return ""
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

// migrateOutcome is what the target's replies say: ioErr (and timeout)
// when the exchange failed before any key was acknowledged (nothing to
// apply); otherwise moved are the indexes in the request's keys that the
// target restored, targetErr its first error (the keys it refused stay),
// and lateIOErr that the connection failed after some replies.
type migrateOutcome struct {
	ioErr     string
	timeout   bool
	acked     int
	moved     []int
	targetErr string
	lateIOErr bool
}

// migrateOutcomeOf reads the exchange's reply lines as Redis's MIGRATE
// does: an error to AUTH or SELECT is every key's error.
func migrateOutcomeOf(req migrateReq, ex migrateExchange) migrateOutcome {
	if ex.writeErr {
		return migrateOutcome{ioErr: "IOERR error or timeout writing to target instance", timeout: isTimeout(ex.err)}
	}
	readErr := migrateOutcome{ioErr: "IOERR error or timeout reading to target instance", timeout: isTimeout(ex.err)}
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
	var out migrateOutcome
	for i := range req.sent {
		line, ok := next()
		if !ok {
			if out.acked == 0 && out.targetErr == "" {
				return readErr
			}
			out.lateIOErr = true
			return out
		}
		out.acked++
		switch {
		case req.auth && len(authReply) > 0 && authReply[0] == '-':
			line = authReply
		case req.selectDB && len(selectReply) > 0 && selectReply[0] == '-':
			line = selectReply
		}
		if len(line) > 0 && line[0] == '-' {
			if out.targetErr == "" {
				out.targetErr = "ERR Target instance replied with error: " + line[1:]
			}
			continue
		}
		out.moved = append(out.moved, i)
	}
	return out
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
