package persistence

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// goldenDumpHex freezes the DUMP payload of the string "bar", byte for
// byte Redis 7.0.15's: type 0, length 3, the bytes, RDB version 10
// little-endian, CRC-64/Jones little-endian.
const goldenDumpHex = "00" + "03626172" + "0a00" + "e6be4960ee66fd17"

// legacyDumpHex is the same value's payload from earlier shoal builds
// (version 0x8001): still accepted.
const legacyDumpHex = "00" + "626172" + "0180" + "f0155812fc07e4de"

func stringCodecs(t testing.TB) *Codecs {
	t.Helper()
	c, err := NewCodecs(BytesStringCodec{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDumpGoldenBytesRedis(t *testing.T) {
	got, err := stringCodecs(t).Dump(TypeString, []byte("bar"))
	if err != nil {
		t.Fatal(err)
	}
	want := must(hex.DecodeString(goldenDumpHex))
	if !bytes.Equal(got[:len(got)-8], want[:len(want)-8]) {
		t.Fatalf("DUMP payload changed:\n got %x\nwant %x", got, want)
	}
	if crc := CRC64(got[:len(got)-8]); !bytes.Equal(got[len(got)-8:], le64(crc)) {
		t.Fatalf("trailer %x is not the CRC %016x", got[len(got)-8:], crc)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("DUMP payload changed:\n got %x\nwant %x", got, want)
	}
}

// AppendDumpOf appends exactly Dump's payload after what dst holds (the
// CRC covers only the appended value), reusing dst's room.
func TestAppendDumpOfIsDump(t *testing.T) {
	c := stringCodecs(t)
	buf := make([]byte, 0, 64)
	for _, prefix := range []string{"", "RESTORE k 0 "} {
		for _, v := range []string{"", "bar", string(bytes.Repeat([]byte{0, 0xff}, 100))} {
			got := must(c.AppendDumpOf(append(buf[:0], prefix...), TypeString, []byte(v)))
			want := append([]byte(prefix), must(c.Dump(TypeString, []byte(v)))...)
			if !bytes.Equal(got, want) {
				t.Fatalf("AppendDumpOf(%q, %q) = %x, want %x", prefix, v[:min(len(v), 10)], got, want)
			}
			buf = got
		}
	}
}

func TestRestoreRoundTrip(t *testing.T) {
	c := stringCodecs(t)
	for _, v := range []string{"", "bar", string(bytes.Repeat([]byte{0, 0xff}, 5000))} {
		p := must(c.Dump(TypeString, []byte(v)))
		typ, got, err := c.Restore(p)
		if err != nil || typ != TypeString || string(got.([]byte)) != v {
			t.Fatalf("Restore(Dump(%q)) = %v %q %v", v[:min(len(v), 10)], typ, got, err)
		}
	}
}

// RESTORE rejects what DUMP did not produce with Redis's exact words.
func TestRestoreRejectsBadPayloads(t *testing.T) {
	c := stringCodecs(t)
	good := must(hex.DecodeString(goldenDumpHex))
	flip := func(i int) []byte { p := slices.Clone(good); p[i] ^= 0x01; return p }
	redisPayload := []byte("\x00\x03bar\n\x00\xe6\xbeI`\xeef\xfd\x17") // DUMP from redis-server 7.0.15
	resum := func(p []byte) []byte {
		body := p[:len(p)-8]
		return append(slices.Clone(body), le64(CRC64(body))...)
	}
	withVersion := func(v uint16) []byte {
		p := slices.Clone(good)
		p[len(p)-10], p[len(p)-9] = byte(v), byte(v>>8)
		return resum(p)
	}
	cases := []struct {
		name    string
		payload []byte
		want    error
	}{
		{"empty", nil, ErrDumpPayload},
		{"shorter than a trailer", good[len(good)-9:], ErrDumpPayload},
		{"trailer without a type tag", good[len(good)-10:], ErrDumpPayload},
		{"flipped value byte", flip(1), ErrDumpPayload},
		{"flipped version byte", flip(len(good) - 10), ErrDumpPayload},
		{"flipped checksum byte", flip(len(good) - 1), ErrDumpPayload},
		{"future version", withVersion(DumpVersion + 1), ErrDumpPayload},
		{"version 0 with shoal flag", withVersion(dumpShoalFlag), ErrDumpPayload},
		{"legacy version too new", withVersion(dumpShoalFlag | (ValueEncodingVersion + 1)), ErrDumpPayload},
		{"unknown type tag", resum(append([]byte{0x7f}, good[1:]...)), ErrBadDataFormat},
		{"module type", resum(append([]byte{rdb.TypeModule2}, good[1:]...)), ErrBadDataFormat},
		{"value that does not decode", resum(append([]byte{byte(TypeList)}, good[1:]...)), ErrBadDataFormat},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := c.Restore(tc.payload)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	for name, p := range map[string][]byte{"redis": redisPayload, "legacy shoal": must(hex.DecodeString(legacyDumpHex))} {
		if typ, v, err := c.Restore(p); err != nil || typ != TypeString || string(v.([]byte)) != "bar" {
			t.Errorf("%s payload: %v %q %v", name, typ, v, err)
		}
	}
	if ErrDumpPayload.Error() != "ERR DUMP payload version or checksum are wrong" {
		t.Fatalf("wording changed: %q", ErrDumpPayload)
	}
	if ErrBadDataFormat.Error() != "ERR Bad data format" {
		t.Fatalf("wording changed: %q", ErrBadDataFormat)
	}
}
