package server

import "testing"

// TestEncodingConfigSetsAndLists covers what the differential test cannot
// (Redis 7.0 has no listpack sets): the set parameters decide the encoding
// of sets written after the change; list-max-listpack-size is kept (it sizes
// the quicklist nodes of new lists, which are always quicklists, as in 7.0).
func TestEncodingConfigSetsAndLists(t *testing.T) {
	c := startNode(t).raw(t)
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"CONFIG", "SET", "set-max-intset-entries", "2"}, "+OK\r\n"},
		{[]string{"SADD", "s", "1", "2"}, ":2\r\n"},
		{[]string{"OBJECT", "ENCODING", "s"}, "$6\r\nintset\r\n"},
		{[]string{"SADD", "s", "3"}, ":1\r\n"},
		{[]string{"OBJECT", "ENCODING", "s"}, "$9\r\nhashtable\r\n"},
		{[]string{"CONFIG", "SET", "set-max-listpack-entries", "2"}, "+OK\r\n"},
		{[]string{"SADD", "s2", "a", "b"}, ":2\r\n"},
		{[]string{"OBJECT", "ENCODING", "s2"}, "$8\r\nlistpack\r\n"},
		{[]string{"SADD", "s2", "c"}, ":1\r\n"},
		{[]string{"OBJECT", "ENCODING", "s2"}, "$9\r\nhashtable\r\n"},
		{[]string{"CONFIG", "SET", "set-max-listpack-value", "2"}, "+OK\r\n"},
		{[]string{"SADD", "s3", "abc"}, ":1\r\n"},
		{[]string{"OBJECT", "ENCODING", "s3"}, "$9\r\nhashtable\r\n"},
		{[]string{"CONFIG", "SET", "list-max-listpack-size", "2"}, "+OK\r\n"},
		{[]string{"CONFIG", "GET", "list-max-listpack-size"}, "*2\r\n$22\r\nlist-max-listpack-size\r\n$1\r\n2\r\n"},
	}
	for _, s := range steps {
		if got := c.do(s.args...); got != s.want {
			t.Errorf("%q: got %q, want %q", s.args, got, s.want)
		}
	}
}
