package backup

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/controllers/backup/sealed"
	"github.com/shoal-dev/shoal/internal/s3test"
	"github.com/shoal-dev/shoal/node/nodetest"
	"github.com/shoal-dev/shoal/node/persistence"
)

// TestUploadShardAndReadBack streams a real node's snapshot into a real
// S3-compatible server (gofakes3, a separate process, on disk) with each
// compression, plain and encrypted, and into a directory (DirStore, as on
// a mounted volume), then reads it back: the object's
// checksum is the one UploadShard reported, every key comes back, and a
// truncated or altered copy is refused (ErrChecksum; sealed.ErrCorrupt when
// encrypted) by VerifyObject and ReadShard alike; another key is refused
// (sealed.ErrWrongKey) before any record is passed.
func TestUploadShardAndReadBack(t *testing.T) {
	srv := s3test.Start(t, "127.0.0.1", "shard-objects")
	s3Store, err := NewStore(StoreConfig{Endpoint: srv.Endpoint, Bucket: "shard-objects", Insecure: true, AccessKeyID: "a", SecretAccessKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := nodetest.Start(t, nodetest.Options{Binary: nodetest.Binary(t), Args: []string{"--requirepass", "pw"}})
	fill(t, p.Addr, "pw")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for name, store := range map[string]Objects{"s3": s3Store, "dir": dir} {
		t.Run(name, func(t *testing.T) { uploadAndReadBack(ctx, t, store, p.Addr) })
	}
}

// uploadAndReadBack is TestUploadShardAndReadBack on one store.
func uploadAndReadBack(ctx context.Context, t *testing.T, store Objects, addr string) {
	encKey := bytes.Repeat([]byte{1}, sealed.KeySize)
	formats := []Format{{Compression: CompressionNone}, {Compression: CompressionGzip}, {Compression: CompressionZstd},
		{Compression: CompressionNone, Key: encKey}, {Compression: CompressionZstd, Key: encKey}}
	for _, f := range formats {
		comp := f.Compression
		t.Run(ObjectName(0, f), func(t *testing.T) {
			key := "f/" + ObjectName(0, f)
			obj, err := UploadShard(ctx, store, key, addr, f, Options{Password: "pw", Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if obj.ObjectSize <= 0 || len(obj.ObjectSHA256) != 64 || (comp == CompressionNone && f.Key == nil) != (obj.ObjectSize == obj.Size) {
				t.Fatalf("object %+v", obj)
			}
			if err := VerifyObject(ctx, store, key, f, obj.ObjectSize, obj.ObjectSHA256); err != nil {
				t.Fatal(err)
			}
			if f.Key != nil {
				if b := getAll(t, store, key); bytes.Contains(b, []byte("REDIS")) || bytes.Contains(b, []byte("stream:")) {
					t.Error("the encrypted object holds the snapshot's plain text")
				}
				wrong := Format{Compression: comp, Key: bytes.Repeat([]byte{2}, sealed.KeySize)}
				if err := VerifyObject(ctx, store, key, wrong, obj.ObjectSize, obj.ObjectSHA256); !errors.Is(err, sealed.ErrWrongKey) {
					t.Errorf("another key: VerifyObject = %v, want sealed.ErrWrongKey", err)
				}
				passed := 0
				count := persistence.SnapshotHandler{Key: func(persistence.Record) error { passed++; return nil }}
				if err := ReadShard(ctx, store, key, wrong, obj.ObjectSize, obj.ObjectSHA256, count); !errors.Is(err, sealed.ErrWrongKey) || passed != 0 {
					t.Errorf("another key: ReadShard = %v after %d records, want sealed.ErrWrongKey before any", err, passed)
				}
			}
			keys := 0
			h := persistence.SnapshotHandler{Key: func(persistence.Record) error { keys++; return nil }}
			if err := ReadShard(ctx, store, key, f, obj.ObjectSize, obj.ObjectSHA256, h); err != nil {
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
			if err := VerifyObject(ctx, store, key+".short", f, obj.ObjectSize, obj.ObjectSHA256); !refused(err) {
				t.Errorf("truncated object: VerifyObject = %v, want ErrChecksum or sealed.ErrCorrupt", err)
			}
			// A flipped byte in the middle, same size.
			bad := bytes.Clone(b)
			bad[len(bad)/2] ^= 0xff
			if err := store.Put(ctx, key+".bad", bytes.NewReader(bad), int64(len(bad)), ""); err != nil {
				t.Fatal(err)
			}
			if err := VerifyObject(ctx, store, key+".bad", f, obj.ObjectSize, obj.ObjectSHA256); !refused(err) {
				t.Errorf("altered object: VerifyObject = %v, want ErrChecksum or sealed.ErrCorrupt", err)
			}
			if err := ReadShard(ctx, store, key+".bad", f, obj.ObjectSize, obj.ObjectSHA256, persistence.SnapshotHandler{Key: func(persistence.Record) error { return nil }}); err == nil {
				t.Error("altered object: ReadShard passed")
			}
		})
	}
	// A node that refuses (wrong password) leaves no object.
	if _, err := UploadShard(ctx, store, "f/refused", addr, Format{Compression: CompressionNone}, Options{Password: "wrong", Timeout: 5 * time.Second}); err == nil {
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

// refused: a checksum mismatch, or an encrypted object that does not
// decrypt.
func refused(err error) bool { return errors.Is(err, ErrChecksum) || errors.Is(err, sealed.ErrCorrupt) }

func getAll(t *testing.T, s Objects, key string) []byte {
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
		"encryption":   strings.Replace(good, `"None"`, `"None","encryption":"ROT13","keyID":"0011223344556677"`, 1),
		"no key ID":    strings.Replace(good, `"None"`, `"None","encryption":"AES-256-GCM"`, 1),
		"bad key ID":   strings.Replace(good, `"None"`, `"None","encryption":"AES-256-GCM","keyID":"00"`, 1),
	} {
		if _, err := ParseManifest([]byte(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestManifestOfAReplication: a RedisReplication's manifest has one shard
// without slots; it restores only into a RedisReplication, and a
// RedisCluster's (kind unset, as written before replications) only into a
// RedisCluster.
func TestManifestOfAReplication(t *testing.T) {
	sha := strings.Repeat("a", 64)
	good := `{"format":1,"kind":"RedisReplication","compression":"None","shards":[{"shard":0,"object":"shard-0.rdb","size":1,"sha256":"` + sha + `"}]}`
	m, err := ParseManifest([]byte(good))
	if err != nil {
		t.Fatalf("good manifest: %v", err)
	}
	if err := m.CheckKind(KindReplication); err != nil {
		t.Errorf("into a replication: %v", err)
	}
	if err := m.CheckKind(KindCluster); err == nil || !strings.Contains(err.Error(), "the backup is of a RedisReplication, it cannot be restored into a RedisCluster") {
		t.Errorf("into a cluster: %v", err)
	}
	for name, bad := range map[string]string{
		"slots":      strings.Replace(good, `"shard":0,`, `"shard":0,"slots":["0-16383"],`, 1),
		"two shards": strings.Replace(good, `}]}`, `},{"shard":1,"object":"shard-1.rdb","size":1,"sha256":"`+sha+`"}]}`, 1),
		"kind":       strings.Replace(good, `"RedisReplication"`, `"RedisSentinel"`, 1),
	} {
		if _, err := ParseManifest([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	cluster := `{"format":1,"compression":"None","shards":[{"shard":0,"slots":["0-16383"],"object":"shard-0.rdb","size":1,"sha256":"` + sha + `"}]}`
	m, err = ParseManifest([]byte(cluster))
	if err != nil || m.CheckKind(KindCluster) != nil || m.CheckKind(KindReplication) == nil {
		t.Errorf("a cluster's manifest without kind: %v, into a cluster %v, into a replication %v", err, m.CheckKind(KindCluster), m.CheckKind(KindReplication))
	}
}
