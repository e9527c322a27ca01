package hash

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/nodetest"
	"github.com/shoal-dev/shoal/node/resp"
)

// realRedis is a redis-server started for one test (nodetest), and a
// minimal RESP2 client for it.
type realRedis struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

// startRedis starts Debian's redis-server, or skips the test when it is
// not installed. The server is stopped when the test ends.
func startRedis(t *testing.T) *realRedis {
	t.Helper()
	p := nodetest.Start(t, nodetest.Options{Binary: nodetest.RedisServer(t), Ready: 20 * time.Second,
		Args: []string{"--save", "", "--appendonly", "no", "--daemonize", "no"}})
	conn, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &realRedis{conn: conn, r: bufio.NewReader(conn), w: bufio.NewWriter(conn)}
}

// send queues one command.
func (rr *realRedis) send(args ...string) {
	_, _ = rr.w.Write(resp.AppendCommand(nil, args))
}

// reply reads one reply: a bulk or simple string, an integer as text, or
// an error's text.
func (rr *realRedis) reply(t *testing.T) string {
	t.Helper()
	line, err := rr.r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '+', '-', ':':
		return line[1:]
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)"
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rr.r, buf); err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	t.Fatalf("unexpected reply %q", line)
	return ""
}

// randFloatText makes number-like text: decimal and hex, with and without
// points and exponents, huge and tiny magnitudes, and some junk.
func randFloatText(r *rand.Rand) string {
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	var s string
	switch r.IntN(8) {
	case 0:
		s = strconv.Itoa(r.IntN(2000) - 1000)
	case 1:
		s = digits(1+r.IntN(4)) + "." + digits(1+r.IntN(4))
	case 2:
		s = digits(1+r.IntN(25)) + "." + digits(r.IntN(25))
	case 3:
		s = digits(1+r.IntN(3)) + "e" + strconv.Itoa(r.IntN(80)-40)
	case 4:
		s = "1." + digits(r.IntN(20)) + "e" + strconv.Itoa(r.IntN(9900)-4950)
	case 5:
		s = fmt.Sprintf("0x%x.%xp%d", r.IntN(1<<20), r.IntN(256), r.IntN(200)-100)
	case 6:
		s = strconv.FormatFloat(r.NormFloat64()*1e6, 'g', -1, 64)
	default:
		s = "0." + strings.Repeat("0", r.IntN(20)) + digits(1+r.IntN(18))
	}
	if r.IntN(4) == 0 {
		s = "-" + s
	}
	return s
}

// TestHINCRBYFLOATMatchesRealRedis sends random stored values and
// increments to a real redis-server and to Hash, and compares the replies.
func TestHINCRBYFLOATMatchesRealRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test")
	}
	if runtime.GOARCH != "amd64" {
		t.Skip("Redis's long double is the x87 format only on x86-64")
	}
	rr := startRedis(t)
	r := rand.New(rand.NewPCG(42, 7))
	type tc struct{ stored, incr string }
	var cases []tc
	for range 3000 {
		c := tc{incr: randFloatText(r)}
		if r.IntN(3) > 0 {
			c.stored = randFloatText(r)
		}
		cases = append(cases, c)
	}
	for _, c := range cases {
		rr.send("DEL", "h")
		if c.stored != "" {
			rr.send("HSET", "h", "f", c.stored)
		}
		rr.send("HINCRBYFLOAT", "h", "f", c.incr)
	}
	if err := rr.w.Flush(); err != nil {
		t.Fatal(err)
	}
	lim := DefaultLimits()
	for _, c := range cases {
		rr.reply(t)
		if c.stored != "" {
			rr.reply(t)
		}
		want := rr.reply(t)
		h := New()
		if c.stored != "" {
			h.Set([]byte("f"), []byte(c.stored), lim)
		}
		if got := hincrbyfloat(h, []byte(c.incr), lim); got != want {
			t.Errorf("HSET f %q; HINCRBYFLOAT f %q = %.120q, redis-server says %.120q", c.stored, c.incr, got, want)
		}
	}
}
