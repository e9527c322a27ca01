package server

import (
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestPingSetGet(t *testing.T) {
	n := startNode(t)
	ctx := ctxT(t)
	c := n.client(t)
	if got, err := c.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v", got, err)
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v", got, err)
	}
	if _, err := c.Get(ctx, "missing").Result(); err != redis.Nil {
		t.Fatalf("GET missing: %v", err)
	}
	r := n.raw(t)
	if got := r.do("GET"); got != "-ERR wrong number of arguments for 'get' command\r\n" {
		t.Fatalf("arity error = %q", got)
	}
	r.send("PING\r\n")
	if got := r.reply(); got != "+PONG\r\n" {
		t.Fatalf("inline PING = %q", got)
	}
}
