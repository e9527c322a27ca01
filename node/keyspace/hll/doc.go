// Package hll is Redis 7.0's HyperLogLog over a string value, byte for byte:
// the 16-byte "HYLL" header (encoding, cached cardinality whose top bit
// marks it stale), the dense representation (16384 registers of 6 bits,
// packed from the least significant bit) and the sparse one (ZERO, XZERO
// and VAL opcodes), MurmurHash64A with Redis's seed, the sparse-to-dense
// promotion at hll-sparse-max-bytes, and the cardinality estimator of
// Redis 7.0 (Ertl's improved raw estimator with the sigma and tau
// corrections), so a GET of the value and PFCOUNT answer what Redis does.
//
// Values are plain byte slices owned by the caller. Every function
// tolerates any input bytes: a corrupted value is reported with ErrInvalid
// (Redis's INVALIDOBJ), never a panic. The package does not parse commands,
// write replies or touch the keyspace.
package hll
