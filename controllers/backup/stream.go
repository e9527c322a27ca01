package backup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/persistence"
)

// Snapshot describes a snapshot Stream wrote.
type Snapshot struct {
	// ReplID and Offset are the master's replication ID and offset the
	// snapshot is consistent with (+FULLRESYNC's).
	ReplID string
	Offset int64
	// Size is the payload's length in bytes; SHA256 its hex digest.
	Size   int64
	SHA256 string
	// CRC64 is the RDB trailer's checksum (0: the master computed none,
	// rdbchecksum no).
	CRC64 uint64
}

// Options of Stream.
type Options struct {
	// Username and Password for AUTH; an empty Password for none, an
	// empty Username for the default user.
	Username string
	Password string
	// TLS, when not nil, wraps the connection (a node under spec.tls).
	TLS *tls.Config
	// Timeout bounds the dial and each read: a master sends a newline at
	// least once a second while it prepares the snapshot.
	Timeout time.Duration
}

// replCapabilities are the REPLCONF capa values announced: eof (Redis's
// diskless framing), psync2, and shoal-stream, which makes a shoal node
// stream the snapshot as it encodes it instead of building it in memory.
var replCapabilities = []string{"capa", "eof", "capa", "psync2", "capa", "shoal-stream"}

// eofMarkLen is the length of the mark around a $EOF: payload.
const eofMarkLen = 40

// rdbTrailerLen is the RDB_OPCODE_EOF byte and the 8-byte CRC-64 that end
// an RDB file.
const rdbTrailerLen = 9

// rdbOpcodeEOF ends the records of an RDB file, before the checksum.
const rdbOpcodeEOF = 0xFF

// maxLine bounds a reply line from the master.
const maxLine = 4096

// Stream connects to the master at addr as a replica asking for a full
// resynchronisation and writes the snapshot it sends to w. It returns when
// the whole payload is written, verified and the connection closed.
func Stream(ctx context.Context, addr string, w io.Writer, o Options) (Snapshot, error) {
	s, err := dialMaster(ctx, addr, o)
	if err != nil {
		return Snapshot{}, err
	}
	defer s.conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetDeadline(time.Now()) })
	defer stop()
	snap, err := s.run(w)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	if err != nil {
		return snap, fmt.Errorf("snapshot of %s: %w", addr, err)
	}
	return snap, nil
}

type session struct {
	conn    net.Conn
	rd      *bufio.Reader
	timeout time.Duration
}

// dialMaster connects to the master at addr (over TLS when o.TLS is set),
// authenticates and announces the capabilities of a replica: what comes
// next is a PSYNC.
func dialMaster(ctx context.Context, addr string, o Options) (*session, error) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	d := net.Dialer{Timeout: o.Timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if o.TLS != nil {
		tc := tls.Client(conn, o.TLS)
		hctx, cancel := context.WithTimeout(ctx, o.Timeout)
		err = tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
		}
		conn = tc
	}
	s := &session{conn: conn, rd: bufio.NewReaderSize(conn, 64<<10), timeout: o.Timeout}
	if err := s.handshake(o.Username, o.Password); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	return s, nil
}

// handshake authenticates and sends REPLCONF capa, as a replica does.
func (s *session) handshake(username, password string) error {
	if password != "" {
		auth := []string{"AUTH", password}
		if username != "" {
			auth = []string{"AUTH", username, password}
		}
		if err := s.command(auth...); err != nil {
			return err
		}
	}
	return s.command(append([]string{"REPLCONF"}, replCapabilities...)...)
}

func (s *session) run(w io.Writer) (Snapshot, error) {
	// rdb-only (Redis 7.0): the master sends the snapshot and no stream
	// after it. A master that refuses it still works: the stream after the
	// payload is ignored.
	_ = s.command("REPLCONF", "rdb-only", "1")
	if err := s.send("PSYNC", "?", "-1"); err != nil {
		return Snapshot{}, err
	}
	line, err := s.line(true)
	if err != nil {
		return Snapshot{}, err
	}
	snap, err := parseFullResync(line)
	if err != nil {
		return snap, err
	}
	hdr, err := s.line(true)
	if err != nil {
		return snap, err
	}
	total, mark, err := parsePayloadHeader(hdr)
	if err != nil {
		return snap, err
	}
	v := newVerifier(w)
	if total >= 0 {
		err = s.copyN(v, total)
	} else {
		err = s.copyUntilMark(v, mark)
	}
	if err != nil {
		return snap, err
	}
	snap.Size, snap.SHA256 = v.n, hex.EncodeToString(v.sha.Sum(nil))
	snap.CRC64, err = v.check()
	return snap, err
}

// send writes one command as a RESP array of bulk strings.
func (s *session) send(args ...string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
	_, err := io.WriteString(s.conn, b.String())
	return err
}

// command sends a command and expects +OK (or any simple string).
func (s *session) command(args ...string) error {
	if err := s.send(args...); err != nil {
		return err
	}
	line, err := s.line(false)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+") {
		return fmt.Errorf("%s: %s", args[0], strings.TrimPrefix(line, "-"))
	}
	return nil
}

// line reads one reply line without its CRLF. With skipKeepalive, the
// empty lines a master sends while it prepares a snapshot are skipped.
func (s *session) line(skipKeepalive bool) (string, error) {
	for {
		_ = s.conn.SetReadDeadline(time.Now().Add(s.timeout))
		b, err := s.rd.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) || len(b) > maxLine {
			return "", errors.New("reply line too long")
		}
		if err != nil {
			return "", err
		}
		l := strings.TrimRight(string(b), "\r\n")
		if l == "" && skipKeepalive {
			continue
		}
		if strings.HasPrefix(l, "-") {
			return "", errors.New(l[1:])
		}
		return l, nil
	}
}

// parseFullResync parses "+FULLRESYNC <replid> <offset>".
func parseFullResync(line string) (Snapshot, error) {
	f := strings.Fields(strings.TrimPrefix(line, "+"))
	if len(f) != 3 || f[0] != "FULLRESYNC" || len(f[1]) != 40 {
		return Snapshot{}, fmt.Errorf("expected +FULLRESYNC <replid> <offset>, got %q", line)
	}
	off, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || off < 0 {
		return Snapshot{}, fmt.Errorf("bad offset in %q", line)
	}
	return Snapshot{ReplID: f[1], Offset: off}, nil
}

// parsePayloadHeader parses "$<length>" (total >= 0) or "$EOF:<mark>"
// (total -1).
func parsePayloadHeader(line string) (total int64, mark []byte, err error) {
	if m, ok := strings.CutPrefix(line, "$EOF:"); ok {
		if len(m) != eofMarkLen {
			return 0, nil, fmt.Errorf("bad end mark %q", line)
		}
		return -1, []byte(m), nil
	}
	if !strings.HasPrefix(line, "$") {
		return 0, nil, fmt.Errorf("expected the snapshot's $<length> or $EOF:<mark>, got %q", line)
	}
	n, err := strconv.ParseInt(line[1:], 10, 64)
	if err != nil || n < 0 {
		return 0, nil, fmt.Errorf("bad snapshot length %q", line)
	}
	return n, nil, nil
}

// copyN copies a payload of known length.
func (s *session) copyN(w io.Writer, n int64) error {
	buf := make([]byte, 64<<10)
	for n > 0 {
		_ = s.conn.SetReadDeadline(time.Now().Add(s.timeout))
		k, err := s.rd.Read(buf[:min(int64(len(buf)), n)])
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return werr
			}
			n -= int64(k)
		}
		if err != nil && n > 0 {
			return fmt.Errorf("snapshot truncated, %d bytes missing: %w", n, err)
		}
	}
	return nil
}

// copyUntilMark copies a $EOF: payload: everything up to the mark. The
// last eofMarkLen bytes read are held back until more come, since they may
// be the mark; bytes after the mark (a stream the master sends at once)
// are not part of the snapshot.
func (s *session) copyUntilMark(w io.Writer, mark []byte) error {
	buf := make([]byte, 0, 64<<10+eofMarkLen)
	chunk := make([]byte, 64<<10)
	for {
		_ = s.conn.SetReadDeadline(time.Now().Add(s.timeout))
		k, err := s.rd.Read(chunk)
		buf = append(buf, chunk[:k]...)
		if i := bytes.Index(buf, mark); i >= 0 {
			_, werr := w.Write(buf[:i])
			return werr
		}
		if keep := len(buf) - eofMarkLen; keep > 0 {
			if _, werr := w.Write(buf[:keep]); werr != nil {
				return werr
			}
			buf = append(buf[:0], buf[keep:]...)
		}
		if err != nil {
			return fmt.Errorf("snapshot truncated before its end mark: %w", err)
		}
	}
}

// verifier passes the payload on while it hashes it and keeps the CRC-64
// of all but the last 8 bytes (the RDB trailer's checksum covers
// everything before it).
type verifier struct {
	w    io.Writer
	sha  hashWriter
	n    int64
	crc  uint64
	head []byte  // the first 9 bytes: "REDIS" and the version
	tail [8]byte // the last bytes seen, not yet in crc
	nt   int
	prev byte // the byte before tail: the RDB's EOF opcode at the end
}

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
}

func newVerifier(w io.Writer) *verifier { return &verifier{w: w, sha: sha256.New()} }

func (v *verifier) Write(p []byte) (int, error) {
	n, err := v.w.Write(p)
	p = p[:n]
	v.sha.Write(p)
	v.n += int64(n)
	if len(v.head) < 9 {
		v.head = append(v.head, p[:min(len(p), 9-len(v.head))]...)
	}
	// The checksum runs behind by the trailer's 8 checksum bytes.
	all := append(v.tail[:v.nt:v.nt], p...)
	if keep := len(all) - 8; keep > 0 {
		v.crc = persistence.CRC64Update(v.crc, all[:keep])
		v.prev = all[keep-1]
		all = all[keep:]
	}
	v.nt = copy(v.tail[:], all)
	return n, err
}

// check verifies the payload is a whole RDB file: the magic, the EOF opcode
// and, when the master computed one, the CRC-64 of everything before it.
func (v *verifier) check() (uint64, error) {
	if len(v.head) < 9 || string(v.head[:5]) != "REDIS" {
		return 0, fmt.Errorf("the snapshot is not an RDB file (starts %q)", v.head)
	}
	if v.n < int64(len(v.head))+rdbTrailerLen || v.nt != 8 {
		return 0, errors.New("the snapshot is shorter than an RDB file")
	}
	if v.prev != rdbOpcodeEOF {
		return 0, fmt.Errorf("the snapshot does not end with the RDB EOF opcode (0x%02x before the checksum)", v.prev)
	}
	sum := binary.LittleEndian.Uint64(v.tail[:8])
	if sum != 0 && sum != v.crc {
		return 0, fmt.Errorf("the snapshot's CRC-64 is %016x, its trailer says %016x", v.crc, sum)
	}
	return sum, nil
}
