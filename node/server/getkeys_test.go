package server

import "testing"

// COMMAND GETKEYS and GETKEYSANDFLAGS against Redis: key specs of every
// kind (index, keyword, range, keynum), their flags per key, and the
// errors.
func TestDifferentialGetkeysAndFlags(t *testing.T) {
	lines := [][]string{
		{"GET", "k"}, {"SET", "k", "v"}, {"SET", "k", "v", "GET"}, {"MSET", "a", "1", "b", "2"}, {"MGET", "a", "b", "c"},
		{"DEL", "a", "b"}, {"UNLINK", "a"}, {"RENAME", "a", "b"}, {"COPY", "a", "b"}, {"LMOVE", "a", "b", "LEFT", "RIGHT"},
		{"BLMOVE", "a", "b", "LEFT", "RIGHT", "0"}, {"BLPOP", "a", "b", "0"}, {"LMPOP", "2", "a", "b", "LEFT"},
		{"ZUNIONSTORE", "d", "2", "a", "b"}, {"ZINTER", "2", "a", "b"}, {"SINTERCARD", "2", "a", "b"}, {"ZADD", "z", "1", "m"},
		{"MIGRATE", "h", "1", "", "0", "5", "KEYS", "a", "b"},
		{"MIGRATE", "h", "1", "k", "0", "5"},
		{"OBJECT", "FREQ", "k"}, {"MEMORY", "USAGE", "k"},
		{"GETEX", "k"}, {"GETDEL", "k"}, {"HSET", "h", "f", "v"}, {"BITOP", "AND", "d", "a", "b"},
		{"SMOVE", "a", "b", "m"}, {"EXPIRE", "k", "1"}, {"TOUCH", "a", "b"}, {"WATCH", "a", "b"}, {"LCS", "a", "b"},
		{"PING"}, {"NOSUCH", "a"}, {"GET"}, {"MSET", "a"}, {"ZUNIONSTORE", "d", "5", "a"}, {"CLIENT", "NOSUCH"}, {"CLIENT", "LIST"},
		{"LMPOP", "0", "a", "LEFT"}, {"SPUBLISH", "c", "m"}, {"DEBUG", "OBJECT", "k"},
	}
	var script [][]string
	for _, l := range lines {
		script = append(script, append([]string{"COMMAND", "GETKEYSANDFLAGS"}, l...), append([]string{"COMMAND", "GETKEYS"}, l...))
	}
	script = append(script, []string{"COMMAND", "GETKEYSANDFLAGS"}, []string{"COMMAND", "GETKEYS"})
	ours, ref := startNode(t), startRedis(t)
	for _, proto := range []string{"2", "3"} {
		a, b := ours.raw(t), ref.raw(t)
		a.do("HELLO", proto)
		b.do("HELLO", proto)
		for _, s := range script {
			if got, want := a.do(s...), b.do(s...); got != want {
				t.Errorf("RESP%s %q:\n ours  %q\n redis %q", proto, s, got, want)
			}
		}
	}
}
