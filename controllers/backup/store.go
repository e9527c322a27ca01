package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// StoreConfig says how to reach a bucket of an S3-compatible store.
type StoreConfig struct {
	// Endpoint is host[:port], no scheme.
	Endpoint string
	Bucket   string
	// Region; empty lets the client ask the store.
	Region string
	// Insecure talks plain HTTP.
	Insecure bool
	// AccessKeyID and SecretAccessKey sign the requests (AWS Signature
	// Version 4, by minio-go).
	AccessKeyID     string
	SecretAccessKey string
}

// Store is a bucket of an S3-compatible object store.
type Store struct {
	c      *minio.Client
	bucket string
}

// partSize is the size of the parts of a streamed upload: what an upload
// holds in memory at most, per shard.
const partSize = 16 << 20

// NewStore makes the client of a bucket; it does not talk to the store.
func NewStore(cfg StoreConfig) (*Store, error) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		Secure: !cfg.Insecure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("object store %s: %w", cfg.Endpoint, err)
	}
	return &Store{c: c, bucket: cfg.Bucket}, nil
}

// Bucket is the store's bucket name.
func (s *Store) Bucket() string { return s.bucket }

// MakeBucket creates the bucket unless it exists (tests and the e2e: the
// operator never creates buckets).
func (s *Store) MakeBucket(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil || ok {
		return err
	}
	return s.c.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{})
}

// Put writes r to key. With size -1 the object is uploaded in parts of
// partSize as r produces them, so no more than a part is held in memory.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	_, err := s.c.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{
		ContentType: contentType,
		PartSize:    partSize,
		// UNSIGNED-PAYLOAD rather than the streaming (aws-chunked)
		// signature minio-go uses over plain HTTP, which some S3
		// implementations store undecoded: the object's integrity is
		// checked end to end by its SHA-256 in the manifest instead.
		DisableContentSha256: true,
	})
	if err != nil {
		return fmt.Errorf("upload of %s: %w", key, err)
	}
	return nil
}

// ErrNotFound is returned by Get for a key the bucket does not hold.
var ErrNotFound = errors.New("no such object")

// Get opens the object at key for reading.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	o, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("download of %s: %w", key, err)
	}
	// GetObject is lazy: Stat makes the request, so a missing object is
	// reported here rather than at the first Read.
	if _, err := o.Stat(); err != nil {
		o.Close()
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("download of %s: %w", key, err)
	}
	return o, nil
}

// List returns the keys under prefix.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("listing %s: %w", prefix, o.Err)
		}
		keys = append(keys, o.Key)
	}
	return keys, nil
}

// RemoveAll removes every object under prefix, which must end with "/"
// (a backup's folder, never a bare prefix of other names).
func (s *Store) RemoveAll(ctx context.Context, prefix string) error {
	if !strings.HasSuffix(prefix, "/") || prefix == "/" {
		return fmt.Errorf("refusing to remove %q: not a folder", prefix)
	}
	keys, err := s.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.c.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{}); err != nil {
			return fmt.Errorf("removing %s: %w", k, err)
		}
	}
	return nil
}
