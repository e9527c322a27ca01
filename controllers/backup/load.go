package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/shoal-dev/shoal/node/persistence"
)

// ErrChecksum is returned when an object's bytes are not those the
// manifest describes (a corrupt, truncated or replaced object).
var ErrChecksum = errors.New("checksum mismatch")

// VerifyObject reads the whole object at key and checks its size and
// SHA-256 against the manifest's: nothing of a shard is loaded before its
// object passed.
func VerifyObject(ctx context.Context, s *Store, key string, size int64, sha string) error {
	r, err := s.Get(ctx, key)
	if err != nil {
		return err
	}
	defer r.Close()
	h := &countingHash{h: sha256.New()}
	if _, err := io.Copy(h, r); err != nil {
		return fmt.Errorf("reading %s: %w", key, err)
	}
	return checkSum(key, h, size, sha)
}

func checkSum(key string, h *countingHash, size int64, sha string) error {
	got := hex.EncodeToString(h.h.Sum(nil))
	if h.n != size || got != sha {
		return fmt.Errorf("%w: object %s has %d bytes with SHA-256 %s, the manifest says %d bytes with %s", ErrChecksum, key, h.n, got, size, sha)
	}
	return nil
}

// ReadShard reads the snapshot in the object at key (decompressed) and
// passes its records to h, then checks the object's size and SHA-256 once
// more (it may have changed since VerifyObject) and the snapshot's own
// CRC-64. An error after records were passed means the caller must not
// trust what it loaded.
func ReadShard(ctx context.Context, s *Store, key, compression string, size int64, sha string, h persistence.SnapshotHandler) error {
	r, err := s.Get(ctx, key)
	if err != nil {
		return err
	}
	defer r.Close()
	sum := &countingHash{h: sha256.New()}
	d, err := newDecompressor(io.TeeReader(r, sum), compression, false)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	defer d.Close()
	if err := persistence.ReadSnapshot(d, key, h); err != nil {
		return err
	}
	// Whatever follows the snapshot (nothing, in an object this operator
	// wrote) still counts in the checksum.
	if _, err := io.Copy(io.Discard, io.TeeReader(r, sum)); err != nil {
		return fmt.Errorf("reading %s: %w", key, err)
	}
	return checkSum(key, sum, size, sha)
}
