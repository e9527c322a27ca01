package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// Persistence tests against real node processes that restart on the same
// directory, are killed with SIGKILL, and are handed damaged files.

// persistNode is a node process that can be stopped and started again on
// the same directory.
type persistNode struct {
	t      *testing.T
	Dir    string
	Addr   string
	args   []string
	proc   *nodetest.Proc
	cmd    *exec.Cmd
	exited <-chan struct{}
	log    string
}

const persistStartTimeout = 30 * time.Second

func newPersistNode(t *testing.T, args ...string) *persistNode {
	n := &persistNode{t: t, Dir: t.TempDir(), args: args}
	n.log = filepath.Join(n.Dir, "node.log")
	return n
}

func (n *persistNode) running() bool { return n.proc != nil && n.proc.Running() }

// spawn starts the process with extra arguments; it does not wait. A
// process still running when the test ends is killed.
func (n *persistNode) spawn(extra ...string) {
	n.t.Helper()
	args := append(append([]string{"--save", ""}, n.args...), extra...)
	p := nodetest.Spawn(n.t, nodetest.Options{Dir: n.Dir, Log: n.log, Args: args})
	n.proc, n.Addr, n.cmd, n.exited = p, p.Addr, p.Cmd, p.Exited()
	n.t.Cleanup(func() {
		if p.Running() {
			p.Kill()
		}
	})
}

// start starts the node and waits until it accepts connections.
func (n *persistNode) start(extra ...string) *redis.Client {
	n.t.Helper()
	n.spawn(extra...)
	if !nodetest.Ready(n.Addr, n.exited, persistStartTimeout) {
		n.t.Fatalf("node did not start (exit: %v)", n.cmd.ProcessState)
	}
	c := redis.NewClient(&redis.Options{Addr: n.Addr, DialTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second})
	n.t.Cleanup(func() { c.Close() })
	return c
}

// startFails starts the node, expects it to exit on its own and returns
// its exit code and log.
func (n *persistNode) startFails(extra ...string) (int, string) {
	n.t.Helper()
	before, _ := os.ReadFile(n.log)
	n.spawn(extra...)
	select {
	case <-n.exited:
	case <-time.After(persistStartTimeout):
		n.t.Fatal("node kept running although its files are damaged")
	}
	after, _ := os.ReadFile(n.log)
	return n.cmd.ProcessState.ExitCode(), string(after[len(before):])
}

// stop sends SIGTERM and waits for the exit.
func (n *persistNode) stop() {
	n.t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(persistStartTimeout):
		n.t.Fatal("node did not exit on SIGTERM")
	}
	if code := n.cmd.ProcessState.ExitCode(); code != 0 {
		n.t.Fatalf("node exited with %d on SIGTERM", code)
	}
}

// kill sends SIGKILL and waits for the exit.
func (n *persistNode) kill() {
	n.t.Helper()
	_ = n.cmd.Process.Kill()
	<-n.exited
}

// requirePersistence fails unless the node's INFO persistence has the
// fields of the persistence subsystem (installed by main.go: a node that
// lost the wiring must fail these tests, not skip them).
func requirePersistence(t *testing.T, c *redis.Client) {
	t.Helper()
	info, err := c.Info(context.Background(), "persistence").Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, "shoal_last_capture_keys:") {
		t.Fatalf("INFO persistence has no shoal_last_capture_keys: the persistence subsystem is not installed (see the call sites in node/server/persist.go):\n%s", info)
	}
}

func infoField(t *testing.T, c *redis.Client, field string) string {
	t.Helper()
	info, err := c.Info(context.Background(), "persistence").Result()
	if err != nil {
		t.Fatal(err)
	}
	value := ""
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			value = v // the last occurrence wins
		}
	}
	return value
}

// waitInfo polls INFO persistence until field has value.
func waitInfo(t *testing.T, c *redis.Client, field, value string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for infoField(t, c, field) != value {
		if time.Now().After(deadline) {
			t.Fatalf("%s is %q, want %q", field, infoField(t, c, field), value)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dataset writes keys of every type the node serves, in two databases,
// with and without TTLs, and returns a check of the same content.
func dataset(t *testing.T, c *redis.Client) func(t *testing.T, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set(ctx, "str", "hello", 0).Err())
	must(c.Set(ctx, "counter", "41", 0).Err())
	must(c.Incr(ctx, "counter").Err())
	must(c.Set(ctx, "ttl", "v", time.Hour).Err())
	must(c.Set(ctx, "bin", "\x00\xff\r\n", 0).Err())
	must(c.RPush(ctx, "list", "a", "b", "c").Err())
	must(c.HSet(ctx, "hash", "f1", "v1", "f2", "v2").Err())
	must(c.SAdd(ctx, "set", "x", "y", "1").Err())
	must(c.ZAdd(ctx, "zset", redis.Z{Score: 1.5, Member: "m1"}, redis.Z{Score: -2, Member: "m2"}).Err())
	pipe := c.Pipeline()
	pipe.Select(ctx, 3)
	pipe.Set(ctx, "db3key", "three", 0)
	pipe.Select(ctx, 0)
	_, err := pipe.Exec(ctx)
	must(err)
	return func(t *testing.T, c *redis.Client) {
		t.Helper()
		check := func(what string, got, want any) {
			t.Helper()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s = %v, want %v", what, got, want)
			}
		}
		check("str", c.Get(ctx, "str").Val(), "hello")
		check("counter", c.Get(ctx, "counter").Val(), "42")
		check("bin", c.Get(ctx, "bin").Val(), "\x00\xff\r\n")
		if ttl := c.TTL(ctx, "ttl").Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("ttl of 'ttl' = %v, want about an hour", ttl)
		}
		check("list", c.LRange(ctx, "list", 0, -1).Val(), []string{"a", "b", "c"})
		check("hash", c.HGetAll(ctx, "hash").Val(), map[string]string{"f1": "v1", "f2": "v2"})
		check("set", len(c.SMembers(ctx, "set").Val()), 3)
		check("set member", c.SIsMember(ctx, "set", "1").Val(), true)
		check("zset", c.ZRangeWithScores(ctx, "zset", 0, -1).Val(), []redis.Z{{Score: -2, Member: "m2"}, {Score: 1.5, Member: "m1"}})
		pipe := c.Pipeline()
		pipe.Select(ctx, 3)
		get := pipe.Get(ctx, "db3key")
		pipe.Select(ctx, 0)
		if _, err := pipe.Exec(ctx); err != nil {
			t.Errorf("db 3: %v", err)
		}
		check("db3key", get.Val(), "three")
	}
}

// Restarting keeps the data: from the snapshot (SAVE, BGSAVE, SHUTDOWN
// SAVE, SIGTERM with save rules) and from the AOF with every appendfsync
// policy (SIGKILL for always, whose promise covers a crash).
func TestPersistRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		args    []string
		persist func(t *testing.T, n *persistNode, c *redis.Client)
	}{
		{"snapshot SAVE", nil, func(t *testing.T, n *persistNode, c *redis.Client) {
			if err := c.Save(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			n.kill()
		}},
		{"snapshot BGSAVE", nil, func(t *testing.T, n *persistNode, c *redis.Client) {
			before := c.LastSave(ctx).Val()
			if err := c.BgSave(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			waitInfo(t, c, "rdb_bgsave_in_progress", "0")
			if infoField(t, c, "rdb_last_bgsave_status") != "ok" || c.LastSave(ctx).Val() < before {
				t.Fatal("BGSAVE did not succeed")
			}
			n.kill()
		}},
		{"snapshot SHUTDOWN SAVE", nil, func(t *testing.T, n *persistNode, c *redis.Client) {
			c.Do(ctx, "SHUTDOWN", "SAVE")
			<-n.exited
		}},
		{"snapshot SIGTERM with save rules", []string{"--save", "3600 1"}, func(t *testing.T, n *persistNode, c *redis.Client) {
			n.stop()
		}},
		{"aof always, SIGKILL", []string{"--appendonly", "yes", "--appendfsync", "always"}, func(t *testing.T, n *persistNode, c *redis.Client) {
			n.kill()
		}},
		{"aof everysec, SIGTERM", []string{"--appendonly", "yes", "--appendfsync", "everysec"}, func(t *testing.T, n *persistNode, c *redis.Client) {
			n.stop()
		}},
		{"aof no, SIGTERM", []string{"--appendonly", "yes", "--appendfsync", "no"}, func(t *testing.T, n *persistNode, c *redis.Client) {
			n.stop()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newPersistNode(t)
			c := n.start(tc.args...)
			requirePersistence(t, c)
			check := dataset(t, c)
			check(t, c)
			tc.persist(t, n, c)
			c = n.start(tc.args...)
			check(t, c)
			// And once more, after a restart that loaded what it wrote.
			n.stop()
			c = n.start(tc.args...)
			check(t, c)
		})
	}
}

// SHUTDOWN NOSAVE does not save; the previous snapshot stays.
func TestPersistShutdownNosave(t *testing.T) {
	ctx := context.Background()
	n := newPersistNode(t, "--save", "3600 1")
	c := n.start()
	requirePersistence(t, c)
	c.Set(ctx, "saved", "1", 0)
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	c.Set(ctx, "unsaved", "1", 0)
	c.Do(ctx, "SHUTDOWN", "NOSAVE")
	<-n.exited
	c = n.start()
	if c.Exists(ctx, "saved").Val() != 1 || c.Exists(ctx, "unsaved").Val() != 0 {
		t.Fatalf("after SHUTDOWN NOSAVE: saved=%d unsaved=%d", c.Exists(ctx, "saved").Val(), c.Exists(ctx, "unsaved").Val())
	}
}

// A save rule triggers a background save once enough changes happened.
func TestPersistSaveRules(t *testing.T) {
	ctx := context.Background()
	n := newPersistNode(t, "--save", "1 3")
	c := n.start()
	requirePersistence(t, c)
	if infoField(t, c, "rdb_saves") != "0" {
		t.Fatalf("rdb_saves = %s before any change", infoField(t, c, "rdb_saves"))
	}
	c.Set(ctx, "a", "1", 0)
	c.Set(ctx, "b", "1", 0)
	c.Set(ctx, "c", "1", 0)
	if got := infoField(t, c, "rdb_changes_since_last_save"); got != "3" && got != "0" {
		t.Fatalf("rdb_changes_since_last_save = %s", got)
	}
	waitInfo(t, c, "rdb_saves", "1")
	waitInfo(t, c, "rdb_changes_since_last_save", "0")
	if _, err := os.Stat(filepath.Join(n.Dir, "dump.rdb")); err != nil {
		t.Fatal(err)
	}
}

// CONFIG SET appendonly yes writes a base from the current data set and
// appends from then on; a restart with appendonly yes loads both.
func TestPersistConfigSetAppendonly(t *testing.T) {
	ctx := context.Background()
	n := newPersistNode(t)
	c := n.start()
	requirePersistence(t, c)
	c.Set(ctx, "before", "1", 0)
	if err := c.ConfigSet(ctx, "appendonly", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	waitInfo(t, c, "aof_enabled", "1")
	waitInfo(t, c, "aof_rewrite_in_progress", "0")
	if infoField(t, c, "aof_last_bgrewrite_status") != "ok" {
		t.Fatal("the rewrite that turns the AOF on failed")
	}
	c.Set(ctx, "after", "2", 0)
	n.stop()
	c = n.start("--appendonly", "yes")
	if c.Get(ctx, "before").Val() != "1" || c.Get(ctx, "after").Val() != "2" {
		t.Fatalf("before=%q after=%q", c.Get(ctx, "before").Val(), c.Get(ctx, "after").Val())
	}
}

// A truncated AOF tail (a crash in the middle of an append) is reported
// and, with aof-load-truncated yes (the default), trimmed.
func TestPersistTruncatedAOFTail(t *testing.T) {
	ctx := context.Background()
	n := newPersistNode(t, "--appendonly", "yes", "--appendfsync", "always")
	c := n.start()
	requirePersistence(t, c)
	c.Set(ctx, "a", "1", 0)
	c.Set(ctx, "b", "2", 0)
	n.stop()
	incr := filepath.Join(n.Dir, "appendonlydir", "appendonly.aof.1.incr.aof")
	good, err := os.ReadFile(incr)
	if err != nil {
		t.Fatal(err)
	}
	partial := "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$5\r\nhal"
	if err := os.WriteFile(incr, append(append([]byte(nil), good...), partial...), 0o644); err != nil {
		t.Fatal(err)
	}

	if c := n.start(); true {
		if c.Get(ctx, "a").Val() != "1" || c.Get(ctx, "b").Val() != "2" || c.Exists(ctx, "c").Val() != 0 {
			t.Fatal("data before the truncated command was not loaded, or the partial command was")
		}
		n.stop()
	}
	log, _ := os.ReadFile(n.log)
	want := fmt.Sprintf("Truncating the AOF appendonly.aof.1.incr.aof at offset %d (%d bytes", len(good), len(partial))
	if !strings.Contains(string(log), want) {
		t.Fatalf("log does not report the truncation (%q):\n%s", want, log)
	}
	after, _ := os.ReadFile(incr)
	if len(after) < len(good) || string(after[:len(good)]) != string(good) || strings.Contains(string(after), partial) {
		t.Fatalf("the tail was not trimmed: %d bytes, %d before the tail", len(after), len(good))
	}
}

// With aof-load-truncated no a truncated tail stops start-up (when the
// configuration has the parameter).
func TestPersistTruncatedAOFTailRefused(t *testing.T) {
	ctx := context.Background()
	n := newPersistNode(t, "--appendonly", "yes")
	c := n.start()
	requirePersistence(t, c)
	if v := c.ConfigGet(ctx, "aof-load-truncated").Val(); v["aof-load-truncated"] != "yes" {
		t.Fatalf("CONFIG GET aof-load-truncated = %v, want yes (the default)", v)
	}
	c.Set(ctx, "a", "1", 0)
	n.stop()
	incr := filepath.Join(n.Dir, "appendonlydir", "appendonly.aof.1.incr.aof")
	f, _ := os.OpenFile(incr, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("*2\r\n$3\r\nDEL")
	f.Close()
	code, log := n.startFails("--aof-load-truncated", "no")
	if code != 1 || !strings.Contains(log, "appendonly.aof.1.incr.aof") || !strings.Contains(log, "truncated") {
		t.Fatalf("exit %d, log:\n%s", code, log)
	}
}

// A corrupt AOF or snapshot stops start-up with exit code 1 and a message
// naming the file, the offset and the fault; nothing is silently dropped.
func TestPersistCorruptFilesStopStartup(t *testing.T) {
	ctx := context.Background()
	t.Run("aof", func(t *testing.T) {
		n := newPersistNode(t, "--appendonly", "yes")
		c := n.start()
		requirePersistence(t, c)
		c.Set(ctx, "a", "1", 0)
		c.Set(ctx, "b", "2", 0)
		n.stop()
		incr := filepath.Join(n.Dir, "appendonlydir", "appendonly.aof.1.incr.aof")
		data, _ := os.ReadFile(incr)
		// Damage the start of the second SET (not the tail): corrupt, not truncated.
		second := strings.LastIndex(string(data), "*3\r\n")
		data[second] = '#'
		os.WriteFile(incr, data, 0o644)
		code, log := n.startFails()
		wantMsg := fmt.Sprintf("bad file appendonlydir/appendonly.aof.1.incr.aof at offset %d: corrupt record", second)
		if code != 1 || !strings.Contains(log, wantMsg) {
			t.Fatalf("exit %d, want 1 and %q in the log:\n%s", code, wantMsg, log)
		}
	})
	snapshots := []struct {
		name   string
		damage func(data []byte) []byte
		want   []string
	}{
		{"snapshot checksum", func(d []byte) []byte {
			d[strings.Index(string(d), "some value")] = 'S'
			return d
		}, []string{"bad file dump.rdb at offset", "checksum mismatch"}},
		{"snapshot truncated", func(d []byte) []byte { return d[:len(d)-12] },
			[]string{"bad file dump.rdb at offset", "truncated"}},
		{"snapshot of a future version", func(d []byte) []byte { d[7], d[8] = '1', '1'; return d },
			[]string{"bad file dump.rdb at offset 0: unsupported snapshot format version: RDB version 11"}},
		{"not a snapshot", func([]byte) []byte { return []byte("NOTRDB0010\xfa") },
			[]string{"bad file dump.rdb at offset 0: not an RDB file nor a shoal snapshot (bad magic)"}},
	}
	for _, tc := range snapshots {
		t.Run(tc.name, func(t *testing.T) {
			n := newPersistNode(t)
			c := n.start()
			requirePersistence(t, c)
			c.Set(ctx, "a", "some value", 0)
			if err := c.Save(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			n.stop()
			path := filepath.Join(n.Dir, "dump.rdb")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.damage(data), 0o644); err != nil {
				t.Fatal(err)
			}
			code, log := n.startFails()
			for _, w := range tc.want {
				if code != 1 || !strings.Contains(log, w) {
					t.Fatalf("exit %d, want 1 and %q in the log:\n%s", code, w, log)
				}
			}
		})
	}
}

// errString is a reply's error text ("" for none).
func errString(err error) string {
	if err == nil || errors.Is(err, redis.Nil) {
		return ""
	}
	return err.Error()
}

// Switching appendonly on at a restart keeps the snapshot's data: with no
// AOF yet, the node loads the snapshot and writes the first AOF base from
// it, so the AOF alone has everything from then on.
func TestPersistAppendonlyOnRestartStartsFromTheSnapshot(t *testing.T) {
	ctx := context.Background()
	n := newPersistNode(t)
	c := n.start()
	requirePersistence(t, c)
	c.Set(ctx, "from-snapshot", "1", 0)
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	n.stop()
	c = n.start("--appendonly", "yes")
	if c.Get(ctx, "from-snapshot").Val() != "1" {
		t.Fatal("the snapshot was not loaded when the AOF did not exist yet")
	}
	c.Set(ctx, "from-aof", "2", 0)
	n.stop()
	if err := os.Remove(filepath.Join(n.Dir, "dump.rdb")); err != nil {
		t.Fatal(err)
	}
	c = n.start("--appendonly", "yes")
	if c.Get(ctx, "from-snapshot").Val() != "1" || c.Get(ctx, "from-aof").Val() != "2" {
		t.Fatalf("from the AOF alone: from-snapshot=%q from-aof=%q", c.Get(ctx, "from-snapshot").Val(), c.Get(ctx, "from-aof").Val())
	}
}

// SHUTDOWN SAVE during a BGSAVE stops the background save, and its own
// snapshot (with the writes made after the BGSAVE started) is the one on
// disk.
func TestPersistShutdownDuringBGSave(t *testing.T) {
	ctx := context.Background()
	n := newPersistNode(t, "--enable-debug-command", "yes")
	c := n.start()
	requirePersistence(t, c)
	if err := c.Do(ctx, "DEBUG", "POPULATE", 200000, "key", 10).Err(); err != nil {
		t.Fatal(err)
	}
	pipe := c.Pipeline()
	pipe.BgSave(ctx)
	pipe.Set(ctx, "after-bgsave", "1", 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	c.Do(ctx, "SHUTDOWN", "SAVE")
	<-n.exited
	c = n.start()
	if c.Get(ctx, "after-bgsave").Val() != "1" || c.DBSize(ctx).Val() != 200001 {
		t.Fatalf("after SHUTDOWN SAVE during BGSAVE: after-bgsave=%q, %d keys", c.Get(ctx, "after-bgsave").Val(), c.DBSize(ctx).Val())
	}
	entries, _ := os.ReadDir(n.Dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "temp-") {
			t.Fatalf("temp file %s left behind", e.Name())
		}
	}
}
