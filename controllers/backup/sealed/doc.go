// Package sealed is the encrypted form of a backup's shard objects
// (encryption at rest): AES-256-GCM over fixed-size chunks, so an object of
// any size is encrypted and decrypted as a stream, with a bounded buffer,
// and every chunk is authenticated before a byte of it is used.
//
// # Format (version 1)
//
// A sealed object is a 54-byte header followed by chunks:
//
//	offset size  field
//	0      8     magic "SHOALENC"
//	8      1     format version: 1
//	9      1     algorithm: 1 (AES-256-GCM)
//	10     4     chunk size: plaintext bytes per chunk, big-endian, 1..16 MiB
//	14     8     key ID: the first 8 bytes of SHA-256("shoal backup key id" || key)
//	22     32    salt: random, new for every object
//
// The object's data key is HKDF-SHA256(key, salt, "shoal backup data key v1"),
// 32 bytes, so no two objects share a (key, nonce) pair whatever the number
// of objects. Chunk i (from 0) is AES-256-GCM under the data key with the
// 12-byte nonce (i as 8 bytes big-endian, three zero bytes, the last-chunk
// flag: 1 on the final chunk, else 0) and the whole header as additional
// data: chunk-size plaintext bytes become chunk-size+16 bytes. Every chunk
// but the last holds exactly chunk-size bytes; the last holds 0 to
// chunk-size bytes and is always present (an empty object has one empty
// final chunk).
//
// So reordered, dropped or altered chunks fail their authentication, a
// truncated object lacks its final chunk, bytes after the final chunk are
// refused, and a header changed in any byte fails every chunk. The key ID
// tells a wrong key (ErrWrongKey) from corruption (ErrCorrupt) before any
// chunk is read.
//
// The package knows nothing of stores, snapshots or Kubernetes.
package sealed
