package server

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/internal/testenv"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// Tests against a real node process with real clients (go-redis,
// redis-cli, raw sockets).

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPipelineAndRESP2RESP3(t *testing.T) {
	n := startNode(t)
	ctx := ctxT(t)
	for _, proto := range []int{2, 3} {
		c := n.client(t, func(o *redis.Options) { o.Protocol = proto })
		pipe := c.Pipeline()
		for i := 0; i < 1000; i++ {
			pipe.Set(ctx, fmt.Sprint("p", i), i, 0)
			pipe.Incr(ctx, fmt.Sprint("p", i))
		}
		cmds, err := pipe.Exec(ctx)
		if err != nil || len(cmds) != 2000 {
			t.Fatalf("pipeline: %v (%d)", err, len(cmds))
		}
		if v, err := cmds[1999].(*redis.IntCmd).Result(); err != nil || v != 1000 {
			t.Fatalf("last INCR = %d, %v", v, err)
		}
		hello, err := c.Do(ctx, "HELLO", strconv.Itoa(proto)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if proto == 3 {
			m, ok := hello.(map[interface{}]interface{})
			if !ok || m["proto"] != int64(3) || m["version"] != RedisVersion {
				t.Fatalf("HELLO 3 = %#v", hello)
			}
		}
	}
}

func TestTransactionsAndWatch(t *testing.T) {
	n := startNode(t)
	ctx := ctxT(t)
	c := n.client(t)
	other := n.client(t)
	c.Set(ctx, "counter", 0, 0)
	// WATCH + modification by another client aborts EXEC.
	err := c.Watch(ctx, func(tx *redis.Tx) error {
		if err := other.Incr(ctx, "counter").Err(); err != nil {
			return err
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Incr(ctx, "counter")
			return nil
		})
		return err
	}, "counter")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("watched key changed: err = %v, want TxFailedErr", err)
	}
	// Unmodified WATCH commits.
	err = c.Watch(ctx, func(tx *redis.Tx) error {
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Incr(ctx, "counter")
			return nil
		})
		return err
	}, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Get(ctx, "counter").Int(); v != 2 {
		t.Fatalf("counter = %d", v)
	}
	// A watched key that expires makes EXEC fail (Redis 7).
	// The key must still live when WATCH runs (Redis ignores a key that
	// was already expired then), which a loaded machine can delay: SET and
	// WATCH go in one write and are retried if WATCH came too late.
	r := n.raw(t)
	const ttl = 500 * time.Millisecond
	var sent time.Time
	for attempt := 0; ; attempt++ {
		sent = time.Now()
		r.send(encodeCommand("SET", "w", "v", "PX", strconv.Itoa(int(ttl.Milliseconds()))) + encodeCommand("WATCH", "w"))
		r.reply()
		r.reply()
		if time.Since(sent) < ttl*4/5 {
			break
		}
		r.do("UNWATCH")
		if attempt == 5 {
			t.Fatal("SET and WATCH never answered within the key's TTL")
		}
	}
	for time.Since(sent) < ttl+100*time.Millisecond { // the clock, not the server's state
		time.Sleep(10 * time.Millisecond)
	}
	r.do("MULTI")
	r.do("SET", "x", "1")
	if got := r.do("EXEC"); got != "*-1\r\n" {
		t.Fatalf("EXEC after watched key expired = %q", got)
	}
	// Errors while queueing abort with EXECABORT; runtime errors do not.
	r.do("MULTI")
	r.do("SET", "a")
	if got := r.do("EXEC"); !strings.HasPrefix(got, "-EXECABORT") {
		t.Fatalf("EXEC = %q", got)
	}
}

func TestPubSub(t *testing.T) {
	n := startNode(t)
	ctx := ctxT(t)
	for _, proto := range []int{2, 3} {
		sub := n.client(t, func(o *redis.Options) { o.Protocol = proto })
		pub := n.client(t)
		ps := sub.Subscribe(ctx, "news")
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		if err := ps.PSubscribe(ctx, "ne*"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 20*time.Second, "subscriptions", func() bool {
			return pub.PubSubNumPat(ctx).Val() == 1
		})
		if got := pub.Publish(ctx, "news", "hello").Val(); got != 2 {
			t.Fatalf("PUBLISH reached %d", got)
		}
		got := map[string]bool{}
		for i := 0; i < 2; i++ {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got[m.Pattern+"|"+m.Channel+"|"+m.Payload] = true
		}
		if !got["|news|hello"] || !got["ne*|news|hello"] {
			t.Fatalf("RESP%d messages: %v", proto, got)
		}
		if ch := pub.PubSubChannels(ctx, "*").Val(); len(ch) != 1 || ch[0] != "news" {
			t.Fatalf("PUBSUB CHANNELS = %v", ch)
		}
		ps.Close()
		eventually(t, 20*time.Second, "unsubscribe on close", func() bool {
			return pub.PubSubNumPat(ctx).Val() == 0 && len(pub.PubSubChannels(ctx, "*").Val()) == 0
		})
	}
	// RESP2 subscribed clients may only run the subscribe family.
	r := n.raw(t)
	r.do("SUBSCRIBE", "x")
	if got := r.do("GET", "k"); !strings.HasPrefix(got, "-ERR Can't execute 'get'") {
		t.Fatalf("GET in subscribed context = %q", got)
	}
	if got := r.do("PING"); got != "*2\r\n$4\r\npong\r\n$0\r\n\r\n" {
		t.Fatalf("PING in subscribed context = %q", got)
	}
}

func TestRedisCLIInlineAndPipe(t *testing.T) {
	n := startNode(t)
	if got := strings.TrimSpace(n.redisCLI(t, "", "SET", "greeting", "hello world")); got != "OK" {
		t.Fatalf("redis-cli SET = %q", got)
	}
	if got := strings.TrimSpace(n.redisCLI(t, "", "GET", "greeting")); got != "hello world" {
		t.Fatalf("redis-cli GET = %q", got)
	}
	// Commands on stdin, one per line, as people script redis-cli.
	out := n.redisCLI(t, "INCR c\nINCR c\nGET c\n")
	if strings.Fields(out)[2] != "2" {
		t.Fatalf("redis-cli stdin = %q", out)
	}
	// Mass insertion with --pipe.
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		b.WriteString(encodeCommand("SET", fmt.Sprint("pipe:", i), "v"))
	}
	out = n.redisCLI(t, b.String(), "--pipe")
	if !strings.Contains(out, "errors: 0, replies: 5000") {
		t.Fatalf("redis-cli --pipe = %q", out)
	}
	if got := strings.TrimSpace(n.redisCLI(t, "", "DBSIZE")); got != "5002" {
		t.Fatalf("DBSIZE = %q", got)
	}
	// Inline commands over a raw socket, as telnet sends them.
	r := n.raw(t)
	r.send("SET inline \"a b\"\r\nGET inline\r\nEXISTS inline nokey\n")
	if got := r.reply() + r.reply() + r.reply(); got != "+OK\r\n$3\r\na b\r\n:1\r\n" {
		t.Fatalf("inline replies = %q", got)
	}
}

func TestProtocolErrorClosesConnection(t *testing.T) {
	n := startNode(t)
	r := n.raw(t)
	r.send("*1\r\n$-5\r\n")
	if got := r.reply(); got != "-ERR Protocol error: invalid bulk length\r\n" {
		t.Fatalf("reply = %q", got)
	}
	_ = r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.rd.ReadByte(); err == nil {
		t.Fatal("connection still open after a protocol error")
	}
}

func TestBigValue(t *testing.T) {
	n := startNode(t)
	ctx := ctxT(t)
	c := n.client(t)
	big := strings.Repeat("0123456789", 1<<20) // 10 MB
	if err := c.Set(ctx, "big", big, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Get(ctx, "big").Val(); got != big {
		t.Fatalf("10MB value came back with %d bytes", len(got))
	}
	if got := c.StrLen(ctx, "big").Val(); got != int64(len(big)) {
		t.Fatalf("STRLEN = %d", got)
	}
	// proto-max-bulk-len is enforced.
	n2 := startNode(t, "--proto-max-bulk-len", "1mb")
	r := n2.raw(t)
	r.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
	if got := r.reply(); got != "-ERR Protocol error: invalid bulk length\r\n" {
		t.Fatalf("reply = %q", got)
	}
}

func TestActiveExpiry(t *testing.T) {
	n := startNode(t, "--hz", "100")
	ctx := ctxT(t)
	c := n.client(t)
	pipe := c.Pipeline()
	for i := 0; i < 500; i++ {
		pipe.Set(ctx, fmt.Sprint("t", i), "v", 100*time.Millisecond)
	}
	pipe.Set(ctx, "keep", "v", 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// Nobody reads the keys: the active cycle must remove them.
	eventually(t, 30*time.Second, "active expiry", func() bool { return c.DBSize(ctx).Val() == 1 })
	info := c.Info(ctx, "stats").Val()
	if !strings.Contains(info, "expired_keys:500") {
		t.Fatalf("expired_keys not 500:\n%s", info)
	}
}

func TestScanReturnsEveryKey(t *testing.T) {
	n := startNode(t)
	ctx := ctxT(t)
	c := n.client(t)
	want := map[string]bool{}
	pipe := c.Pipeline()
	for i := 0; i < 3000; i++ {
		k := fmt.Sprint("s:", i)
		want[k] = true
		pipe.Set(ctx, k, "v", 0)
	}
	pipe.HSet(ctx, "h:1", "f", "v")
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, "s:*", 100).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			seen[k] = true
		}
		// Writes between calls do not break the guarantee.
		c.Set(ctx, fmt.Sprint("churn:", next), "v", 0)
		if cursor = next; cursor == 0 {
			break
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("SCAN returned %d of %d keys", len(seen), len(want))
	}
	keys, _, _ := c.ScanType(ctx, 0, "*", 100000, "string").Result()
	for _, k := range keys {
		if strings.HasPrefix(k, "h:") {
			t.Fatal("SCAN TYPE string returned a hash")
		}
	}
}

func TestConfigFileOverridesAndRewrite(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "node.conf")
	if err := os.WriteFile(conf, []byte("# test\nmaxmemory 10mb\nmaxmemory-policy allkeys-lru\ntimeout 300\nclient-output-buffer-limit pubsub 1mb 512kb 10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// startNode passes --port etc. after the file, so put the file first.
	n := startNodeWithFile(t, conf, "--timeout", "100")
	ctx := ctxT(t)
	c := n.client(t)
	got := c.ConfigGet(ctx, "maxmemory*").Val()
	if got["maxmemory"] != "10485760" || got["maxmemory-policy"] != "allkeys-lru" || got["maxmemory-samples"] != "5" {
		t.Fatalf("CONFIG GET maxmemory* = %v", got)
	}
	if got := c.ConfigGet(ctx, "timeout").Val()["timeout"]; got != "100" {
		t.Fatalf("command line did not override the file: timeout = %s", got)
	}
	if got := c.ConfigGet(ctx, "client-output-buffer-limit").Val()["client-output-buffer-limit"]; got != "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 10" {
		t.Fatalf("client-output-buffer-limit = %q", got)
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "volatile-ttl").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "databases", "4").Err(); err == nil || !strings.Contains(err.Error(), "can't set immutable config") {
		t.Fatalf("CONFIG SET databases: %v", err)
	}
	if err := c.ConfigRewrite(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(conf)
	if !strings.Contains(string(b), "maxmemory-policy volatile-ttl\n") { // enums are written unquoted, as Redis
		t.Fatalf("rewritten config:\n%s", b)
	}
	if err := c.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}

func startNodeWithFile(t *testing.T, conf string, args ...string) *testNode {
	t.Helper()
	// A config file must be the first argument, before the harness's own
	// options.
	return &testNode{nodetest.Start(t, nodetest.Options{Config: conf, Args: append([]string{"--save", ""}, args...)})}
}

func TestMaxmemoryPolicies(t *testing.T) {
	ctx := ctxT(t)
	n := startNode(t, "--maxmemory", "8mb", "--maxmemory-policy", "noeviction")
	c := n.client(t)
	val := strings.Repeat("x", 10000)
	var err error
	for i := 0; i < 10000 && err == nil; i++ {
		err = c.Set(ctx, fmt.Sprint("k", i), val, 0).Err()
	}
	if err == nil || err.Error() != "OOM command not allowed when used memory > 'maxmemory'." {
		t.Fatalf("noeviction: err = %v", err)
	}
	// Reads still work, and switching to allkeys-lru makes room.
	if err := c.Get(ctx, "k0").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3000; i++ {
		if err := c.Set(ctx, fmt.Sprint("n", i), val, 0).Err(); err != nil {
			t.Fatalf("allkeys-lru SET %d: %v", i, err)
		}
	}
	info := c.Info(ctx, "stats").Val()
	if strings.Contains(info, "evicted_keys:0\r\n") {
		t.Fatalf("nothing evicted:\n%s", info)
	}
	// volatile-ttl with no volatile keys cannot evict.
	if err := c.ConfigSet(ctx, "maxmemory-policy", "volatile-ttl").Err(); err != nil {
		t.Fatal(err)
	}
	err = nil
	for i := 0; i < 3000 && err == nil; i++ {
		err = c.Set(ctx, fmt.Sprint("v", i), val, 0).Err()
	}
	if err == nil || !strings.HasPrefix(err.Error(), "OOM") {
		t.Fatalf("volatile-ttl without TTLs: err = %v", err)
	}
}

func TestIdleTimeoutAndClientKill(t *testing.T) {
	n := startNode(t, "--timeout", "1")
	r := n.raw(t)
	// The idle time counts from when the node read PING: start before
	// sending it (after the reply, a slow reply would eat the margin).
	start := time.Now()
	r.do("PING")
	_ = r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.rd.ReadByte(); err == nil {
		t.Fatal("idle connection not closed")
	}
	if time.Since(start) < 900*time.Millisecond {
		t.Fatal("closed before the timeout")
	}
	ctx := ctxT(t)
	n2 := startNode(t)
	victim := n2.raw(t)
	id := strings.TrimSpace(strings.TrimPrefix(victim.do("CLIENT", "ID"), ":"))
	c := n2.client(t)
	list := c.ClientList(ctx).Val()
	if !strings.Contains(list, "id="+id+" addr=") || !strings.Contains(list, "cmd=client|id") {
		t.Fatalf("CLIENT LIST:\n%s", list)
	}
	if got := c.Do(ctx, "CLIENT", "KILL", "ID", id).Val(); got != int64(1) {
		t.Fatalf("CLIENT KILL ID = %v", got)
	}
	_ = victim.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := victim.rd.ReadByte(); err == nil {
		t.Fatal("killed client still connected")
	}
}

func TestClientPauseWrite(t *testing.T) {
	n := startNode(t)
	ctx := ctxT(t)
	c := n.client(t)
	// A 3s pause with 1.5s margins either way: a loaded machine can stall
	// a reply for a few hundred milliseconds.
	paused := time.Now() // before the node runs PAUSE: the write's lower bound
	if err := c.Do(ctx, "CLIENT", "PAUSE", "3000", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.Get(ctx, "k").Err(); err != redis.Nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Fatalf("read waited %v for a WRITE pause", d)
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(paused); d < 1500*time.Millisecond {
		t.Fatalf("write ran %v into a 3s pause", d)
	}
}

func TestRequirePass(t *testing.T) {
	n := startNode(t, "--requirepass", "s3cret")
	r := n.raw(t)
	if got := r.do("GET", "k"); got != "-NOAUTH Authentication required.\r\n" {
		t.Fatalf("unauthenticated GET = %q", got)
	}
	if got := r.do("AUTH", "wrong"); got != "-WRONGPASS invalid username-password pair or user is disabled.\r\n" {
		t.Fatalf("AUTH wrong = %q", got)
	}
	if got := r.do("AUTH", "default", "s3cret"); got != "+OK\r\n" {
		t.Fatalf("AUTH = %q", got)
	}
	if got := r.do("GET", "k"); got != "$-1\r\n" {
		t.Fatalf("GET = %q", got)
	}
	ctx := ctxT(t)
	c := n.client(t, func(o *redis.Options) { o.Password = "s3cret" })
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("go-redis with password (HELLO AUTH): %v", err)
	}
}

func TestMonitor(t *testing.T) {
	n := startNode(t)
	m := n.raw(t)
	if got := m.do("MONITOR"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	n.raw(t).do("SET", "mk", "a \"b\"")
	line := m.reply()
	if !strings.HasSuffix(line, "\"SET\" \"mk\" \"a \\\"b\\\"\"\r\n") || !strings.Contains(line, " [0 127.0.0.1:") {
		t.Fatalf("MONITOR line = %q", line)
	}
}

func TestInfoSections(t *testing.T) {
	n := startNode(t)
	ctx := ctxT(t)
	c := n.client(t)
	c.Set(ctx, "a", "b", time.Hour)
	info := c.Info(ctx).Val()
	for _, want := range []string{"# Server\r\n", "redis_version:7.0.15", "tcp_port:" + strconv.Itoa(n.Port), "# Clients\r\nconnected_clients:",
		"# Memory\r\nused_memory:", "used_memory_rss:", "maxmemory_policy:noeviction", "# Persistence\r\n", "# Stats\r\n",
		"total_commands_processed:", "# Replication\r\nrole:master", "# CPU\r\n", "# Keyspace\r\ndb0:keys=1,expires=1,avg_ttl="} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q", want)
		}
	}
	all := c.Info(ctx, "all").Val()
	if !strings.Contains(all, "cmdstat_set:calls=1,") {
		t.Errorf("INFO all lacks commandstats:\n%s", all)
	}
}

func TestBlockingWithTimeoutsAndFIFO(t *testing.T) {
	n := startNode(t)
	ctx := ctxT(t)
	c := n.client(t)
	// Timeout: null after about the timeout.
	start := time.Now()
	if err := c.BLPop(ctx, 200*time.Millisecond, "empty").Err(); err != redis.Nil {
		t.Fatalf("BLPOP timeout: %v", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
		t.Fatalf("BLPOP timed out after %v", d)
	}
	// Two blocked clients are served in the order they blocked.
	var wg sync.WaitGroup
	results := make([]string, 2)
	for i := 0; i < 2; i++ {
		cl := n.client(t)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v, err := cl.BLPop(ctx, 25*time.Second, "q").Result()
			if err == nil {
				results[i] = v[1]
			}
		}(i)
		eventually(t, 20*time.Second, "client blocked", func() bool {
			return strings.Contains(c.Info(ctx, "clients").Val(), fmt.Sprintf("blocked_clients:%d\r", i+1))
		})
	}
	c.RPush(ctx, "q", "first", "second")
	wg.Wait()
	if results[0] != "first" || results[1] != "second" {
		t.Fatalf("served out of order: %v", results)
	}
	if c.Exists(ctx, "q").Val() != 0 {
		t.Fatal("list not emptied")
	}
	// Inside MULTI a blocking command does not block.
	r := n.raw(t)
	r.do("MULTI")
	r.do("BLPOP", "empty", "0")
	if got := r.do("EXEC"); got != "*1\r\n*-1\r\n" {
		t.Fatalf("BLPOP in MULTI = %q", got)
	}
}

func TestSIGTERMShutdownIsGraceful(t *testing.T) {
	n := startNode(t)
	r := n.raw(t)
	r.do("SET", "k", "v")
	// The harness's cleanup sends SIGTERM and fails the test unless the
	// process exits; check here that the connection is closed cleanly.
	done := make(chan error, 1)
	go func() {
		_ = r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := bufio.NewReader(r.c).ReadByte()
		done <- err
	}()
	_ = n.Cmd.Process.Signal(os.Interrupt)
	if err := <-done; err == nil {
		t.Fatal("connection still open after SIGINT")
	}
}

func TestACLUsersAndPermissions(t *testing.T) {
	n := startNode(t)
	admin := n.raw(t)
	for _, rule := range [][]string{
		{"ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "&news", "+@read", "+@write", "-flushall", "+publish"},
		{"ACL", "SETUSER", "ro", "on", "nopass", "%R~*", "+get"},
	} {
		if got := admin.do(rule...); got != "+OK\r\n" {
			t.Fatalf("%v = %q", rule, got)
		}
	}
	c := n.raw(t)
	if got := c.do("AUTH", "app", "wrong"); !strings.HasPrefix(got, "-WRONGPASS") {
		t.Fatalf("AUTH wrong = %q", got)
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"AUTH", "app", "apppw"}, "+OK\r\n"},
		{[]string{"ACL", "WHOAMI"}, "-NOPERM this user has no permissions to run the 'acl|whoami' command\r\n"},
		{[]string{"SET", "app:1", "v"}, "+OK\r\n"},
		{[]string{"GET", "app:1"}, "$1\r\nv\r\n"},
		{[]string{"SET", "other", "v"}, "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"},
		{[]string{"FLUSHALL"}, "-NOPERM this user has no permissions to run the 'flushall' command\r\n"},
		{[]string{"CONFIG", "GET", "port"}, "-NOPERM this user has no permissions to run the 'config|get' command\r\n"},
		{[]string{"PUBLISH", "news", "x"}, ":0\r\n"},
		{[]string{"PUBLISH", "gossip", "x"}, "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n"},
		{[]string{"AUTH", "ro", "anything"}, "+OK\r\n"},
		{[]string{"GET", "app:1"}, "$1\r\nv\r\n"},
		{[]string{"SET", "app:1", "w"}, "-NOPERM this user has no permissions to run the 'set' command\r\n"},
	}
	for _, s := range steps {
		if got := c.do(s.args...); got != s.want {
			t.Fatalf("%v = %q, want %q", s.args, got, s.want)
		}
	}
	// Deleting a user disconnects its clients.
	admin.do("ACL", "DELUSER", "ro")
	_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.rd.ReadByte(); err == nil {
		t.Fatal("client of a deleted user still connected")
	}
	// requirepass drives the default user's password.
	if got := admin.do("CONFIG", "SET", "requirepass", "pw"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	fresh := n.raw(t)
	if got := fresh.do("GET", "x"); got != "-NOAUTH Authentication required.\r\n" {
		t.Fatalf("after requirepass: %q", got)
	}
	if got := fresh.do("AUTH", "pw"); got != "+OK\r\n" {
		t.Fatalf("AUTH pw = %q", got)
	}
}

func TestShutdownCommand(t *testing.T) {
	n := startNode(t)
	out := n.redisCLI(t, "", "SHUTDOWN", "NOSAVE")
	if strings.Contains(out, "ERR") {
		t.Fatalf("SHUTDOWN: %q", out)
	}
	eventually(t, 30*time.Second, "process exit", func() bool {
		return n.Cmd.Process.Signal(syscall.Signal(0)) != nil
	})
}

func TestClientOutputBufferLimitNormal(t *testing.T) {
	n := startNode(t, "--client-output-buffer-limit", "normal 1mb 0 0")
	r := n.raw(t)
	r.do("SET", "big", strings.Repeat("x", 300000))
	// Five copies of a 300kB value in one batch exceed the 1mb hard limit.
	r.send(strings.Repeat(encodeCommand("GET", "big"), 5))
	_ = r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1<<20)
	total := 0
	for {
		k, err := r.c.Read(buf)
		total += k
		if err != nil {
			break
		}
	}
	if total >= 5*300000 {
		t.Fatalf("client over its output limit got all %d bytes", total)
	}
}

func TestProtectedModeDifferential(t *testing.T) {
	// Redis 7.0 refuses non-loopback clients while the default user has no
	// password, even with an explicit bind address.
	ip := nonLoopbackIP(t)
	ours := startNodeBind(t, ip)
	ref := startRedis(t, "--bind", ip)
	got, want := rawExchange(t, ours, "PING\r\n"), rawExchange(t, ref, "PING\r\n")
	if got != want || !strings.HasPrefix(got, "-DENIED") {
		t.Fatalf("protected mode:\n ours  %q\n redis %q", got, want)
	}
}

func nonLoopbackIP(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
	}
	testenv.Unavailable(t, "no non-loopback IPv4 address")
	return ""
}

// startNodeBind starts a node listening on ip instead of loopback.
func startNodeBind(t *testing.T, ip string) *testNode {
	t.Helper()
	return &testNode{nodetest.Start(t, nodetest.Options{Host: ip, Args: []string{"--save", ""}})}
}
