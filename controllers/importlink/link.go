package importlink

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/node/persistence"
)

// Options configure a link.
type Options struct {
	// Addr is the source node (host:port).
	Addr string
	// Auth authenticates to the source (and says its TLS).
	Auth nodeadmin.SourceAuth
	// Target is the cluster the source's data goes to.
	Target *nodeadmin.ImportTarget
	// Timeout is how long the source may stay silent (it PINGs its
	// replicas every 10 s by default); 0 is 60 s, Redis's repl-timeout.
	Timeout time.Duration
	// Logf, when set, hears what the link does.
	Logf func(format string, args ...any)
}

// Phases of a link.
const (
	PhaseConnecting = "Connecting"
	PhaseLoading    = "Loading"
	PhaseStreaming  = "Streaming"
)

// Progress is what a link has done.
type Progress struct {
	Phase string
	// ReplID and Offset are the source's replication ID and the offset of
	// the last byte of its stream whose command the cluster holds.
	ReplID string
	Offset int64
	// KeysLoaded counts the keys of the last full resynchronisation.
	KeysLoaded int64
	// Skipped counts keys and commands of databases other than 0.
	Skipped int64
	// FullSyncs and PartialSyncs count the resynchronisations.
	FullSyncs, PartialSyncs int64
	// LastError is why the last connection ended ("" while none did).
	LastError string
}

// Link is a replication link from one source node to the cluster.
type Link struct {
	o      Options
	router *Router

	mu sync.Mutex
	p  Progress
	// synced: the cluster holds the stream up to p.Offset, so a new
	// connection may continue it.
	synced bool
}

// New makes a link; Run runs it.
func New(o Options) (*Link, error) {
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	r, err := NewRouter(o.Target.Masters(), o.Target.Owner)
	if err != nil {
		return nil, err
	}
	return &Link{o: o, router: r, p: Progress{Phase: PhaseConnecting}}, nil
}

// Progress is a copy of the link's progress.
func (l *Link) Progress() Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.p
}

func (l *Link) update(f func(p *Progress)) {
	l.mu.Lock()
	f(&l.p)
	l.mu.Unlock()
}

func (l *Link) logf(format string, args ...any) {
	if l.o.Logf != nil {
		l.o.Logf(format, args...)
	}
}

// Run keeps the link up until ctx ends (it returns ctx's error) or the
// source sends a command the cluster cannot apply (an *UnroutableError).
// Other failures (the source or a master unreachable, a broken stream)
// are retried with a growing pause; Progress().LastError says why.
func (l *Link) Run(ctx context.Context) error {
	pause := 500 * time.Millisecond
	for {
		err := l.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ue *UnroutableError
		if errors.As(err, &ue) {
			l.update(func(p *Progress) { p.LastError = err.Error() })
			return err
		}
		if err != nil {
			l.logf("import link to %s: %v", l.o.Addr, err)
			l.update(func(p *Progress) { p.LastError = err.Error(); p.Phase = PhaseConnecting })
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 10*time.Second)
	}
}

// conn is one connection to the source: a reader, and writes serialised
// between the stream loop and the ACK ticker.
type conn struct {
	c       net.Conn
	br      *bufio.Reader
	wmu     sync.Mutex
	timeout time.Duration
}

func (c *conn) send(args ...string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.c.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.c.Write(appendCommand(nil, args))
	return err
}

// line reads one line (without \r\n), skipping the empty lines a master
// sends to keep the link alive while it prepares a snapshot.
func (c *conn) line() (string, error) {
	for {
		s, err := c.br.ReadString('\n')
		if err != nil {
			return "", err
		}
		s = strings.TrimRight(s, "\r\n")
		if s != "" {
			return s, nil
		}
	}
}

func (l *Link) dial(ctx context.Context) (*conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", l.o.Addr)
	if err != nil {
		return nil, err
	}
	if l.o.Auth.TLS != nil {
		cfg := l.o.Auth.TLS.Clone()
		if cfg.ServerName == "" {
			if host, _, err := net.SplitHostPort(l.o.Addr); err == nil {
				cfg.ServerName = host
			}
		}
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = c.Close()
			return nil, err
		}
		c = tc
	}
	return &conn{c: c, br: bufio.NewReaderSize(&deadlineReader{c: c, timeout: l.o.Timeout}, 1<<20), timeout: l.o.Timeout}, nil
}

// handshake authenticates and announces the replica's capabilities, as
// a Redis 7 replica does.
func (l *Link) handshake(c *conn) error {
	a := l.o.Auth
	if a.Password != "" {
		args := []string{"AUTH", a.Password}
		if a.Username != "" {
			args = []string{"AUTH", a.Username, a.Password}
		}
		if err := c.send(args...); err != nil {
			return err
		}
		if s, err := c.line(); err != nil || !strings.HasPrefix(s, "+") {
			return fmt.Errorf("AUTH: %q %v", s, err)
		}
	}
	if err := c.send("REPLCONF", "capa", "eof", "capa", "psync2"); err != nil {
		return err
	}
	if s, err := c.line(); err != nil {
		return err
	} else if !strings.HasPrefix(s, "+") {
		l.logf("import link to %s: REPLCONF capa: %s", l.o.Addr, s)
	}
	return nil
}

func (l *Link) session(ctx context.Context) error {
	c, err := l.dial(ctx)
	if err != nil {
		return err
	}
	defer c.c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.c.Close() })
	defer stop()
	if err := l.handshake(c); err != nil {
		return err
	}
	l.mu.Lock()
	replID, offset := "?", int64(-1)
	if l.synced {
		replID, offset = l.p.ReplID, l.p.Offset+1
	}
	l.mu.Unlock()
	if err := c.send("PSYNC", replID, strconv.FormatInt(offset, 10)); err != nil {
		return err
	}
	reply, err := c.line()
	if err != nil {
		return err
	}
	switch f := strings.Fields(reply); {
	case len(f) == 3 && f[0] == "+FULLRESYNC":
		off, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return fmt.Errorf("bad PSYNC reply %q", reply)
		}
		if err := l.fullSync(ctx, c, f[1], off); err != nil {
			return err
		}
	case len(f) >= 1 && f[0] == "+CONTINUE":
		l.update(func(p *Progress) {
			if len(f) > 1 {
				p.ReplID = f[1]
			}
			p.PartialSyncs++
		})
		l.logf("import link to %s: partial resynchronisation from offset %d", l.o.Addr, offset)
	default:
		return fmt.Errorf("PSYNC: %s", reply)
	}
	return l.stream(ctx, c)
}

// fullSync empties the cluster and loads the source's snapshot into it.
func (l *Link) fullSync(ctx context.Context, c *conn, replID string, offset int64) error {
	l.mu.Lock()
	l.synced = false
	l.p.Phase, l.p.KeysLoaded = PhaseLoading, 0
	l.mu.Unlock()
	l.router.Reset()
	hdr, err := c.line()
	if err != nil {
		return err
	}
	if strings.HasPrefix(hdr, "-") {
		return fmt.Errorf("the source aborted the sync: %s", hdr)
	}
	total, mark, err := persistence.ParseSyncHeader(hdr)
	if err != nil {
		return err
	}
	if err := l.o.Target.FlushAll(ctx); err != nil {
		return err
	}
	ld := &loader{ctx: ctx, l: l, b: NewBatch(l.o.Target.Masters())}
	n, err := persistence.ReadSnapshotStream(c.br, "source", persistence.SnapshotHandler{Key: ld.key, Function: ld.function})
	if err == nil && total >= 0 && n != total {
		err = fmt.Errorf("the snapshot is %d bytes, the source announced %d", n, total)
	}
	if err == nil && mark != "" {
		end := make([]byte, len(mark))
		if _, err = io.ReadFull(c.br, end); err == nil && string(end) != mark {
			err = errors.New("the snapshot is not followed by the end mark the source announced")
		}
	}
	if err == nil {
		err = ld.flush()
	}
	if err != nil {
		return fmt.Errorf("loading the source's snapshot: %w", err)
	}
	l.mu.Lock()
	l.synced = true
	l.p.ReplID, l.p.Offset = replID, offset
	l.p.FullSyncs++
	l.p.Skipped += ld.skipped
	l.mu.Unlock()
	l.logf("import link to %s: full resynchronisation, %d keys loaded", l.o.Addr, ld.keys)
	return nil
}

// deadlineReader gives every read of the connection the link's timeout
// (the source PINGs a replica every 10 s by default, and keeps the link
// alive with newlines while it prepares a snapshot).
type deadlineReader struct {
	c       net.Conn
	timeout time.Duration
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	_ = d.c.SetReadDeadline(time.Now().Add(d.timeout))
	return d.c.Read(p)
}

// loader RESTOREs the keys of a snapshot on their masters, in pipelines.
type loader struct {
	ctx     context.Context
	l       *Link
	b       *Batch
	bytes   int
	keys    int64
	skipped int64
}

const (
	loadBatchKeys  = 512
	loadBatchBytes = 8 << 20
)

func (ld *loader) key(r persistence.Record) error {
	if r.DB != 0 {
		ld.skipped++
		return nil
	}
	if r.Legacy {
		return errors.New("the source sent a snapshot of an earlier shoal build; only RDB can be imported")
	}
	payload := string(persistence.AppendDump(nil, r.Value))
	cmd := []any{"RESTORE", string(r.Key), "0", payload, "REPLACE"}
	if r.ExpireAt != persistence.NoExpire {
		cmd = []any{"RESTORE", string(r.Key), strconv.FormatInt(r.ExpireAt, 10), payload, "REPLACE", "ABSTTL"}
	}
	ld.b.add(ld.l.o.Target.Owner(r.Key), cmd)
	ld.bytes += len(payload) + len(r.Key)
	ld.keys++
	if ld.b.Commands >= loadBatchKeys || ld.bytes >= loadBatchBytes {
		return ld.flush()
	}
	return nil
}

func (ld *loader) function(code []byte) error {
	for i := range ld.b.PerMaster {
		ld.b.add(i, []any{"FUNCTION", "LOAD", "REPLACE", string(code)})
	}
	return nil
}

func (ld *loader) flush() error {
	if ld.b.Commands == 0 {
		return nil
	}
	if err := ld.l.o.Target.Exec(ld.ctx, ld.b.PerMaster); err != nil {
		return err
	}
	ld.b.Reset()
	ld.bytes = 0
	keys := ld.keys
	ld.l.update(func(p *Progress) { p.KeysLoaded = keys })
	return nil
}

// Stream batching: a batch closes when the source has sent nothing more
// yet, or at these sizes.
const (
	streamBatchCommands = 1000
	ackEvery            = time.Second
)

// stream applies the source's commands as they come and acknowledges
// the offset the cluster holds.
func (l *Link) stream(ctx context.Context, c *conn) error {
	l.update(func(p *Progress) { p.Phase = PhaseStreaming; p.LastError = "" })
	done := make(chan struct{})
	defer close(done)
	go l.ackLoop(c, done)
	b := NewBatch(l.o.Target.Masters())
	rd := NewCommandReader(c.br)
	for {
		b.Reset()
		var consumed int64
		getack := false
		for {
			args, n, err := rd.Next()
			if err != nil {
				if b.Commands > 0 || consumed > 0 {
					if aerr := l.apply(ctx, b, consumed); aerr != nil {
						return aerr
					}
				}
				return err
			}
			if len(args) >= 2 && strings.EqualFold(string(args[0]), "replconf") && strings.EqualFold(string(args[1]), "getack") {
				getack = true
			}
			if err := l.router.Route(args, b); err != nil {
				return err
			}
			consumed += n
			if getack || b.Commands >= streamBatchCommands || c.br.Buffered() == 0 {
				break
			}
		}
		if err := l.apply(ctx, b, consumed); err != nil {
			return err
		}
		if getack {
			if err := l.ack(c); err != nil {
				return err
			}
		}
	}
}

// apply sends a batch to the cluster and moves the offset past it. A
// batch the cluster did not take whole needs a full resynchronisation.
func (l *Link) apply(ctx context.Context, b *Batch, consumed int64) error {
	if b.Commands > 0 {
		if err := l.o.Target.Exec(ctx, b.PerMaster); err != nil {
			l.mu.Lock()
			l.synced = false
			l.mu.Unlock()
			return fmt.Errorf("applying the source's stream: %w", err)
		}
	}
	skipped := l.router.Skipped
	l.router.Skipped = 0
	l.update(func(p *Progress) { p.Offset += consumed; p.Skipped += skipped })
	return nil
}

func (l *Link) ack(c *conn) error {
	l.mu.Lock()
	off := l.p.Offset
	l.mu.Unlock()
	return c.send("REPLCONF", "ACK", strconv.FormatInt(off, 10))
}

func (l *Link) ackLoop(c *conn, done chan struct{}) {
	t := time.NewTicker(ackEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if l.ack(c) != nil {
				return
			}
		}
	}
}

// appendCommand appends args as a RESP array of bulk strings.
func appendCommand(dst []byte, args []string) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}
