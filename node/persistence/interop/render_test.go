package interop

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// render describes every key of databases 0-15 of the server at addr, one
// line per key: "db key type expire value", values in a canonical form
// (sets and hashes sorted), so two servers holding the same data render
// the same. Streams render their entries only (XRANGE).
func render(t testing.TB, addr string) map[string]string {
	t.Helper()
	return renderDBs(t, addr, 16)
}

// renderDBs is render of databases 0 to n-1 (1 in cluster mode).
func renderDBs(t testing.TB, addr string, n int) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for db := range n {
		c := redis.NewClient(&redis.Options{Addr: addr, DB: db, Protocol: 2})
		keys, err := c.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatalf("KEYS in db %d of %s: %v", db, addr, err)
		}
		for _, k := range keys {
			out[fmt.Sprintf("%d %q", db, k)] = renderKey(t, ctx, c, k)
		}
		c.Close()
	}
	return out
}

func renderKey(t testing.TB, ctx context.Context, c *redis.Client, k string) string {
	typ, err := c.Type(ctx, k).Result()
	if err != nil {
		t.Fatal(err)
	}
	exp, err := c.Do(ctx, "PEXPIRETIME", k).Int64()
	if err != nil {
		t.Fatal(err)
	}
	var v string
	switch typ {
	case "string":
		v = strconv.Quote(c.Get(ctx, k).Val())
	case "list":
		v = quoteAll(c.LRange(ctx, k, 0, -1).Val())
	case "set":
		m := c.SMembers(ctx, k).Val()
		slices.Sort(m)
		v = quoteAll(m)
	case "zset":
		var parts []string
		for _, z := range c.ZRangeWithScores(ctx, k, 0, -1).Val() {
			parts = append(parts, fmt.Sprintf("%q:%s", z.Member, strconv.FormatFloat(z.Score, 'g', -1, 64)))
		}
		v = strings.Join(parts, " ")
	case "hash":
		h := c.HGetAll(ctx, k).Val()
		var parts []string
		for f, x := range h {
			parts = append(parts, fmt.Sprintf("%q=%q", f, x))
		}
		slices.Sort(parts)
		v = strings.Join(parts, " ")
	case "stream":
		var parts []string
		for _, m := range c.XRange(ctx, k, "-", "+").Val() {
			parts = append(parts, m.ID+fmt.Sprint(m.Values))
		}
		v = strings.Join(parts, " ")
	default:
		t.Fatalf("key %q of type %s", k, typ)
	}
	return fmt.Sprintf("%s %d %s", typ, exp, v)
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, " ")
}

// diff reports the keys whose renderings differ.
func diff(t testing.TB, what string, got, want map[string]string) {
	t.Helper()
	n := 0
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			if n++; n <= 10 {
				t.Errorf("%s: key %s:\n got %.300s\nwant %.300s", what, k, g, w)
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			if n++; n <= 10 {
				t.Errorf("%s: unexpected key %s", what, k)
			}
		}
	}
	if n > 10 {
		t.Errorf("%s: %d keys differ in all", what, n)
	}
}

type redisClient = redis.Client

// saveInBackground runs BGSAVE and waits (polling, with a deadline) until
// it has finished well.
func saveInBackground(t testing.TB, ctx context.Context, c *redis.Client) {
	t.Helper()
	if err := c.Do(ctx, "BGSAVE").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "BGSAVE to finish", func() bool {
		return infoField(t, ctx, c, "persistence", "rdb_bgsave_in_progress") == "0" &&
			infoField(t, ctx, c, "persistence", "rdb_last_bgsave_status") == "ok" &&
			infoField(t, ctx, c, "persistence", "rdb_changes_since_last_save") == "0"
	})
}

func infoField(t testing.TB, ctx context.Context, c *redis.Client, section, field string) string {
	t.Helper()
	s, err := c.Info(ctx, section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v
		}
	}
	return ""
}

// waitFor polls cond every 10ms for up to 60s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// withinTTL returns got with each key's expiry replaced by want's when
// they differ by at most tol ms (MIGRATE sends relative TTLs, as Redis
// does, so an expiry moves by the transfer's time).
func withinTTL(got, want map[string]string, tol int64) map[string]string {
	out := map[string]string{}
	for k, g := range got {
		out[k] = g
		w, ok := want[k]
		if !ok {
			continue
		}
		gt, gexp, grest, ok1 := splitRendering(g)
		wt, wexp, wrest, ok2 := splitRendering(w)
		if ok1 && ok2 && gt == wt && grest == wrest && gexp >= 0 && wexp >= 0 && max(gexp-wexp, wexp-gexp) <= tol {
			out[k] = w
		}
	}
	return out
}

func splitRendering(s string) (typ string, exp int64, rest string, ok bool) {
	typ, s, ok1 := strings.Cut(s, " ")
	e, rest, ok2 := strings.Cut(s, " ")
	n, err := strconv.ParseInt(e, 10, 64)
	return typ, n, rest, ok1 && ok2 && err == nil
}
