package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Unit tests of the configuration loader (no process): what Redis 7.0's
// loadServerConfigFromString does with includes, repeated lines and bad
// lines.

func TestConfigInclude(t *testing.T) {
	dir := t.TempDir()
	must := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	must("conf.d/a.conf", "maxmemory 1mb\n")
	must("conf.d/b.conf", "maxmemory 2mb\nhz 20\n")
	main := must("main.conf", "include "+filepath.Join(dir, "conf.d", "*.conf")+"\ninclude "+filepath.Join(dir, "none", "*.conf")+"\n")
	c, err := ParseArgs([]string{main})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Get("maxmemory")[0][1]; got != "2097152" {
		t.Errorf("maxmemory = %s: the files of the pattern load in order", got)
	}
	if got := c.Get("hz")[0][1]; got != "20" {
		t.Errorf("hz = %s", got)
	}
	bad := must("bad.conf", "include "+filepath.Join(dir, "missing.conf")+"\n")
	if _, err := ParseArgs([]string{bad}); err == nil || !strings.Contains(err.Error(), "can't open config file") {
		t.Errorf("include of a missing file: %v", err)
	}
}

// TestConfigFileErrors: a refused line is reported as Redis reports it,
// with its number in the file plus the command-line options after it.
func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "r.conf")
	if err := os.WriteFile(conf, []byte("# c\nhz 10\n  maxmemory   1xb  \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ParseArgs([]string{conf})
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Line != 3 || ce.Text != "maxmemory   1xb" || ce.Reason != "argument must be a memory value" {
		t.Fatalf("error %#v", err)
	}
	want := "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 3\n>>> 'maxmemory   1xb'\nargument must be a memory value"
	if err.Error() != want {
		t.Errorf("report %q, want %q", err.Error(), want)
	}
	// A missing file is reported without a line.
	_, err = ParseArgs([]string{filepath.Join(dir, "ok.conf"), "--hz", "1"})
	if err == nil || !strings.Contains(err.Error(), "can't open config file") {
		t.Errorf("missing config file: %v", err)
	}
	if err := os.WriteFile(conf, []byte("hz 10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Options are lines after the file's text and a newline, as Redis
	// numbers them: "hz 10", "", hz, then appendonly at line 4.
	_, err = ParseArgs([]string{conf, "--hz", "1", "--appendonly", "maybe"})
	if !errors.As(err, &ce) || ce.Line != 4 || ce.Text != `appendonly "maybe"` {
		t.Errorf("option error %#v", err)
	}
	for _, tc := range []struct{ text, reason string }{
		{"nosuch 1", "Bad directive or wrong number of arguments"},
		{"hz 1 2", "wrong number of arguments"},
		{`hz "1`, "Unbalanced quotes in configuration line"},
		{"cluster-enabled yes\nreplicaof 127.0.0.1 6379", "replicaof directive not allowed in cluster mode"},
		{"list-max-ziplist-entries 1 2", "Bad directive or wrong number of arguments"},
	} {
		err := DefaultConfig().Load(tc.text)
		if !errors.As(err, &ce) || ce.Reason != tc.reason {
			t.Errorf("%q: %v, want %q", tc.text, err, tc.reason)
		}
	}
	// Deprecated directives Redis 7.0 still accepts and ignores.
	if err := DefaultConfig().Load("list-max-ziplist-entries 512\nlua-replicate-commands yes\n"); err != nil {
		t.Errorf("deprecated directives: %v", err)
	}
}

// TestConfigSaveLines: the first save line of the configuration replaces
// Redis's default rules, the next ones add to them; save "" clears the
// rules read so far (all checked against redis-server 7.0.15).
func TestConfigSaveLines(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"", "3600 1 300 100 60 10000"},
		{"save 900 1\nsave 300 10", "900 1 300 10"},
		{`save ""`, ""},
		{"save 900 1\nsave \"\"\nsave 60 5", "60 5"},
		{`save "3600 1 300 100"`, "3600 1 300 100"},
	} {
		c := DefaultConfig()
		if err := c.Load(tc.text); err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if c.Save != tc.want {
			t.Errorf("%q: save %q, want %q", tc.text, c.Save, tc.want)
		}
	}
}

// TestConfigCommandLine: options as redis-server takes them: "--name
// value" words, "--name value" in one argument, a bare --save (last, or
// before another option) meaning save "".
func TestConfigCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		name, want string
	}{
		{[]string{"--save", "--hz", "20"}, "save", ""},
		{[]string{"--hz", "20", "--save"}, "save", ""},
		{[]string{"--hz 30"}, "hz", "30"},
		{[]string{"--bind", "127.0.0.1", "::1"}, "bind", "127.0.0.1 ::1"},
		{[]string{"--requirepass", "a b\"c"}, "requirepass", "a b\"c"},
		{[]string{"--hash-max-ziplist-entries", "7"}, "hash-max-listpack-entries", "7"},
	} {
		c, err := ParseArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if got := c.Get(tc.name); len(got) != 1 || got[0][1] != tc.want {
			t.Errorf("%q: %s = %v, want %q", tc.args, tc.name, got, tc.want)
		}
	}
}
