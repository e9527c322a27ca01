package interop

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/shoal-dev/shoal/node/persistence"
	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

func loadRecords(t *testing.T, name string, h persistence.SnapshotHandler) []persistence.Record {
	t.Helper()
	var recs []persistence.Record
	h.Key = func(r persistence.Record) error { recs = append(recs, r); return nil }
	if err := persistence.LoadSnapshotFile(filepath.Join("testdata", name), h); err != nil {
		t.Fatal(err)
	}
	return recs
}

func id(s rdb.StreamID) string { return fmt.Sprintf("%d-%d", s.Ms, s.Seq) }

// TestGoldenStream: redis-server's stream, with its consumer groups,
// parses fully into the neutral form, becomes a keyspace stream, and
// that stream written back reads as the same content.
func TestGoldenStream(t *testing.T) {
	codecs := persistence.KeyspaceCodecs(nil, nil, nil, nil)
	want := readRendering(t, filepath.Join("testdata", "stream.txt"))
	got := map[string]*rdb.Stream{}
	for _, r := range loadRecords(t, "stream.rdb", persistence.SnapshotHandler{}) {
		if r.Type != persistence.TypeStream {
			continue
		}
		o, err := rdb.DecodeObject(r.Value[0], r.Value[1:])
		if err != nil || o.Kind != rdb.KindStream {
			t.Fatalf("%s: %v %v", r.Key, o.Kind, err)
		}
		got[string(r.Key)] = o.Stream
		// The keyspace's stream of it writes back the same content.
		v, err := codecs.DecodeValue(r.Type, r.Value)
		if err != nil {
			t.Fatalf("decode of stream %s: %v", r.Key, err)
		}
		enc, err := codecs.AppendValue(nil, r.Type, v)
		if err != nil {
			t.Fatal(err)
		}
		again, err := rdb.DecodeObject(enc[0], enc[1:])
		if err != nil || !reflect.DeepEqual(again.Stream, o.Stream) {
			t.Errorf("%s written back: %v\n got %+v\nwant %+v", r.Key, err, again.Stream, o.Stream)
		}
		var parts []string
		for _, e := range o.Stream.Entries {
			var kv []string
			for i := 0; i < len(e.Fields); i += 2 {
				kv = append(kv, string(e.Fields[i])+":"+string(e.Fields[i+1]))
			}
			parts = append(parts, id(e.ID)+"map["+strings.Join(kv, " ")+"]")
		}
		if line := "stream -1 " + strings.Join(parts, " "); line != want[fmt.Sprintf("0 %q", r.Key)] {
			t.Errorf("%s: entries %q, redis-server had %q", r.Key, line, want[fmt.Sprintf("0 %q", r.Key)])
		}
	}
	s, e := got["s"], got["empty"]
	if s == nil || e == nil {
		t.Fatalf("streams %v", got)
	}
	if s.Length != 4 || id(s.LastID) != "4-0" || id(s.FirstID) != "1-1" || id(s.MaxDeletedID) != "4-0" || s.EntriesAdded != 5 {
		t.Errorf("stream s: %+v", s)
	}
	if len(s.Groups) != 2 {
		t.Fatalf("groups %+v", s.Groups)
	}
	g1, g2 := s.Groups[0], s.Groups[1]
	if string(g1.Name) != "g1" || id(g1.LastID) != "2-0" || g1.EntriesRead != -1 || len(g1.PEL) != 2 || len(g1.Consumers) != 3 {
		t.Errorf("g1: %+v", g1)
	}
	pel := map[string]string{}
	for _, n := range g1.PEL {
		pel[id(n.ID)] = fmt.Sprintf("%s/%d", n.Consumer, n.DeliveryCount)
		if n.DeliveryTime <= 0 {
			t.Errorf("delivery time %d", n.DeliveryTime)
		}
	}
	if fmt.Sprint(pel) != "map[1-1:alice/1 2-0:bob/1]" {
		t.Errorf("g1 pending %v", pel)
	}
	if string(g2.Name) != "g2" || id(g2.LastID) != "4-0" || g2.EntriesRead != -1 || len(g2.PEL) != 0 || len(g2.Consumers) != 0 {
		t.Errorf("g2: %+v", g2)
	}
	if e.Length != 0 || len(e.Entries) != 0 || id(e.LastID) != "5-5" || id(e.MaxDeletedID) != "5-5" || e.EntriesAdded != 1 {
		t.Errorf("empty stream: %+v", e)
	}
}

// TestGoldenFunctions: a file with a function library hands its code to
// the Function hook, and without one refuses to load (ErrFunctions) rather
// than drop it.
func TestGoldenFunctions(t *testing.T) {
	var libs []string
	recs := loadRecords(t, "functions.rdb", persistence.SnapshotHandler{Function: func(code []byte) error {
		libs = append(libs, string(code))
		return nil
	}})
	if len(libs) != 1 || libs[0] != libraryCode || len(recs) != 1 {
		t.Fatalf("libraries %q, %d keys", libs, len(recs))
	}
	err := persistence.LoadSnapshotFile(filepath.Join("testdata", "functions.rdb"), persistence.SnapshotHandler{})
	if !errors.Is(err, persistence.ErrFunctions) {
		t.Fatalf("without a hook: %v", err)
	}
}

// TestGoldenFunctionsLoadIntoNode: redis-server's file with a function
// library (an RDB_OPCODE_FUNCTION2 record) loads into our node with the
// library, which FCALL then runs; and our node, made the replica of a
// redis-server master holding a library, gets it by the full sync.
func TestGoldenFunctionsLoadIntoNode(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	copyFile(t, filepath.Join("testdata", "functions.rdb"), filepath.Join(dir, "dump.rdb"))
	n := startNode(t, dir)
	c := redis.NewClient(&redis.Options{Addr: n.Addr, Protocol: 2})
	defer c.Close()
	if got, err := c.FCall(ctx, "myfunc", nil).Int(); err != nil || got != 1 {
		t.Fatalf("FCALL myfunc after loading redis-server's file = %v, %v", got, err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET k = %q, %v", v, err)
	}

	mp := startRedis(t, t.TempDir(), "--repl-diskless-sync-delay", "0")
	m := redis.NewClient(&redis.Options{Addr: mp.Addr, Protocol: 2})
	defer m.Close()
	if err := m.FunctionLoad(ctx, strings.Replace(libraryCode, "mylib", "fromredis", 1)).Err(); err != nil {
		t.Fatal(err)
	}
	rp := startNode(t, t.TempDir())
	r := redis.NewClient(&redis.Options{Addr: rp.Addr, Protocol: 2})
	defer r.Close()
	if err := r.Do(ctx, "REPLICAOF", "127.0.0.1", mp.Port).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replica to have the master's library", func() bool {
		libs, err := r.FunctionList(ctx, redis.FunctionListQuery{}).Result()
		return err == nil && len(libs) == 1 && libs[0].Name == "fromredis"
	})
}
