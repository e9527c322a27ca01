package gen

import (
	"slices"
	"strconv"
	"strings"
)

// The shared setup: one key of every type the node serves, small and
// large (so both compact and full encodings are hit), a key with a TTL,
// and a 40-'a' key, field, member and element for the glob patterns.
// KeyPool is every key the generator names: these, plus a few that do not
// exist at the start.

var setupKeys = []string{
	"str", "int", "float", "bits", aaaa, "ttl", "list", "biglist", "hash", "bighash",
	"set", "intset", "bigset", "zset", "bigzset",
}

// DumpKeys are the setup keys whose DUMP payload is the same on every run
// (no hash-table encodings, whose order depends on Redis's hash seed).
var DumpKeys = []string{"str", "int", "float", "bits", "ttl", "list", "biglist", "hash", "intset", "zset", "bigzset"}

// KeyPool is the keys commands are generated with.
var KeyPool = append(append([]string(nil), setupKeys...), "nokey", "new1", "new2", "")

func numbered(prefix string, n int, pairs string) []string {
	var out []string
	for i := range n {
		s := prefix + strconv.Itoa(i)
		switch pairs {
		case "value":
			out = append(out, s, "v"+strconv.Itoa(i))
		case "score":
			out = append(out, strconv.Itoa(i), s)
		default:
			out = append(out, s)
		}
	}
	return out
}

// setupLines is the setup of one key.
func setupLines(key string) [][]string {
	switch key {
	case "str":
		return [][]string{{"SET", "str", "hello"}}
	case "int":
		return [][]string{{"SET", "int", "42"}}
	case "float":
		return [][]string{{"SET", "float", "3.14"}}
	case "bits":
		return [][]string{{"SET", "bits", "\xff\xf0\x00"}}
	case aaaa:
		return [][]string{{"SET", aaaa, "1"}}
	case "ttl":
		return [][]string{{"SET", "ttl", "v", "EX", "100000"}}
	case "list":
		return [][]string{{"RPUSH", "list", "a", "b", "c", "1", "2", "a", aaaa}}
	case "biglist":
		return [][]string{append([]string{"RPUSH", "biglist"}, numbered("e", 200, "")...)}
	case "hash":
		return [][]string{{"HSET", "hash", "f1", "v1", "f2", "2", "f3", "1.5", aaaa, "x"}}
	case "bighash":
		return [][]string{append([]string{"HSET", "bighash"}, numbered("f", 200, "value")...)}
	case "set":
		return [][]string{{"SADD", "set", "a", "b", "c", aaaa}}
	case "intset":
		return [][]string{{"SADD", "intset", "1", "2", "3", "-5", "100"}}
	case "bigset":
		return [][]string{append([]string{"SADD", "bigset"}, numbered("m", 200, "")...)}
	case "zset":
		return [][]string{{"ZADD", "zset", "1", "a", "2", "b", "3", "c", "3", "d", "-inf", "ninf", "+inf", "pinf", "0", aaaa}}
	case "bigzset":
		return [][]string{append([]string{"ZADD", "bigzset"}, numbered("m", 200, "score")...)}
	}
	return nil
}

// Setup is the shared setup, run on both servers after each start.
func Setup() []Line {
	var out []Line
	for _, k := range setupKeys {
		for _, args := range setupLines(k) {
			out = append(out, Line{Args: args, Setup: true})
		}
	}
	return out
}

// ResetKey deletes the key and, when the setup creates it, creates it
// again as the setup does.
func ResetKey(key string) []Line {
	out := []Line{{Args: []string{"DEL", key}, Setup: true}}
	for _, args := range setupLines(key) {
		out = append(out, Line{Args: args, Setup: true})
	}
	return out
}

// ResetKeys is ResetKey of every key of the pool among args, once each.
func ResetKeys(args []string) []Line {
	var out []Line
	seen := map[string]bool{}
	for _, a := range args {
		if slices.Contains(KeyPool, a) && !seen[a] {
			seen[a] = true
			out = append(out, ResetKey(a)...)
		}
	}
	return out
}

// ResetAll deletes every key of the pool and runs the setup again.
func ResetAll() []Line {
	return append([]Line{{Args: append([]string{"DEL"}, KeyPool...), Setup: true}}, Setup()...)
}

// followUps are the lines that undo what a line did at random, so both
// servers hold the same data again: SPOP removes members Redis and the
// node choose each their own way, so its key is reset; FLUSHALL and
// FLUSHDB empty the pool, so the setup runs again.
func followUps(l Line) []Line {
	if l.Cmd == nil {
		return nil
	}
	switch l.Cmd.Name {
	case "spop":
		if len(l.Args) > 1 {
			return ResetKey(l.Args[1])
		}
	case "flushall", "flushdb":
		return Setup()
	}
	return nil
}

// skipped are the commands the fuzzer never sends: they would stop the
// server, change its role or files, take over the connection (MONITOR,
// SUBSCRIBE, SYNC, CLIENT REPLY), wait for good, or touch another host.
var skipped = map[string]bool{
	"shutdown": true, "debug": true, "monitor": true, "sync": true, "psync": true, "replconf": true,
	"replicaof": true, "slaveof": true, "failover": true, "quit": true, "pfdebug": true, "pfselftest": true,
	"subscribe": true, "psubscribe": true, "ssubscribe": true,
	"unsubscribe": true, "punsubscribe": true, "sunsubscribe": true,
	"client|kill": true, "client|pause": true, "client|reply": true, "client|tracking": true,
	"acl|load": true, "acl|save": true, "script|debug": true, // a debugging session takes over the connection
}

// Skip reports whether the command (lower case, "container|sub") is never
// generated.
func Skip(name string) bool {
	if skipped[name] {
		return true
	}
	container, _, _ := strings.Cut(name, "|")
	return container == "cluster" || container == "module"
}

// Safe makes a generated (and maybe mutated) line harmless to run on the
// reference server too: it bounds the counts of the *RANDMEMBER family
// (see safeCount) wherever a mutation moved them.
func Safe(name string, args []string) []string {
	switch name {
	case "srandmember", "hrandfield", "zrandmember":
		if len(args) > 2 {
			args[2] = safeCount(args[2])
		}
	}
	return args
}
