package rdb

import (
	"errors"
	"fmt"
)

// Version is the RDB version this package writes (Redis 7.0's), and the
// highest it reads.
const Version = 10

// Object type bytes (Redis's RDB_TYPE_*).
const (
	TypeString           = 0
	TypeList             = 1
	TypeSet              = 2
	TypeZSet             = 3
	TypeHash             = 4
	TypeZSet2            = 5
	TypeModule           = 6
	TypeModule2          = 7
	TypeHashZipmap       = 9
	TypeListZiplist      = 10
	TypeSetIntset        = 11
	TypeZSetZiplist      = 12
	TypeHashZiplist      = 13
	TypeListQuicklist    = 14
	TypeStreamListpacks  = 15
	TypeHashListpack     = 16
	TypeZSetListpack     = 17
	TypeListQuicklist2   = 18
	TypeStreamListpacks2 = 19
	TypeSetListpack      = 20 // Redis 7.2; read for convenience
)

// Opcodes of the file layout (Redis's RDB_OPCODE_*).
const (
	OpFunction2    = 245
	OpFunction     = 246 // pre-GA 7.0 functions format: refused
	OpModuleAux    = 247
	OpIdle         = 248
	OpFreq         = 249
	OpAux          = 250
	OpResizeDB     = 251
	OpExpireTimeMs = 252
	OpExpireTime   = 253
	OpSelectDB     = 254
	OpEOF          = 255
)

// Quicklist 2 node containers.
const (
	containerPlain  = 1
	containerPacked = 2
)

// ErrCorrupt wraps every decoding failure.
var ErrCorrupt = errors.New("corrupt RDB value")

// ErrEmpty is a collection without elements: Redis skips such a key in a
// file and refuses it in a RESTORE.
var ErrEmpty = errors.New("empty collection")

// ErrUnsupported wraps a well-formed object this package cannot load
// (modules).
var ErrUnsupported = errors.New("unsupported RDB object")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// IsObjectType reports whether t is an object type byte this package reads.
func IsObjectType(t byte) bool {
	switch t {
	case TypeString, TypeList, TypeSet, TypeZSet, TypeHash, TypeZSet2,
		TypeHashZipmap, TypeListZiplist, TypeSetIntset, TypeZSetZiplist,
		TypeHashZiplist, TypeListQuicklist, TypeStreamListpacks, TypeHashListpack,
		TypeZSetListpack, TypeListQuicklist2, TypeStreamListpacks2, TypeSetListpack:
		return true
	}
	return false
}

// Kind is the logical type of an object: what TYPE replies.
type Kind uint8

// The kinds.
const (
	KindString Kind = iota
	KindList
	KindSet
	KindZSet
	KindHash
	KindStream
	KindModule
)

// KindOf maps an object type byte to its kind.
func KindOf(t byte) (Kind, bool) {
	switch t {
	case TypeString:
		return KindString, true
	case TypeList, TypeListZiplist, TypeListQuicklist, TypeListQuicklist2:
		return KindList, true
	case TypeSet, TypeSetIntset, TypeSetListpack:
		return KindSet, true
	case TypeZSet, TypeZSet2, TypeZSetZiplist, TypeZSetListpack:
		return KindZSet, true
	case TypeHash, TypeHashZipmap, TypeHashZiplist, TypeHashListpack:
		return KindHash, true
	case TypeStreamListpacks, TypeStreamListpacks2:
		return KindStream, true
	case TypeModule, TypeModule2:
		return KindModule, true
	}
	return 0, false
}

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindList:
		return "list"
	case KindSet:
		return "set"
	case KindZSet:
		return "zset"
	case KindHash:
		return "hash"
	case KindStream:
		return "stream"
	case KindModule:
		return "module"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}
