package set

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/shoal-dev/shoal/node/keyspace/internal/redistest"
)

// TestRandomScriptMatchesRedisServer runs the same random writes and reads
// against redis-server 7.0 (no listpack sets, so MaxListpackEntries is 0)
// and our sets, including OBJECT ENCODING after every write and the
// encoding of STORE results.
func TestRandomScriptMatchesRedisServer(t *testing.T) {
	rdb := redistest.Start(t)
	ctx := context.Background()
	if err := rdb.ConfigSet(ctx, "set-max-intset-entries", "8").Err(); err != nil {
		t.Fatal(err)
	}
	lim := Limits{MaxIntsetEntries: 8, MaxListpackEntries: 0, MaxListpackValue: 64}
	for seed := uint64(1); seed <= 6; seed++ {
		rnd := rand.New(rand.NewPCG(seed, 3))
		keys := []string{"a", "b", "c"}
		sets := map[string]*Set{}
		key := func() string { return keys[rnd.IntN(len(keys))] }
		rkey := func(k string) string { return fmt.Sprintf("s%d:%s", seed, k) }
		member := func() string {
			switch rnd.IntN(8) {
			case 0:
				return "x" + strconv.Itoa(rnd.IntN(5))
			case 1:
				return strconv.Itoa(rnd.IntN(3) * 70000) // wider intsets
			case 2:
				return "-0" // not an integer to Redis
			}
			return strconv.Itoa(rnd.IntN(24) - 4)
		}
		ops := func(ks []string) []*Set {
			out := make([]*Set, len(ks))
			for i, k := range ks {
				out[i] = sets[k]
			}
			return out
		}
		for op := 0; op < 300; op++ {
			k := key()
			var args []any
			var got string
			switch rnd.IntN(7) {
			case 0, 1, 2:
				m := member()
				args = []any{"SADD", rkey(k), m}
				if sets[k] == nil {
					sets[k] = New(lim, []byte(m), 1)
				}
				got = map[bool]string{true: "1", false: "0"}[sets[k].Add(lim, []byte(m))]
			case 3:
				m := member()
				args = []any{"SREM", rkey(k), m}
				n := 0
				if s := sets[k]; s != nil && s.Remove([]byte(m)) {
					n = 1
					if s.Len() == 0 {
						delete(sets, k)
					}
				}
				got = strconv.Itoa(n)
			case 4:
				args = []any{"SMEMBERS", rkey(k)}
				got = membersText(sets[k])
			case 5:
				ks := []string{key(), key()}
				var res *Set
				cmd := []string{"SINTER", "SUNION", "SDIFF"}[rnd.IntN(3)]
				switch cmd {
				case "SINTER":
					res = Inter(lim, ops(ks))
				case "SUNION":
					res = Union(lim, ops(ks))
				default:
					res = Diff(lim, ops(ks))
				}
				args = []any{cmd, rkey(ks[0]), rkey(ks[1])}
				got = membersText(res)
			case 6:
				ks := []string{key(), key()}
				cmd := []string{"SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"}[rnd.IntN(3)]
				var res *Set
				switch cmd {
				case "SINTERSTORE":
					res = Inter(lim, ops(ks))
				case "SUNIONSTORE":
					res = Union(lim, ops(ks))
				default:
					res = Diff(lim, ops(ks))
				}
				args = []any{cmd, rkey(k), rkey(ks[0]), rkey(ks[1])}
				got = strconv.Itoa(res.Len())
				if res.Len() == 0 {
					delete(sets, k)
				} else {
					sets[k] = res
				}
			}
			want := text(t, rdb.Do(ctx, args...))
			if c := args[0].(string); c == "SMEMBERS" || c == "SINTER" || c == "SUNION" || c == "SDIFF" {
				want = sortWords(want)
				got = sortWords(got)
			}
			if got != want {
				t.Fatalf("seed %d op %d %v: redis %q, ours %q", seed, op, args, want, got)
			}
			if s := sets[k]; s != nil {
				enc, err := rdb.ObjectEncoding(ctx, rkey(k)).Result()
				if err != nil || enc != s.Encoding() {
					t.Fatalf("seed %d op %d %v: OBJECT ENCODING redis %q (%v), ours %q", seed, op, args, enc, err, s.Encoding())
				}
			}
		}
		// Intsets are listed in order by both.
		for k, s := range sets {
			if s.Encoding() != "intset" {
				continue
			}
			want := text(t, rdb.Do(ctx, "SMEMBERS", rkey(k)))
			if got := membersText(s); got != want {
				t.Fatalf("intset SMEMBERS order: redis %q, ours %q", want, got)
			}
		}
	}
}

func membersText(s *Set) string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	for m := range s.All() {
		b.Write(m)
		b.WriteByte(' ')
	}
	return b.String()
}

func sortWords(s string) string {
	w := strings.Fields(s)
	sort.Strings(w)
	return strings.Join(w, " ")
}

func text(t *testing.T, cmd *redis.Cmd) string {
	t.Helper()
	v, err := cmd.Result()
	if err != nil {
		t.Fatal(err)
	}
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case []any:
		var b strings.Builder
		for _, x := range v {
			b.WriteString(x.(string))
			b.WriteByte(' ')
		}
		return b.String()
	}
	t.Fatalf("unexpected reply %T", v)
	return ""
}
