package persistence

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// AOFDir manages a multi-part AOF directory: loading it, opening the file
// to append to, and the rewrite protocol that replaces the base without
// stopping writes:
//
//  1. BeginRewrite (no server lock): create incremental file N+1 and, if a
//     manifest exists, replace it by one listing base, incr..N, incr N+1.
//  2. Under the server lock: AOFWriter.Rotate to incr N+1 and start the
//     point-in-time capture (both O(1)). From here new writes go to N+1 only.
//  3. In the background: WriteBase from the capture (temp file, fsync, rename).
//  4. Commit: replace the manifest by one listing the new base and incr N+1,
//     fsync the directory, delete the files no longer listed.
//
// A crash before step 4 leaves the old manifest, whose files still hold
// every write (old base + old incrs + incr N+1); after it, the new one. So
// the rewrite needs no in-memory buffer of the writes made meanwhile: incr
// N+1 is that buffer, on disk.
type AOFDir struct {
	dir    string // the directory itself (dir/appenddirname)
	prefix string // appendfilename

	mu       sync.Mutex
	manifest *AOFManifest // nil until a manifest exists on disk
	rewrite  bool
}

// OpenAOFDir opens (creating the directory if needed) the multi-part AOF
// in dir with file names starting with prefix. found says whether a
// manifest exists, i.e. whether there is anything to load.
func OpenAOFDir(dir, prefix string) (d *AOFDir, found bool, err error) {
	if prefix == "" || strings.ContainsAny(prefix, "/\\") {
		return nil, false, fmt.Errorf("appendfilename %q must be a plain file name", prefix)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, err
	}
	d = &AOFDir{dir: dir, prefix: prefix}
	path := d.path(ManifestFileName(prefix))
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return d, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	m, err := ParseAOFManifest(bytes.NewReader(data), path)
	if err != nil {
		return nil, false, err
	}
	d.manifest = m
	return d, true, nil
}

func (d *AOFDir) path(name string) string { return filepath.Join(d.dir, name) }

// Dir returns the directory.
func (d *AOFDir) Dir() string { return d.dir }

// Manifest returns a copy of the current manifest (empty when none exists).
func (d *AOFDir) Manifest() AOFManifest {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.manifest == nil {
		return AOFManifest{}
	}
	m := *d.manifest
	m.Incr = append([]AOFFileInfo(nil), m.Incr...)
	m.History = nil
	return m
}

// AOFHandler receives what a multi-part AOF holds: the base's keys when the
// base is a snapshot, then commands (from a RESP base and from the
// incremental files). Each file starts in database 0, as the commands'
// SELECTs assume.
type AOFHandler struct {
	Snapshot SnapshotHandler
	// Command receives each command; file is the file it came from, so the
	// caller can reset its selected database when file changes.
	Command func(file string, argv [][]byte) error
	// Progress, when set, is called with the bytes each read took from
	// any of the files (see SnapshotHandler.Progress).
	Progress func(n int)
}

// AOFLoadReport says what Load found, for the log.
type AOFLoadReport struct {
	Files []AOFFileLoad
}

// AOFFileLoad is the load result of one file.
type AOFFileLoad struct {
	Name     string
	Type     AOFFileType
	Snapshot bool // a snapshot base
	Keys     int64
	AOFLoadInfo
}

// Load replays the base and the incremental files in order. A missing
// listed file, a corrupt file, or a truncated file other than the last
// incremental one stops the load with an error naming the file. A truncated
// last file is an error too unless trimTruncated (aof-load-truncated yes), in
// which case its tail is cut off and the report says so.
func (d *AOFDir) Load(trimTruncated bool, h AOFHandler) (AOFLoadReport, error) {
	d.mu.Lock()
	m := d.manifest
	d.mu.Unlock()
	var rep AOFLoadReport
	if m == nil {
		return rep, nil
	}
	files := m.Files()
	for i, f := range files {
		path := d.path(f.Name)
		last := i == len(files)-1 && f.Type == AOFIncr
		fl := AOFFileLoad{Name: f.Name, Type: f.Type}
		snap, err := isSnapshotFile(path)
		if err != nil {
			return rep, fmt.Errorf("AOF file %s listed in the manifest cannot be read: %w", path, err)
		}
		if snap {
			fl.Snapshot = true
			key := h.Snapshot.Key
			err = LoadSnapshotFile(path, SnapshotHandler{Aux: h.Snapshot.Aux, Function: h.Snapshot.Function, ResizeDB: h.Snapshot.ResizeDB, Reuse: h.Snapshot.Reuse, Progress: h.Progress, Key: func(r Record) error {
				fl.Keys++
				if key == nil {
					return nil
				}
				return key(r)
			}})
		} else {
			fl.AOFLoadInfo, err = loadAOFFile(path, trimTruncated && last, h.Progress, func(argv [][]byte) error {
				if h.Command == nil {
					return nil
				}
				return h.Command(f.Name, argv)
			})
		}
		if err != nil {
			return rep, err
		}
		rep.Files = append(rep.Files, fl)
	}
	return rep, nil
}

// isSnapshotFile reports whether path starts with the snapshot magic.
func isSnapshotFile(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, len(SnapshotMagic))
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return false, err
	}
	return string(head[:n]) == SnapshotMagic || n >= len(RDBMagic) && string(head[:len(RDBMagic)]) == RDBMagic, nil
}

// Create starts a fresh multi-part AOF from the current dataset: fill
// writes it as base 1 (the server calls this at start-up, before serving,
// when appendonly is yes and no manifest exists), then an empty incr 1 and
// the manifest are created. It returns incr 1 open for appending.
func (d *AOFDir) Create(fill func(*SnapshotWriter) error) (*os.File, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.manifest != nil {
		return nil, fmt.Errorf("AOF manifest already exists in %s", d.dir)
	}
	m := &AOFManifest{}
	base := AOFFileInfo{Name: BaseFileName(d.prefix, 1), Seq: 1, Type: AOFBase}
	if err := SaveSnapshotFile(d.path(base.Name), fill); err != nil {
		return nil, err
	}
	m.Base = &base
	f, info, err := d.createIncr(1)
	if err != nil {
		return nil, err
	}
	m.Incr = []AOFFileInfo{info}
	if err := d.writeManifest(m); err != nil {
		f.Close()
		return nil, err
	}
	d.manifest = m
	return f, nil
}

// OpenForAppend opens the last incremental file for appending, creating
// one (and listing it in the manifest) when the manifest has none.
func (d *AOFDir) OpenForAppend() (*os.File, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.manifest == nil {
		return nil, fmt.Errorf("no AOF manifest in %s: call Create first", d.dir)
	}
	if n := len(d.manifest.Incr); n > 0 {
		return os.OpenFile(d.path(d.manifest.Incr[n-1].Name), os.O_WRONLY|os.O_APPEND, 0o644)
	}
	m := d.manifest.clone()
	f, info, err := d.createIncr(m.NextSeq(AOFIncr))
	if err != nil {
		return nil, err
	}
	m.Incr = append(m.Incr, info)
	if err := d.writeManifest(m); err != nil {
		f.Close()
		return nil, err
	}
	d.manifest = m
	return f, nil
}

func (m *AOFManifest) clone() *AOFManifest {
	c := *m
	c.Incr = append([]AOFFileInfo(nil), m.Incr...)
	c.History = append([]AOFFileInfo(nil), m.History...)
	if m.Base != nil {
		b := *m.Base
		c.Base = &b
	}
	return &c
}

func (d *AOFDir) createIncr(seq int64) (*os.File, AOFFileInfo, error) {
	info := AOFFileInfo{Name: IncrFileName(d.prefix, seq), Seq: seq, Type: AOFIncr}
	f, err := os.OpenFile(d.path(info.Name), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, info, err
	}
	if err := SyncDir(d.dir); err != nil {
		f.Close()
		return nil, info, err
	}
	return f, info, nil
}

func (d *AOFDir) writeManifest(m *AOFManifest) error {
	return WriteFileAtomic(d.path(ManifestFileName(d.prefix)), func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		bw.Write(m.Encode())
		return bw.Flush()
	})
}

// ErrRewriteInProgress is returned by BeginRewrite while one runs.
var ErrRewriteInProgress = errors.New("ERR Background append only file rewriting already in progress")

// AOFRewrite is one rewrite in progress (see AOFDir).
type AOFRewrite struct {
	d        *AOFDir
	incr     AOFFileInfo
	file     *os.File
	base     AOFFileInfo
	wroteB   bool
	finished bool
}

// BeginRewrite is step 1: it creates the next incremental file and, with
// listNow, lists it in the manifest (when one exists) so that writes can go
// to it at once: pass IncrFile to AOFWriter.Rotate. Without listNow (the
// AOF is being turned on and the existing files are stale) the manifest
// changes only at Commit.
func (d *AOFDir) BeginRewrite(listNow bool) (*AOFRewrite, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rewrite {
		return nil, ErrRewriteInProgress
	}
	m := &AOFManifest{}
	if d.manifest != nil {
		m = d.manifest.clone()
	}
	f, info, err := d.createIncr(m.NextSeq(AOFIncr))
	if err != nil {
		return nil, err
	}
	if d.manifest != nil && listNow {
		m.Incr = append(m.Incr, info)
		if err := d.writeManifest(m); err != nil {
			f.Close()
			os.Remove(d.path(info.Name))
			return nil, err
		}
		d.manifest = m
	}
	d.rewrite = true
	base := AOFFileInfo{Name: BaseFileName(d.prefix, m.NextSeq(AOFBase)), Seq: m.NextSeq(AOFBase), Type: AOFBase}
	return &AOFRewrite{d: d, incr: info, file: f, base: base}, nil
}

// IncrFile is the new incremental file, open for appending.
func (rw *AOFRewrite) IncrFile() *os.File { return rw.file }

// WriteBase is step 3: it writes the new base atomically.
func (rw *AOFRewrite) WriteBase(fill func(*SnapshotWriter) error) error {
	if err := SaveSnapshotFile(rw.d.path(rw.base.Name), fill); err != nil {
		return err
	}
	rw.wroteB = true
	return nil
}

// Commit is step 4: the new manifest lists the new base and the new
// incremental file; files no longer listed are deleted.
func (rw *AOFRewrite) Commit() error {
	d := rw.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if rw.finished {
		return errors.New("AOF rewrite already finished")
	}
	if !rw.wroteB {
		return errors.New("AOF rewrite committed without a base")
	}
	base := rw.base
	m := &AOFManifest{Base: &base}
	// Keep the new incr and any created after it (none while rewrites are
	// serialised, but never drop a listed file that may hold writes).
	m.Incr = []AOFFileInfo{rw.incr}
	if d.manifest != nil {
		for _, f := range d.manifest.Incr {
			if f.Seq > rw.incr.Seq {
				m.Incr = append(m.Incr, f)
			}
		}
	}
	if err := d.writeManifest(m); err != nil {
		return err
	}
	d.manifest = m
	rw.finished = true
	d.rewrite = false
	d.removeUnlisted(m)
	return nil
}

// Abort gives up a rewrite (the base could not be written): the new base
// is removed; the manifest (old files plus the new incr) stays valid and
// the writer keeps appending to the new incr.
func (rw *AOFRewrite) Abort() {
	d := rw.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if rw.finished {
		return
	}
	rw.finished = true
	d.rewrite = false
	if rw.wroteB {
		os.Remove(d.path(rw.base.Name))
	}
}

// removeUnlisted deletes this AOF's files (and temp files) that m does not
// list: the previous base and incremental files, and leftovers of crashes.
func (d *AOFDir) removeUnlisted(m *AOFManifest) {
	keep := map[string]bool{ManifestFileName(d.prefix): true}
	for _, f := range m.Files() {
		keep[f.Name] = true
	}
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		ours := strings.HasPrefix(name, d.prefix+".") && (strings.HasSuffix(name, baseSuffix) || strings.HasSuffix(name, incrSuffix)) ||
			strings.HasPrefix(name, "temp-"+d.prefix+".")
		if ours && !keep[name] {
			os.Remove(d.path(name))
		}
	}
}
