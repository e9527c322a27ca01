package persistence

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// AtomicFile is a file that replaces path only when committed: the data
// goes to a temp file in the same directory; Commit fsyncs it, renames it
// over path and fsyncs the directory so the rename itself is durable;
// Abort removes it and leaves path untouched. Splitting the two lets a
// caller decide at the last moment (BGSAVE does not rename once SHUTDOWN
// has started its own save).
type AtomicFile struct {
	f    *os.File
	path string
	done bool
}

// CreateAtomic starts a replacement of path.
func CreateAtomic(path string) (*AtomicFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "temp-"+base+"-*.tmp")
	if err != nil {
		return nil, err
	}
	return &AtomicFile{f: f, path: path}, nil
}

// Write implements io.Writer.
func (a *AtomicFile) Write(p []byte) (int, error) { return a.f.Write(p) }

// Commit makes the written data the content of path, durably.
func (a *AtomicFile) Commit() error {
	if a.done {
		return fmt.Errorf("%s: already committed or aborted", a.path)
	}
	a.done = true
	tmp := a.f.Name()
	err := a.f.Sync()
	if err != nil {
		err = fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, a.path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	dir := filepath.Dir(a.path)
	return SyncDir(dir)
}

// Abort removes the temp file; path is untouched. Safe after Commit.
func (a *AtomicFile) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.f.Close()
	os.Remove(a.f.Name())
}

// WriteFileAtomic replaces path with what write produces (see AtomicFile).
// On any error path is untouched and no temp file is left.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	a, err := CreateAtomic(path)
	if err != nil {
		return err
	}
	if err := write(a); err != nil {
		a.Abort()
		return err
	}
	return a.Commit()
}

// SyncDir fsyncs a directory, making renames and creations in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}

// SaveSnapshotFile writes a snapshot to path atomically (see
// WriteFileAtomic): fill calls the writer's Aux and Key methods; the end
// marker and checksum are added after it returns.
func SaveSnapshotFile(path string, fill func(*SnapshotWriter) error) error {
	return WriteFileAtomic(path, func(w io.Writer) error {
		sw := NewSnapshotWriter(w)
		if err := fill(sw); err != nil {
			return err
		}
		return sw.Close()
	})
}
