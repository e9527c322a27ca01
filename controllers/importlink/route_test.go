package importlink

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/cluster"
)

func cmd(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

// TestRoute: what each kind of source command becomes on a cluster of
// three masters (each owning a third of the slots).
func TestRoute(t *testing.T) {
	owner := func(key []byte) int { return cluster.KeyHashSlot(key) * 3 / cluster.Slots }
	// Keys of three slots on three masters: "a" (slot 15495), "b" (3300), "c" (7365).
	tests := []struct {
		stream  []string
		want    string // per master, in order
		wantErr string
		skipped int64
	}{
		{stream: []string{"SET b 1"}, want: "[[[SET b 1]] [] []]"},
		{stream: []string{"PING", "PUBLISH ch m", "SET c 1"}, want: "[[] [[SET c 1]] []]"},
		{stream: []string{"SELECT 1", "SET b 1", "SELECT 0", "SET b 2"}, want: "[[[SET b 2]] [] []]", skipped: 1},
		{stream: []string{"MSET a 1 b 2 {a}x 3"}, want: "[[[MSET b 2]] [] [[MSET a 1 {a}x 3]]]"},
		{stream: []string{"MSETNX a 1 b 2"}, want: "[[[MSET b 2]] [] [[MSET a 1]]]"},
		{stream: []string{"DEL a b c"}, want: "[[[DEL b]] [[DEL c]] [[DEL a]]]"},
		{stream: []string{"FLUSHALL"}, want: "[[[FLUSHALL]] [[FLUSHALL]] [[FLUSHALL]]]"},
		{stream: []string{"FUNCTION DELETE lib"}, want: "[[[FUNCTION DELETE lib]] [[FUNCTION DELETE lib]] [[FUNCTION DELETE lib]]]"},
		// A transaction on one slot stays one; over several, it is split.
		{stream: []string{"MULTI", "INCR {t}a", "INCR {t}b", "EXEC"}, want: fmt.Sprintf("%v", perMaster(owner([]byte("t")), "[MULTI] [INCR {t}a] [INCR {t}b] [EXEC]"))},
		{stream: []string{"MULTI", "INCR a", "INCR b", "EXEC"}, want: "[[[INCR b]] [] [[INCR a]]]"},
		{stream: []string{"MULTI", "SELECT 1", "INCR a", "EXEC"}, want: "[[] [] []]", skipped: 1},
		{stream: []string{"RENAME a b"}, wantErr: "RENAME over keys of several slots"},
		{stream: []string{"SWAPDB 0 1"}, wantErr: "SWAPDB (no key)"},
		{stream: []string{"NOSUCH x"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		r, err := NewRouter(3, owner)
		if err != nil {
			t.Fatal(err)
		}
		b := NewBatch(3)
		var rerr error
		for _, c := range tt.stream {
			if rerr = r.Route(cmd(c), b); rerr != nil {
				break
			}
		}
		if tt.wantErr != "" {
			if rerr == nil || !strings.Contains(rerr.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.stream, rerr, tt.wantErr)
			}
			continue
		}
		if rerr != nil {
			t.Errorf("%q: %v", tt.stream, rerr)
			continue
		}
		if got := fmt.Sprint(b.PerMaster); got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.stream, got, tt.want)
		}
		if r.Skipped != tt.skipped {
			t.Errorf("%q: skipped %d, want %d", tt.stream, r.Skipped, tt.skipped)
		}
	}
}

// perMaster renders the batch of three masters where master m holds cmds.
func perMaster(m int, cmds string) string {
	out := []string{"[]", "[]", "[]"}
	out[m] = "[" + cmds + "]"
	return "[" + strings.Join(out, " ") + "]"
}
