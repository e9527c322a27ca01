package server

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/persistence"
	"github.com/shoal-dev/shoal/node/resp"
)

// TestReplicationRejectsBadSnapshots: a replica (a real node process)
// syncs from a scripted master that first sends a snapshot with a wrong
// checksum, then cuts the link in the middle of one, then sends a good
// one. The replica refuses the first two, keeps serving its old data set
// untouched meanwhile (the snapshot loads into databases of its own), and
// retries until it loads the good one in place of the old data.
func TestReplicationRejectsBadSnapshots(t *testing.T) {
	r := startNode(t)
	rc := r.client(t)
	ctx := ctxT(t)
	if err := rc.Set(ctx, "old", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })

	good := testSnapshot(t, 20000)
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0xFF // a value byte: only the checksum can tell
	payloads := []struct {
		name string
		body []byte
		cut  bool
	}{{"wrong checksum", bad, false}, {"link cut mid-sync", good[:len(good)/2], true}, {"good", good, false}}
	attempts := make(chan int, len(payloads))
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for i, p := range payloads {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			attempts <- i
			if err := fakeMasterSync(c, p.body, !p.cut); err != nil || p.cut {
				c.Close()
			}
		}
		<-ctx.Done()
	}()

	port := ln.Addr().(*net.TCPAddr).Port
	if err := rc.Do(ctx, "REPLICAOF", "127.0.0.1", strconv.Itoa(port)).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range payloads {
		select {
		case got := <-attempts:
			if got != i {
				t.Fatalf("attempt %d, want %d", got, i)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("the replica did not connect for attempt %d (%s)", i, payloads[i].name)
		}
		if i == 0 {
			continue
		}
		// Attempt i started, so attempt i-1 is over: the old data set is
		// still the one served.
		if n, err := rc.DBSize(ctx).Result(); err != nil || n != 1 {
			t.Fatalf("after the %q attempt the replica holds %d keys (%v), want its old 1", payloads[i-1].name, n, err)
		}
		if v := rc.Get(ctx, "old").Val(); v != "1" {
			t.Fatalf("after the %q attempt old = %q", payloads[i-1].name, v)
		}
	}
	waitUntil(t, 60*time.Second, "the good snapshot loaded", func() error {
		if s := infoField0(t, rc, "master_link_status"); s != "up" {
			return fmt.Errorf("master_link_status %q", s)
		}
		if n := rc.DBSize(ctx).Val(); n != 20000 {
			return fmt.Errorf("dbsize %d", n)
		}
		return nil
	})
	if v := rc.Get(ctx, "k:19999").Val(); v != "v:19999" {
		t.Fatalf("k:19999 = %q", v)
	}
	if n := rc.Exists(ctx, "old").Val(); n != 0 {
		t.Fatal("the old data set survived the full sync")
	}
}

// testSnapshot encodes n string keys k:i = v:i in the snapshot format.
func testSnapshot(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := persistence.NewSnapshotWriter(&buf)
	for i := range n {
		if err := w.Key(0, []byte("k:"+strconv.Itoa(i)), persistence.NoExpire, persistence.TypeString, persistence.StringValue([]byte("v:"+strconv.Itoa(i)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeMasterSync plays a master's side of the handshake on c and answers
// PSYNC with a full resync sending body in the $EOF:<mark> framing, the
// closing mark only when withMark (the caller cuts the link otherwise).
func fakeMasterSync(c net.Conn, body []byte, withMark bool) error {
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	rd := resp.NewReader(c)
	for {
		args, err := rd.ReadCommand()
		if err != nil {
			return err
		}
		switch strings.ToUpper(string(args[0])) {
		case "PING":
			_, err = c.Write([]byte("+PONG\r\n"))
		case "PSYNC", "SYNC":
			mark := randomHex(40)
			out := "+FULLRESYNC " + randomHex(40) + " 0\r\n$EOF:" + mark + "\r\n"
			if _, err := c.Write(append([]byte(out), body...)); err != nil || !withMark {
				return err
			}
			_, err = c.Write([]byte(mark))
			return err
		default:
			_, err = c.Write([]byte("+OK\r\n"))
		}
		if err != nil {
			return err
		}
	}
}

// TestReplicationSnapshotFraming: a replica that announces capa eof and
// capa shoal-stream gets the snapshot streamed as $EOF:<mark> ... <mark>;
// one that announces eof alone (builds that only read $<length>) gets
// $<length> and the bytes.
func TestReplicationSnapshotFraming(t *testing.T) {
	m := startNode(t)
	if err := m.client(t).Set(ctxT(t), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		capa []string
		eof  bool
	}{{[]string{"capa", "eof", "capa", "psync2", "capa", "shoal-stream"}, true}, {[]string{"capa", "eof", "capa", "psync2"}, false}} {
		rc := m.raw(t)
		_ = rc.c.SetDeadline(time.Now().Add(20 * time.Second))
		rc.send(encodeCommand(append([]string{"REPLCONF"}, tc.capa...)...))
		if l, err := rc.rd.ReadString('\n'); err != nil || l != "+OK\r\n" {
			t.Fatalf("REPLCONF: %q, %v", l, err)
		}
		rc.send(encodeCommand("PSYNC", "?", "-1"))
		var lines []string
		for len(lines) < 2 {
			l, err := rc.rd.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if l != "\n" {
				lines = append(lines, strings.TrimRight(l, "\r\n"))
			}
		}
		if !strings.HasPrefix(lines[0], "+FULLRESYNC ") {
			t.Fatalf("PSYNC reply %q", lines[0])
		}
		mark, eof := strings.CutPrefix(lines[1], "$EOF:")
		if eof != tc.eof {
			t.Fatalf("%v: snapshot header %q", tc.capa, lines[1])
		}
		if eof {
			n, err := persistence.ReadSnapshotStream(rc.rd, "master", persistence.SnapshotHandler{})
			if err != nil || n == 0 {
				t.Fatalf("streamed snapshot: %d bytes, %v", n, err)
			}
			end := make([]byte, len(mark))
			if _, err := ioReadFull(rc.rd, end); err != nil || string(end) != mark || len(mark) != 40 {
				t.Fatalf("end mark %q, want %q (%v)", end, mark, err)
			}
			continue
		}
		n, err := strconv.ParseInt(lines[1][1:], 10, 64)
		if err != nil || n <= 0 {
			t.Fatalf("snapshot header %q", lines[1])
		}
		body := make([]byte, n)
		if _, err := ioReadFull(rc.rd, body); err != nil || !bytes.HasPrefix(body, []byte(persistence.RDBMagic)) {
			t.Fatalf("snapshot body: %v", err)
		}
	}
}
