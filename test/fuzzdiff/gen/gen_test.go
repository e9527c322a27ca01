package gen

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/test/fuzzdiff/shape"
)

// sampleGenerator is a generator over the stored COMMAND INFO/DOCS sample
// of Redis 7.0.15 (see ../testdata).
func sampleGenerator(t *testing.T, seed uint64) *Generator {
	t.Helper()
	info, err1 := os.ReadFile("../testdata/command-info.resp")
	docs, err2 := os.ReadFile("../testdata/command-docs.resp")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	cmds, err := shape.ParseRaw(info, docs)
	if err != nil {
		t.Fatal(err)
	}
	env := Env{ConfigNames: []string{"dir", "maxmemory", "maxmemory-policy", "hz", "port"}, Now: 1700000000, ResetEvery: 50}
	return New(seed, cmds, env)
}

func lines(g *Generator, n int) []Line {
	out := make([]Line, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

func TestSameSeedSameLines(t *testing.T) {
	a, b := lines(sampleGenerator(t, 7), 500), lines(sampleGenerator(t, 7), 500)
	c := lines(sampleGenerator(t, 8), 500)
	same := true
	for i := range a {
		if !slices.Equal(a[i].Args, b[i].Args) {
			t.Fatalf("line %d differs for one seed: %q vs %q", i, a[i].Args, b[i].Args)
		}
		same = same && slices.Equal(a[i].Args, c[i].Args)
	}
	if same {
		t.Error("seeds 7 and 8 generated the same lines")
	}
}

func TestGeneratedLinesAreSafe(t *testing.T) {
	g := sampleGenerator(t, 1)
	seen := map[string]int{}
	for _, l := range lines(g, 20000) {
		if l.Setup || l.Cmd == nil { // the setup, or a push after an async blocking line
			continue
		}
		name := l.Cmd.Name
		seen[name]++
		if Skip(name) {
			t.Fatalf("skipped command generated: %q", l.Args)
		}
		switch {
		case name == "migrate":
			if l.Args[1] != "127.0.0.1" {
				t.Fatalf("MIGRATE to another host: %q", l.Args)
			}
		case l.Cmd.Flags["blocking"]:
			timeout := l.Args[len(l.Args)-1]
			if name == "blmpop" {
				timeout = l.Args[1]
			}
			if !slices.Contains(smallBlockTimeouts, timeout) && !(l.Async && timeout == "0.2") {
				t.Fatalf("blocking command with a timeout not in the small set: %q", l.Args)
			}
		case name == "wait":
			if !slices.Contains([]string{"1", "10", "-1", "abc"}, l.Args[2]) {
				t.Fatalf("WAIT with a long timeout: %q", l.Args)
			}
		case name == "srandmember" && len(l.Args) > 2:
			if n, err := strconv.ParseInt(l.Args[2], 10, 64); err == nil && n < -1000 && n != -1<<63 {
				t.Fatalf("SRANDMEMBER count that makes Redis build a huge reply: %q", l.Args)
			}
		case name == "config|set":
			for _, a := range l.Args[2:] {
				if a == "dir" || a == "port" || a == "maxmemory" {
					t.Fatalf("CONFIG SET of a denied parameter: %q", l.Args)
				}
			}
		}
	}
	for _, want := range []string{"set", "config|set", "blpop", "zintercard", "migrate", "acl|setuser"} {
		if seen[want] == 0 {
			t.Errorf("%s never generated in 20000 lines", want)
		}
	}
	if seen["shutdown"] != 0 {
		t.Error("SHUTDOWN generated")
	}
}

func TestAsyncBlockingLineIsFollowedByAPush(t *testing.T) {
	g := sampleGenerator(t, 4)
	ls := lines(g, 20000)
	async := 0
	for i, l := range ls {
		if !l.Async {
			continue
		}
		async++
		if !l.Cmd.Flags["blocking"] {
			t.Fatalf("async line of a command that does not block: %q", l.Args)
		}
		next := ls[i+1]
		if next.Async || next.Cmd != nil || !slices.ContainsFunc(l.Args, func(a string) bool { return slices.Contains(next.Args, a) && slices.Contains(KeyPool, a) }) {
			t.Fatalf("async %q followed by %q, want a push to one of its keys", l.Args, next.Args)
		}
	}
	if async == 0 {
		t.Error("no async blocking line in 20000")
	}
}

func TestNumkeysMatchesTheKeysMostly(t *testing.T) {
	g := sampleGenerator(t, 3)
	match, total := 0, 0
	for _, l := range lines(g, 20000) {
		if l.Cmd == nil || l.Cmd.Name != "zintercard" || len(l.Args) < 3 {
			continue
		}
		total++
		n, err := strconv.Atoi(l.Args[1])
		if err == nil && n >= 0 && n <= len(l.Args)-2 && (len(l.Args) == 2+n || l.Args[2+n] == "LIMIT" || l.Args[2+n] == "limit") {
			match++
		}
	}
	if total == 0 || match*2 < total {
		t.Errorf("numkeys matched the keys in %d of %d ZINTERCARD lines, want most", match, total)
	}
}

func TestEdgeValuesAppear(t *testing.T) {
	g := sampleGenerator(t, 5)
	found := map[string]bool{}
	for _, l := range lines(g, 20000) {
		for _, a := range l.Args {
			switch {
			case a == "9223372036854775807", a == "-9223372036854775808", a == "inf", a == "nan", a == "":
				found[a] = true
			case len(a) == len(bigString):
				found["1MB"] = true
			case strings.Count(a, "*") > 10:
				found["stars"] = true
			case strings.ContainsRune(a, 0):
				found["nul"] = true
			}
		}
	}
	for _, want := range []string{"9223372036854775807", "-9223372036854775808", "inf", "nan", "", "1MB", "stars", "nul"} {
		if !found[want] {
			t.Errorf("edge value %q never generated", want)
		}
	}
}

func TestResetsFollowSPOPAndFlushAndPeriod(t *testing.T) {
	g := sampleGenerator(t, 9)
	ls := lines(g, 5000)
	resets := 0
	for i, l := range ls {
		if l.Cmd != nil && l.Cmd.Name == "spop" && len(l.Args) > 1 {
			next := ls[i+1]
			if !next.Setup || next.Args[0] != "DEL" || !slices.Contains(next.Args[1:], l.Args[1]) {
				t.Fatalf("SPOP %q not followed by a reset of its key: %q", l.Args[1], next.Args)
			}
		}
		if l.Setup && l.Args[0] == "DEL" && len(l.Args) == len(KeyPool)+1 {
			resets++
		}
	}
	if resets < 5000/50/2 {
		t.Errorf("%d full resets in 5000 lines with ResetEvery 50", resets)
	}
}

func TestResetKeysOncePerPoolKey(t *testing.T) {
	got := ResetKeys([]string{"list", "x", "list", "nokey"})
	var dels []string
	for _, l := range got {
		if l.Args[0] == "DEL" {
			dels = append(dels, l.Args[1])
		}
		if !l.Setup {
			t.Errorf("reset line %q not marked Setup", l.Args)
		}
	}
	if !slices.Equal(dels, []string{"list", "nokey"}) || len(got) != 3 {
		t.Errorf("ResetKeys = %v", got)
	}
}

func TestSafeCount(t *testing.T) {
	for in, want := range map[string]string{
		"-5": "-5", "-1000": "-1000", "-1001": "-1000", "-2147483648": "-1000",
		"-9223372036854775808": "-9223372036854775808", "10": "10", "abc": "abc",
	} {
		if got := safeCount(in); got != want {
			t.Errorf("safeCount(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestSetupCoversEveryType(t *testing.T) {
	verbs := map[string]bool{}
	for _, l := range Setup() {
		verbs[l.Args[0]] = true
	}
	for _, v := range []string{"SET", "RPUSH", "HSET", "SADD", "ZADD"} {
		if !verbs[v] {
			t.Errorf("setup lacks %s", v)
		}
	}
	for _, k := range setupKeys {
		if !slices.Contains(KeyPool, k) {
			t.Errorf("setup key %q not in the pool", k)
		}
	}
}
