package backup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// TestUploadShardsAndLoadShard backs up two real nodes with UploadShards
// (the objects come back in the order of the sources, named by shard) and
// loads both objects with LoadShard into a third node: every key, value
// and TTL of both comes back. A source that does not answer fails the
// backup naming its shard and pod; a target that does not answer is a
// *TargetError.
func TestUploadShardsAndLoadShard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := nodetest.Start(t, nodetest.Options{Binary: nodetest.Binary(t)})
	b := nodetest.Start(t, nodetest.Options{Binary: nodetest.Binary(t)})
	dst := nodetest.Start(t, nodetest.Options{Binary: nodetest.Binary(t)})
	ca := fill(t, a.Addr, "")
	cb := redis.NewClient(&redis.Options{Addr: b.Addr, Protocol: 2, DisableIdentity: true})
	defer cb.Close()
	for i := range 50 {
		if err := cb.Set(ctx, fmt.Sprintf("b:%d", i), i, time.Duration(i+1)*time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	store, err := NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := Format{Compression: CompressionZstd}
	sources := []Source{{Shard: 1, Pod: "pod-b", Addr: b.Addr}, {Shard: 0, Pod: "pod-a", Addr: a.Addr}}
	objs, err := UploadShards(ctx, store, "bk/", f, sources, Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].Key != "bk/"+ObjectName(1, f) || objs[1].Key != "bk/"+ObjectName(0, f) {
		t.Fatalf("objects %+v", objs)
	}

	target := nodeadmin.NewNodeTarget(dst.Addr, nodeadmin.SourceAuth{})
	defer target.Close()
	var total int64
	for i, o := range objs {
		shard := ManifestShard{Shard: sources[i].Shard, Object: o.Key, Size: o.ObjectSize, SHA256: o.ObjectSHA256}
		n, err := LoadShard(ctx, store, o.Key, f, shard, false, target)
		if err != nil {
			t.Fatalf("shard %d: %v", shard.Shard, err)
		}
		total += n
	}
	if want := int64(streamKeys + streamKeys/10 + 50); total != want {
		t.Errorf("LoadShard restored %d keys, want %d", total, want)
	}
	cd := redis.NewClient(&redis.Options{Addr: dst.Addr, Protocol: 2, DisableIdentity: true})
	defer cd.Close()
	for _, src := range []*redis.Client{ca, cb} {
		keys, err := src.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			want, _ := src.Dump(ctx, k).Result()
			got, _ := cd.Dump(ctx, k).Result()
			wttl, _ := src.PTTL(ctx, k).Result()
			gttl, _ := cd.PTTL(ctx, k).Result()
			if got != want || (wttl < 0) != (gttl < 0) || (wttl-gttl).Abs() > time.Minute {
				t.Fatalf("key %q: restored %q ttl %v, want %q ttl %v", k, got, gttl, want, wttl)
			}
		}
	}

	_, err = UploadShards(ctx, store, "bad/", f, []Source{{Shard: 0, Pod: "pod-a", Addr: a.Addr}, {Shard: 7, Pod: "pod-gone", Addr: "127.0.0.1:1"}}, Options{Timeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "shard 7 (pod pod-gone)") {
		t.Errorf("a source that does not answer: %v", err)
	}
	gone := nodeadmin.NewNodeTarget("127.0.0.1:1", nodeadmin.SourceAuth{Timeout: time.Second})
	defer gone.Close()
	o := objs[0]
	var te *TargetError
	if _, err := LoadShard(ctx, store, o.Key, f, ManifestShard{Size: o.ObjectSize, SHA256: o.ObjectSHA256}, false, gone); !errors.As(err, &te) {
		t.Errorf("a target that does not answer: %v, want a *TargetError", err)
	}
}
