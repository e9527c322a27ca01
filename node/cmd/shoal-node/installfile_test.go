package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestInstallFileCopiesAndAppends(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "tmpl"), filepath.Join(dir, "out.conf")
	if err := os.WriteFile(from, []byte("port 26379\nsentinel monitor m h 6379 2"), 0o400); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, []byte("old contents rewritten by sentinel\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if rc := runInstallFile([]string{"--from", from, "--to", to, "--append", "sentinel announce-ip a.b", "--append", "sentinel auth-pass m pw"}, &stderr); rc != 0 {
		t.Fatalf("rc %d: %s", rc, stderr.String())
	}
	got, err := os.ReadFile(to)
	if err != nil {
		t.Fatal(err)
	}
	want := "port 26379\nsentinel monitor m h 6379 2\nsentinel announce-ip a.b\nsentinel auth-pass m pw\n"
	if string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if fi, _ := os.Stat(to); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestInstallFileRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	cases := [][]string{
		{},
		{"--from", filepath.Join(dir, "missing"), "--to", filepath.Join(dir, "x")},
		{"--from", "a", "--to", "b", "--append", "two\nlines"},
		{"--from", "a", "--to", "b", "extra"},
	}
	for _, args := range cases {
		if rc := runInstallFile(args, &stderr); rc == 0 {
			t.Errorf("%q: accepted", args)
		}
	}
}
