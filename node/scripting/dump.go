package scripting

import (
	"encoding/binary"
	"errors"

	"github.com/shoal-dev/shoal/node/persistence"
)

// FUNCTION DUMP and RESTORE payloads in Redis 7.0's format, so a payload
// of a real Redis restores here and back: for each library the opcode
// RDB_OPCODE_FUNCTION2 and its code as an RDB string, then the RDB
// version (10) in two bytes and the CRC64 of all before it, little
// endian (createDumpPayload / verifyDumpPayload).

const (
	rdbOpcodeFunction2 = 245
	rdbOpcodeFunction  = 246 // the pre-GA format Redis 7.0 refuses
	rdbVersion         = 10
)

var errDumpPayload = errors.New("DUMP payload version or checksum are wrong")

// Dump is FUNCTION DUMP's payload of the loaded libraries.
func (rt *Runtime) Dump() []byte {
	var b []byte
	for _, lib := range rt.Libraries() {
		b = append(b, rdbOpcodeFunction2)
		b = appendRDBString(b, lib.Code)
	}
	b = binary.LittleEndian.AppendUint16(b, rdbVersion)
	return binary.LittleEndian.AppendUint64(b, persistence.CRC64(b))
}

// appendRDBString is rdbSaveRawString without compression.
func appendRDBString(b []byte, s string) []byte {
	n := uint64(len(s))
	switch {
	case n < 1<<6:
		b = append(b, byte(n))
	case n < 1<<14:
		b = append(b, byte(n>>8)|0x40, byte(n))
	case n <= 0xffffffff:
		b = append(b, 0x80)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	default:
		b = append(b, 0x81)
		b = binary.BigEndian.AppendUint64(b, n)
	}
	return append(b, s...)
}

// parseDump checks a payload and returns the libraries' codes.
func parseDump(p []byte) ([]string, error) {
	if len(p) < 10 {
		return nil, errDumpPayload
	}
	body := p[:len(p)-10]
	if binary.LittleEndian.Uint16(p[len(p)-10:]) > rdbVersion ||
		persistence.CRC64(p[:len(p)-8]) != binary.LittleEndian.Uint64(p[len(p)-8:]) {
		return nil, errDumpPayload
	}
	r := rdbReader{b: body}
	var codes []string
	for len(r.b) > 0 {
		switch op := r.b[0]; op {
		case rdbOpcodeFunction2:
			r.b = r.b[1:]
			s, err := r.str()
			if err != nil {
				return nil, err
			}
			codes = append(codes, s)
		case rdbOpcodeFunction:
			return nil, errors.New("Pre-GA function format not supported")
		default:
			return nil, errors.New("given type is not a function")
		}
	}
	return codes, nil
}

// rdbReader reads RDB lengths and strings (rdbLoadLen, rdbGenericLoadStringObject).
type rdbReader struct{ b []byte }

var errShort = errors.New("payload is truncated")

func (r *rdbReader) take(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)) {
		return nil, errShort
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v, nil
}

// length returns a length, or (encoded) the special encoding's type.
func (r *rdbReader) length() (n uint64, encoded bool, err error) {
	h, err := r.take(1)
	if err != nil {
		return 0, false, err
	}
	switch h[0] >> 6 {
	case 0:
		return uint64(h[0] & 0x3f), false, nil
	case 1:
		b, err := r.take(1)
		if err != nil {
			return 0, false, err
		}
		return uint64(h[0]&0x3f)<<8 | uint64(b[0]), false, nil
	case 2:
		switch h[0] {
		case 0x80:
			b, err := r.take(4)
			if err != nil {
				return 0, false, err
			}
			return uint64(binary.BigEndian.Uint32(b)), false, nil
		case 0x81:
			b, err := r.take(8)
			if err != nil {
				return 0, false, err
			}
			return binary.BigEndian.Uint64(b), false, nil
		}
		return 0, false, errors.New("unknown length encoding")
	}
	return uint64(h[0] & 0x3f), true, nil
}

func (r *rdbReader) str() (string, error) {
	n, enc, err := r.length()
	if err != nil {
		return "", err
	}
	if !enc {
		b, err := r.take(n)
		return string(b), err
	}
	switch n {
	case 0, 1, 2: // int8, int16, int32
		b, err := r.take(1 << n)
		if err != nil {
			return "", err
		}
		var v int64
		switch n {
		case 0:
			v = int64(int8(b[0]))
		case 1:
			v = int64(int16(binary.LittleEndian.Uint16(b)))
		default:
			v = int64(int32(binary.LittleEndian.Uint32(b)))
		}
		return itoa(v), nil
	case 3: // LZF
		clen, _, err := r.length()
		if err != nil {
			return "", err
		}
		ulen, _, err := r.length()
		if err != nil {
			return "", err
		}
		c, err := r.take(clen)
		if err != nil {
			return "", err
		}
		return lzfDecompress(c, ulen)
	}
	return "", errors.New("unknown string encoding")
}

func itoa(v int64) string {
	var buf [20]byte
	return string(appendInt(buf[:0], v))
}

func appendInt(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		u := uint64(-v)
		return appendUint(b, u)
	}
	return appendUint(b, uint64(v))
}

func appendUint(b []byte, u uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// lzfDecompress is liblzf's lzf_decompress.
func lzfDecompress(in []byte, ulen uint64) (string, error) {
	if ulen > 512<<20 {
		return "", errors.New("LZF payload too large")
	}
	out := make([]byte, 0, ulen)
	bad := errors.New("invalid LZF data")
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 {
			n := ctrl + 1
			if i+n > len(in) {
				return "", bad
			}
			out = append(out, in[i:i+n]...)
			i += n
			continue
		}
		n := ctrl >> 5
		if n == 7 {
			if i >= len(in) {
				return "", bad
			}
			n += int(in[i])
			i++
		}
		if i >= len(in) {
			return "", bad
		}
		ref := len(out) - ((ctrl & 0x1f) << 8) - int(in[i]) - 1
		i++
		if ref < 0 {
			return "", bad
		}
		for k := 0; k < n+2; k++ {
			out = append(out, out[ref+k])
		}
	}
	if uint64(len(out)) != ulen {
		return "", bad
	}
	return string(out), nil
}

// Restore is FUNCTION RESTORE with policy "flush", "append" or
// "replace": "" or the error text; on error nothing changed.
func (rt *Runtime) Restore(payload []byte, policy string) string {
	codes, err := parseDump(payload)
	if err != nil {
		return err.Error()
	}
	f := rt.funcs
	savedLibs, savedFuncs := copyLibs(f.libs), copyFuncs(f.funcs)
	switch policy {
	case "flush":
		rt.FlushFunctions()
	case "append":
		for _, code := range codes {
			if _, name, _, msg := libraryMeta(code); msg == "" && f.libs[name] != nil {
				return "Library " + name + " already exists"
			}
		}
	}
	for _, code := range codes {
		if _, msg := rt.LoadLibrary(code, policy == "replace"); msg != "" {
			f.libs, f.funcs = savedLibs, savedFuncs
			return msg
		}
	}
	return ""
}

func copyLibs(m map[string]*Library) map[string]*Library {
	c := make(map[string]*Library, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func copyFuncs(m map[string]*Function) map[string]*Function {
	c := make(map[string]*Function, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
