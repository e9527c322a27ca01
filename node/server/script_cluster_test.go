package server

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/cluster"
)

// TestScriptsInCluster checks scripts against the Redis Cluster rules on a
// cluster of two nodes: the declared keys route as any command's (MOVED,
// CROSSSLOT), a key of another node inside the script, or of another slot
// than the declared ones, fails as in Redis 7.0, allow-cross-slot-keys
// and no-cluster do what they say.
func TestScriptsInCluster(t *testing.T) {
	nodes := formCluster(t, 2)
	n0, n1 := nodes[0], nodes[1]
	r := dialRaw(t, n0)
	here, there := keyOnNode("a", 0, 2), keyOnNode("b", 1, 2)
	slotHere := keyInSlot("x", cluster0Slot(here))
	otherHere := keyOnNode("z", 0, 2)
	for otherSlot(otherHere, here) == false {
		otherHere += "z"
	}
	set := "return redis.call('SET', KEYS[1], 'v')"
	expectReply(t, r, "+OK\r\n", "EVAL", set, "1", here)
	expectReply(t, r, movedTo(cluster0Slot(there), n1), "EVAL", set, "1", there)
	expectReply(t, r, "-CROSSSLOT Keys in request don't hash to the same slot\r\n", "EVAL", set, "2", here, otherHere)
	expectReply(t, r, "-ERR Script attempted to access a non local key in a cluster node script: "+shaOf("return redis.call('GET', ARGV[1])")+", on @user_script:1.\r\n",
		"EVAL", "return redis.call('GET', ARGV[1])", "1", here, there)
	expectReply(t, r, "-ERR Script attempted to access keys that do not hash to the same slot script: "+shaOf("#!lua\nreturn redis.call('GET', ARGV[1])")+", on @user_script:2.\r\n",
		"EVAL", "#!lua\nreturn redis.call('GET', ARGV[1])", "1", here, otherHere)
	// Without a shebang (and with allow-cross-slot-keys) other slots of
	// this node are allowed.
	expectReply(t, r, "$-1\r\n", "EVAL", "return redis.call('GET', ARGV[1])", "1", here, otherHere)
	expectReply(t, r, "$-1\r\n", "EVAL", "#!lua flags=allow-cross-slot-keys\nreturn redis.call('GET', ARGV[1])", "1", here, otherHere)
	expectReply(t, r, "$1\r\nv\r\n", "EVAL", "#!lua\nreturn redis.call('GET', KEYS[1])", "1", here)
	expectReply(t, r, "-ERR Can not run script on cluster, 'no-cluster' flag is set.\r\n", "EVAL", "#!lua flags=no-cluster\nreturn 1", "0")
	expectReply(t, r, ":1\r\n", "EVAL", "return redis.call('INCR', ARGV[1])", "0", slotHere)
	if got := r.do("FUNCTION", "LOAD", "#!lua name=c\nredis.register_function('g', function(k, a) return redis.call('GET', a[1]) end)"); got != "$1\r\nc\r\n" {
		t.Fatalf("FUNCTION LOAD = %q", got)
	}
	if got := r.do("FCALL", "g", "1", here, there); !strings.HasPrefix(got, "-ERR Script attempted to access a non local key in a cluster node script: g,") {
		t.Errorf("FCALL of a key elsewhere = %q", got)
	}
	expectReply(t, r, movedTo(cluster0Slot(there), n1), "FCALL", "g", "1", there, there)
}

func cluster0Slot(key string) int { return keySlot(key) }

func otherSlot(a, b string) bool { return keySlot(a) != keySlot(b) }

func shaOf(body string) string {
	h := sha1.Sum([]byte(body))
	return hex.EncodeToString(h[:])
}

func keySlot(key string) int { return cluster.KeyHashSlot([]byte(key)) }
