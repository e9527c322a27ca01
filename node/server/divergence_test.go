package server

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Differential tests for the smaller divergences of issue 12: the same
// commands to Debian's redis-server and to our node, the same replies.

// value is a parsed RESP reply: string (simple, bulk, integer and error
// replies keep their type byte in front: "+OK", "$v", ":1", "-ERR x"),
// nil, or []value (arrays, sets and maps flattened).
type value = any

// parseReply parses one raw reply as readRaw returned it.
func parseReply(t testing.TB, raw string) value {
	t.Helper()
	v, err := parseValue(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("parsing %q: %v", raw, err)
	}
	return v
}

func parseValue(rd *bufio.Reader) (value, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return nil, err
	}
	body := strings.TrimSuffix(line[1:], "\r\n")
	switch line[0] {
	case '+', '-', ':', ',', '#', '(':
		return line[:1] + body, nil
	case '_':
		return nil, nil
	case '$', '=', '!':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(rd, buf); err != nil {
			return nil, err
		}
		return "$" + string(buf[:n]), nil
	case '*', '~', '>', '%', '|':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		out := make([]value, 0, n)
		for i := 0; i < n; i++ {
			v, err := parseValue(rd)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply type %q", line)
}

// str is the text of a string reply without its type byte.
func str(v value) string {
	s, _ := v.(string)
	if s == "" {
		return ""
	}
	return s[1:]
}

// TestDivergenceNoMulti: commands Redis flags no_multi are refused inside
// MULTI (and make EXEC fail), the commands that run at once inside MULTI
// and the RESP2 subscribed context are as in Redis.
func TestDivergenceNoMulti(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, []step{
		cmd("MULTI"), cmd("SAVE"), cmd("SET", "a", "1"), cmd("SHUTDOWN"), cmd("SHUTDOWN", "NOSAVE"), cmd("EXEC"), cmd("GET", "a"),
		cmd("MULTI"), cmd("SYNC"), cmd("PSYNC", "?", "-1"), cmd("DISCARD"),
		cmd("MULTI"), cmd("SET", "b", "1"), cmd("WATCH", "x"), cmd("MULTI"), cmd("EXEC"), cmd("GET", "b"),
		cmd("MULTI"), cmd("SET", "c", "1"), cmd("RESET"), cmd("EXEC"), cmd("GET", "c"),
		cmd("SUBSCRIBE", "ch"), cmd("GET", "a"), cmd("PING"), cmd("CLIENT", "ID"), cmd("PSUBSCRIBE", "p*"),
		cmd("UNSUBSCRIBE", "ch"), cmd("MULTI"), cmd("PUNSUBSCRIBE", "p*"), cmd("MULTI"), cmd("SAVE"), cmd("DISCARD"),
	})
}

// exchange sends the commands pipelined, then QUIT, and returns all that
// came back until the server closed the connection.
func exchange(t *testing.T, n *testNode, cmds ...[]string) string {
	t.Helper()
	var in strings.Builder
	for _, c := range cmds {
		in.WriteString(encodeCommand(c...))
	}
	in.WriteString(encodeCommand("QUIT"))
	return rawExchange(t, n, in.String())
}

// TestDivergenceClientReply: CLIENT REPLY OFF drops every reply until ON,
// SKIP drops the next command's, errors included.
func TestDivergenceClientReply(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	script := [][]string{
		{"SET", "k", "1"}, {"CLIENT", "REPLY", "OFF"}, {"INCR", "k"}, {"GET", "k"}, {"NOSUCH"}, {"CLIENT", "REPLY", "SKIP"},
		{"CLIENT", "REPLY", "ON"}, {"GET", "k"}, {"CLIENT", "REPLY", "SKIP"}, {"INCR", "k"}, {"GET", "k"},
		{"CLIENT", "REPLY", "SKIP"}, {"GET"}, {"PING"}, {"CLIENT", "REPLY", "SKIP"}, {"CLIENT", "REPLY", "ON"},
		{"CLIENT", "REPLY", "BAD"}, {"CLIENT", "REPLY"}, {"CLIENT", "REPLY", "OFF"}, {"RESET"}, {"PING", "after"},
	}
	got, want := exchange(t, ours, script...), exchange(t, ref, script...)
	if got != want {
		t.Errorf("CLIENT REPLY:\n ours  %q\n redis %q", got, want)
	}
	if !strings.Contains(want, "$1\r\n3\r\n") || strings.Contains(want, ":3\r\n") || strings.Count(want, "+OK\r\n") != 4 {
		t.Errorf("unexpected reference stream %q", want) // the script must exercise each mode
	}
}

// TestDivergenceClientKillUser: an unknown user is an error; CLIENT LIST
// and PAUSE argument errors as Redis words them.
func TestDivergenceClientKillUser(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, []step{
		cmd("CLIENT", "LIST", "ID", "0"), cmd("CLIENT", "LIST", "ID", "-5"), cmd("CLIENT", "LIST", "ID", "1", "abc"),
		cmd("CLIENT", "PAUSE", "10", "write", "x"), cmd("CLIENT", "PAUSE", "-1"), cmd("CLIENT", "PAUSE", "abc", "FOO"),
		cmd("CLIENT", "PAUSE", "-1", "FOO"), cmd("CLIENT", "PAUSE", "99999999999999999999"), cmd("CLIENT", "PAUSE", "0", "ALL"),
		cmd("CLIENT", "KILL", "USER", "nosuch"), cmd("CLIENT", "KILL", "USER", "default", "SKIPME", "yes"),
		cmd("ACL", "SETUSER", "u1"), cmd("CLIENT", "KILL", "USER", "u1"), cmd("CLIENT", "KILL", "ID", "999999", "USER", "nosuch"),
	})
}

// slowlogArgs returns the argv of each SLOWLOG GET entry, newest first.
func slowlogArgs(t *testing.T, r *rawConn) [][]string {
	t.Helper()
	entries, _ := parseReply(t, r.do("SLOWLOG", "GET", "-1")).([]value)
	var out [][]string
	for _, e := range entries {
		fields := e.([]value)
		var args []string
		for _, a := range fields[3].([]value) {
			args = append(args, str(a))
		}
		out = append(out, args)
	}
	return out
}

// TestDivergenceSlowlogArgs: SLOWLOG records the command the client sent
// (SPOP, not the SREM it propagates as), truncated as Redis truncates.
func TestDivergenceSlowlogArgs(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	many := []string{"SADD", "many"}
	for i := 0; i < 40; i++ {
		many = append(many, "m"+strconv.Itoa(i))
	}
	var logs [2][][]string
	for i, n := range []*testNode{ours, ref} {
		r := n.raw(t)
		for _, c := range [][]string{
			{"CONFIG", "SET", "slowlog-log-slower-than", "0"}, {"SLOWLOG", "RESET"},
			{"SADD", "s", "a", "b", "c"}, {"SPOP", "s"}, {"SPOP", "s", "1"}, {"SET", "k", "v", "EX", "100"}, {"EXPIRE", "k", "50"},
			{"INCRBYFLOAT", "f", "1.5"}, {"SET", "long", strings.Repeat("x", 300)}, many, {"SET", "k", strings.Repeat("y", 128)},
			{"AUTH", "secret"}, {"HELLO", "2", "AUTH", "u", "p"}, {"HELLO", "2", "AUTH", "default", "x", "SETNAME", "n"},
			{"MIGRATE", "127.0.0.1", "1", "nokey", "0", "10", "AUTH", "pw"}, {"MIGRATE", "127.0.0.1", "1", "nokey", "0", "10", "AUTH2", "u", "pw"},
			{"ACL", "SETUSER", "z", ">pw"}, {"CONFIG", "SET", "masterauth", "pw", "maxmemory", "0"}, {"CLIENT", "REPLY", "ON"},
			{"MULTI"}, {"SPOP", "s"}, {"EXEC"},
		} {
			r.do(c...)
		}
		logs[i] = slowlogArgs(t, r)
	}
	if !reflect.DeepEqual(logs[0], logs[1]) {
		t.Errorf("SLOWLOG GET argv:\n ours  %q\n redis %q", logs[0], logs[1])
	}
	if len(logs[1]) < 10 {
		t.Fatalf("reference slowlog too short: %q", logs[1])
	}
}

// awaitInfoField polls INFO until field has the value want or the deadline
// passes, and returns the last value seen.
func awaitInfoField(t *testing.T, r *rawConn, section, field, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := ""
		for _, l := range strings.Split(str(parseReply(t, r.do("INFO", section))), "\r\n") {
			if v, ok := strings.CutPrefix(l, field+":"); ok {
				got = v
			}
		}
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDivergencePausedClientsAreBlocked: clients held by CLIENT PAUSE
// WRITE count in INFO blocked_clients, as Redis 7.0 counts them, and go
// back to zero once served.
func TestDivergencePausedClientsAreBlocked(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	for _, n := range []*testNode{ours, ref} {
		admin, w := n.raw(t), n.raw(t)
		admin.do("CLIENT", "PAUSE", "20000", "WRITE")
		w.send(encodeCommand("SET", "k", "v"))
		if got := awaitInfoField(t, admin, "clients", "blocked_clients", "1"); got != "1" {
			t.Errorf("%s: blocked_clients %q while one client is paused, want 1", n.Addr, got)
		}
		if got := admin.do("CLIENT", "UNPAUSE"); got != "+OK\r\n" {
			t.Fatal(got)
		}
		if got := w.reply(); got != "+OK\r\n" {
			t.Errorf("%s: paused SET replied %q", n.Addr, got)
		}
		if got := awaitInfoField(t, admin, "clients", "blocked_clients", "0"); got != "0" {
			t.Errorf("%s: blocked_clients %q after the pause, want 0", n.Addr, got)
		}
	}
}

// commandNames is the COMMAND LIST of a server (subcommands included).
func commandNames(t *testing.T, r *rawConn) map[string]bool {
	names := map[string]bool{}
	for _, v := range parseReply(t, r.do("COMMAND", "LIST")).([]value) {
		names[str(v)] = true
	}
	return names
}

// sharedCommands is the sorted list of the commands and subcommands both
// servers serve.
func sharedCommands(t *testing.T, a, b *rawConn) []string {
	theirs := commandNames(t, b)
	var out []string
	for name := range commandNames(t, a) {
		if theirs[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	if len(out) < 250 {
		t.Errorf("only %d commands in common", len(out))
	}
	return out
}

// Where the node differs from Redis 7.0.15 on purpose.
var commandInfoExtensions = map[string]string{
	"zrank":    "takes Redis 7.2's WITHSCORE (arity -3)",
	"zrevrank": "takes Redis 7.2's WITHSCORE (arity -3)",
}

// TestDivergenceCommandInfo compares COMMAND INFO of every command and
// subcommand both servers serve: flags (movablekeys computed from the key
// specs), arity, key positions and specs, ACL categories, tips. A
// container's subcommands are compared one by one (Redis lists them in
// its hash table's order, and serves some we do not).
func TestDivergenceCommandInfo(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	a, b := ours.raw(t), ref.raw(t)
	for _, name := range sharedCommands(t, a, b) {
		if _, ok := commandInfoExtensions[name]; ok {
			continue
		}
		got := parseReply(t, a.do("COMMAND", "INFO", name)).([]value)[0].([]value)
		want := parseReply(t, b.do("COMMAND", "INFO", name)).([]value)[0].([]value)
		if !reflect.DeepEqual(got[:9], want[:9]) {
			t.Errorf("COMMAND INFO %s:\n ours  %v\n redis %v", name, got[:9], want[:9])
		}
	}
}

// mapOf turns a flattened map reply into a Go map of its values by key.
func mapOf(v value) map[string]value {
	m := map[string]value{}
	l, _ := v.([]value)
	for i := 0; i+1 < len(l); i += 2 {
		m[str(l[i])] = l[i+1]
	}
	return m
}

// TestDivergenceCommandDocs compares COMMAND DOCS of every command and
// subcommand both servers serve (a container's subcommands one by one),
// with their history and arguments.
func TestDivergenceCommandDocs(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	a, b := ours.raw(t), ref.raw(t)
	for _, name := range sharedCommands(t, a, b) {
		got := mapOf(parseReply(t, a.do("COMMAND", "DOCS", name)).([]value)[1])
		want := mapOf(parseReply(t, b.do("COMMAND", "DOCS", name)).([]value)[1])
		if _, ok := commandInfoExtensions[name]; ok {
			delete(got, "arguments")
			delete(want, "arguments")
		}
		delete(got, "subcommands")
		delete(want, "subcommands")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("COMMAND DOCS %s:\n ours  %v\n redis %v", name, got, want)
		}
	}
	// RESP3 maps and sets, byte for byte (one subcommand-free entry each).
	a3, b3 := ours.raw(t), ref.raw(t)
	a3.do("HELLO", "3")
	b3.do("HELLO", "3")
	for _, name := range []string{"set", "migrate", "getset", "zadd", "config|set", "sync"} {
		if got, want := a3.do("COMMAND", "DOCS", name), b3.do("COMMAND", "DOCS", name); got != want {
			t.Errorf("RESP3 COMMAND DOCS %s:\n ours  %q\n redis %q", name, got, want)
		}
	}
}

// sortCommandRuns sorts, in each line of a raw reply, every run of
// single-command ACL rules (+get -set ...): Redis 7.0 lists them in the
// order of its command hash table, which is random per process.
func sortCommandRuns(raw string) string {
	lines := strings.Split(raw, "\r\n")
	for i, l := range lines {
		l = strings.ReplaceAll(strings.ReplaceAll(l, "(", "( "), ")", " )")
		words := strings.Split(l, " ")
		for j := 0; j < len(words); {
			k := j
			for k < len(words) && len(words[k]) > 1 && (words[k][0] == '+' || words[k][0] == '-') && words[k][1] != '@' {
				k++
			}
			if k > j {
				sort.Strings(words[j:k])
				j = k
			} else {
				j++
			}
		}
		lines[i] = strings.Join(words, " ")
	}
	return strings.Join(lines, "\r\n")
}

// runACLDifferential is runDifferential with single-command rules
// compared as sets.
func runACLDifferential(t *testing.T, a, b *rawConn, script []step) {
	t.Helper()
	for _, s := range script {
		got, want := sortCommandRuns(a.do(s.args...)), sortCommandRuns(b.do(s.args...))
		if got != want {
			t.Errorf("%q:\n ours  %q\n redis %q", s.args, got, want)
		}
	}
}

// TestDivergenceACLSelectors: Redis 7.0 selectors, the rule syntax and its
// errors, ACL LIST and GETUSER made from the permissions (not the rules as
// typed), and checks that pass when the root or any selector allows the
// command with its keys and channels.
func TestDivergenceACLSelectors(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	a, b := ours.raw(t), ref.raw(t)
	runACLDifferential(t, a, b, []step{
		cmd("ACL", "SETUSER", "s1", "(+set %W~app*)"),
		cmd("ACL", "SETUSER", "s2", "on", ">pw", "+get", "~a*", "&c*", "(+set %W~app* %R~r* ~x &ch)", "(+@read ~*)"),
		cmd("ACL", "SETUSER", "s3", "(+set", "~a)"), cmd("ACL", "SETUSER", "s4", "(+set", "~a"), cmd("ACL", "SETUSER", "s4", "(+set", "~a)", ")"),
		cmd("ACL", "SETUSER", "s4", "(+nosuch)"), cmd("ACL", "SETUSER", "s4", "(on)"), cmd("ACL", "SETUSER", "s4", "(~a) clearselectors"),
		cmd("ACL", "SETUSER", "s4", "()"), cmd("ACL", "SETUSER", "s4", "(%X~a)"), cmd("ACL", "SETUSER", "s4", "(allkeys ~a)"),
		cmd("ACL", "SETUSER", "s5", "(~a  +get)"), cmd("ACL", "SETUSER", "s6", "(+get", "x)"), cmd("ACL", "GETUSER", "s4"),
		cmd("ACL", "SETUSER", "t1", "+get", "+set", "+del"), cmd("ACL", "SETUSER", "t4", "+@all", "-get", "+client|id", "-client", "+client|list"),
		cmd("ACL", "SETUSER", "t5", "+get", "+set", "-get"), cmd("ACL", "SETUSER", "t6", "+@hash", "+hget", "-@hash"),
		cmd("ACL", "SETUSER", "t7", "+config|get", "+config"), cmd("ACL", "SETUSER", "t8", "allcommands", "-@dangerous"),
		cmd("ACL", "SETUSER", "t9", "nocommands", "+@hash"), cmd("ACL", "SETUSER", "t10", "+@all", "-@all", "+@pubsub", "-publish"),
		cmd("ACL", "SETUSER", "e1", "%RW~*", "~a"), cmd("ACL", "SETUSER", "e2", "~a", "~a", "%R~a", "%W~a", "%RW~a", "%WR~b", "%R~c"),
		cmd("ACL", "SETUSER", "e3", "%~a"), cmd("ACL", "SETUSER", "e4", "%R~"), cmd("ACL", "SETUSER", "e5", "&a", "&a", "~*", "allkeys"),
		cmd("ACL", "SETUSER", "e6", "~a b"), cmd("ACL", "SETUSER", "e7", "%RR~x"), cmd("ACL", "SETUSER", "e9", "allchannels", "&x"),
		cmd("ACL", "SETUSER", "e10", "&*", "resetchannels", "&y", "%R~*", "allkeys"), cmd("ACL", "SETUSER", "e11", "<nosuch"),
		cmd("ACL", "SETUSER", "e12", "!nosuch"), cmd("ACL", "SETUSER", "r1", "on", "skip-sanitize-payload", "reset"),
		cmd("ACL", "SETUSER", "r2", "sanitize-payload", ">x", "<x"),
		cmd("ACL", "SETUSER", "f1", "+select|0", "+select|1", "-client", "+config|get"), cmd("ACL", "SETUSER", "f2", "+select|0", "-select"),
		cmd("ACL", "SETUSER", "f3", "+select|0", "+SELECT|0", "-@all", "+select|2"), cmd("ACL", "SETUSER", "f4", "+select", "+select|0"),
		cmd("ACL", "SETUSER", "f5", "+client|id|x"), cmd("ACL", "SETUSER", "f6", "-select|0"), cmd("ACL", "SETUSER", "f7", "+select|"),
		cmd("ACL", "SETUSER", "f8", "+config|nosuch"), cmd("ACL", "SETUSER", "f9", "+nosuch|0"), cmd("ACL", "SETUSER", "f10", "(+select|3)"),
		cmd("ACL", "DRYRUN", "f1", "select", "0"), cmd("ACL", "DRYRUN", "f1", "SELECT", "2"), cmd("ACL", "DRYRUN", "f10", "select", "3"),
		cmd("ACL", "DRYRUN", "f1", "config", "get", "x"),
		cmd("ACL", "LIST"), cmd("ACL", "GETUSER", "s2"), cmd("ACL", "GETUSER", "t4"), cmd("ACL", "GETUSER", "e2"), cmd("ACL", "GETUSER", "r1"),
		cmd("ACL", "SETUSER", "s2", "clearselectors"), cmd("ACL", "GETUSER", "s2"),
		cmd("ACL", "SETUSER", "s2", "(+set %W~app* %R~r* ~x &ch)", "(+@read ~*)", "(+publish &n*)", "(+psubscribe &p*)"),
		cmd("SET", "app1", "v"), cmd("SET", "r1", "v"), cmd("SET", "x", "v"),
		cmd("AUTH", "s2", "pw"),
		cmd("GET", "a1"), cmd("GET", "app1"), cmd("GET", "zzz"), cmd("SET", "app2", "v"), cmd("SET", "x", "v"), cmd("SET", "r1", "v"),
		cmd("SET", "a1", "v"), cmd("DEL", "app1"), cmd("EXISTS", "app1", "a1", "r1"), cmd("MGET", "a1", "app1"), cmd("LPUSH", "app3", "v"),
		cmd("PUBLISH", "c1", "m"), cmd("PUBLISH", "ch", "m"), cmd("PUBLISH", "n1", "m"), cmd("PUBLISH", "zz", "m"), cmd("INCR", "x"),
		cmd("COPY", "app1", "a9"), cmd("CONFIG", "GET", "maxmemory"),
		cmd("AUTH", "default", "x"), cmd("ACL", "WHOAMI"),
	})
}

// normalizedACLLog replaces what differs between two servers in ACL LOG
// entries: the age (checked to be a small number of seconds) and the
// client-info (only its field names are kept).
func normalizedACLLog(t *testing.T, raw string) value {
	var out []value
	for _, e := range parseReply(t, raw).([]value) {
		m := mapOf(e)
		if f, err := strconv.ParseFloat(str(m["age-seconds"]), 64); err != nil || f < 0 || f > 60 {
			t.Errorf("age-seconds %v", m["age-seconds"])
		}
		m["age-seconds"] = "age"
		var names []string
		for _, kv := range strings.Fields(str(m["client-info"])) {
			k, _, _ := strings.Cut(kv, "=")
			names = append(names, k)
		}
		m["client-info"] = strings.Join(names, " ")
		var keys []string // the field names in their order
		l := e.([]value)
		for i := 0; i < len(l); i += 2 {
			keys = append(keys, str(l[i]))
		}
		out = append(out, []value{keys, m})
	}
	return out
}

// TestDivergenceACLLog: denied commands, keys and channels and failed
// AUTHs are logged, grouped and counted as Redis does.
func TestDivergenceACLLog(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	var logs [2][]value
	for i, n := range []*testNode{ours, ref} {
		r := n.raw(t)
		for _, c := range [][]string{
			{"ACL", "LOG"}, {"ACL", "SETUSER", "lg", "on", ">pw", "+get", "+publish", "+multi", "+exec", "+subscribe", "~a*", "&ch*"},
			{"AUTH", "lg", "pw"}, {"GET", "b"}, {"GET", "b"}, {"SET", "a", "1"}, {"PUBLISH", "zz", "1"}, {"MULTI"}, {"GET", "b"}, {"EXEC"},
			{"CLIENT", "KILL", "ID", "1"}, {"SUBSCRIBE", "ch1", "x"}, {"UNSUBSCRIBE"}, {"AUTH", "lg", "wrong"}, {"AUTH", "nouser", "pw"},
			{"HELLO", "2", "AUTH", "lg", "bad"}, {"AUTH", "default", "x"},
		} {
			r.do(c...)
		}
		for _, c := range [][]string{{"ACL", "LOG"}, {"ACL", "LOG", "2"}, {"ACL", "LOG", "0"}, {"ACL", "LOG", "-1"}} {
			logs[i] = append(logs[i], normalizedACLLog(t, r.do(c...)))
		}
		for _, c := range [][]string{{"ACL", "LOG", "x"}, {"ACL", "LOG", "RESET"}, {"ACL", "LOG"}, {"ACL", "LOG", "1", "2"}} {
			logs[i] = append(logs[i], r.do(c...))
		} // acllog-max-len bounds the entries kept.
		for _, c := range [][]string{{"CONFIG", "SET", "acllog-max-len", "2"}, {"AUTH", "lg", "pw"}, {"GET", "b1"}, {"GET", "b2"}, {"GET", "b3"}, {"AUTH", "default", "x"}} {
			r.do(c...)
		}
		logs[i] = append(logs[i], normalizedACLLog(t, r.do("ACL", "LOG")))
	}
	if !reflect.DeepEqual(logs[0], logs[1]) {
		t.Errorf("ACL LOG:\n ours  %v\n redis %v", logs[0], logs[1])
	}
	if n := len(logs[1][0].([]value)); n < 6 {
		t.Errorf("the reference logged only %d entries", n)
	}
	if n := len(logs[1][len(logs[1])-1].([]value)); n != 2 {
		t.Errorf("with acllog-max-len 2 the reference kept %d entries", n)
	}
}

// clientFields parses a CLIENT LIST line into its field names, in order,
// and values.
func clientFields(line string) (names []string, values map[string]string) {
	values = map[string]string{}
	for _, kv := range strings.Fields(line) {
		k, v, _ := strings.Cut(kv, "=")
		names = append(names, k)
		values[k] = v
	}
	return names, values
}

// clientLine is the CLIENT LIST line of client id, seen by r.
func clientLine(t *testing.T, r *rawConn, id string) string {
	t.Helper()
	for _, l := range strings.Split(str(parseReply(t, r.do("CLIENT", "LIST"))), "\n") {
		if strings.HasPrefix(l, "id="+id+" ") {
			return l
		}
	}
	t.Fatalf("client %s not in CLIENT LIST", id)
	return ""
}

// TestDivergenceClientListBuffers: CLIENT LIST has Redis 7.0's fields in
// its order, and counts the query buffer, the arguments held and the
// queued commands as Redis does: of the client that asks (its whole batch),
// of one in MULTI, of one whose command is still arriving, of a blocked one.
func TestDivergenceClientListBuffers(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	var seen [2][]string
	var names [2][]string
	for i, n := range []*testNode{ours, ref} {
		me, other := n.raw(t), n.raw(t)
		id := str(parseReply(t, other.do("CLIENT", "ID")))
		pick := func(line string, fields ...string) string {
			var out []string
			_, v := clientFields(line)
			for _, f := range fields {
				out = append(out, f+"="+v[f])
			}
			return strings.Join(out, " ")
		}
		self := str(parseReply(t, me.do("CLIENT", "INFO")))
		names[i], _ = clientFields(self)
		seen[i] = append(seen[i], "self "+pick(self, "qbuf", "argv-mem", "multi-mem", "flags", "cmd"))
		other.do("MULTI")
		other.do("SET", "key", "value")
		other.do("SET", "key2", "value2")
		other.do("GET", "k")
		seen[i] = append(seen[i], "multi "+pick(clientLine(t, me, id), "qbuf", "argv-mem", "multi-mem", "multi", "flags", "cmd", "obl", "omem"))
		other.do("DISCARD")
		other.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123")
		deadline := time.Now().Add(10 * time.Second)
		line := clientLine(t, me, id)
		for !strings.Contains(line, " qbuf=4 ") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			line = clientLine(t, me, id)
		}
		seen[i] = append(seen[i], "partial "+pick(line, "qbuf", "argv-mem", "multi-mem"))
		other.send("456789\r\n")
		if got := other.reply(); got != "+OK\r\n" {
			t.Fatalf("SET: %q", got)
		}
		other.send(encodeCommand("BLPOP", "list", "0"))
		line = clientLine(t, me, id)
		for !strings.Contains(line, " flags=b ") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			line = clientLine(t, me, id)
		}
		seen[i] = append(seen[i], "blocked "+pick(line, "qbuf", "argv-mem", "multi-mem", "flags", "cmd"))
		me.do("LPUSH", "list", "x")
		other.reply()
	}
	if !reflect.DeepEqual(names[0], names[1]) {
		t.Errorf("CLIENT INFO fields:\n ours  %v\n redis %v", names[0], names[1])
	}
	if !reflect.DeepEqual(seen[0], seen[1]) {
		t.Errorf("CLIENT LIST buffers:\n ours  %q\n redis %q", seen[0], seen[1])
	}
}

// connStep is a command sent on one of several connections.
type connStep struct {
	conn int
	args []string
}

// runMultiConnDifferential runs the script over conns connections to each
// server and reports every reply that differs.
func runMultiConnDifferential(t *testing.T, ours, ref *testNode, conns int, script []connStep) {
	t.Helper()
	var a, b []*rawConn
	for i := 0; i < conns; i++ {
		a, b = append(a, ours.raw(t)), append(b, ref.raw(t))
	}
	for _, s := range script {
		got, want := a[s.conn].do(s.args...), b[s.conn].do(s.args...)
		if got != want {
			t.Errorf("conn %d %q:\n ours  %q\n redis %q", s.conn, s.args, got, want)
		}
	}
}

// TestDivergenceExecRechecksACL: EXEC checks each queued command again, in
// case the user's permissions changed after it was queued, and logs the
// denial; ACL DRYRUN says what a user may run.
func TestDivergenceExecRechecksACL(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runMultiConnDifferential(t, ours, ref, 2, []connStep{
		{1, []string{"ACL", "SETUSER", "ex", "on", "nopass", "+@all", "~*", "&*"}},
		{0, []string{"AUTH", "ex", "x"}}, {0, []string{"MULTI"}}, {0, []string{"SET", "k", "1"}}, {0, []string{"GET", "k"}},
		{0, []string{"PUBLISH", "c", "m"}}, {0, []string{"GET", "k2"}}, {0, []string{"SET", "k2", "v"}},
		{1, []string{"ACL", "SETUSER", "ex", "-get", "resetkeys", "~k2", "resetchannels"}},
		{0, []string{"EXEC"}}, {1, []string{"ACL", "LOG", "0"}},
		{1, []string{"ACL", "DRYRUN", "ex", "GET", "k"}}, {1, []string{"ACL", "DRYRUN", "ex", "SET", "k", "v"}},
		{1, []string{"ACL", "DRYRUN", "ex", "SET", "k2", "v"}}, {1, []string{"ACL", "DRYRUN", "ex", "PUBLISH", "x", "v"}},
		{1, []string{"ACL", "DRYRUN", "nouser", "GET", "k"}}, {1, []string{"ACL", "DRYRUN", "ex", "NOSUCH", "k"}},
		{1, []string{"ACL", "DRYRUN", "ex", "GET"}}, {1, []string{"ACL", "DRYRUN", "ex", "CLIENT", "NOPE"}},
		{1, []string{"ACL", "DRYRUN", "ex", "CLIENT"}}, {1, []string{"ACL", "DRYRUN", "ex", "client", "id"}},
		{1, []string{"ACL", "DRYRUN", "default", "FLUSHALL"}}, {1, []string{"ACL", "DRYRUN", "ex"}},
	})
	// The three denials at EXEC are in the log, context multi.
	for _, n := range []*testNode{ours, ref} {
		entries := parseReply(t, n.raw(t).do("ACL", "LOG")).([]value)
		var got []string
		for _, e := range entries {
			m := mapOf(e)
			got = append(got, str(m["reason"])+" "+str(m["context"])+" "+str(m["object"])+" "+str(m["count"]))
		}
		want := []string{"command multi get 2", "channel multi c 1", "key multi k 1"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: ACL LOG %q, want %q", n.Addr, got, want)
		}
	}
}

// TestDivergenceHelp compares the HELP of the containers whose every
// subcommand the node serves ("Prints this help.", as Redis 7.0 words it),
// and COMMAND GETKEYS / GETKEYSANDFLAGS.
func TestDivergenceHelp(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	var script []step
	for _, c := range []string{"COMMAND", "CONFIG", "OBJECT", "PUBSUB", "SLOWLOG", "CLIENT", "ACL"} {
		script = append(script, cmd(c, "HELP"))
	}
	// GETKEYS and GETKEYSANDFLAGS find keys as ACL checks do.
	for _, line := range []string{
		"SET k v", "SET k v GET", "SMOVE a b m", "ZUNIONSTORE d 2 a b", "ZUNIONSTORE d 5 a b", "PING", "GET", "NOPE",
		"SSUBSCRIBE a", "SPUBLISH a m", "MIGRATE h 1 k 0 10", "MIGRATE h 1 \"\" 0 10 KEYS a b", "CLIENT ID", "LMPOP 2 a b LEFT",
		"MSET a 1 b 2", "EXISTS a b", "DEL a", "GETDEL a", "LMOVE a b LEFT RIGHT", "BLPOP a b 0", "CONFIG NOPE",
	} {
		args := strings.Fields(line)
		for i, a := range args {
			if a == `""` {
				args[i] = ""
			}
		}
		script = append(script, cmd(append([]string{"COMMAND", "GETKEYS"}, args...)...),
			cmd(append([]string{"COMMAND", "GETKEYSANDFLAGS"}, args...)...))
	}
	runDifferential(t, ours, ref, script)
}

// TestDivergenceClientReplyBlocked: CLIENT REPLY OFF and SKIP also drop
// the reply of a blocking command served later or timed out.
func TestDivergenceClientReplyBlocked(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	var streams [2]string
	for i, n := range []*testNode{ours, ref} {
		blocked, pusher := n.raw(t), n.raw(t)
		blocked.send(encodeCommand("CLIENT", "REPLY", "SKIP") + encodeCommand("BLPOP", "l1", "0"))
		awaitInfoField(t, pusher, "clients", "blocked_clients", "1")
		pusher.do("RPUSH", "l1", "a")
		blocked.send(encodeCommand("CLIENT", "REPLY", "OFF") + encodeCommand("BLPOP", "l2", "0"))
		awaitInfoField(t, pusher, "clients", "blocked_clients", "1")
		pusher.do("RPUSH", "l2", "b")
		blocked.send(encodeCommand("CLIENT", "REPLY", "SKIP") + encodeCommand("BLPOP", "l3", "0.05") +
			encodeCommand("CLIENT", "REPLY", "ON") + encodeCommand("CLIENT", "REPLY", "SKIP") + encodeCommand("BLPOP", "l3", "0.05") +
			encodeCommand("LRANGE", "l1", "0", "-1") + encodeCommand("LLEN", "l2") + encodeCommand("QUIT"))
		var out strings.Builder
		_ = blocked.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			var b strings.Builder
			if err := readRaw(blocked.rd, &b); err != nil {
				break
			}
			out.WriteString(b.String())
		}
		streams[i] = out.String()
	}
	if streams[0] != streams[1] {
		t.Errorf("replies:\n ours  %q\n redis %q", streams[0], streams[1])
	}
	if want := "+OK\r\n*0\r\n:0\r\n+OK\r\n"; streams[1] != want {
		t.Errorf("reference replied %q, want %q", streams[1], want)
	}
}

// monitorLines runs the commands on one connection while another MONITORs
// and returns what MONITOR showed of each, without the time stamp and
// client address.
func monitorLines(t *testing.T, n *testNode, cmds [][]string) []string {
	mon, r := n.raw(t), n.raw(t)
	if got := mon.do("MONITOR"); got != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", got)
	}
	for _, c := range cmds {
		r.do(c...)
	}
	r.do("ECHO", "end")
	var out []string
	for {
		line := str(parseReply(t, mon.reply()))
		_, args, _ := strings.Cut(line, "] ")
		if args == `"ECHO" "end"` {
			return out
		}
		out = append(out, args)
	}
}

// TestDivergenceMonitorArgs: MONITOR shows what the client sent (SPOP,
// not its rewrite), AUTH and HELLO included, with the secrets redacted.
func TestDivergenceMonitorArgs(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	cmds := [][]string{
		{"AUTH", "pw"}, {"AUTH", "u", "pw"}, {"HELLO", "2", "AUTH", "u", "p"}, {"MIGRATE", "127.0.0.1", "1", "k", "0", "10", "AUTH", "pw"},
		{"SADD", "s", "a"}, {"SPOP", "s"}, {"SET", "k", "v", "EX", "100"}, {"CONFIG", "GET", "maxmemory"}, {"GET"}, {"NOSUCH"},
		{"MULTI"}, {"INCRBYFLOAT", "f", "1.5"}, {"EXEC"},
	}
	got, want := monitorLines(t, ours, cmds), monitorLines(t, ref, cmds)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MONITOR:\n ours  %q\n redis %q", got, want)
	}
}

// aliveAfter authenticates a new connection as a fresh user with the
// rules before, subscribes it, applies the rules after from admin and
// reports whether the connection still answers.
func aliveAfter(t *testing.T, n *testNode, admin *rawConn, before []string, subscribe []string, after []string) string {
	admin.do("ACL", "DELUSER", "pu")
	admin.do(append([]string{"ACL", "SETUSER", "pu", "on", "nopass", "+@all"}, before...)...)
	c := n.raw(t)
	c.do("AUTH", "pu", "x")
	if len(subscribe) > 0 {
		c.do(subscribe...)
	}
	admin.do(append([]string{"ACL", "SETUSER", "pu"}, after...)...)
	c.send(encodeCommand("PING"))
	_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	if err := readRaw(c.rd, &b); err != nil {
		return "closed"
	}
	return "alive"
}

// TestDivergenceACLChangesAndConnections: turning a user off keeps its
// authenticated connections (Redis only refuses new AUTHs); taking a
// channel away disconnects the subscribers that listen to it.
func TestDivergenceACLChangesAndConnections(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	cases := []struct{ before, sub, after []string }{
		{[]string{"~*", "&*"}, nil, []string{"off"}},
		{[]string{"&*"}, []string{"SUBSCRIBE", "a"}, []string{"resetchannels", "&b"}},
		{[]string{"&*"}, []string{"SUBSCRIBE", "a"}, []string{"resetchannels", "&a"}},
		{[]string{"resetchannels", "&a", "&b"}, []string{"SUBSCRIBE", "a"}, []string{"resetchannels", "&a"}},
		{[]string{"resetchannels", "&a*"}, []string{"SUBSCRIBE", "a1"}, []string{"resetchannels", "&a1"}},
		{[]string{"resetchannels", "&a*"}, []string{"PSUBSCRIBE", "a*"}, []string{"resetchannels", "&a1", "&a"}},
		{[]string{"resetchannels", "&a*"}, []string{"SUBSCRIBE", "a1"}, []string{"resetchannels", "(&a*)"}},
		{[]string{"resetchannels", "&a*"}, []string{"SSUBSCRIBE", "a1"}, []string{"resetchannels", "&b"}},
		{[]string{"resetchannels", "&a*"}, nil, []string{"resetchannels", "&b"}},
	}
	a, b := ours.raw(t), ref.raw(t)
	killed := 0
	for _, c := range cases {
		got, want := aliveAfter(t, ours, a, c.before, c.sub, c.after), aliveAfter(t, ref, b, c.before, c.sub, c.after)
		if got != want {
			t.Errorf("%q, %q, then %q: ours %s, redis %s", c.before, c.sub, c.after, got, want)
		}
		if want == "closed" {
			killed++
		}
	}
	if killed != 3 {
		t.Errorf("the reference closed %d connections, want 3", killed)
	}
}

// TestDivergenceACLRESP3: ACL GETUSER with selectors, ACL LOG and ACL
// DRYRUN replies in RESP3, byte for byte but for the client-info and age.
func TestDivergenceACLRESP3(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	clientInfo := regexp.MustCompile(`\$\d+\r\nid=\d+ addr=[^\r]*`)
	age := regexp.MustCompile(`,[0-9.e-]+\r\n`)
	var out [2]string
	for i, n := range []*testNode{ours, ref} {
		s := exchange(t, n, []string{"HELLO", "3"},
			[]string{"ACL", "SETUSER", "g3", "on", ">p", "~a", "%R~b", "&c", "+get", "(+set ~x)", "sanitize-payload"},
			[]string{"ACL", "GETUSER", "g3"}, []string{"AUTH", "g3", "bad"}, []string{"ACL", "LOG"},
			[]string{"ACL", "DRYRUN", "g3", "set", "y", "1"}, []string{"ACL", "DRYRUN", "g3", "set", "x", "1"})
		s = s[strings.Index(s, "+OK"):] // after HELLO's reply, which has the client id
		out[i] = age.ReplaceAllString(clientInfo.ReplaceAllString(s, "CLIENT-INFO"), ",AGE\r\n")
	}
	if out[0] != out[1] {
		t.Errorf("RESP3 ACL replies:\n ours  %q\n redis %q", out[0], out[1])
	}
	if !strings.Contains(out[1], "selectors\r\n*1\r\n%3") || !strings.Contains(out[1], "CLIENT-INFO") {
		t.Errorf("reference replies lack a selector or a log entry: %q", out[1])
	}
}

// TestDivergenceRefusedExecAborts: an EXEC refused before it runs (wrong
// arity) discards the transaction with EXECABORT and the reason, with or
// without MULTI, as Redis's rejectCommand; ACL GENPASS checks the integer
// before the range. Found by the differential fuzzer (make fuzz-diff).
func TestDivergenceRefusedExecAborts(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, []step{
		cmd("MULTI"), cmd("SET", "a", "1"), cmd("EXEC", "0"), cmd("GET", "a"), cmd("EXEC", "0"),
		cmd("MULTI"), cmd("EXEC", "1"), cmd("EXEC"), cmd("WATCH", "a"), cmd("EXEC", "x"),
		cmd("MULTI"), cmd("GET"), cmd("EXEC"),
		cmd("ACL", "GENPASS", "9223372036854775808"), cmd("ACL", "GENPASS", "abc"), cmd("ACL", "GENPASS", "0"),
		cmd("ACL", "GENPASS", "4097"), cmd("INFO", "errorstats"),
	})
}

// TestDivergenceFuzzFindings: replies the differential fuzzer found
// different: MEMORY USAGE's SAMPLES options (repeatable, negative is a
// syntax error), PUBSUB SHARDNUMSUB's flat array in RESP3, and a -0 in
// ZUNION's reply.
func TestDivergenceFuzzFindings(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	script := []step{
		cmd("MEMORY", "USAGE", "k", "SAMPLES", "-3"), cmd("SET", "k", "v"), cmd("MEMORY", "USAGE", "k", "SAMPLES", "-3"),
		cmd("MEMORY", "USAGE", "k", "SAMPLES", "1", "SAMPLES", "-1"), cmd("MEMORY", "USAGE", "k", "SAMPLES", "x"),
		cmd("MEMORY", "USAGE", "k", "SAMPLES"), cmd("MEMORY", "USAGE", "k", "FOO", "1"),
		cmd("PUBSUB", "SHARDNUMSUB", "a", "b"),
		// CLIENT LIST takes TYPE or ID, not both; SLOWLOG GET one count;
		// BGSAVE only SCHEDULE.
		cmd("CLIENT", "LIST", "TYPE", "PUBSUB", "ID", "9"), cmd("CLIENT", "LIST", "ID", "x"),
		cmd("CLIENT", "LIST", "TYPE"), cmd("CLIENT", "LIST", "ID"), cmd("CLIENT", "LIST", "FOO", "1"),
		cmd("SLOWLOG", "GET", "1", "b"), cmd("SLOWLOG", "GET", "536870912", "536870912"),
		cmd("BGSAVE", "SCHEDULE", "SCHEDULE"), cmd("BGSAVE", "NOW"),
		// ZUNION/ZINTER/ZDIFF answer a -0 score as -0 (a reply is not a
		// listpack); the stored sets hold 0.
		cmd("ZADD", "z", "0", "x", "5", "y"), cmd("ZUNION", "1", "z", "WEIGHTS", "-1", "WITHSCORES"),
		cmd("ZINTER", "2", "z", "z", "WEIGHTS", "-1", "0", "WITHSCORES"), cmd("ZDIFF", "1", "z", "WITHSCORES"),
		cmd("ZUNIONSTORE", "d", "1", "z", "WEIGHTS", "-1"), cmd("ZRANGE", "d", "0", "-1", "WITHSCORES"),
	}
	runDifferential(t, ours, ref, script)
	a, b := ours.raw(t), ref.raw(t)
	a.do("HELLO", "3") // the client IDs in the replies differ
	b.do("HELLO", "3")
	for _, args := range [][]string{{"PUBSUB", "SHARDNUMSUB"}, {"PUBSUB", "SHARDNUMSUB", "a", "b"}, {"PUBSUB", "NUMSUB", "a"}} {
		if got, want := a.do(args...), b.do(args...); got != want {
			t.Errorf("RESP3 %q:\n ours  %q\n redis %q", args, got, want)
		}
	}
}

// TestDivergenceStopWritesOnBgsaveError: after a failed BGSAVE a master
// with save points refuses writes, PING and an EXEC holding a write with
// MISCONF while stop-writes-on-bgsave-error is yes, and serves them again
// after a good BGSAVE or with the setting off, as Redis does.
func TestDivergenceStopWritesOnBgsaveError(t *testing.T) {
	var conns [2]*rawConn
	var subs [2]string
	for i, start := range []func(testing.TB, ...string) *testNode{startNode, startRedis} {
		subs[i] = filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(subs[i], 0o755); err != nil {
			t.Fatal(err)
		}
		conns[i] = start(t, "--dir", subs[i], "--save", "3600 1").raw(t)
	}
	bgsave := func(wantStatus string) {
		t.Helper()
		for i, r := range conns {
			if got := r.do("BGSAVE"); got != "+Background saving started\r\n" {
				t.Fatalf("server %d: BGSAVE: %q", i, got)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				info := str(parseReply(t, r.do("INFO", "persistence")))
				if strings.Contains(info, "rdb_bgsave_in_progress:0") && strings.Contains(info, "rdb_last_bgsave_status:"+wantStatus) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("server %d: no finished BGSAVE with status %s:\n%s", i, wantStatus, info)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	compare := func(script ...[]string) {
		t.Helper()
		for _, args := range script {
			if got, want := conns[0].do(args...), conns[1].do(args...); got != want {
				t.Errorf("%q:\n ours  %q\n redis %q", args, got, want)
			}
		}
	}
	compare([]string{"SET", "k", "v"}, []string{"PING"})
	// A non-empty directory where the snapshot goes makes the save's final
	// rename fail, on both servers.
	for _, sub := range subs {
		if err := os.MkdirAll(filepath.Join(sub, "dump.rdb", "x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bgsave("err")
	compare([]string{"SET", "k", "v2"}, []string{"PING"}, []string{"GET", "k"}, []string{"DEL", "k"},
		[]string{"MULTI"}, []string{"GET", "k"}, []string{"EXEC"},
		[]string{"MULTI"}, []string{"SET", "k", "v3"}, []string{"EXEC"},
		[]string{"CONFIG", "SET", "stop-writes-on-bgsave-error", "no"}, []string{"SET", "k", "v4"}, []string{"PING"},
		[]string{"CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"}, []string{"SET", "k", "v5"},
		[]string{"CONFIG", "GET", "stop-writes-on-bgsave-error"}, []string{"INFO", "errorstats"})
	for _, sub := range subs {
		if err := os.RemoveAll(filepath.Join(sub, "dump.rdb")); err != nil {
			t.Fatal(err)
		}
	}
	bgsave("ok")
	compare([]string{"SET", "k", "v6"}, []string{"GET", "k"})
}
