package backup

import (
	"compress/gzip"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
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
