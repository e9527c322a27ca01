package sealed

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Format constants (see the package documentation).
const (
	Magic         = "SHOALENC"
	Version       = 1
	AlgAES256GCM  = 1
	HeaderSize    = 54
	KeySize       = 32
	TagSize       = 16
	MaxChunkSize  = 16 << 20
	DefaultChunk  = 64 << 10
	keyIDSize     = 8
	saltSize      = 32
	keyIDContext  = "shoal backup key id"
	dataKeyInfo   = "shoal backup data key v1"
	nonceSize     = 12
	lastChunkFlag = 1
)

// Algorithm is the name the manifest records for this format.
const Algorithm = "AES-256-GCM"

var (
	// ErrWrongKey: the object was sealed with another key.
	ErrWrongKey = errors.New("sealed: the object was encrypted with another key")
	// ErrCorrupt: the object is not a sealed object, or a chunk fails its
	// authentication (altered, reordered, truncated or extended).
	ErrCorrupt = errors.New("sealed: corrupt encrypted object")
)

// ParseKey reads a key as a Secret holds it: 32 raw bytes, or their
// base64 (standard, as `openssl rand -base64 32` prints) or hex encoding,
// with surrounding white space ignored for the encodings.
func ParseKey(b []byte) ([]byte, error) {
	if len(b) == KeySize {
		return bytes.Clone(b), nil
	}
	s := strings.TrimSpace(string(b))
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	return nil, fmt.Errorf("sealed: a key is %d bytes, raw or in base64 or hex (%d bytes given)", KeySize, len(b))
}

// KeyID is the key's identifier written in the header, in hex.
func KeyID(key []byte) string { id := keyID(key); return hex.EncodeToString(id[:]) }

func keyID(key []byte) [keyIDSize]byte {
	h := sha256.New()
	h.Write([]byte(keyIDContext))
	h.Write(key)
	var id [keyIDSize]byte
	copy(id[:], h.Sum(nil))
	return id
}

// header is a parsed header.
type header struct {
	raw   [HeaderSize]byte
	chunk int
	keyID [keyIDSize]byte
	salt  []byte
}

func newHeader(key []byte, chunk int) (*header, error) {
	h := &header{chunk: chunk, keyID: keyID(key)}
	copy(h.raw[:], Magic)
	h.raw[8] = Version
	h.raw[9] = AlgAES256GCM
	binary.BigEndian.PutUint32(h.raw[10:14], uint32(chunk))
	copy(h.raw[14:22], h.keyID[:])
	if _, err := rand.Read(h.raw[22:]); err != nil {
		return nil, err
	}
	h.salt = h.raw[22:]
	return h, nil
}

func parseHeader(b []byte) (*header, error) {
	if len(b) < HeaderSize || string(b[:8]) != Magic {
		return nil, fmt.Errorf("%w: no %s header", ErrCorrupt, Magic)
	}
	h := &header{}
	copy(h.raw[:], b)
	if h.raw[8] != Version || h.raw[9] != AlgAES256GCM {
		return nil, fmt.Errorf("%w: format version %d, algorithm %d (this build reads %d, %d)", ErrCorrupt, h.raw[8], h.raw[9], Version, AlgAES256GCM)
	}
	c := binary.BigEndian.Uint32(h.raw[10:14])
	if c == 0 || c > MaxChunkSize {
		return nil, fmt.Errorf("%w: chunk size %d out of 1..%d", ErrCorrupt, c, MaxChunkSize)
	}
	h.chunk = int(c)
	copy(h.keyID[:], h.raw[14:22])
	h.salt = h.raw[22:]
	return h, nil
}

func (h *header) aead(key []byte) (cipher.AEAD, error) {
	dk, err := hkdf.Key(sha256.New, key, h.salt, dataKeyInfo, KeySize)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(dk)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func nonce(i uint64, last bool) []byte {
	n := make([]byte, nonceSize)
	binary.BigEndian.PutUint64(n, i)
	if last {
		n[nonceSize-1] = lastChunkFlag
	}
	return n
}

// Writer seals what is written to it into w. Close writes the final chunk
// (it does not close w); an object without it is refused as truncated.
type Writer struct {
	w      io.Writer
	h      *header
	aead   cipher.AEAD
	buf    []byte // plaintext of the pending chunk
	out    []byte
	i      uint64
	err    error
	closed bool
}

// NewWriter starts a sealed object in w with a key of KeySize bytes and
// chunks of chunk plaintext bytes (0: DefaultChunk).
func NewWriter(w io.Writer, key []byte, chunk int) (*Writer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealed: key of %d bytes, want %d", len(key), KeySize)
	}
	if chunk == 0 {
		chunk = DefaultChunk
	}
	if chunk < 1 || chunk > MaxChunkSize {
		return nil, fmt.Errorf("sealed: chunk size %d out of 1..%d", chunk, MaxChunkSize)
	}
	h, err := newHeader(key, chunk)
	if err != nil {
		return nil, err
	}
	a, err := h.aead(key)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(h.raw[:]); err != nil {
		return nil, err
	}
	return &Writer{w: w, h: h, aead: a, buf: make([]byte, 0, chunk), out: make([]byte, 0, chunk+TagSize)}, nil
}

// Write buffers p, sealing each full chunk once more data follows it (the
// last chunk is only known at Close).
func (s *Writer) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.closed {
		return 0, errors.New("sealed: write after Close")
	}
	n := 0
	for len(p) > 0 {
		if len(s.buf) == s.h.chunk {
			if s.err = s.seal(false); s.err != nil {
				return n, s.err
			}
		}
		k := copy(s.buf[len(s.buf):cap(s.buf)], p)
		s.buf = s.buf[:len(s.buf)+k]
		p = p[k:]
		n += k
	}
	return n, nil
}

func (s *Writer) seal(last bool) error {
	s.out = s.aead.Seal(s.out[:0], nonce(s.i, last), s.buf, s.h.raw[:])
	s.i++
	s.buf = s.buf[:0]
	_, err := s.w.Write(s.out)
	return err
}

// Close seals the final chunk.
func (s *Writer) Close() error {
	if s.closed || s.err != nil {
		return s.err
	}
	s.closed = true
	s.err = s.seal(true)
	return s.err
}

// Reader opens a sealed object: Read returns only authenticated bytes, and
// io.EOF only after the final chunk was authenticated and nothing follows
// it.
type Reader struct {
	r    *bufio.Reader
	h    *header
	aead cipher.AEAD
	in   []byte
	buf  []byte // authenticated plaintext not read yet
	i    uint64
	done bool
	err  error
}

// NewReader reads the header of the sealed object in r and checks the key
// against it (ErrWrongKey) before any chunk is read.
func NewReader(r io.Reader, key []byte) (*Reader, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealed: key of %d bytes, want %d", len(key), KeySize)
	}
	var raw [HeaderSize]byte
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: shorter than its header", ErrCorrupt)
		}
		return nil, err
	}
	h, err := parseHeader(raw[:])
	if err != nil {
		return nil, err
	}
	if id := keyID(key); id != h.keyID {
		return nil, fmt.Errorf("%w (its key ID is %x, this key's %x)", ErrWrongKey, h.keyID, id)
	}
	a, err := h.aead(key)
	if err != nil {
		return nil, err
	}
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), h: h, aead: a, in: make([]byte, h.chunk+TagSize)}, nil
}

// Read returns authenticated plaintext.
func (s *Reader) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.done {
			return 0, io.EOF
		}
		s.err = s.open()
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// open reads and authenticates the next chunk: a short one, or a full one
// with nothing after it, must be the final one.
func (s *Reader) open() error {
	n, err := io.ReadFull(s.r, s.in)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		err = nil
	case err != nil:
		return err
	}
	if n < TagSize {
		return fmt.Errorf("%w: truncated at chunk %d", ErrCorrupt, s.i)
	}
	last := n < len(s.in)
	if !last {
		if _, perr := s.r.Peek(1); errors.Is(perr, io.EOF) {
			last = true
		} else if perr != nil {
			return perr
		}
	}
	pt, err := s.aead.Open(s.in[:0], nonce(s.i, last), s.in[:n], s.h.raw[:])
	if err != nil {
		if last {
			return fmt.Errorf("%w: chunk %d (the last one read) fails authentication: altered, or the object is truncated", ErrCorrupt, s.i)
		}
		return fmt.Errorf("%w: chunk %d fails authentication", ErrCorrupt, s.i)
	}
	s.i++
	s.buf = pt
	s.done = last
	return nil
}
