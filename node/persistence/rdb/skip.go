package rdb

import (
	"encoding/binary"
)

// Source is a byte stream an object is read from (a file, a replication
// link): RDB objects are not length-prefixed, so a reader walks their
// structure to find where they end.
type Source interface {
	ReadByte() (byte, error)
	// AppendN appends exactly n bytes to dst, growing it only as the data
	// arrives (a corrupt huge length costs no more than the input has).
	AppendN(dst []byte, n uint64) ([]byte, error)
}

// CopyObject reads one object of type t from src and appends its bytes,
// as they are, to dst (decode them with DecodeObject). It checks the
// structure only as far as needed to find the object's end.
func CopyObject(dst []byte, src Source, t byte) ([]byte, error) {
	s := skipper{src: src, buf: dst}
	s.object(t)
	return s.buf, s.err
}

// CopyString reads one string (in any encoding) from src and appends
// its encoded bytes to dst.
func CopyString(dst []byte, src Source) ([]byte, error) {
	s := skipper{src: src, buf: dst}
	s.str()
	return s.buf, s.err
}

// ReadLen reads a length from src.
func ReadLen(src Source) (uint64, error) {
	s := skipper{src: src}
	n := s.len()
	return n, s.err
}

type skipper struct {
	src Source
	buf []byte
	err error
}

func (s *skipper) raw(n uint64) []byte {
	if s.err != nil {
		return nil
	}
	start := len(s.buf)
	s.buf, s.err = s.src.AppendN(s.buf, n)
	if s.err != nil {
		return nil
	}
	return s.buf[start:]
}

func (s *skipper) byte() byte {
	b := s.raw(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (s *skipper) lenOrEnc() (uint64, bool) {
	c := s.byte()
	if s.err != nil {
		return 0, false
	}
	switch c >> 6 {
	case 0:
		return uint64(c & 0x3f), false
	case 1:
		return uint64(c&0x3f)<<8 | uint64(s.byte()), false
	case 2:
		switch c {
		case len32:
			if b := s.raw(4); b != nil {
				return uint64(binary.BigEndian.Uint32(b)), false
			}
			return 0, false
		case len64:
			if b := s.raw(8); b != nil {
				return binary.BigEndian.Uint64(b), false
			}
			return 0, false
		}
		if s.err == nil {
			s.err = corrupt("bad length prefix 0x%02x", c)
		}
		return 0, false
	}
	return uint64(c & 0x3f), true
}

func (s *skipper) len() uint64 {
	n, enc := s.lenOrEnc()
	if enc && s.err == nil {
		s.err = corrupt("encoded value where a length was expected")
	}
	return n
}

func (s *skipper) str() {
	n, enc := s.lenOrEnc()
	if s.err != nil {
		return
	}
	if !enc {
		s.raw(n)
		return
	}
	switch n {
	case encInt8:
		s.raw(1)
	case encInt16:
		s.raw(2)
	case encInt32:
		s.raw(4)
	case encLZF:
		clen := s.len()
		s.len()
		s.raw(clen)
	default:
		if s.err == nil {
			s.err = corrupt("unknown string encoding %d", n)
		}
	}
}

func (s *skipper) object(t byte) {
	switch t {
	case TypeString, TypeHashZipmap, TypeListZiplist, TypeSetIntset, TypeZSetZiplist,
		TypeHashZiplist, TypeHashListpack, TypeZSetListpack, TypeSetListpack:
		s.str()
	case TypeList, TypeSet, TypeListQuicklist:
		for n := s.len(); n > 0 && s.err == nil; n-- {
			s.str()
		}
	case TypeHash:
		for n := s.len(); n > 0 && s.err == nil; n-- {
			s.str()
			s.str()
		}
	case TypeZSet:
		for n := s.len(); n > 0 && s.err == nil; n-- {
			s.str()
			if l := s.byte(); l < 253 {
				s.raw(uint64(l))
			}
		}
	case TypeZSet2:
		for n := s.len(); n > 0 && s.err == nil; n-- {
			s.str()
			s.raw(8)
		}
	case TypeListQuicklist2:
		for n := s.len(); n > 0 && s.err == nil; n-- {
			s.len()
			s.str()
		}
	case TypeStreamListpacks, TypeStreamListpacks2:
		for n := s.len(); n > 0 && s.err == nil; n-- {
			s.str()
			s.str()
		}
		ids := 3 // length, last id
		if t == TypeStreamListpacks2 {
			ids += 5 // first id, max deleted id, entries added
		}
		for ; ids > 0; ids-- {
			s.len()
		}
		for g := s.len(); g > 0 && s.err == nil; g-- {
			s.str()
			s.len()
			s.len()
			if t == TypeStreamListpacks2 {
				s.len()
			}
			for p := s.len(); p > 0 && s.err == nil; p-- {
				s.raw(16 + 8)
				s.len()
			}
			for c := s.len(); c > 0 && s.err == nil; c-- {
				s.str()
				s.raw(8)
				for p := s.len(); p > 0 && s.err == nil; p-- {
					s.raw(16)
				}
			}
		}
	case TypeModule, TypeModule2:
		if s.err == nil {
			s.err = ErrUnsupported
		}
	default:
		if s.err == nil {
			s.err = corrupt("unknown object type %d", t)
		}
	}
}
