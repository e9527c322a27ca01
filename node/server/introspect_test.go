package server

import (
	"github.com/shoal-dev/shoal/node/nodetest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// numbersRe matches the figures of MEMORY STATS (integers, doubles,
// negative differences) and the RESP lengths they change.
var numbersRe = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?`)

func normaliseNumbers(s string) string { return numbersRe.ReplaceAllString(s, "N") }

// unblockWhenBlocked sends CLIENT UNBLOCK until the target is blocked
// (the reply is 1), with a deadline.
func unblockWhenBlocked(t *testing.T, r *rawConn, id string, how ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := r.do(append([]string{"CLIENT", "UNBLOCK", id}, how...)...); got == ":1\r\n" {
			return
		} else if got != ":0\r\n" {
			t.Fatalf("CLIENT UNBLOCK %s %v: %q", id, how, got)
		}
		if time.Now().After(deadline) {
			t.Fatalf("client %s never blocked", id)
		}
	}
}

// CLIENT UNBLOCK from another connection ends a BLPOP with its timeout
// reply, or with the UNBLOCKED error; a client not blocked is 0; the
// argument errors are Redis's.
func TestDifferentialClientUnblock(t *testing.T) {
	for _, n := range []*testNode{startNode(t), startRedis(t)} {
		for _, proto := range []string{"2", "3"} {
			blocked, ctl := n.raw(t), n.raw(t)
			blocked.do("HELLO", proto)
			id := strings.TrimSuffix(strings.TrimPrefix(blocked.do("CLIENT", "ID"), ":"), "\r\n")
			want := map[string]string{"2": "*-1\r\n", "3": "_\r\n"}[proto]
			blocked.send(encodeCommand("BLPOP", "nokey", "0"))
			unblockWhenBlocked(t, ctl, id)
			if got := blocked.reply(); got != want {
				t.Errorf("%s RESP%s BLPOP after CLIENT UNBLOCK: %q, want %q", n.Addr, proto, got, want)
			}
			blocked.send(encodeCommand("BZPOPMIN", "nokey", "0"))
			unblockWhenBlocked(t, ctl, id, "ERROR")
			if got := blocked.reply(); got != "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n" {
				t.Errorf("%s RESP%s BZPOPMIN after CLIENT UNBLOCK ERROR: %q", n.Addr, proto, got)
			}
			blocked.send(encodeCommand("BLMOVE", "nokey", "x", "LEFT", "RIGHT", "0"))
			unblockWhenBlocked(t, ctl, id, "timeout")
			if got := blocked.reply(); got != want {
				t.Errorf("%s RESP%s BLMOVE after CLIENT UNBLOCK TIMEOUT: %q", n.Addr, proto, got)
			}
			// The connection serves on.
			if got := blocked.do("PING"); got != "+PONG\r\n" {
				t.Errorf("%s: PING after the unblocks: %q", n.Addr, got)
			}
		}
	}
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, []step{
		cmd("CLIENT", "UNBLOCK", "99999"), cmd("CLIENT", "UNBLOCK", "99999", "error"), cmd("CLIENT", "UNBLOCK", "x"),
		cmd("CLIENT", "UNBLOCK", "x", "y"), cmd("CLIENT", "UNBLOCK", "1", "timeout", "x"), cmd("CLIENT", "UNBLOCK", "-1", "TIMEOUT"),
		cmd("CLIENT", "UNBLOCK"), cmd("CLIENT", "NO-EVICT", "maybe"), cmd("CLIENT", "NO-EVICT"), cmd("CLIENT", "NO-EVICT", "on", "x"),
		cmd("CLIENT", "NO-EVICT", "ON"), cmd("CLIENT", "NO-EVICT", "off"),
	})
	// The client's own id is not blocked: 0.
	r := ours.raw(t)
	id := strings.TrimSuffix(strings.TrimPrefix(r.do("CLIENT", "ID"), ":"), "\r\n")
	if got := r.do("CLIENT", "UNBLOCK", id); got != ":0\r\n" {
		t.Errorf("CLIENT UNBLOCK self: %q", got)
	}
}

// CLIENT NO-EVICT on shows as flag e in CLIENT INFO, as Redis's.
func TestDifferentialClientNoEvictFlag(t *testing.T) {
	flags := regexp.MustCompile(` flags=(\S*) `)
	for _, n := range []*testNode{startNode(t), startRedis(t)} {
		r := n.raw(t)
		for _, c := range []struct{ arg, want string }{{"on", "e"}, {"off", "N"}} {
			r.do("CLIENT", "NO-EVICT", c.arg)
			if m := flags.FindStringSubmatch(r.do("CLIENT", "INFO")); m == nil || m[1] != c.want {
				t.Errorf("%s: CLIENT NO-EVICT %s: flags %v, want %s", n.Addr, c.arg, m, c.want)
			}
		}
	}
}

// MEMORY STATS has Redis's keys, order and types (the figures differ by
// nature); DOCTOR answers one of Redis's reports; PURGE is OK; the
// argument errors and HELP are Redis's.
func TestDifferentialMemoryIntrospection(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	for _, proto := range []string{"2", "3"} {
		a, b := ours.raw(t), ref.raw(t)
		for _, s := range [][]string{{"HELLO", proto}, {"FLUSHALL"}, {"MEMORY", "STATS"}, {"SET", "k", "v"}, {"SELECT", "3"}, {"SET", "k", "v"},
			{"EXPIRE", "k", "100"}, {"MEMORY", "STATS"}, {"MEMORY", "PURGE"}, {"MEMORY", "STATS", "x"}, {"MEMORY", "DOCTOR", "x"},
			{"MEMORY", "PURGE", "x"}, {"MEMORY", "MALLOC-STATS", "x"}, {"MEMORY", "HELP"}, {"MEMORY", "NOPE"}} {
			got, want := a.do(s...), b.do(s...)
			if s[0] != "HELLO" && normaliseNumbers(got) != normaliseNumbers(want) {
				t.Errorf("RESP%s %q:\n ours  %q\n redis %q", proto, s, got, want)
			}
		}
		got := a.do("MEMORY", "DOCTOR")
		if !strings.Contains(got, "Hi Sam, ") && !strings.Contains(got, "Sam, I detected a few issues") {
			t.Errorf("MEMORY DOCTOR %q", got)
		}
		if proto == "3" && !strings.HasPrefix(got, "=") {
			t.Errorf("MEMORY DOCTOR is not a verbatim string in RESP3: %q", got)
		}
		if got := a.do("MEMORY", "MALLOC-STATS"); !strings.Contains(got, "/memory/classes/heap/objects:bytes: ") {
			t.Errorf("MEMORY MALLOC-STATS %q", got)
		}
	}
	// The figures that are the node's own agree with INFO memory and
	// DBSIZE: total.allocated is used_memory (within what the commands
	// between allocate), keys.count the keys.
	c := ours.client(t)
	ctx := ctxT(t)
	c.FlushAll(ctx)
	for i := 0; i < 1000; i++ {
		c.Set(ctx, "key:"+string(rune('a'+i%26))+strings.Repeat("x", i%50), "v", 0)
	}
	stats, err := c.Do(ctx, "MEMORY", "STATS").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := stats.(map[any]any)
	if n, _ := c.DBSize(ctx).Result(); m["keys.count"].(int64) != n {
		t.Errorf("keys.count %v, DBSIZE %d", m["keys.count"], n)
	}
	if m["total.allocated"].(int64) <= 0 || m["peak.allocated"].(int64) < m["total.allocated"].(int64) {
		t.Errorf("total.allocated %v peak.allocated %v", m["total.allocated"], m["peak.allocated"])
	}
}

// writeACL writes an ACL file.
func writeACL(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ACL LOAD and SAVE: without aclfile both are Redis's error; with one,
// SAVE writes Redis's file, LOAD reads it back, a bad file is refused
// with Redis's error naming each bad line and nothing changes, and the
// clients of the replaced users are disconnected.
func TestDifferentialACLFile(t *testing.T) {
	plain, plainRef := startNode(t), startRedis(t)
	runDifferential(t, plain, plainRef, []step{cmd("ACL", "LOAD"), cmd("ACL", "SAVE"), cmd("ACL", "LOAD", "x"), cmd("ACL", "SAVE", "x"),
		cmd("CONFIG", "GET", "aclfile"), cmd("CONFIG", "SET", "aclfile", "/tmp/x")})

	dir := t.TempDir()
	oursFile, refFile := filepath.Join(dir, "o", "users.acl"), filepath.Join(dir, "r", "users.acl")
	os.Mkdir(filepath.Dir(oursFile), 0o755)
	os.Mkdir(filepath.Dir(refFile), 0o755)
	start := "user default on nopass ~* &* +@all\nuser alice on >pw ~k* +get\n"
	writeACL(t, oursFile, start)
	writeACL(t, refFile, start)
	ours, ref := startNode(t, "--aclfile", oursFile), startRedis(t, "--aclfile", refFile)
	a, b := ours.raw(t), ref.raw(t)
	same := func(args ...string) {
		t.Helper()
		got, want := a.do(args...), b.do(args...)
		if strings.ReplaceAll(got, oursFile, "FILE") != strings.ReplaceAll(want, refFile, "FILE") {
			t.Errorf("%q:\n ours  %q\n redis %q", args, got, want)
		}
	}
	same("ACL", "LIST")
	same("CONFIG", "GET", "aclfile")
	same("ACL", "SETUSER", "bob", "on", ">secret", "~b*", "&chan", "+@read", "-get", "(~x* +set)")
	same("ACL", "SAVE")
	savedOurs, _ := os.ReadFile(oursFile)
	savedRef, _ := os.ReadFile(refFile)
	if string(savedOurs) != string(savedRef) {
		t.Errorf("ACL SAVE wrote\n%s\nRedis\n%s", savedOurs, savedRef)
	}
	same("ACL", "DELUSER", "bob")
	same("ACL", "LOAD")
	same("ACL", "LIST")

	// A bad file: every kind of error Redis names, and nothing changes.
	bad := "user bob on >x +get\nfoo bar\nuser carol on +nosuch +nosuch2\nuser dave \"unbalanced\nuser bob on\n" +
		"user eve on +get|nosub somebad\nuser f(x on\n\n# comment\nuser h   on  +set\nuser i on (~x +get) %R~y\nuser j on %Q~x\nuser\n"
	writeACL(t, oursFile, bad)
	writeACL(t, refFile, bad)
	same("ACL", "LOAD")
	same("ACL", "LIST")
	// Blank lines, tabs and CRs around a line, an empty user name.
	odd := "user a b c\nuser b on allkeys\n   \nuser  c on\n\tuser d on\nuser e on\r\n"
	writeACL(t, oursFile, odd)
	writeACL(t, refFile, odd)
	same("ACL", "LOAD")
	writeACL(t, oursFile, "\tuser d on\nuser e on >p\r\n\n")
	writeACL(t, refFile, "\tuser d on\nuser e on >p\r\n\n")
	same("ACL", "LOAD")
	same("ACL", "LIST") // no default user in the file: Redis's default
	os.Remove(oursFile)
	os.Remove(refFile)
	same("ACL", "LOAD")
	same("ACL", "SAVE")
	same("ACL", "LIST")

	// Loading disconnects the clients of the users replaced (here alice,
	// even though the file has her again), not the default user's.
	writeACL(t, oursFile, start)
	a.do("ACL", "LOAD")
	alice := ours.raw(t)
	if got := alice.do("AUTH", "alice", "pw"); got != "+OK\r\n" {
		t.Fatalf("AUTH alice: %q", got)
	}
	if got := a.do("ACL", "LOAD"); got != "+OK\r\n" {
		t.Fatalf("ACL LOAD: %q", got)
	}
	alice.send(encodeCommand("PING"))
	if got := alice.replyOrEOF(); got != "" {
		t.Errorf("alice's connection after ACL LOAD answered %q", got)
	}
	if got := a.do("PING"); got != "+PONG\r\n" {
		t.Errorf("default's connection after ACL LOAD: %q", got)
	}
}

// aclfile at start-up: the node process starts with the file's users;
// users in the config as well is refused, as a bad file is.
func TestACLFileAtStartup(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "users.acl")
	writeACL(t, file, "user default off\nuser admin on >adminpw ~* &* +@all\n")
	n := startNode(t, "--aclfile", file)
	r := n.raw(t)
	if got := r.do("PING"); !strings.HasPrefix(got, "-NOAUTH") {
		t.Errorf("PING as the default user (off): %q", got)
	}
	if got := r.do("AUTH", "admin", "adminpw"); got != "+OK\r\n" {
		t.Fatalf("AUTH admin: %q", got)
	}
	if got := r.do("ACL", "USERS"); got != "*2\r\n$5\r\nadmin\r\n$7\r\ndefault\r\n" {
		t.Errorf("ACL USERS %q", got)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--aclfile", file, "--user", "bob", "on"}, "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid."},
		{[]string{"--aclfile", filepath.Join(dir, "none.acl")}, "Aborting Redis startup because of ACL errors: Error loading ACLs, opening file '" + filepath.Join(dir, "none.acl") + "': No such file or directory"},
	} {
		cfg, err := ParseArgs(append([]string{"--port", "0", "--save", ""}, c.args...))
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(cfg, enginePlugins()...)
		if err == nil {
			s.Close()
			t.Errorf("%v: started", c.args)
		} else if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v: %v, want %s", c.args, err, c.want)
		}
	}
	writeACL(t, file, "user x on +nosuch\n")
	cfg, _ := ParseArgs([]string{"--port", "0", "--save", "", "--aclfile", file})
	if s, err := New(cfg, enginePlugins()...); err == nil {
		s.Close()
		t.Error("started with a bad ACL file")
	} else if want := "Aborting Redis startup because of ACL errors: " + file + ":1: Error in applying operation '+nosuch': Unknown command or category name in ACL. WARNING"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("bad file: %v", err)
	}
}

// replyOrEOF is the next reply, or "" when the server closed the
// connection.
func (r *rawConn) replyOrEOF() string {
	r.t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	if err := readRaw(r.rd, &b); err != nil {
		return ""
	}
	return b.String()
}

// With an aclfile, CONFIG REWRITE writes no user lines (the users are the
// file's), as Redis's rewriteConfigUserOption.
func TestDifferentialConfigRewriteWithACLFile(t *testing.T) {
	for _, bin := range []string{nodetest.Binary(t), nodetest.RedisServer(t)} {
		dir := t.TempDir()
		acl, conf := filepath.Join(dir, "users.acl"), filepath.Join(dir, "redis.conf")
		writeACL(t, acl, "user default on nopass ~* &* +@all\n")
		writeACL(t, conf, "aclfile "+acl+"\n")
		r := startWithFile(t, bin, conf).raw(t)
		if got := r.do("ACL", "SETUSER", "bob", "on", "+get"); got != "+OK\r\n" {
			t.Fatalf("%s: ACL SETUSER %q", bin, got)
		}
		if got := r.do("CONFIG", "REWRITE"); got != "+OK\r\n" {
			t.Fatalf("%s: CONFIG REWRITE %q", bin, got)
		}
		data, _ := os.ReadFile(conf)
		if strings.Contains(string(data), "\nuser ") || !strings.Contains(string(data), "aclfile \""+acl+"\"") {
			t.Errorf("%s: rewritten config\n%s", bin, data)
		}
	}
}
