package config

import "testing"

// TestReplConfigArgs: the replication parameters are accepted on the
// command line (the operator starts nodes with --masterauth) and reported
// by CONFIG GET under both their replica-* and slave-* names.
func TestReplConfigArgs(t *testing.T) {
	cfg, err := ParseArgs([]string{"--masterauth", "s3cret", "--masteruser", "repl",
		"--slave-priority", "7", "--repl-backlog-size", "2mb", "--min-replicas-to-write", "1",
		"--replica-read-only", "no", "--repl-timeout", "5", "--replicaof", "127.0.0.1", "6380"})
	if err != nil {
		t.Fatalf("ParseArgs: %v", err)
	}
	want := map[string]string{
		"masterauth":               "s3cret",
		"masteruser":               "repl",
		"replica-priority":         "7",
		"slave-priority":           "7",
		"repl-backlog-size":        "2097152",
		"min-replicas-to-write":    "1",
		"min-slaves-to-write":      "1",
		"min-replicas-max-lag":     "10",
		"replica-read-only":        "no",
		"slave-read-only":          "no",
		"replica-serve-stale-data": "yes",
		"slave-serve-stale-data":   "yes",
		"repl-timeout":             "5",
		"replicaof":                "127.0.0.1 6380",
	}
	for name, v := range want {
		got := cfg.Get(name)
		if len(got) != 1 || got[0][1] != v {
			t.Errorf("CONFIG GET %s = %v, want %q", name, got, v)
		}
	}
	if err := cfg.Apply("replica-priority", []string{"x"}); err == nil {
		t.Errorf("replica-priority x accepted")
	}
	if err := cfg.Apply("slaveof", []string{"no", "one"}); err != nil || cfg.Repl.ReplicaOf != "" {
		t.Errorf("slaveof no one: %v %q", err, cfg.Repl.ReplicaOf)
	}
}
