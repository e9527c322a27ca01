package persistence

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces path with what write produces, crash-safely: the
// data goes to a temp file in the same directory, which is fsynced, renamed
// over path, and then the directory is fsynced so the rename itself is
// durable. On any error the temp file is removed and path is untouched.
func WriteFileAtomic(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "temp-"+base+"-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
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
