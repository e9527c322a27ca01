package server

import (
	"strings"
	"testing"
	"time"
)

// trackStep is one command of a tracking scenario, sent on the named
// connection; its reply and what every connection received meanwhile
// are compared between our node and redis-server.
type trackStep struct {
	conn string
	args []string
}

// trackConns are a scenario's connections: the RESP3 ones say HELLO 3
// first; a RESP2 one in subscribed mode is drained with PING too.
type trackConns struct {
	t     *testing.T
	conns map[string]*rawConn
	order []string
	ids   map[string]string // connection name -> its CLIENT ID
	multi map[string]bool   // connections inside MULTI are not drained
}

func openTrackConns(t *testing.T, n *testNode, resp3, resp2 []string) *trackConns {
	tc := &trackConns{t: t, conns: map[string]*rawConn{}, ids: map[string]string{}, multi: map[string]bool{}}
	for _, name := range resp3 {
		r := n.raw(t)
		r.do("HELLO", "3")
		tc.add(name, r)
	}
	for _, name := range resp2 {
		tc.add(name, n.raw(t))
	}
	return tc
}

func (tc *trackConns) add(name string, r *rawConn) {
	tc.conns[name] = r
	tc.order = append(tc.order, name)
	id := r.do("CLIENT", "ID")
	tc.ids[name] = strings.TrimSuffix(strings.TrimPrefix(id, ":"), "\r\n")
}

// drain reads what arrived on conn before the reply to a PING.
func (tc *trackConns) drain(name string) []string {
	r := tc.conns[name]
	r.send(encodeCommand("PING"))
	var got []string
	for {
		m := r.reply()
		if m == "+PONG\r\n" || m == "*2\r\n$4\r\npong\r\n$0\r\n\r\n" {
			return got
		}
		got = append(got, m)
	}
}

// run runs the steps, returning a transcript: each reply, then what each
// connection received; "$<name>" arguments are replaced by that
// connection's ID and IDs in replies by the names.
func (tc *trackConns) run(steps []trackStep) []string {
	var out []string
	for _, st := range steps {
		args := make([]string, len(st.args))
		for i, a := range st.args {
			if id, ok := tc.ids[strings.TrimPrefix(a, "$")]; ok && strings.HasPrefix(a, "$") {
				a = id
			}
			args[i] = a
		}
		if st.args[0] == "CLOSE" {
			tc.close(st.conn)
			out = append(out, st.conn+" closed")
			continue
		}
		reply := tc.conns[st.conn].do(args...)
		switch strings.ToUpper(args[0]) {
		case "MULTI":
			tc.multi[st.conn] = true
		case "EXEC", "DISCARD":
			tc.multi[st.conn] = false
		}
		out = append(out, st.conn+" "+strings.Join(st.args, " ")+" -> "+tc.unID(reply))
		if testing.Verbose() {
			tc.t.Logf("%q", out[len(out)-1])
		}
		for _, name := range tc.order {
			if _, ok := tc.conns[name]; !ok || tc.multi[name] {
				continue
			}
			for _, m := range tc.drain(name) {
				out = append(out, "  "+name+" got "+tc.unID(m))
			}
		}
	}
	return out
}

// close closes a connection and waits until the server has let it go
// (CLIENT LIST from connection "b", the writer that tracks nothing, no
// longer shows it).
func (tc *trackConns) close(name string) {
	tc.conns[name].c.Close()
	delete(tc.conns, name)
	other := tc.conns["b"]
	deadline := time.Now().Add(10 * time.Second)
	for strings.Contains(other.do("CLIENT", "LIST"), "id="+tc.ids[name]+" ") {
		if time.Now().After(deadline) {
			tc.t.Fatalf("connection %s still listed", name)
		}
	}
}

func (tc *trackConns) unID(s string) string {
	lines := strings.Split(s, "\r\n")
	for i, l := range lines {
		for name, id := range tc.ids {
			if l == ":"+id {
				lines[i] = ":<" + name + ">"
			}
		}
	}
	return strings.Join(lines, "\r\n")
}

// TestTrackingDifferential runs client-side caching scenarios on our
// node and on redis-server: replies, errors and invalidation messages
// (RESP3 pushes, RESP2 redirection to __redis__:invalidate) compared.
func TestTrackingDifferential(t *testing.T) {
	steps := []trackStep{
		// errors and introspection
		{"a", []string{"CLIENT", "TRACKINGINFO"}}, {"a", []string{"CLIENT", "GETREDIR"}},
		{"a", []string{"CLIENT", "CACHING", "YES"}},
		{"a", []string{"CLIENT", "TRACKING", "ON", "PREFIX", "x"}},
		{"a", []string{"CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"}},
		{"a", []string{"CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"}},
		{"a", []string{"CLIENT", "TRACKING", "ON", "REDIRECT", "99999"}},
		{"a", []string{"CLIENT", "TRACKING", "ON", "REDIRECT", "x"}},
		{"a", []string{"CLIENT", "TRACKING", "ON", "REDIRECT", "$b", "REDIRECT", "$b"}},
		{"a", []string{"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "ab"}},
		{"a", []string{"CLIENT", "TRACKING", "ON", "FOO"}}, {"a", []string{"CLIENT", "TRACKING", "MAYBE"}},
		{"a", []string{"CLIENT", "TRACKING", "ON", "PREFIX"}},
		// default mode
		{"a", []string{"CLIENT", "TRACKING", "ON"}}, {"a", []string{"CLIENT", "TRACKINGINFO"}},
		{"a", []string{"CLIENT", "GETREDIR"}}, {"a", []string{"CLIENT", "CACHING", "YES"}},
		{"a", []string{"CLIENT", "TRACKING", "ON", "BCAST"}},
		{"a", []string{"GET", "k1"}}, {"a", []string{"MGET", "k2", "k3"}}, {"a", []string{"HGET", "h", "f"}},
		{"b", []string{"SET", "k1", "x"}}, {"b", []string{"SET", "k1", "y"}}, {"b", []string{"MSET", "k2", "a", "k3", "b"}},
		{"b", []string{"HSET", "h", "f", "v"}}, {"b", []string{"HSET", "h", "f", "w"}},
		{"a", []string{"GET", "k1"}}, {"a", []string{"SET", "k1", "z"}},
		{"a", []string{"GET", "k1"}}, {"a", []string{"MULTI"}}, {"a", []string{"GET", "k2"}}, {"a", []string{"SET", "k1", "zz"}},
		{"a", []string{"EXEC"}},
		{"a", []string{"CLIENT", "TRACKING", "ON", "NOLOOP"}}, {"a", []string{"CLIENT", "TRACKINGINFO"}},
		{"a", []string{"GET", "k1"}}, {"a", []string{"SET", "k1", "q"}}, {"b", []string{"SET", "k2", "q"}},
		{"a", []string{"GET", "k5"}}, {"a", []string{"GET", "k6"}}, {"b", []string{"DEL", "k6"}}, {"b", []string{"EXPIRE", "k5", "100"}},
		{"b", []string{"SET", "k5", "1"}}, {"b", []string{"EXPIRE", "k5", "100"}},
		{"a", []string{"GET", "k5"}}, {"b", []string{"FLUSHALL"}}, {"b", []string{"FLUSHDB"}},
		{"a", []string{"CLIENT", "TRACKING", "OFF"}}, {"a", []string{"CLIENT", "TRACKINGINFO"}},
		{"a", []string{"GET", "k1"}}, {"b", []string{"SET", "k1", "1"}},
		// BCAST
		{"c", []string{"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "obj:"}},
		{"c", []string{"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "us"}},
		{"c", []string{"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "job:"}},
		{"c", []string{"CLIENT", "TRACKINGINFO"}}, {"c", []string{"CLIENT", "TRACKING", "ON"}},
		{"b", []string{"SET", "user:1", "a"}}, {"b", []string{"SET", "other", "x"}},
		{"b", []string{"MSET", "obj:1", "a", "user:2", "b", "user:0", "c"}},
		{"c", []string{"SET", "user:3", "x"}},
		{"c", []string{"CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP"}}, {"c", []string{"SET", "user:3", "y"}},
		{"b", []string{"DEL", "user:1", "job:9"}},
		{"c", []string{"CLIENT", "TRACKING", "OFF"}}, {"b", []string{"SET", "user:1", "a"}},
		{"c", []string{"CLIENT", "TRACKING", "ON", "BCAST"}}, {"b", []string{"SET", "anything", "a"}},
		{"c", []string{"CLIENT", "TRACKING", "OFF"}},
		// OPTIN / OPTOUT
		{"d", []string{"CLIENT", "TRACKING", "ON", "OPTIN"}}, {"d", []string{"CLIENT", "CACHING", "NO"}},
		{"d", []string{"GET", "o1"}}, {"d", []string{"CLIENT", "CACHING", "YES"}}, {"d", []string{"CLIENT", "TRACKINGINFO"}},
		{"d", []string{"GET", "o2"}}, {"d", []string{"GET", "o3"}}, {"b", []string{"MSET", "o1", "1", "o2", "2", "o3", "3"}},
		{"d", []string{"CLIENT", "TRACKING", "ON", "OPTOUT"}}, {"d", []string{"CLIENT", "TRACKING", "OFF"}},
		{"d", []string{"CLIENT", "TRACKING", "ON", "OPTOUT"}}, {"d", []string{"CLIENT", "CACHING", "NO"}},
		{"d", []string{"GET", "o1"}}, {"d", []string{"GET", "o2"}}, {"b", []string{"MSET", "o1", "1", "o2", "2"}},
		// RESP2 redirection
		{"r", []string{"SUBSCRIBE", "__redis__:invalidate"}},
		{"e", []string{"CLIENT", "TRACKING", "ON", "REDIRECT", "$r"}}, {"e", []string{"CLIENT", "GETREDIR"}},
		{"e", []string{"CLIENT", "TRACKINGINFO"}},
		{"e", []string{"GET", "r1"}}, {"e", []string{"GET", "r2"}}, {"b", []string{"SET", "r1", "x"}}, {"e", []string{"SET", "r2", "x"}},
		{"e", []string{"GET", "r1"}}, {"b", []string{"FLUSHALL"}},
		// RESP3 redirection, then a broken one
		{"a", []string{"CLIENT", "TRACKING", "ON", "REDIRECT", "$r"}}, {"a", []string{"GET", "r3"}}, {"b", []string{"SET", "r3", "x"}},
		{"a", []string{"GET", "r3"}}, {"e", []string{"GET", "r4"}}, {"r", []string{"CLOSE"}},
		{"b", []string{"SET", "r3", "y"}}, {"b", []string{"SET", "r4", "y"}},
		{"a", []string{"CLIENT", "TRACKINGINFO"}}, {"e", []string{"CLIENT", "TRACKINGINFO"}},
	}
	compareOnBoth(t, func(n *testNode) []string {
		return openTrackConns(t, n, []string{"a", "c", "d"}, []string{"b", "e", "r"}).run(steps)
	})
}

// TestTrackingTableMaxKeysAndInfo checks tracking-table-max-keys (the
// oldest tracked key is invalidated when the table passes the limit) and
// INFO's tracking fields.
func TestTrackingTableMaxKeysAndInfo(t *testing.T) {
	n := startNode(t)
	c := n.raw(t)
	c.do("CONFIG", "SET", "tracking-table-max-keys", "2")
	trk := n.raw(t)
	trk.do("HELLO", "3")
	trk.do("CLIENT", "TRACKING", "ON")
	bc := n.raw(t)
	bc.do("HELLO", "3")
	bc.do("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p:", "PREFIX", "q:")
	trk.do("GET", "k1")
	trk.do("GET", "k2")
	if r := trk.do("MGET", "k3", "k2"); r != "*2\r\n_\r\n_\r\n" {
		t.Fatalf("MGET: %q", r)
	}
	if r := trk.reply(); r != ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk1\r\n" {
		t.Fatalf("eviction of the oldest key: %q", r)
	}
	info := c.do("INFO", "everything")
	for _, want := range []string{"tracking_clients:2\r\n", "tracking_total_keys:2\r\n", "tracking_total_items:2\r\n", "tracking_total_prefixes:2\r\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q", strings.TrimSpace(want))
		}
	}
	if r := c.do("CLIENT", "LIST"); !strings.Contains(r, "flags=tB ") || !strings.Contains(r, "flags=t ") {
		t.Errorf("CLIENT LIST flags: %q", r)
	}
}
