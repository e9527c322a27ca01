package acl

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/commands"
)

// The expected values of these tests are Redis 7.0.15's replies to the
// same ACL SETUSER, ACL LIST and ACL DRYRUN commands.

// nodeTable is the data node's command table (node/cmd/shoal-node:
// the engine's groups and every command family).
func nodeTable(t *testing.T) *command.Table {
	t.Helper()
	tab, err := command.NewTable(append(command.Groups(), commands.All()...)...)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// setuser is ACL SETUSER name args...: it returns Redis's error text, or
// "" when the user was created or changed.
func setuser(us *Users, name string, args ...string) string {
	rules, open := MergeSelectorArgs(args)
	if open >= 0 {
		return "Unmatched parenthesis in acl selector starting at '" + args[open] + "'."
	}
	u := us.Get(name)
	if u == nil {
		u = us.NewUser(name)
	}
	if bad, msg := us.Apply(u, rules); bad != "" {
		return "Error in ACL SETUSER modifier '" + bad + "': " + msg
	}
	us.Add(u)
	return ""
}

func TestDescribeAsRedis(t *testing.T) {
	us := New(nodeTable(t))
	for _, c := range []struct {
		rules []string
		line  string // after "user <name> "
	}{
		{[]string{"on", ">pw", "~app:*", "+get"}, "on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~app:* resetchannels -@all +get"},
		{[]string{"+@all", "-get"}, "off resetchannels +@all -get"},
		{[]string{"+select|0", "+select|1"}, "off resetchannels -@all +select|0 +select|1"},
		{[]string{"%R~r*", "%W~w*", "~x", "%RW~y", "%R~x"}, "off %R~r* %W~w* ~x ~y resetchannels -@all"},
		{[]string{"allkeys", "&c*", "&d"}, "off ~* resetchannels &c* &d -@all"},
		{[]string{"(+set %W~app*)", "(+get ~x &ch)"}, "off resetchannels -@all (%W~app* resetchannels -@all +set) (~x resetchannels &ch -@all +get)"},
		{[]string{"+@hash"}, "off resetchannels -@all +@hash"},
		{[]string{"+@hash", "-hdel"}, "off resetchannels -@all +@hash -hdel"},
		{[]string{"+client|id", "+config"}, "off resetchannels -@all +client|id +config"},
		{[]string{"on", "nopass", "skip-sanitize-payload", "allchannels"}, "on nopass skip-sanitize-payload &* -@all"},
		{[]string{"#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", ">hello"},
			"off #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 #2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 resetchannels -@all"},
		{[]string{"+@all", "-@dangerous"}, "off resetchannels +@all -@dangerous"},
		{[]string{"off", "resetkeys", "~a*", "resetkeys", "~b*"}, "off ~b* resetchannels -@all"},
		{[]string{"+acl", "-acl|setuser"}, "off resetchannels -@all +acl -acl|setuser"},
		{[]string{"+@pubsub", "-publish", "resetchannels", "&news:*"}, "off resetchannels &news:* -@all +@pubsub -publish"},
		{[]string{"+@all", "-client", "+client|id", "+select|0"}, "off resetchannels +@all -client +client|id"},
		{[]string{"-@all", "+select|0", "+select|1", "-select"}, "off resetchannels -@all"},
		{[]string{"+select|0", "+SELECT|0", "+select|2"}, "off resetchannels -@all +select|0 +select|2"},
		{[]string{"+@all", "-@all", "+get"}, "off resetchannels -@all +get"},
		{[]string{"on", ">a", ">b", "<a"}, "on #3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d resetchannels -@all"},
		{[]string{"on", ">a", "reset"}, "off sanitize-payload resetchannels -@all"},
		{[]string{"allcommands", "allkeys", "allchannels"}, "off ~* &* +@all"},
		{[]string{"+@all", "~*", "&*", "-@all", "nocommands", "+@set"}, "off ~* &* -@all +@set"},
		{[]string{"%R~"}, "off %R~ resetchannels -@all"},
		{[]string{">"}, "off #e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 resetchannels -@all"},
		{[]string{"%WR~b", "%R~c", "~a", "~a", "%R~a"}, "off ~b %R~c ~a resetchannels -@all"},
		{[]string{"()"}, "off resetchannels -@all (resetchannels -@all)"},
		{[]string{"(~a  +get)"}, "off resetchannels -@all (~a resetchannels -@all +get)"},
		{[]string{"ON", "NOPASS", "ALLKEYS", "ALLCHANNELS", "+@ALL"}, "on nopass ~* &* +@all"},
		{[]string{"~A*", "&B*", "+GET"}, "off ~A* resetchannels &B* -@all +get"},
		{[]string{"on", "-@all", "+select|0", "(+get ~a*)", "(+set %W~b*)", "(+publish &c*)", "resetchannels"},
			"on resetchannels -@all +select|0 (~a* resetchannels -@all +get) (%W~b* resetchannels -@all +set) (resetchannels &c* -@all +publish)"},
		{[]string{"on", "+@all", "~a*", "resetchannels", "(~* &* -@all +get)"}, "on ~a* resetchannels +@all (~* &* -@all +get)"},
	} {
		name := "u" + strings.Join(c.rules, "_")
		if msg := setuser(us, name, c.rules...); msg != "" {
			t.Errorf("%q: %s", c.rules, msg)
			continue
		}
		if got, want := us.Describe(us.Get(name)), "user "+name+" "+c.line; got != want {
			t.Errorf("%q:\n got  %q\n want %q", c.rules, got, want)
		}
	}
	if got := us.Describe(us.Default()); got != "user default on nopass ~* &* +@all" {
		t.Errorf("default user: %q", got)
	}
	if !us.Default().Unrestricted() {
		t.Error("the default user is restricted")
	}
}

// TestDescribeRoundTrip: a user loaded from its ACL LIST line (as a
// config file's user line) is described by the same line and has the same
// permissions.
func TestDescribeRoundTrip(t *testing.T) {
	tab := nodeTable(t)
	us := New(tab)
	for i, rules := range [][]string{
		{"on", ">pw", "~app:*", "+get", "(+set %W~w*)", "(+@read %R~* &x)"},
		{"+@all", "-@dangerous", "+flushall", "-client", "+client|id", "%R~r*", "%W~w*", "&ch*"},
		{"+@write", "-@hash", "+select|1", "+select|2", "allkeys", "allchannels"},
		{"nocommands", "+@set", "+@sortedset", "-zadd", "skip-sanitize-payload", "nopass"},
		{"+@all", "-@keyspace", "+del", "-@pubsub", "+publish"},
		{"+@read", "-@keyspace"},
		{"+@string", "+@list", "-@write"},
	} {
		name := "r" + string(rune('a'+i))
		if msg := setuser(us, name, rules...); msg != "" {
			t.Fatalf("%q: %s", rules, msg)
		}
		line := us.Describe(us.Get(name))
		fields := strings.Fields(line)[2:]
		again := New(tab)
		if err := again.LoadConfigured(name, fields); err != nil {
			t.Fatalf("%q: reloading %q: %v", rules, line, err)
		}
		if got := again.Describe(again.Get(name)); got != line {
			t.Errorf("%q: round trip\n got  %q\n want %q", rules, got, line)
		}
		a, b := us.Get(name), again.Get(name)
		for id := 0; id < tab.NumIDs(); id++ {
			if a.root.allowed[id] != b.root.allowed[id] {
				t.Errorf("%q: %s differs after the round trip", rules, tab.ByID(id).FullName())
			}
		}
	}
}

func TestRuleErrorsAsRedis(t *testing.T) {
	us := New(nodeTable(t))
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"bogus"}, "Error in ACL SETUSER modifier 'bogus': Syntax error"},
		{[]string{"+nosuchcmd"}, "Error in ACL SETUSER modifier '+nosuchcmd': Unknown command or category name in ACL"},
		{[]string{"#abc"}, "Error in ACL SETUSER modifier '#abc': " + ErrBadHash},
		{[]string{"#5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8"}, "Error in ACL SETUSER modifier '#5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8': " + ErrBadHash},
		{[]string{"<nosuch"}, "Error in ACL SETUSER modifier '<nosuch': The password you are trying to remove from the user does not exist"},
		{[]string{"!nosuch"}, "Error in ACL SETUSER modifier '!nosuch': " + ErrBadHash},
		{[]string{"~*", "~a"}, "Error in ACL SETUSER modifier '~a': " + ErrKeyAfterAll},
		{[]string{"allchannels", "&x"}, "Error in ACL SETUSER modifier '&x': " + ErrChanAfterAll},
		{[]string{"%~a"}, "Error in ACL SETUSER modifier '%~a': Syntax error"},
		{[]string{"%RR~x"}, "Error in ACL SETUSER modifier '%RR~x': Syntax error"},
		{[]string{"%X~a"}, "Error in ACL SETUSER modifier '%X~a': Syntax error"},
		{[]string{"~a b"}, "Error in ACL SETUSER modifier '~a b': Syntax error"},
		{[]string{"&a b"}, "Error in ACL SETUSER modifier '&a b': Syntax error"},
		{[]string{"+@nosuch"}, "Error in ACL SETUSER modifier '+@nosuch': Unknown command or category name in ACL"},
		{[]string{"+client|id|x"}, "Error in ACL SETUSER modifier '+client|id|x': Allowing first-arg of a subcommand is not supported"},
		{[]string{"+select|"}, "Error in ACL SETUSER modifier '+select|': Syntax error"},
		{[]string{"+config|nosuch"}, "Error in ACL SETUSER modifier '+config|nosuch': Unknown command or category name in ACL"},
		{[]string{"+nosuch|0"}, "Error in ACL SETUSER modifier '+nosuch|0': Unknown command or category name in ACL"},
		{[]string{"-select|0"}, "Error in ACL SETUSER modifier '-select|0': Unknown command or category name in ACL"},
		{[]string{"(on)"}, "Error in ACL SETUSER modifier '(on)': Syntax error"},
		{[]string{"(+nosuch)"}, "Error in ACL SETUSER modifier '(+nosuch)': Unknown command or category name in ACL"},
		{[]string{"(allkeys ~a)"}, "Error in ACL SETUSER modifier '(allkeys ~a)': " + ErrKeyAfterAll},
		{[]string{"on", ">pw", "+get", "bogus"}, "Error in ACL SETUSER modifier 'bogus': Syntax error"},
		{[]string{"(+get", "x)"}, "Error in ACL SETUSER modifier '(+get x)': Syntax error"},
		{[]string{"(+get", "~a"}, "Unmatched parenthesis in acl selector starting at '(+get'."},
	} {
		if got := setuser(us, "e", c.args...); got != c.err {
			t.Errorf("%q:\n got  %q\n want %q", c.args, got, c.err)
		}
		if us.Get("e") != nil {
			t.Fatalf("%q: a bad rule created the user", c.args)
		}
	}
	// A bad rule changes nothing of an existing user.
	setuser(us, "x", "on", ">pw", "~a", "+get")
	before := us.Describe(us.Get("x"))
	if setuser(us, "x", "off", "resetkeys", "+set", "bogus") == "" {
		t.Fatal("bogus accepted")
	}
	if got := us.Describe(us.Get("x")); got != before {
		t.Errorf("a failed SETUSER changed the user: %q, was %q", got, before)
	}
}

func TestMergeSelectorArgs(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want []string
		bad  int
	}{
		{[]string{"on", "(+get", "~a)", "+set"}, []string{"on", "(+get ~a)", "+set"}, -1},
		{[]string{"(+get)", "(~a", "&b", "+set)"}, []string{"(+get)", "(~a &b +set)"}, -1},
		{[]string{"on", "(+get", "~a"}, []string{"on"}, 1},
		{[]string{"()"}, []string{"()"}, -1},
	} {
		got, bad := MergeSelectorArgs(c.in)
		if strings.Join(got, ",") != strings.Join(c.want, ",") || bad != c.bad {
			t.Errorf("%q: %q %d, want %q %d", c.in, got, bad, c.want, c.bad)
		}
	}
}

func argv(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

// dryrun is ACL DRYRUN user command...: "OK" or Redis's denial.
func dryrun(t *testing.T, us *Users, user, cmd string) string {
	t.Helper()
	args := argv(cmd)
	spec, unknownSub := us.cmds.LookupArgs(args)
	if spec == nil || unknownSub {
		t.Fatalf("%q: no such command", cmd)
	}
	if reason, pos := us.Get(user).Check(spec, args); reason != OK {
		return DryRunDenial(reason, spec, args, pos)
	}
	return "OK"
}

func TestCheckAsRedis(t *testing.T) {
	us := New(nodeTable(t))
	for _, u := range [][]string{
		{"p1", "on", "+get", "+set", "+del", "+exists", "+copy", "+publish", "+subscribe", "+psubscribe", "+ssubscribe", "+spublish",
			"+mget", "+lmove", "+ping", "%R~r*", "%W~w*", "~x*", "&news.*", "&ch"},
		{"p2", "on", "-@all", "+select|0", "(+get ~a*)", "(+set %W~b*)", "(+publish &c*)", "resetchannels"},
		{"p3", "on", "+@all", "~a*", "resetchannels", "(~* &* -@all +get)"},
		{"p4", "on", "-@all", "+client|id", "+config|get", "~*"},
		{"p5", "on", "+@all", "%R~*", "resetchannels"},
	} {
		if msg := setuser(us, u[0], u[1:]...); msg != "" {
			t.Fatal(msg)
		}
	}
	key := func(k string) string { return "This user has no permissions to access the '" + k + "' key" }
	channel := func(c string) string { return "This user has no permissions to access the '" + c + "' channel" }
	run := func(c string) string { return "This user has no permissions to run the '" + c + "' command" }
	for _, c := range []struct{ user, cmd, want string }{
		{"p1", "get r1", "OK"},
		{"p1", "get w1", key("w1")},
		{"p1", "get x1", "OK"},
		{"p1", "get zz", key("zz")},
		{"p1", "set w1 v", "OK"},
		{"p1", "set r1 v", key("r1")},
		{"p1", "del r1", key("r1")},
		{"p1", "del w1", "OK"},
		{"p1", "exists r1 w1 x1", "OK"},
		{"p1", "exists zz", key("zz")},
		{"p1", "copy r1 w1", "OK"},
		{"p1", "copy w1 r1", key("w1")},
		{"p1", "mget r1 x1 zz w1", key("zz")},
		{"p1", "lmove r1 w1 left right", key("r1")},
		{"p1", "incr x1", run("incr")},
		{"p1", "publish news.a m", "OK"},
		{"p1", "publish ch m", "OK"},
		{"p1", "publish chx m", channel("chx")},
		{"p1", "subscribe news.1 ch zz", channel("zz")},
		{"p1", "psubscribe news.*", "OK"},
		{"p1", "psubscribe news.a", channel("news.a")},
		{"p1", "ssubscribe ch", "OK"},
		{"p1", "spublish zz m", channel("zz")},
		{"p1", "ping", "OK"},
		{"p1", "auth a b", "OK"},
		{"p2", "select 0", "OK"},
		{"p2", "select 1", run("select")},
		{"p2", "get a1", "OK"},
		{"p2", "get b1", key("b1")},
		{"p2", "set b1 v", "OK"},
		{"p2", "set a1 v", key("a1")},
		{"p2", "publish c1 m", "OK"},
		{"p2", "publish d1 m", channel("d1")},
		{"p2", "get zz", key("zz")},
		{"p2", "del a1", run("del")},
		{"p3", "get zz", "OK"},
		{"p3", "set zz v", key("zz")},
		{"p3", "set a1 v", "OK"},
		{"p3", "publish q m", channel("q")},
		{"p3", "mget a1 zz", key("zz")},
		{"p3", "mset a1 v zz v", key("zz")},
		{"p3", "client id", "OK"},
		{"p4", "client id", "OK"},
		{"p4", "client list", run("client|list")},
		{"p4", "config get x", "OK"},
		{"p4", "config set x y", run("config|set")},
		{"p5", "get a", "OK"},
		{"p5", "set a b", key("a")},
		{"p5", "exists a", "OK"},
		{"p5", "rename a b", key("a")},
		{"p5", "copy a b", key("b")},
		{"p5", "zrangestore d s 0 1", key("d")},
		{"p5", "getrange a 0 1", "OK"},
		{"p5", "type a", "OK"},
		{"p5", "ttl a", "OK"},
		{"p5", "expire a 1", key("a")},
		{"p5", "getdel a", key("a")},
		{"p5", "append a b", key("a")},
		{"p5", "object encoding a", "OK"},
		{"default", "flushall", "OK"},
	} {
		if got := dryrun(t, us, c.user, c.cmd); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.user, c.cmd, got, c.want)
		}
	}
}

func TestDenialErrors(t *testing.T) {
	tab := nodeTable(t)
	get, sub := tab.Lookup([]byte("get")), tab.Lookup([]byte("client")).Sub([]byte("list"))
	for _, c := range []struct {
		got, want string
	}{
		{NoPermError(DeniedCmd, sub), "NOPERM this user has no permissions to run the 'client|list' command"},
		{NoPermError(DeniedKey, get), "NOPERM this user has no permissions to access one of the keys used as arguments"},
		{NoPermError(DeniedChannel, get), "NOPERM this user has no permissions to access one of the channels used as arguments"},
		{DeniedObject(DeniedCmd, sub, argv("client list"), 0), "client|list"},
		{DeniedObject(DeniedKey, get, argv("get k"), 1), "k"},
		{ExecDenialError(DeniedKey), "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to touch the specified keys"},
		{DeniedCmd.String() + DeniedKey.String() + DeniedAuth.String() + DeniedChannel.String(), "commandkeyauthchannel"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	us := New(nodeTable(t))
	if !us.DefaultAuthenticates() || us.Authenticate("default", []byte("anything")) != us.Default() {
		t.Fatal("the default user needs a password")
	}
	us.SetRequirePass("secret")
	if us.DefaultAuthenticates() || us.Authenticate("default", []byte("x")) != nil || us.Authenticate("default", []byte("secret")) == nil {
		t.Fatal("requirepass not followed")
	}
	us.SetRequirePass("")
	if !us.DefaultAuthenticates() {
		t.Fatal("requirepass \"\" keeps a password")
	}
	setuser(us, "a", ">p1", "#"+hashPassword([]byte("p2")))
	if us.Authenticate("a", []byte("p1")) != nil {
		t.Fatal("a user that is off authenticated")
	}
	setuser(us, "a", "on")
	for pass, ok := range map[string]bool{"p1": true, "p2": true, "p3": false, "": false} {
		if got := us.Authenticate("a", []byte(pass)) != nil; got != ok {
			t.Errorf("password %q: %v", pass, got)
		}
	}
	if us.Authenticate("nobody", nil) != nil {
		t.Fatal("an unknown user authenticated")
	}
}

func TestLoadConfigured(t *testing.T) {
	us := New(nodeTable(t))
	if err := us.LoadConfigured("default", []string{"on", "nopass", "~*", "&*", "+@all", "-flushall"}); err != nil {
		t.Fatal(err)
	}
	if err := us.LoadConfigured("alice", strings.Fields("on >pw ~app:* +get (+set ~w*)")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~app:* resetchannels -@all +get (~w* resetchannels -@all +set)",
		"user default on nopass sanitize-payload ~* &* +@all -flushall", // the reset before the line
	}
	if got := us.Lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"on", "+nosuchcommand"}, "Error loading ACL rule '+nosuchcommand' for the user named 'bob': Unknown command or category name in ACL\nCritical error while loading ACLs. Exiting."},
		{[]string{"on", "(+get", "~a"}, "Error in user declaration 'bob': Unmatched parenthesis in acl selector starting at '(+get'."},
	} {
		if err := us.LoadConfigured("bob", c.args); err == nil || err.Error() != c.err {
			t.Errorf("%q: %v, want %q", c.args, err, c.err)
		}
	}
}

func TestChannelsLost(t *testing.T) {
	us := New(nodeTable(t))
	setuser(us, "s", "resetchannels", "&a*", "(&b +get)")
	before := us.Get("s").ChannelRules()
	if strings.Join(before, ",") != "a*,b" {
		t.Fatalf("channel rules %q", before)
	}
	for _, c := range []struct {
		rules []string
		lost  bool
	}{
		{[]string{"&c"}, false},            // more channels
		{[]string{"clearselectors"}, true}, // b is gone
		{[]string{"allchannels"}, false},   // everything
		{[]string{"resetchannels"}, true},  // a* is gone
		{[]string{"resetchannels", "&a*"}, false},
	} {
		if setuser(us, "s", c.rules...) != "" {
			t.Fatal(c.rules)
		}
		after := us.Get("s").ChannelRules()
		if got := ChannelsLost(before, after); got != c.lost {
			t.Errorf("%q: lost %v", c.rules, got)
		}
		before = after
	}
	if !ChannelAllowed([]string{"a*"}, []byte("ab"), false) || ChannelAllowed([]string{"a*"}, []byte("ab"), true) ||
		!ChannelAllowed([]string{"a*"}, []byte("a*"), true) {
		t.Error("channel patterns")
	}
}

func TestCategoryCommands(t *testing.T) {
	tab := nodeTable(t)
	cat, _ := command.CategoryByName("connection")
	got := strings.Join(CategoryCommands(tab, cat), " ")
	for _, name := range []string{"auth", "client|id", "hello", "ping"} {
		if !strings.Contains(" "+got+" ", " "+name+" ") {
			t.Errorf("%s not in @connection: %s", name, got)
		}
	}
	if strings.Contains(" "+got+" ", " client ") {
		t.Errorf("a container is listed: %s", got)
	}
}

func TestLog(t *testing.T) {
	var l Log
	t0 := time.Unix(1000, 0)
	add := func(r Reason, object, user string, at time.Duration, max int) {
		l.Add(LogEntry{Reason: r, Context: "toplevel", Object: object, Username: user, Created: t0.Add(at)}, max)
	}
	add(DeniedKey, "k", "u", 0, 10)
	add(DeniedCmd, "get", "u", time.Second, 10)
	add(DeniedKey, "k", "u", 2*time.Second, 10)  // like the first: counted there, moved to the front
	add(DeniedKey, "k", "v", 3*time.Second, 10)  // another user
	add(DeniedKey, "k", "v", 64*time.Second, 10) // more than 60s after the last: a new entry
	var got []string
	for _, e := range l.Entries() {
		got = append(got, e.Reason.String()+":"+e.Object+":"+e.Username+":"+string(rune('0'+e.Count)))
	}
	if want := "key:k:v:1 key:k:v:1 key:k:u:2 command:get:u:1"; strings.Join(got, " ") != want {
		t.Errorf("entries %q, want %q", got, want)
	}
	add(DeniedAuth, "AUTH", "x", 65*time.Second, 2)
	if n := len(l.Entries()); n != 2 || l.Entries()[0].Reason != DeniedAuth {
		t.Errorf("acllog-max-len 2 kept %d entries", n)
	}
	l.Reset()
	if len(l.Entries()) != 0 {
		t.Error("RESET kept entries")
	}
}
