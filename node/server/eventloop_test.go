package server

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The event loop serves the common path and hands a connection to a
// goroutine of its own when it needs one (eventloop.go). These tests run
// each kind of hand-over against a node with event-loops 1; the rest of
// the suite covers the commands themselves.

func TestEventLoopPipelineAndBigReply(t *testing.T) {
	// event-loops 0 (a goroutine per connection) is checked here too: the
	// other process tests run with the default loop.
	for _, loops := range []string{"1", "0"} {
		t.Run("event-loops="+loops, func(t *testing.T) { testPipelineAndBigReply(t, loops) })
	}
}

func testPipelineAndBigReply(t *testing.T, loops string) {
	n := startNode(t, "--event-loops", loops)
	r := n.raw(t)
	var b strings.Builder
	for i := 0; i < 200; i++ {
		b.WriteString(encodeCommand("INCR", "counter"))
	}
	r.send(b.String())
	for i := 1; i <= 200; i++ {
		if got, want := r.reply(), ":"+strconv.Itoa(i)+"\r\n"; got != want {
			t.Fatalf("reply %d = %q, want %q", i, got, want)
		}
	}
	// A reply far larger than the socket buffer: the loop's write is
	// partial and the connection goes on on a goroutine.
	big := strings.Repeat("x", 8<<20)
	if got := r.do("SET", "big", big); got != "+OK\r\n" {
		t.Fatalf("SET big = %q", got)
	}
	r.send(encodeCommand("GET", "big") + encodeCommand("PING"))
	if got := r.reply(); got != "$"+strconv.Itoa(len(big))+"\r\n"+big+"\r\n" {
		t.Fatalf("GET big: %d bytes, want %d", len(got), len(big)+len(strconv.Itoa(len(big)))+5)
	}
	if got := r.reply(); got != "+PONG\r\n" {
		t.Fatalf("PING after the big reply = %q", got)
	}
	if got := r.do("INCR", "counter"); got != ":201\r\n" {
		t.Fatalf("INCR after hand-over = %q", got)
	}
}

func TestEventLoopBlockingPop(t *testing.T) {
	n := startNode(t, "--event-loops", "1")
	waiter, pusher := n.client(t), n.client(t)
	ctx := ctxT(t)
	got := make(chan []string, 1)
	go func() {
		v, err := waiter.BLPop(ctx, 20*time.Second, "q").Result()
		if err != nil {
			t.Errorf("BLPOP: %v", err)
		}
		got <- v
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(pusher.Info(ctx, "clients").Val(), "blocked_clients:1") {
		if time.Now().After(deadline) {
			t.Fatal("the BLPOP client never blocked")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := pusher.RPush(ctx, "q", "a").Err(); err != nil {
		t.Fatal(err)
	}
	if v := <-got; len(v) != 2 || v[0] != "q" || v[1] != "a" {
		t.Fatalf("BLPOP = %v", v)
	}
	// The handed-over client keeps working.
	if v, err := waiter.Incr(ctx, "n").Result(); err != nil || v != 1 {
		t.Fatalf("INCR after BLPOP = %d, %v", v, err)
	}
}

func TestEventLoopPubSubAndMonitor(t *testing.T) {
	n := startNode(t, "--event-loops", "1")
	ctx := ctxT(t)
	mon := n.raw(t)
	if got := mon.do("MONITOR"); got != "+OK\r\n" {
		t.Fatalf("MONITOR = %q", got)
	}
	sub := n.client(t).Subscribe(ctx, "ch")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	pub := n.client(t)
	if v, err := pub.Publish(ctx, "ch", "hello").Result(); err != nil || v != 1 {
		t.Fatalf("PUBLISH = %d, %v", v, err)
	}
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil || msg.Payload != "hello" {
		t.Fatalf("message = %v, %v", msg, err)
	}
	// MONITOR saw the PUBLISH.
	deadline := time.Now().Add(20 * time.Second)
	for {
		line := mon.reply()
		if strings.Contains(line, `"PUBLISH" "ch" "hello"`) || strings.Contains(line, `"publish" "ch" "hello"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("MONITOR never showed the PUBLISH")
		}
	}
}

func TestEventLoopClientKillAndQuit(t *testing.T) {
	n := startNode(t, "--event-loops", "1")
	ctx := ctxT(t)
	victim := n.raw(t)
	id := strings.TrimSpace(strings.TrimPrefix(victim.do("CLIENT", "ID"), ":"))
	admin := n.client(t)
	if v, err := admin.Do(ctx, "CLIENT", "KILL", "ID", id).Int(); err != nil || v != 1 {
		t.Fatalf("CLIENT KILL = %d, %v", v, err)
	}
	_ = victim.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := victim.rd.ReadByte(); err == nil {
		t.Fatal("the killed connection is still open")
	}
	q := n.raw(t)
	if got := q.do("QUIT"); got != "+OK\r\n" {
		t.Fatalf("QUIT = %q", got)
	}
	_ = q.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := q.rd.ReadByte(); err == nil {
		t.Fatal("the connection is open after QUIT")
	}
	if v, err := admin.ClientList(ctx).Result(); err != nil || strings.Count(v, "\n") != 1 {
		t.Fatalf("CLIENT LIST = %q, %v (want only ours)", v, err)
	}
}

func TestEventLoopIdleTimeout(t *testing.T) {
	n := startNode(t, "--event-loops", "1", "--timeout", "1")
	idle := n.raw(t)
	// The idle time counts from when the node read PING: start before
	// sending it (after the reply, a slow reply would eat the margin).
	start := time.Now()
	if got := idle.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	_ = idle.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := idle.rd.ReadByte(); err == nil {
		t.Fatal("the idle connection got data instead of being closed")
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("closed after %v, before the 1s timeout", d)
	}
}

func TestEventLoopClientPause(t *testing.T) {
	n := startNode(t, "--event-loops", "1")
	ctx := ctxT(t)
	admin, writer := n.client(t), n.client(t)
	if err := writer.Ping(ctx).Err(); err != nil { // connected before the clock starts
		t.Fatal(err)
	}
	// The pause counts from when the node ran PAUSE: start before sending
	// it (after the reply, a slow reply would eat the margin).
	start := time.Now()
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "500", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	if err := writer.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("SET returned after %v during a 500ms pause", d)
	}
	if v, err := writer.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET = %q, %v", v, err)
	}
}

func TestEventLoopMultiExecAndReplica(t *testing.T) {
	master := startNode(t, "--event-loops", "1")
	replica := startNode(t, "--event-loops", "1", "--replicaof", "127.0.0.1", strconv.Itoa(master.Port))
	ctx := ctxT(t)
	m := master.client(t)
	cmds, err := m.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "a", "1", 0)
		p.Incr(ctx, "a")
		return nil
	})
	if err != nil || len(cmds) != 2 || cmds[1].(*redis.IntCmd).Val() != 2 {
		t.Fatalf("MULTI/EXEC = %v, %v", cmds, err)
	}
	r := replica.client(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if v, _ := r.Get(ctx, "a").Result(); v == "2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replica never got a=2")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v, err := m.Do(ctx, "WAIT", "1", "10000").Int(); err != nil || v != 1 {
		t.Fatalf("WAIT = %d, %v", v, err)
	}
}
