package backup

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/s3test"
	"github.com/shoal-dev/shoal/node/nodetest"
	"github.com/shoal-dev/shoal/node/persistence"
)

// TestUploadShardAndReadBack streams a real node's snapshot into a real
// S3-compatible server (gofakes3, a separate process, on disk) with each
// compression, then reads it back: the object's checksum is the one
// UploadShard reported, every key comes back, and a truncated or altered
// copy is refused (ErrChecksum) by VerifyObject and ReadShard alike.
func TestUploadShardAndReadBack(t *testing.T) {
	srv := s3test.Start(t, "127.0.0.1", "shard-objects")
	store, err := NewStore(StoreConfig{Endpoint: srv.Endpoint, Bucket: "shard-objects", Insecure: true, AccessKeyID: "a", SecretAccessKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	p := nodetest.Start(t, nodetest.Options{Binary: nodetest.Binary(t), Args: []string{"--requirepass", "pw"}})
	fill(t, p.Addr, "pw")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, comp := range []string{CompressionNone, CompressionGzip, CompressionZstd} {
		t.Run(comp, func(t *testing.T) {
			key := "f/" + ObjectName(0, comp)
			obj, err := UploadShard(ctx, store, key, p.Addr, comp, Options{Password: "pw", Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if obj.ObjectSize <= 0 || len(obj.ObjectSHA256) != 64 || (comp == CompressionNone) != (obj.ObjectSize == obj.Size) {
				t.Fatalf("object %+v", obj)
			}
			if err := VerifyObject(ctx, store, key, obj.ObjectSize, obj.ObjectSHA256); err != nil {
				t.Fatal(err)
			}
			keys := 0
			h := persistence.SnapshotHandler{Key: func(persistence.Record) error { keys++; return nil }}
			if err := ReadShard(ctx, store, key, comp, obj.ObjectSize, obj.ObjectSHA256, h); err != nil {
				t.Fatal(err)
			}
			if keys != streamKeys+streamKeys/10 {
				t.Errorf("read %d keys, want %d", keys, streamKeys+streamKeys/10)
			}
			// A truncated copy.
			b := getAll(t, store, key)
			short := b[:len(b)-3]
			if err := store.Put(ctx, key+".short", bytes.NewReader(short), int64(len(short)), ""); err != nil {
				t.Fatal(err)
			}
			if err := VerifyObject(ctx, store, key+".short", obj.ObjectSize, obj.ObjectSHA256); !errors.Is(err, ErrChecksum) {
				t.Errorf("truncated object: VerifyObject = %v, want ErrChecksum", err)
			}
			// A flipped byte in the middle, same size.
			bad := bytes.Clone(b)
			bad[len(bad)/2] ^= 0xff
			if err := store.Put(ctx, key+".bad", bytes.NewReader(bad), int64(len(bad)), ""); err != nil {
				t.Fatal(err)
			}
			if err := VerifyObject(ctx, store, key+".bad", obj.ObjectSize, obj.ObjectSHA256); !errors.Is(err, ErrChecksum) {
				t.Errorf("altered object: VerifyObject = %v, want ErrChecksum", err)
			}
			if err := ReadShard(ctx, store, key+".bad", comp, obj.ObjectSize, obj.ObjectSHA256, persistence.SnapshotHandler{Key: func(persistence.Record) error { return nil }}); err == nil {
				t.Error("altered object: ReadShard passed")
			}
		})
	}
	// A node that refuses (wrong password) leaves no object.
	if _, err := UploadShard(ctx, store, "f/refused", p.Addr, CompressionNone, Options{Password: "wrong", Timeout: 5 * time.Second}); err == nil {
		t.Fatal("upload with a wrong password passed")
	}
	if keys, err := store.List(ctx, "f/refused"); err != nil || len(keys) != 0 {
		t.Errorf("a failed upload left %q (%v)", keys, err)
	}
	if err := store.RemoveAll(ctx, "f/"); err != nil {
		t.Fatal(err)
	}
	if keys, err := store.List(ctx, "f/"); err != nil || len(keys) != 0 {
		t.Errorf("after RemoveAll: %q (%v)", keys, err)
	}
}

func getAll(t *testing.T, s *Store, key string) []byte {
	t.Helper()
	r, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParseManifestRefuses(t *testing.T) {
	sha := strings.Repeat("a", 64)
	good := `{"format":1,"compression":"None","shards":[{"shard":0,"slots":["0-8191"],"object":"shard-0.rdb","size":1,"sha256":"` + sha + `"},{"shard":1,"slots":["8192-16383"],"object":"shard-1.rdb","size":1,"sha256":"` + sha + `"}]}`
	if _, err := ParseManifest([]byte(good)); err != nil {
		t.Fatalf("good manifest: %v", err)
	}
	for name, m := range map[string]string{
		"format":       strings.Replace(good, `"format":1`, `"format":2`, 1),
		"missing slot": strings.Replace(good, `"8192-16383"`, `"8193-16383"`, 1),
		"two owners":   strings.Replace(good, `"8192-16383"`, `"8191-16383"`, 1),
		"path":         strings.Replace(good, `"shard-1.rdb"`, `"../x"`, 1),
		"sha":          strings.Replace(good, sha+`"}]`, `abc"}]`, 1),
		"compression":  strings.Replace(good, `"None"`, `"Lz4"`, 1),
		"not json":     good[:20],
	} {
		if _, err := ParseManifest([]byte(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
