// Package s3test runs an S3-compatible object store for tests: the
// gofakes3 server (github.com/johannesboyne/gofakes3's cmd, installed by
// `make s3server` and named by SHOAL_S3SERVER) as a separate process on
// 127.0.0.1, keeping its objects on disk (the bolt backend). It is a
// lightweight server: it speaks the S3 API the backup code uses (buckets,
// multipart uploads, listing, deletes) but does not check request
// signatures. The process is stopped, by its PID, when the test ends.
//
// It must not be imported by the operator or the node: tests, the e2e
// suite and the benchmarks under hack/ only.
package s3test
