package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"
)

// ShardObject is a shard snapshot written to the store.
type ShardObject struct {
	Snapshot
	// Key of the object; ObjectSize and ObjectSHA256 its bytes'
	// (compressed, when compressed).
	Key          string
	ObjectSize   int64
	ObjectSHA256 string
	Duration     time.Duration
}

// UploadShard streams the snapshot of the node at addr (Stream) to key in
// the store, compressed and encrypted as f says, as it arrives: no copy is made on disk and at
// most a part of the upload is in memory. A snapshot that fails (a short
// or corrupted transfer, a node that refuses) aborts the upload, so no
// object is left under key by this call.
func UploadShard(ctx context.Context, s Objects, key, addr string, f Format, o Options) (ShardObject, error) {
	start := time.Now()
	out := ShardObject{Key: key}
	pr, pw := io.Pipe()
	sum := &countingHash{h: sha256.New()}
	var serr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		cw, err := f.encoder(io.MultiWriter(pw, sum))
		if err == nil {
			out.Snapshot, err = Stream(ctx, addr, cw, o)
			if cerr := cw.Close(); err == nil {
				err = cerr
			}
		}
		serr = err
		_ = pw.CloseWithError(err) // nil: the reader sees EOF
	}()
	perr := s.Put(ctx, key, pr, -1, "application/octet-stream")
	_ = pr.CloseWithError(errors.Join(perr, io.ErrClosedPipe)) // stops the stream when the upload failed
	<-done
	switch {
	case serr != nil && !errors.Is(serr, io.ErrClosedPipe):
		return out, serr
	case perr != nil:
		return out, perr
	case serr != nil:
		return out, serr
	}
	out.ObjectSize, out.ObjectSHA256 = sum.n, hex.EncodeToString(sum.h.Sum(nil))
	out.Duration = time.Since(start)
	return out, nil
}

// UploadShards streams every source's snapshot to its object in folder
// (ObjectName of its shard) at once, so the snapshots are as close in time
// as the nodes allow. The first failure fails the whole backup, with the
// shard and pod named; the objects are in the order of sources.
func UploadShards(ctx context.Context, s Objects, folder string, f Format, sources []Source, o Options) ([]ShardObject, error) {
	out := make([]ShardObject, len(sources))
	errs := make([]error, len(sources))
	var wg sync.WaitGroup
	for i, src := range sources {
		wg.Go(func() {
			key := folder + ObjectName(src.Shard, f)
			out[i], errs[i] = UploadShard(ctx, s, key, src.Addr, f, o)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("shard %d (pod %s): %w", src.Shard, src.Pod, errs[i])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// countingHash hashes and counts what is written.
type countingHash struct {
	h hash.Hash
	n int64
}

func (c *countingHash) Write(b []byte) (int, error) {
	c.n += int64(len(b))
	return c.h.Write(b)
}
