package bus

import (
	"encoding/binary"
	"fmt"
	"io"
)

// ReadFrame reads one whole message from r into buf (grown as needed) and
// returns it, ready for Decode. It checks the signature and the length
// prefix before allocating, so a hostile peer cannot make it read or
// allocate more than maxLen bytes (MaxLen when maxLen <= 0). An error other
// than io.EOF / io.ErrUnexpectedEOF from r wraps ErrMalformed when the
// prefix is bad; the connection should then be closed.
func ReadFrame(r io.Reader, buf []byte, maxLen int) ([]byte, error) {
	if maxLen <= 0 || maxLen > MaxLen {
		maxLen = MaxLen
	}
	if cap(buf) < PrefixLen {
		buf = make([]byte, 0, 4096)
	}
	buf = buf[:PrefixLen]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	if string(buf[:4]) != Signature {
		return nil, fmt.Errorf("%w: bad signature %q", ErrMalformed, buf[:4])
	}
	n := binary.BigEndian.Uint32(buf[4:])
	if n < MinLen || uint64(n) > uint64(maxLen) {
		return nil, fmt.Errorf("%w: frame length %d outside [%d, %d]", ErrMalformed, n, MinLen, maxLen)
	}
	if cap(buf) < int(n) {
		nb := make([]byte, n)
		copy(nb, buf)
		buf = nb
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf[PrefixLen:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}
