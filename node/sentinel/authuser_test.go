package sentinel_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// The ACL users of data nodes whose default user is off: a replica
// authenticates as replUser (masteruser), a sentinel as sentinelUser
// (sentinel auth-user) with the rights Redis's Sentinel documentation
// lists for it, on the hello channel only.
const (
	aclPassword  = "acl-secret"
	replUser     = "repl"
	sentinelUser = "sentinel-user"
)

// aclNodeArgs are a data node's arguments with the default user off.
func aclNodeArgs() []string {
	return []string{
		"--user", "default", "reset",
		"--user", replUser, "on", ">" + aclPassword, "resetkeys", "resetchannels", "-@all", "+psync", "+replconf", "+ping",
		"--user", sentinelUser, "on", ">" + aclPassword, "resetkeys", "resetchannels", "&__sentinel__:hello", "-@all",
		"+multi", "+slaveof", "+replicaof", "+ping", "+exec", "+subscribe", "+config|rewrite", "+role", "+publish",
		"+info", "+client|setname", "+client|kill", "+script|kill",
		"--user", "admin", "on", ">" + aclPassword, "~*", "&*", "+@all",
		"--masteruser", replUser, "--masterauth", aclPassword,
	}
}

// TestSentinelAuthUserOnNodesWithoutDefaultUser: with the data nodes'
// default user off, a sentinel with "sentinel auth-user" and "auth-pass"
// monitors the master, discovers its replica and fails it over; one with
// auth-pass only cannot authenticate and sees the master down. Ours and
// Debian's redis-sentinel alike.
func TestSentinelAuthUserOnNodesWithoutDefaultUser(t *testing.T) {
	for _, bin := range []string{"", nodetest.RedisServer(t)} {
		name := "ours"
		if bin != "" {
			name = filepath.Base(bin)
		}
		t.Run(name, func(t *testing.T) {
			ctx := ctxT(t)
			m, r := startNode(t, aclNodeArgs()...), startNode(t, aclNodeArgs()...)
			admin := func(addr string) *redis.Client {
				c := redis.NewClient(&redis.Options{Addr: addr, Username: "admin", Password: aclPassword, MaxRetries: -1})
				t.Cleanup(func() { c.Close() })
				return c
			}
			mc, rc := admin(m.Addr), admin(r.Addr)
			// The default user is refused as Redis refuses it.
			if err := client(t, m.Addr).Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
				t.Fatalf("PING as the default user: %v, want NOAUTH", err)
			}
			if err := rc.Do(ctx, "REPLICAOF", "127.0.0.1", strconv.Itoa(m.Port)).Err(); err != nil {
				t.Fatal(err)
			}
			waitInSync(t, ctx, mc, 1)

			withUser := client(t, startSentinel(t, bin, m.Port, 1,
				fmt.Sprintf("sentinel auth-user %s %s", masterName, sentinelUser),
				fmt.Sprintf("sentinel auth-pass %s %s", masterName, aclPassword)).Addr)
			passOnly := client(t, startSentinel(t, bin, m.Port, 1,
				fmt.Sprintf("sentinel auth-pass %s %s", masterName, aclPassword)).Addr)
			waitDiscovered(t, ctx, withUser, 1, 0)
			eventually(t, settleTimeout, "the sentinel without auth-user sees the master down", func() error {
				f, err := masterFields(ctx, passOnly)
				if err != nil || !strings.Contains(f["flags"], "s_down") {
					return fmt.Errorf("flags %q (%v)", f["flags"], err)
				}
				return nil
			})
			// With quorum 1 it would try failovers of its own: it stops
			// monitoring.
			if err := passOnly.Do(ctx, "SENTINEL", "REMOVE", masterName).Err(); err != nil {
				t.Fatal(err)
			}
			if f, err := masterFields(ctx, withUser); err != nil || f["flags"] != "master" {
				t.Fatalf("flags %q (%v) with auth-user, want master", f["flags"], err)
			}

			if err := withUser.Do(ctx, "SENTINEL", "FAILOVER", masterName).Err(); err != nil {
				t.Fatal(err)
			}
			eventually(t, settleTimeout, "the replica promoted and the old master following it", func() error {
				addr, err := masterAddr(ctx, withUser)
				if err != nil || addr != r.Addr {
					return fmt.Errorf("master %s (%v)", addr, err)
				}
				info, err := mc.Info(ctx, "replication").Result()
				if err != nil || !strings.Contains(info, "role:slave") || !strings.Contains(info, "master_link_status:up") {
					return fmt.Errorf("old master: %v %q", err, info)
				}
				return nil
			})
		})
	}
}
