package main

import (
	"slices"
	"testing"
)

func TestParseFlagsWatchNamespaces(t *testing.T) {
	tests := []struct {
		flag    string
		want    []string
		wantErr bool
	}{
		{"", nil, false}, // all namespaces
		{"team-a", []string{"team-a"}, false},
		{"team-a, team-b,,team-a", []string{"team-a", "team-b"}, false},
		{"team a", nil, true},
	}
	for _, tt := range tests {
		o, err := parseFlags([]string{"--watch-namespaces=" + tt.flag})
		if (err != nil) != tt.wantErr || !slices.Equal(o.watchNamespaces, tt.want) {
			t.Errorf("--watch-namespaces=%q: %v, %v; want %v (error %v)", tt.flag, o.watchNamespaces, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseFlagsDefaultsAndLogLevel(t *testing.T) {
	o, err := parseFlags([]string{"--default-node-image=shoal/node:v1", "--leader-elect", "--zap-log-level=debug"})
	if err != nil {
		t.Fatal(err)
	}
	if o.defaultNodeImage != "shoal/node:v1" || !o.leaderElect || o.metricsAddr != ":8080" || o.probeAddr != ":8081" || o.zap.Level == nil {
		t.Errorf("options %+v", o)
	}
	if _, err := parseFlags([]string{"--default-node-image="}); err == nil {
		t.Error("an empty default node image must be refused")
	}
}

func TestParseStoreServeFlags(t *testing.T) {
	env := func(v string) func(string) string { return func(string) string { return v } }
	o, err := parseStoreServeFlags([]string{"--root=/store", "--listen=:9000"}, env("tok"))
	if err != nil || o.root != "/store" || o.listen != ":9000" || o.token != "tok" {
		t.Errorf("options %+v, %v", o, err)
	}
	if _, err := parseStoreServeFlags(nil, env("")); err == nil {
		t.Error("store-serve without a token must be refused")
	}
}
