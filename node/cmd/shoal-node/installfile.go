package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// appendLines is a repeatable --append flag.
type appendLines []string

func (a *appendLines) String() string { return strings.Join(*a, "\n") }

func (a *appendLines) Set(v string) error {
	if strings.ContainsAny(v, "\r\n") {
		return fmt.Errorf("--append takes one line")
	}
	*a = append(*a, v)
	return nil
}

// runInstallFile is `shoal-node install-file --from SRC --to DST [--append
// LINE]...`: it writes SRC followed by the lines to DST atomically (a
// temporary file in DST's directory, fsync, rename), mode 0600. The
// operator's sentinel pods run it as their init container: the image holds
// nothing but this binary, and Sentinel needs a writable copy of the
// sentinel.conf template from a read-only ConfigMap, with the pod's own
// lines (announce-ip, auth-pass) added.
func runInstallFile(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("install-file", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "file to copy")
	to := fs.String("to", "", "file to write")
	var extra appendLines
	fs.Var(&extra, "append", "a line to add after the copy (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: shoal-node install-file --from SRC --to DST [--append LINE]...")
		return 2
	}
	if err := installFile(*from, *to, extra); err != nil {
		fmt.Fprintln(stderr, "install-file:", err)
		return 1
	}
	return 0
}

func installFile(from, to string, extra []string) error {
	body, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if len(body) > 0 && body[len(body)-1] != '\n' {
		body = append(body, '\n')
	}
	for _, l := range extra {
		body = append(body, l...)
		body = append(body, '\n')
	}
	tmp, err := os.CreateTemp(filepath.Dir(to), ".install-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if _, err := tmp.Write(body); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), to)
}
