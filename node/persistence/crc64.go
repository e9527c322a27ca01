package persistence

import "sync"

// CRC-64/Jones as Redis computes it (crc64.c): polynomial 0xad93d23594c935a9,
// reflected input and output, initial value 0, no final xor. Check value for
// "123456789" is 0xe9c6d914c4b8d9ca. Go's hash/crc64 inverts the register
// before and after every update, so it cannot produce this variant directly;
// this is a small slicing-by-8 implementation instead.

// jonesPolyReflected is 0xad93d23594c935a9 with its bits reversed.
const jonesPolyReflected = 0x95ac9329ac4bc9b5

// crcTables is the slicing-by-8 table, built once on first use and never
// written afterwards.
var crcTables = sync.OnceValue(func() *[8][256]uint64 {
	var t [8][256]uint64
	for i := range 256 {
		crc := uint64(i)
		for range 8 {
			if crc&1 == 1 {
				crc = crc>>1 ^ jonesPolyReflected
			} else {
				crc >>= 1
			}
		}
		t[0][i] = crc
	}
	for i := range 256 {
		crc := t[0][i]
		for k := 1; k < 8; k++ {
			crc = t[0][crc&0xff] ^ crc>>8
			t[k][i] = crc
		}
	}
	return &t
})

// crc64Update continues a CRC-64/Jones computation over p. Start with 0.
func crc64Update(crc uint64, p []byte) uint64 {
	t := crcTables()
	for len(p) >= 8 {
		crc ^= uint64(p[0]) | uint64(p[1])<<8 | uint64(p[2])<<16 | uint64(p[3])<<24 |
			uint64(p[4])<<32 | uint64(p[5])<<40 | uint64(p[6])<<48 | uint64(p[7])<<56
		crc = t[7][crc&0xff] ^ t[6][crc>>8&0xff] ^ t[5][crc>>16&0xff] ^ t[4][crc>>24&0xff] ^
			t[3][crc>>32&0xff] ^ t[2][crc>>40&0xff] ^ t[1][crc>>48&0xff] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return crc
}

// CRC64 returns the CRC-64/Jones checksum of p (the checksum Redis puts in
// RDB files and DUMP payloads, and the one shoal's snapshot and DUMP formats use).
func CRC64(p []byte) uint64 { return crc64Update(0, p) }
