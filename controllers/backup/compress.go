package backup

import (
	"compress/gzip"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/shoal-dev/shoal/controllers/backup/sealed"
)

// The compressions of a shard object (the API's BackupCompression).
const (
	CompressionNone = "None"
	CompressionGzip = "Gzip"
	CompressionZstd = "Zstd"
)

func compressionSuffix(c string) string {
	switch c {
	case CompressionGzip:
		return ".gz"
	case CompressionZstd:
		return ".zst"
	}
	return ""
}

// Format is how a shard object encodes its snapshot: compressed
// (Compression), then, when Key is set, sealed (package sealed) with Key.
type Format struct {
	Compression string
	// Key is the 32-byte encryption key; nil: not encrypted.
	Key []byte
}

// encoder wraps w with the format's encryption and compression; Close
// ends both (not w).
func (f Format) encoder(w io.Writer) (io.WriteCloser, error) {
	var sw *sealed.Writer
	if f.Key != nil {
		var err error
		if sw, err = sealed.NewWriter(w, f.Key, 0); err != nil {
			return nil, err
		}
		w = sw
	}
	cw, err := newCompressor(w, f.Compression)
	if err != nil || sw == nil {
		return cw, err
	}
	return chainCloser{cw, sw}, nil
}

// decoder reads the snapshot of the object in r: decrypted (every chunk
// authenticated before it is used; a wrong key is refused before any is
// read), then decompressed. drain reads what is left, which checks the
// sealed object's end.
func (f Format) decoder(r io.Reader) (d io.ReadCloser, drain func() error, err error) {
	drain = func() error { return nil }
	if f.Key != nil {
		sr, err := sealed.NewReader(r, f.Key)
		if err != nil {
			return nil, nil, err
		}
		r = sr
		drain = func() error { _, err := io.Copy(io.Discard, sr); return err }
	}
	d, err = newDecompressor(r, f.Compression, false)
	return d, drain, err
}

// chainCloser closes its closers in order, reporting the first error.
type chainCloser struct {
	io.WriteCloser
	next io.Closer
}

func (c chainCloser) Close() error {
	err := c.WriteCloser.Close()
	if nerr := c.next.Close(); err == nil {
		err = nerr
	}
	return err
}

// nopCloser is a WriteCloser whose Close does nothing.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// newCompressor wraps w; Close flushes the compressed stream's end (not w).
func newCompressor(w io.Writer, c string) (io.WriteCloser, error) {
	switch c {
	case "", CompressionNone:
		return nopCloser{w}, nil
	case CompressionGzip:
		return gzip.NewWriterLevel(w, gzip.BestSpeed)
	case CompressionZstd:
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	}
	return nil, fmt.Errorf("unknown compression %q", c)
}

// newDecompressor reads the uncompressed stream of r. With check it only
// checks the compression's name (r may be empty).
func newDecompressor(r io.Reader, c string, check bool) (io.ReadCloser, error) {
	switch c {
	case "", CompressionNone:
		return io.NopCloser(r), nil
	case CompressionGzip:
		if check {
			return nil, nil
		}
		return gzip.NewReader(r)
	case CompressionZstd:
		if check {
			return nil, nil
		}
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("unknown compression %q", c)
}
