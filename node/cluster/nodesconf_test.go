package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadNodesConfWrittenByRedis(t *testing.T) {
	m, rd, err := Load(goldenNow, testConfig(23404, 1), []byte(readGolden(t, "nodes.conf.23404")))
	if err != nil {
		t.Fatal(err)
	}
	me := m.Myself()
	if me.ID != "d42b257a501f0e1cdcd2c9e1c91f3ec31e172281" || !me.IsReplica() || me.MasterID != "3002e293a05fe17bb5e1f538ef0191006d55d9f7" {
		t.Fatalf("myself %+v", me)
	}
	if m.CurrentEpoch() != 7 || m.LastVoteEpoch() != 0 || len(m.Nodes()) != 6 {
		t.Fatalf("epochs %d/%d, %d nodes", m.CurrentEpoch(), m.LastVoteEpoch(), len(m.Nodes()))
	}
	if o, ok := m.SlotOwner(12182); !ok || o.ID != "c480a51a1f2fe0ef1f940de4ba465fc7521e0ce3" || o.Endpoint != "127.0.0.1" || o.Port != 23403 {
		t.Fatalf("owner of 12182: %+v", o)
	}
	if !m.MySlot(0) || m.MySlot(5461) {
		t.Fatal("a replica serves its master's slots")
	}
	// The loaded machine asks to rewrite nodes.conf in our format, and to
	// replicate its master.
	if !rd.SaveConfig || rd.Replication == nil || rd.Replication.MasterID != me.MasterID || rd.Replication.Port != 23401 {
		t.Fatalf("ready %+v", rd)
	}
	// Our format survives a round trip exactly.
	again, _, err := Load(goldenNow, testConfig(23404, 2), rd.NodesConf)
	if err != nil {
		t.Fatal(err)
	}
	if string(again.NodesConf()) != string(rd.NodesConf) {
		t.Fatalf("round trip:\n%s\n%s", again.NodesConf(), rd.NodesConf)
	}
	if again.Myself().ShardID != me.ShardID {
		t.Fatal("shard ID not kept")
	}
}

func TestNewNodeSavesAndReloadsItsIdentity(t *testing.T) {
	m, rd, err := New(goldenNow, testConfig(7000, 3))
	if err != nil {
		t.Fatal(err)
	}
	if !rd.SaveConfig || !rd.Fsync {
		t.Fatal("a new node must save nodes.conf")
	}
	id := m.Myself().ID
	if len(id) != 40 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Fatalf("node ID %q", id)
	}
	want := id + " :7000@17000,,shard-id=" + m.Myself().ShardID + " myself,master - 0 0 0 connected\nvars currentEpoch 0 lastVoteEpoch 0\n"
	if string(rd.NodesConf) != want {
		t.Fatalf("nodes.conf\n%q\nwant\n%q", rd.NodesConf, want)
	}
	// CLUSTER NODES of a fresh node, as Redis prints it.
	if got := m.ClusterNodes(); got != id+" :7000@17000 myself,master - 0 0 0 connected\n" {
		t.Fatalf("CLUSTER NODES %q", got)
	}
	m2, _, err := Load(goldenNow, testConfig(7001, 4), rd.NodesConf)
	if err != nil || m2.Myself().ID != id || m2.Myself().Port != 7001 {
		t.Fatalf("reload: %v %+v", err, m2.Myself())
	}
}

func TestNewIsDeterministicForASeed(t *testing.T) {
	a, _, _ := New(goldenNow, testConfig(7000, 9))
	b, _, _ := New(goldenNow, testConfig(7000, 9))
	c, _, _ := New(goldenNow, testConfig(7000, 10))
	if a.Myself().ID != b.Myself().ID || a.Myself().ID == c.Myself().ID {
		t.Fatal("node IDs must come from Config.Rand only")
	}
}

func TestLoadRejectsCorruptNodesConf(t *testing.T) {
	const (
		a = "3002e293a05fe17bb5e1f538ef0191006d55d9f7"
		b = "0d3ad58af6cd5073cc265ec3256a3ca147e6b65a"
	)
	me := a + " 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-10\n"
	vars := "vars currentEpoch 1 lastVoteEpoch 0\n"
	for _, tc := range []struct{ name, conf, want string }{
		{"empty", "", "empty file"},
		{"no myself", strings.Replace(me, "myself,", "", 1) + vars, "no node flagged myself"},
		{"two myself", me + b + " 127.0.0.1:7001@17001 myself,master - 0 0 2 connected\n" + vars, "line 2: more than one node flagged myself"},
		{"short line", a + " 127.0.0.1:7000@17000 myself,master - 0 0 1\n", "line 1: 7 fields"},
		{"bad ID", strings.Replace(me, a, "XYZ", 1), "invalid node ID"},
		{"unknown flag", strings.Replace(me, "myself,master", "myself,boss", 1), `unknown flag "boss"`},
		{"master and slave", strings.Replace(me, "myself,master", "myself,master,slave", 1), "both master and slave"},
		{"bad address", strings.Replace(me, "127.0.0.1:7000@17000", "127.0.0.1-7000", 1), "invalid address"},
		{"bad port", strings.Replace(me, ":7000@", ":70000@", 1), "invalid address"},
		{"newline-ish hostname", strings.Replace(me, "@17000", "@17000,a\rb", 1), "invalid hostname"},
		{"bad epoch", strings.Replace(me, " 0 0 1 ", " 0 0 x ", 1), "config-epoch"},
		{"bad link state", strings.Replace(me, "connected", "linked", 1), "link state"},
		{"bad range", strings.Replace(me, "0-10", "10-0", 1), "invalid slot or range"},
		{"slot out of range", strings.Replace(me, "0-10", "16384", 1), "invalid slot or range"},
		{"slot twice", me + b + " 127.0.0.1:7001@17001 master - 0 0 2 connected 5\n", "slot 5 assigned to both"},
		{"open slot elsewhere", me + b + " 127.0.0.1:7001@17001 master - 0 0 2 connected [5->-" + a + "]\n", "open slot"},
		{"bad open slot", strings.Replace(me, "0-10", "[5->-zz]", 1), "invalid open slot"},
		{"dangling master", strings.Replace(me, "myself,master -", "myself,slave "+b, 1), "referenced but has no line"},
		{"duplicate node", me + me, "duplicate node"},
		{"bad vars", me + "vars currentEpoch\n", "vars line"},
		{"negative var", me + "vars currentEpoch -1\n", "invalid currentEpoch"},
		{"bad var value", me + "vars currentEpoch x lastVoteEpoch 0\n", "invalid currentEpoch"},
		{"own master", strings.Replace(me, "myself,master -", "myself,slave "+a, 1), "invalid master ID"},
	} {
		m, _, err := Load(goldenNow, testConfig(7000, 1), []byte(tc.conf))
		var ce *NodesConfError
		if err == nil || m != nil || !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a NodesConfError mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestWriteNodesConfIsAtomicReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nodes.conf")
	for _, content := range []string{"first\n", "second, longer content\n", ""} {
		if err := WriteNodesConf(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("content %q, %v", got, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	if err := WriteNodesConf(filepath.Join(dir, "missing", "nodes.conf"), []byte("x")); err == nil {
		t.Fatal("writing into a missing directory must fail")
	}
}

// FuzzLoadNodesConf: any input loads or fails with a NodesConfError, never
// panics; what loads saves to a file that loads to the same file.
func FuzzLoadNodesConf(f *testing.F) {
	for _, name := range []string{"nodes.conf.23404", "nodes.conf.23401-after-reset", "nodes-open-slots.23401.txt", "nodes-failover.23402.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", "redis7", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("vars currentEpoch 1\n"))
	now := time.UnixMilli(1795241520000)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, _, err := Load(now, testConfig(7000, 1), data)
		if err != nil {
			var ce *NodesConfError
			if m != nil || !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) with machine %v", err, err, m != nil)
			}
			return
		}
		saved := m.NodesConf()
		m2, _, err := Load(now, testConfig(7000, 1), saved)
		if err != nil {
			t.Fatalf("reloading what we saved: %v\n%s", err, saved)
		}
		if again := m2.NodesConf(); string(again) != string(saved) {
			t.Fatalf("not stable:\n%s\n%s", saved, again)
		}
		m.ClusterNodes()
	})
}
