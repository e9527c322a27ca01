package persistence

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The append-only file is multi-part, as in Redis 7: a directory
// (appenddirname) holds one base file, the incremental files appended since
// that base, and a manifest that lists them. The manifest is the only
// source of truth and is only ever replaced atomically, so every crash
// leaves a consistent set of files.
//
// Manifest syntax (Redis 7's): one line per file,
//
//	file <name> seq <n> type <b|i|h>\n
//
// b = base, i = incremental (replayed in seq order after the base), h =
// history (no longer needed, deleted). Blank lines and lines starting with
// '#' are ignored. Names are plain file names inside the directory.
//
// File names: <appendfilename>.<seq>.base.rdb for a base (an RDB file, the
// same format as dbfilename, as Redis 7 names it with aof-use-rdb-preamble;
// earlier builds wrote .base.snap, a shoal snapshot, which still loads: the
// names come from the manifest), <appendfilename>.<seq>.incr.aof for an
// incremental file (RESP commands), <appendfilename>.manifest for the
// manifest. A base may also be a RESP command stream (loaders look at its
// first bytes), which is what a hand-converted file would be.

// AOFFileType is the type of a file in the manifest.
type AOFFileType byte

// The manifest's file types.
const (
	AOFBase    AOFFileType = 'b'
	AOFIncr    AOFFileType = 'i'
	AOFHistory AOFFileType = 'h'
)

// AOFFileInfo is one line of the manifest.
type AOFFileInfo struct {
	Name string
	Seq  int64
	Type AOFFileType
}

// AOFManifest lists the files of a multi-part AOF.
type AOFManifest struct {
	Base    *AOFFileInfo  // nil when there is none (yet)
	Incr    []AOFFileInfo // in replay order, ascending Seq
	History []AOFFileInfo
}

// ErrBadManifest wraps manifest parse errors.
var ErrBadManifest = errors.New("invalid AOF manifest file format")

// Files returns base (if any) and the incremental files, in load order.
func (m *AOFManifest) Files() []AOFFileInfo {
	var out []AOFFileInfo
	if m.Base != nil {
		out = append(out, *m.Base)
	}
	return append(out, m.Incr...)
}

// NextSeq returns the sequence number for a new file of type t.
func (m *AOFManifest) NextSeq(t AOFFileType) int64 {
	var last int64
	switch t {
	case AOFBase:
		if m.Base != nil {
			last = m.Base.Seq
		}
	case AOFIncr:
		for _, f := range m.Incr {
			last = max(last, f.Seq)
		}
	}
	return last + 1
}

// Encode returns the manifest's bytes.
func (m *AOFManifest) Encode() []byte {
	var b bytes.Buffer
	line := func(f AOFFileInfo) {
		fmt.Fprintf(&b, "file %s seq %d type %c\n", f.Name, f.Seq, f.Type)
	}
	if m.Base != nil {
		line(*m.Base)
	}
	for _, f := range m.History {
		line(f)
	}
	for _, f := range m.Incr {
		line(f)
	}
	return b.Bytes()
}

// ParseAOFManifest parses a manifest; name is used in errors.
func ParseAOFManifest(r io.Reader, name string) (*AOFManifest, error) {
	br := bufio.NewReader(r)
	m := &AOFManifest{}
	var off int64
	fail := func(format string, args ...any) error {
		return &LoadError{File: name, Offset: off, Err: fmt.Errorf("%w: %s", ErrBadManifest, fmt.Sprintf(format, args...))}
	}
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			if line != "" {
				return nil, fail("last line has no newline")
			}
			break
		}
		if err != nil {
			return nil, &LoadError{File: name, Offset: off, Err: err}
		}
		if len(line) > 1024 {
			return nil, fail("line too long")
		}
		text := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if t := strings.TrimSpace(text); t == "" || t[0] == '#' {
			off += int64(len(line))
			continue
		}
		f, err := parseManifestLine(text)
		if err != nil {
			return nil, fail("%v", err)
		}
		switch f.Type {
		case AOFBase:
			if m.Base != nil {
				return nil, fail("more than one base file")
			}
			m.Base = &f
		case AOFIncr:
			if n := len(m.Incr); n > 0 && f.Seq <= m.Incr[n-1].Seq {
				return nil, fail("incremental file %s out of sequence order", f.Name)
			}
			m.Incr = append(m.Incr, f)
		case AOFHistory:
			m.History = append(m.History, f)
		}
		off += int64(len(line))
	}
	return m, nil
}

func parseManifestLine(text string) (AOFFileInfo, error) {
	fields := strings.Fields(text)
	if len(fields)%2 != 0 {
		return AOFFileInfo{}, fmt.Errorf("odd number of fields in %q", text)
	}
	var f AOFFileInfo
	seen := map[string]bool{}
	for i := 0; i < len(fields); i += 2 {
		k, v := fields[i], fields[i+1]
		if seen[k] {
			return f, fmt.Errorf("%q given twice", k)
		}
		seen[k] = true
		switch k {
		case "file":
			if strings.ContainsAny(v, "/\\") || v == "." || v == ".." {
				return f, fmt.Errorf("file name %q is not a plain name", v)
			}
			f.Name = v
		case "seq":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return f, fmt.Errorf("bad seq %q", v)
			}
			f.Seq = n
		case "type":
			if len(v) != 1 || (v[0] != byte(AOFBase) && v[0] != byte(AOFIncr) && v[0] != byte(AOFHistory)) {
				return f, fmt.Errorf("unknown file type %q", v)
			}
			f.Type = AOFFileType(v[0])
		default:
			// Unknown keys are ignored, as Redis does, for forward compatibility.
		}
	}
	if f.Name == "" || f.Seq == 0 || f.Type == 0 {
		return f, fmt.Errorf("line %q lacks file, seq or type", text)
	}
	return f, nil
}

const (
	baseSuffix     = ".base.rdb"
	incrSuffix     = ".incr.aof"
	manifestSuffix = ".manifest"
)

// BaseFileName, IncrFileName and ManifestFileName name the files of the
// multi-part AOF whose appendfilename is prefix.
func BaseFileName(prefix string, seq int64) string {
	return prefix + "." + strconv.FormatInt(seq, 10) + baseSuffix
}

// IncrFileName names the incremental file seq.
func IncrFileName(prefix string, seq int64) string {
	return prefix + "." + strconv.FormatInt(seq, 10) + incrSuffix
}

// ManifestFileName names the manifest.
func ManifestFileName(prefix string) string { return prefix + manifestSuffix }
