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
// a key is deleted here only after the target acknowledged it. The whole
// exchange runs under the server lock, as it runs in Redis's event loop:
// no command can change a key between its DUMP and its deletion, which is
// what makes the move of each key atomic.

const (
	migrateCacheTTL  = 10 * time.Second // MIGRATE_SOCKET_CACHE_TTL
	migrateCacheSize = 64               // MIGRATE_SOCKET_CACHE_ITEMS
)

// migrateConn is a cached connection to a MIGRATE target.
type migrateConn struct {
	conn    net.Conn
	rd      *bufio.Reader
	lastDB  int // -1: SELECT needed
	lastUse time.Time
}

// migrateCache holds the connections by "host:port".
type migrateCache struct {
	conns map[string]*migrateConn
}

// get returns the cached connection to addr, or connects within timeout.
// tlsc, when not nil, wraps a new connection in TLS (tls-cluster).
func (mc *migrateCache) get(addr string, timeout time.Duration, tlsc *tlsconf.Store) (*migrateConn, error) {
	if c := mc.conns[addr]; c != nil {
		c.lastUse = time.Now()
		return c, nil
	}
	if len(mc.conns) >= migrateCacheSize {
		// Too many items: drop one at random (Redis does the same).
		for k, c := range mc.conns {
			c.conn.Close()
			delete(mc.conns, k)
			break
		}
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
	c := &migrateConn{conn: conn, rd: bufio.NewReader(conn), lastDB: -1, lastUse: time.Now()}
	mc.conns[addr] = c
	return c, nil
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
	var keys []migrateKey
	for _, k := range a.keys {
		if e := c.LookupRead(k); e != nil {
			keys = append(keys, migrateKey{k, e})
		}
	}
	if len(keys) == 0 {
		c.W.SimpleString("NOKEY")
		return
	}
	restore := "RESTORE"
	if p.node != nil {
		restore = "RESTORE-ASKING"
	}
	for retry := true; ; retry = false {
		mc, err := p.migrate.get(a.addr, a.timeout, p.migrateTLS())
		if err != nil {
			c.Error("IOERR error or timeout connecting to the client")
			return
		}
		res := p.migrateOnce(c, mc, a, keys, restore)
		if res.ioErr == "" {
			return
		}
		// Nothing was acknowledged and the cached connection may just
		// have been stale: retry once, unless it was a timeout.
		p.migrate.close(a.addr)
		if !(retry && res.acked == 0 && !res.timeout) {
			c.Error(res.ioErr)
			return
		}
	}
}

// migrateResult is how one attempt went: ioErr is the IOERR to reply (the
// attempt replied nothing else) when the connection failed.
type migrateResult struct {
	ioErr   string
	timeout bool
	acked   int
}

// migrateOnce sends the keys on mc and reads the replies, deleting each
// acknowledged key (unless COPY) and replying OK or the target's error.
func (p *plugin) migrateOnce(c *server.Client, mc *migrateConn, a migrateArgs, keys []migrateKey, restore string) migrateResult {
	var buf []byte
	if a.auth {
		if a.user != "" {
			buf = resp.AppendCommand(buf, [][]byte{[]byte("AUTH"), []byte(a.user), []byte(a.password)})
		} else {
			buf = resp.AppendCommand(buf, [][]byte{[]byte("AUTH"), []byte(a.password)})
		}
	}
	selectDB := mc.lastDB != int(a.db)
	if selectDB {
		buf = resp.AppendCommand(buf, [][]byte{[]byte("SELECT"), strconv.AppendInt(nil, a.db, 10)})
	}
	now := c.Now()
	sent := keys[:0:0]
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
		var payload []byte
		if err == nil {
			payload, err = p.s.Codecs().Dump(t, v)
		}
		if err != nil {
			c.Error("ERR " + err.Error())
			return migrateResult{}
		}
		cmd := [][]byte{[]byte(restore), k.key, strconv.AppendInt(nil, ttl, 10), payload}
		if a.replace {
			cmd = append(cmd, []byte("REPLACE"))
		}
		buf = resp.AppendCommand(buf, cmd)
		sent = append(sent, k)
	}
	_ = mc.conn.SetWriteDeadline(time.Now().Add(a.timeout))
	if _, err := mc.conn.Write(buf); err != nil {
		return migrateResult{ioErr: "IOERR error or timeout writing to target instance", timeout: isTimeout(err)}
	}
	readLine := func() (string, error) {
		_ = mc.conn.SetReadDeadline(time.Now().Add(a.timeout))
		line, err := mc.rd.ReadString('\n')
		if err != nil {
			return "", err
		}
		if len(line) >= 2 && line[len(line)-2] == '\r' {
			line = line[:len(line)-2]
		}
		return line, nil
	}
	readErr := func(err error) migrateResult {
		return migrateResult{ioErr: "IOERR error or timeout reading to target instance", timeout: isTimeout(err)}
	}
	var authReply, selectReply string
	var err error
	if a.auth {
		if authReply, err = readLine(); err != nil {
			return readErr(err)
		}
	}
	if selectDB {
		if selectReply, err = readLine(); err != nil {
			return readErr(err)
		}
	}
	targetErr := ""
	var deleted [][]byte
	acked := 0
	for _, k := range sent {
		line, err := readLine()
		if err != nil {
			if acked == 0 && targetErr == "" {
				return readErr(err)
			}
			// Some keys moved: report what happened to them, then the
			// socket error.
			migrateDeleted(c, deleted)
			p.migrate.close(a.addr)
			c.Error("IOERR error or timeout reading to target instance")
			return migrateResult{}
		}
		acked++
		switch {
		case a.auth && len(authReply) > 0 && authReply[0] == '-':
			line = authReply
		case selectDB && len(selectReply) > 0 && selectReply[0] == '-':
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
			if c.DB.Delete(k.key) {
				c.Modified(k.key)
				c.Notify(command.NotifyGeneric, "del", c.DB.ID, k.key)
				deleted = append(deleted, k.key)
			}
		}
	}
	migrateDeleted(c, deleted)
	if targetErr != "" {
		c.Error(targetErr)
		return migrateResult{}
	}
	mc.lastDB = int(a.db)
	c.W.OK()
	return migrateResult{}
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
