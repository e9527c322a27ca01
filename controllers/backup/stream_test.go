package backup

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shoal-dev/shoal/node/nodetest"
	"github.com/shoal-dev/shoal/node/persistence"
)

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }

const streamKeys = 5000

func fill(t *testing.T, addr, password string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Password: password, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	pipe := c.Pipeline()
	for i := range streamKeys {
		pipe.Set(ctx, fmt.Sprintf("k:%d", i), strings.Repeat("v", i%100), 0)
		if i%10 == 0 {
			pipe.HSet(ctx, fmt.Sprintf("h:%d", i), "f", i)
			pipe.Expire(ctx, fmt.Sprintf("h:%d", i), time.Hour)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// loadIntoRedis starts Debian's redis-server on the snapshot file and
// returns a client of it: the file must be one Redis 7.0 loads.
func loadIntoRedis(t *testing.T, rdb []byte) *redis.Client {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), rdb, 0o600); err != nil {
		t.Fatal(err)
	}
	p := nodetest.Start(t, nodetest.Options{Binary: nodetest.RedisServer(t), Dir: dir,
		Args: []string{"--dbfilename", "dump.rdb", "--appendonly", "no"}})
	c := redis.NewClient(&redis.Options{Addr: p.Addr, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// TestStreamFromMasters streams a snapshot from a real master, Redis 7.0
// (both of its framings: disk-based $<length> and diskless $EOF:) and our
// node, and loads it into a fresh redis-server: same keys, values, TTLs;
// the replication ID is the master's.
func TestStreamFromMasters(t *testing.T) {
	cases := []struct {
		name   string
		binary func(t testing.TB) string
		args   []string
	}{
		{"redis disk", nodetest.RedisServer, []string{"--repl-diskless-sync", "no", "--requirepass", "pw"}},
		{"redis diskless", nodetest.RedisServer, []string{"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", "--requirepass", "pw"}},
		{"shoal node", nodetest.Binary, []string{"--requirepass", "pw"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := nodetest.Start(t, nodetest.Options{Binary: c.binary(t), Args: c.args})
			src := fill(t, p.Addr, "pw")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out bytes.Buffer
			snap, err := Stream(ctx, p.Addr, &out, Options{Password: "pw", Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			info, err := src.Info(ctx, "replication").Result()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(info, "master_replid:"+snap.ReplID) {
				t.Errorf("replid %s is not the master's:\n%s", snap.ReplID, info)
			}
			if snap.Size != int64(out.Len()) || len(snap.SHA256) != 64 || snap.CRC64 == 0 {
				t.Errorf("snapshot %+v for %d bytes", snap, out.Len())
			}
			if got := persistence.CRC64(out.Bytes()[:out.Len()-8]); got != snap.CRC64 {
				t.Errorf("crc %x, computed %x", snap.CRC64, got)
			}
			dst := loadIntoRedis(t, out.Bytes())
			if n, err := dst.DBSize(ctx).Result(); err != nil || n != streamKeys+streamKeys/10 {
				t.Fatalf("restored DBSIZE %d, %v; want %d", n, err, streamKeys+streamKeys/10)
			}
			for _, i := range []int{0, 1, 99, 4990} {
				k := fmt.Sprintf("k:%d", i)
				if v, err := dst.Get(ctx, k).Result(); err != nil || v != strings.Repeat("v", i%100) {
					t.Errorf("%s = %q, %v", k, v, err)
				}
			}
			if ttl, err := dst.TTL(ctx, "h:10").Result(); err != nil || ttl <= 59*time.Minute {
				t.Errorf("TTL of h:10 = %v, %v", ttl, err)
			}
		})
	}
}

func TestStreamRefusesAWrongPassword(t *testing.T) {
	p := nodetest.Start(t, nodetest.Options{Binary: nodetest.RedisServer(t), Args: []string{"--requirepass", "pw"}})
	_, err := Stream(context.Background(), p.Addr, &bytes.Buffer{}, Options{Password: "nope", Timeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Errorf("err = %v, want WRONGPASS", err)
	}
}

// rdbFile is a minimal RDB file with a correct trailer.
func rdbFile() []byte {
	b := []byte("REDIS0010\xfa\x09redis-ver\x067.0.15\xfe\x00\xfb\x01\x00\x00\x01k\x01v\xff")
	sum := persistence.CRC64(b)
	for i := range 8 {
		b = append(b, byte(sum>>(8*i)))
	}
	return b
}

func TestVerifier(t *testing.T) {
	good := rdbFile()
	check := func(b []byte, pieces int) error {
		v := newVerifier(&bytes.Buffer{})
		step := max(1, len(b)/pieces)
		for i := 0; i < len(b); i += step {
			if _, err := v.Write(b[i:min(len(b), i+step)]); err != nil {
				return err
			}
		}
		_, err := v.check()
		return err
	}
	for _, pieces := range []int{1, 3, len(good)} {
		if err := check(good, pieces); err != nil {
			t.Errorf("a good file in %d pieces: %v", pieces, err)
		}
	}
	bad := bytes.Clone(good)
	bad[20] ^= 1
	if err := check(bad, 2); err == nil || !strings.Contains(err.Error(), "CRC-64") {
		t.Errorf("a flipped bit: %v", err)
	}
	if err := check(good[:len(good)-3], 1); err == nil {
		t.Error("a truncated file passed")
	}
	noSum := bytes.Clone(good)
	copy(noSum[len(noSum)-8:], make([]byte, 8))
	if err := check(noSum, 1); err != nil {
		t.Errorf("rdbchecksum no (a zero checksum): %v", err)
	}
	if err := check([]byte("HELLO0010\xff\x00\x00\x00\x00\x00\x00\x00\x00"), 1); err == nil {
		t.Error("a file without the RDB magic passed")
	}
}

func TestParseReplies(t *testing.T) {
	id := strings.Repeat("a", 40)
	if s, err := parseFullResync("+FULLRESYNC " + id + " 1234"); err != nil || s.ReplID != id || s.Offset != 1234 {
		t.Errorf("%+v %v", s, err)
	}
	for _, bad := range []string{"+CONTINUE", "+FULLRESYNC x 1", "+FULLRESYNC " + id + " -1", "+FULLRESYNC " + id} {
		if _, err := parseFullResync(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if n, m, err := parsePayloadHeader("$123"); err != nil || n != 123 || m != nil {
		t.Errorf("$123: %d %q %v", n, m, err)
	}
	if n, m, err := parsePayloadHeader("$EOF:" + id); err != nil || n != -1 || string(m) != id {
		t.Errorf("$EOF: %d %q %v", n, m, err)
	}
	for _, bad := range []string{"$-1", "$x", "$EOF:short", "+OK"} {
		if _, _, err := parsePayloadHeader(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
