package persistence

import (
	"encoding/binary"
	"testing"
)

func TestCRC64JonesCheckValue(t *testing.T) {
	// The check value from Redis's crc64.c specification comment.
	if got := CRC64([]byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("CRC64(123456789) = %016x, want e9c6d914c4b8d9ca", got)
	}
}

func TestCRC64MatchesRedisDumpTrailer(t *testing.T) {
	// DUMP foo after SET foo bar on redis-server 7.0.15: type 0, RDB string
	// "bar", RDB version 10, CRC-64/Jones of everything before it.
	payload := []byte("\x00\x03bar\n\x00\xe6\xbeI`\xeef\xfd\x17")
	body := payload[:len(payload)-8]
	want := binary.LittleEndian.Uint64(payload[len(payload)-8:])
	if got := CRC64(body); got != want {
		t.Fatalf("CRC64 = %016x, Redis wrote %016x", got, want)
	}
}

func TestCRC64SlicingMatchesBytewise(t *testing.T) {
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i*7 + i>>3)
	}
	for n := 0; n <= len(data); n += 37 {
		bytewise := uint64(0)
		for _, b := range data[:n] {
			bytewise = crc64Update(bytewise, []byte{b})
		}
		if got := CRC64(data[:n]); got != bytewise {
			t.Fatalf("len %d: slicing %016x, bytewise %016x", n, got, bytewise)
		}
		// Splitting the input anywhere gives the same result.
		if got := crc64Update(crc64Update(0, data[:n/2]), data[n/2:n]); got != bytewise {
			t.Fatalf("len %d: split %016x, bytewise %016x", n, got, bytewise)
		}
	}
}
