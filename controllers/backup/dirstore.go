package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Objects is where a backup's objects live: an S3 bucket (Store) or a
// directory (DirStore: a mounted volume). Keys are slash-separated paths.
type Objects interface {
	// Put writes r to key; size -1 when unknown. A Put that fails leaves
	// no object under key.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens key; a missing key is ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns the keys under prefix.
	List(ctx context.Context, prefix string) ([]string, error)
	// RemoveAll removes the keys under prefix, a folder ending with "/".
	RemoveAll(ctx context.Context, prefix string) error
}

// DirStore keeps objects as files under a directory (a PersistentVolume
// mounted where the backup runs): an object is written to a temporary
// file beside its place, synced, then renamed, so a key holds a whole
// object or none.
type DirStore struct{ root string }

// NewDirStore serves the objects under root (created if missing).
func NewDirStore(root string) (*DirStore, error) {
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, err
	}
	return &DirStore{root: root}, nil
}

// tmpPrefix starts the names of files being written (never listed).
const tmpPrefix = ".partial-"

// file is the path of key, which must be a clean relative slash path of
// names that do not start a temporary file.
func (d *DirStore) file(key string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// ErrBadKey: a key that is not a clean relative slash path (one that
// would leave the store's directory, as ../x does), or that names a
// file being written.
var ErrBadKey = errors.New("bad object key")

// CheckKey refuses the keys a DirStore cannot hold (ErrBadKey).
func CheckKey(key string) error {
	if key == "" || path.Clean(key) != key || path.IsAbs(key) || strings.HasPrefix(key, "../") || key == ".." || strings.Contains(key, "\\") {
		return fmt.Errorf("%w %q", ErrBadKey, key)
	}
	if strings.HasPrefix(path.Base(key), tmpPrefix) {
		return fmt.Errorf("%w %q: reserved name", ErrBadKey, key)
	}
	return nil
}

// Put writes r to key through a synced temporary file and a rename.
func (d *DirStore) Put(ctx context.Context, key string, r io.Reader, _ int64, _ string) error {
	name, err := d.file(key)
	if err != nil {
		return err
	}
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// ctxReader stops a copy once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Get opens key.
func (d *DirStore) Get(_ context.Context, key string) (io.ReadCloser, error) {
	name, err := d.file(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return f, err
}

// List returns the keys under prefix, sorted, without files being
// written.
func (d *DirStore) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), tmpPrefix) {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return nil
	})
	slices.Sort(keys)
	return keys, err
}

// RemoveAll removes the folder prefix (which must end with "/") and
// what it holds.
func (d *DirStore) RemoveAll(_ context.Context, prefix string) error {
	if !strings.HasSuffix(prefix, "/") || prefix == "/" {
		return fmt.Errorf("refusing to remove %q: not a folder", prefix)
	}
	name, err := d.file(strings.TrimSuffix(prefix, "/"))
	if err != nil {
		return err
	}
	return os.RemoveAll(name)
}
