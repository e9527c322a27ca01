package sentinel

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writeConf(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sentinel.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The command line the operator uses: the config file first or right
// after --sentinel, options as "--name value ..." lines after the file's.
func TestParseArgsCommandLineContract(t *testing.T) {
	conf := writeConf(t, "port 26380\nsentinel monitor m 127.0.0.1 6379 2\n")
	for _, args := range [][]string{
		{"--sentinel", conf},
		{conf, "--sentinel"},
		{conf, "--sentinel", "--port", "26381"},
		{"--sentinel", conf, "--port", "26381"},
		{conf, "--port", "26381", "--sentinel", "down-after-milliseconds", "m", "1000"},
	} {
		cfg, err := ParseArgs(args)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if cfg.File != conf {
			t.Errorf("%v: file %q", args, cfg.File)
		}
		wantPort := 26380
		if len(args) > 2 {
			wantPort = 26381
		}
		if cfg.Port != wantPort {
			t.Errorf("%v: port %d, want %d", args, cfg.Port, wantPort)
		}
	}
	cfg, _ := ParseArgs([]string{conf, "--port", "26381", "--sentinel", "down-after-milliseconds", "m", "1000"})
	if want := [][]string{{"monitor", "m", "127.0.0.1", "6379", "2"}, {"down-after-milliseconds", "m", "1000"}}; !reflect.DeepEqual(cfg.Sentinel, want) {
		t.Errorf("directives %v, want %v", cfg.Sentinel, want)
	}
	// metrics-port, the node's own directive, from the file or the
	// command line.
	if cfg, err := ParseArgs([]string{conf, "--sentinel", "--metrics-port", "9121"}); err != nil || cfg.MetricsPort != 9121 {
		t.Errorf("--metrics-port 9121: %+v %v", cfg, err)
	}
	if !IsSentinelMode([]string{conf, "--sentinel"}) || IsSentinelMode([]string{conf, "--port", "1"}) {
		t.Error("IsSentinelMode")
	}
	if _, err := ParseArgs([]string{"--sentinel"}); err == nil || !strings.Contains(err.Error(), "without a config file") {
		t.Errorf("no file: %v", err)
	}
	if _, err := ParseArgs([]string{"/nonexistent/sentinel.conf", "--sentinel"}); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("missing file: %v", err)
	}
}

func TestConfigErrorsAreFatalAsInRedis(t *testing.T) {
	for _, text := range []string{
		"sentinel monitor m 127.0.0.1 6379 0\n",
		"sentinel monitor m not-an-ip 6379 2\n",
		"sentinel down-after-milliseconds nope 1000\n",
		"sentinel monitor m 127.0.0.1 6379 2\nsentinel monitor m 127.0.0.1 6380 2\n",
		"sentinel myid tooshort\n",
		"sentinel frobnicate yes\n",
		"nosuchdirective 1\n",
		"sentinel monitor m \"127.0.0.1 6379 2\n",
		"tls-port 70000\n",
		"tls-replication maybe\n",
		"tls-auth-clients sometimes\n",
		"tls-frobnicate yes\n",
		"metrics-port 70000\n",
		"metrics-port x\n",
		// tls-port with files that do not exist: New fails to load them.
		"tls-port 26380\ntls-cert-file /nonexistent/tls.crt\ntls-key-file /nonexistent/tls.key\n",
	} {
		cfg, err := ParseArgs([]string{writeConf(t, text), "--sentinel"})
		if err == nil {
			_, err = New(cfg, os.Stderr)
		}
		if err == nil {
			t.Errorf("%q: accepted", text)
		}
	}
}

// The tls-* directives of redis.conf: the TLS port, TLS links, the files
// and tls-auth-clients; tls-cluster and the settings Go has no use for are
// accepted with no effect.
func TestTLSDirectives(t *testing.T) {
	conf := writeConf(t, "port 0\ntls-port 26380\ntls-replication yes\ntls-auth-clients OPTIONAL\n"+
		"tls-cert-file /t/tls.crt\ntls-key-file /t/tls.key\ntls-ca-cert-file /t/ca.crt\ntls-cluster yes\ntls-ciphersuites x\n")
	cfg, err := ParseArgs([]string{conf, "--sentinel"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 0 || cfg.TLSPort != 26380 || !cfg.TLSReplication || !cfg.UsesTLS() || cfg.TLS.AuthClients != "optional" ||
		cfg.TLS.CertFile != "/t/tls.crt" || cfg.TLS.KeyFile != "/t/tls.key" || cfg.TLS.CACertFile != "/t/ca.crt" ||
		len(cfg.Ignored) != 2 {
		t.Errorf("config %+v", cfg)
	}
	plain, err := ParseArgs([]string{writeConf(t, "port 26379\n"), "--sentinel"})
	if err != nil || plain.UsesTLS() {
		t.Errorf("a plain sentinel uses TLS: %+v %v", plain, err)
	}
}

// What flushConfig writes reads back into the same state: myid, epochs,
// the master's settings, known replicas and sentinels.
func TestStateRewriteRoundTrip(t *testing.T) {
	conf := writeConf(t, "port 26390\n# a comment\nsentinel monitor m 127.0.0.1 6379 2\nsentinel down-after-milliseconds m 1000\nlogfile \"\"\n")
	cfg, err := ParseArgs([]string{conf, "--sentinel"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	m := s.masters["m"]
	s.addReplica(m, Addr{"127.0.0.1", 6380})
	s.addSentinel(m, Addr{"127.0.0.1", 26391}, strings.Repeat("a", 40))
	m.configEpoch, m.leaderEpoch, s.currentEpoch = 3, 4, 5
	m.authPass = "p w"
	s.flushConfig()
	text, _ := os.ReadFile(conf)
	if !strings.HasPrefix(string(text), "port 26390\n# a comment\nsentinel myid "+s.myID+"\n") ||
		!strings.HasSuffix(string(text), "sentinel current-epoch 5\nlogfile \"\"\n") {
		t.Fatalf("rewritten file:\n%s", text)
	}
	cfg2, err := ParseArgs([]string{conf, "--sentinel"})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(cfg2, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	m2 := s2.masters["m"]
	if s2.myID != s.myID || s2.currentEpoch != 5 || m2.configEpoch != 3 || m2.leaderEpoch != 4 ||
		m2.downAfter != time.Second || m2.authPass != "p w" || len(m2.replicas) != 1 || len(m2.sentinels) != 1 {
		t.Fatalf("state after restart: id %s epoch %d config %d leader %d down %v auth %q replicas %d sentinels %d",
			s2.myID, s2.currentEpoch, m2.configEpoch, m2.leaderEpoch, m2.downAfter, m2.authPass, len(m2.replicas), len(m2.sentinels))
	}
	if !reflect.DeepEqual(s.stateLines(), s2.stateLines()) {
		t.Errorf("state lines differ:\n%v\n%v", s.stateLines(), s2.stateLines())
	}
}

// compareSlavesForPromotion: lower priority, larger offset, smaller run ID.
func TestReplicaPromotionOrder(t *testing.T) {
	r := func(prio int, off int64, id string) *instance {
		return &instance{replicaPriority: prio, replOffset: off, runID: id}
	}
	cases := []struct {
		a, b *instance
	}{
		{r(10, 0, "b"), r(100, 1000, "a")},
		{r(100, 1000, "b"), r(100, 10, "a")},
		{r(100, 10, "a"), r(100, 10, "b")},
		{r(100, 10, "b"), r(100, 10, "")},
	}
	for i, c := range cases {
		if !betterReplica(c.a, c.b) || betterReplica(c.b, c.a) {
			t.Errorf("case %d: order wrong", i)
		}
	}
}

// sentinelSelectSlave: SDOWN, disconnected, priority 0, stale INFO and a
// master link down too long exclude a replica.
func TestSelectReplicaExclusions(t *testing.T) {
	now := time.Now()
	s := &Sentinel{masters: map[string]*instance{}}
	m := s.addMaster("m", Addr{"127.0.0.1", 1}, 1)
	m.downAfter = time.Second
	ok := func(port int) *instance {
		ri := s.addReplica(m, Addr{"127.0.0.1", port})
		ri.link.disconnected = false
		ri.link.lastAvailTime = now
		ri.infoRefresh = now
		ri.runID = strings.Repeat("a", 40)
		return ri
	}
	ok(2).flags |= flagSDown
	ok(3).link.disconnected = true
	ok(4).replicaPriority = 0
	ok(5).infoRefresh = now.Add(-time.Minute)
	ok(6).masterLinkDownTime = time.Minute
	ok(7).link.lastAvailTime = now.Add(-10 * time.Second)
	if got := s.selectReplica(m, now); got != nil {
		t.Fatalf("selected %s", got.name)
	}
	good := ok(8)
	good.replOffset = 5
	if got := s.selectReplica(m, now); got != good {
		t.Fatalf("selected %v", got)
	}
}

// One vote per epoch: a second candidate in the same epoch gets the
// first one's name back, a newer epoch gets a new vote.
func TestVoteLeaderOncePerEpoch(t *testing.T) {
	conf := writeConf(t, "sentinel monitor m 127.0.0.1 6379 2\n")
	cfg, _ := ParseArgs([]string{conf, "--sentinel"})
	s, err := New(cfg, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	m := s.masters["m"]
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	now := time.Now()
	if l, e := s.voteLeader(m, 1, a, now); l != a || e != 1 {
		t.Fatalf("first vote %s %d", l, e)
	}
	if l, e := s.voteLeader(m, 1, b, now); l != a || e != 1 {
		t.Fatalf("second vote in epoch 1 went to %s %d", l, e)
	}
	if l, e := s.voteLeader(m, 2, b, now); l != b || e != 2 || s.currentEpoch != 2 {
		t.Fatalf("vote in epoch 2: %s %d (current %d)", l, e, s.currentEpoch)
	}
	// An older epoch gets the current vote back.
	if l, e := s.voteLeader(m, 1, a, now); l != b || e != 2 {
		t.Fatalf("vote for an old epoch: %s %d", l, e)
	}
	// The vote is on disk before it is given.
	f, _ := os.Open(conf)
	defer f.Close()
	found := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		found = found || sc.Text() == "sentinel leader-epoch m 2"
	}
	if !found {
		t.Error("leader-epoch 2 not saved")
	}
}

func TestParseReplicaLine(t *testing.T) {
	for in, want := range map[string]Addr{
		"ip=10.0.0.1,port=6380,state=online,offset=10,lag=0": {"10.0.0.1", 6380},
		"10.0.0.2,6381,online":                               {"10.0.0.2", 6381},
	} {
		if got, ok := parseReplicaLine(in); !ok || got != want {
			t.Errorf("%q: %v %v", in, got, ok)
		}
	}
	for _, in := range []string{"ip=1.2.3.4,port=0", "ip=,port=1", "port=70000,ip=1.2.3.4", "garbage"} {
		if _, ok := parseReplicaLine(in); ok {
			t.Errorf("%q accepted", in)
		}
	}
}

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "-ERR x\r\n", ":1\r\n", "$3\r\nabc\r\n", "*2\r\n$1\r\na\r\n:2\r\n", "$-1\r\n", "*-1\r\n", "$999999999999\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = readReply(bufio.NewReader(strings.NewReader(string(b))))
	})
}

// processHello ignores malformed hellos and learns a sentinel, a newer
// epoch and a newer master configuration from a good one.
func TestProcessHello(t *testing.T) {
	conf := writeConf(t, "sentinel monitor m 127.0.0.1 6379 2\n")
	cfg, _ := ParseArgs([]string{conf, "--sentinel"})
	s, err := New(cfg, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	id := strings.Repeat("c", 40)
	for _, bad := range []string{"", "a,b", "127.0.0.1,x," + id + ",1,m,127.0.0.1,6379,0", "127.0.0.1,26379," + id + ",1,other,127.0.0.1,6379,0", "127.0.0.1,26379,short,1,m,127.0.0.1,6379,0"} {
		s.processHello(bad)
	}
	m := s.masters["m"]
	if len(m.sentinels) != 0 || s.currentEpoch != 0 {
		t.Fatalf("bad hellos changed the state: %d sentinels, epoch %d", len(m.sentinels), s.currentEpoch)
	}
	s.processHello("127.0.0.1,26379," + id + ",7,m,127.0.0.1,6380,7")
	if len(m.sentinels) != 1 || s.currentEpoch != 7 || m.configEpoch != 7 || m.addr.Port != 6380 {
		t.Fatalf("after a good hello: %d sentinels, epoch %d, config epoch %d, master %v", len(m.sentinels), s.currentEpoch, m.configEpoch, m.addr)
	}
	if _, ok := m.replicas["127.0.0.1:6379"]; !ok {
		t.Error("the old master is not a replica of the new one")
	}
}

// sentinelCheckTiltCondition: a late timer enters TILT, in which the
// sentinel does not mark instances down, for tiltPeriod.
func TestTiltOnLateTimer(t *testing.T) {
	conf := writeConf(t, "sentinel monitor m 127.0.0.1 1 1\nsentinel down-after-milliseconds m 100\n")
	cfg, _ := ParseArgs([]string{conf, "--sentinel"})
	s, err := New(cfg, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	m := s.masters["m"]
	// The links dial in the background and take the lock, as the timer does.
	tick := func(at time.Time) (tilt bool, flags int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.tick(at)
		return s.tilt, m.flags
	}
	now := time.Now()
	tick(now)
	tilt, flags := tick(now.Add(3 * time.Second)) // the timer ran 3 s late
	if !tilt {
		t.Fatal("no TILT after a 3 s late timer")
	}
	if flags&flagSDown != 0 {
		t.Fatal("SDOWN in TILT")
	}
	later := now.Add(3*time.Second + tiltPeriod + time.Second)
	for at := now.Add(3 * time.Second); !at.After(later); at = at.Add(time.Second) {
		tilt, flags = tick(at)
	}
	if tilt || flags&flagSDown == 0 {
		t.Fatalf("after the TILT period: tilt %v, flags %d", tilt, flags)
	}
	s.Stop()
}
