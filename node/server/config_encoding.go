package server

import (
	"github.com/shoal-dev/shoal/node/keyspace/hash"
	"github.com/shoal-dev/shoal/node/keyspace/list"
	"github.com/shoal-dev/shoal/node/keyspace/set"
	"github.com/shoal-dev/shoal/node/keyspace/zset"
)

// EncodingConfig holds the parameters that decide when a small value
// switches to its big encoding, as Redis's hash-max-listpack-entries and
// friends. A change applies to values written afterwards; a value already
// converted stays converted, as in Redis.
type EncodingConfig struct {
	Hash     hash.Limits
	Set      set.Limits
	ZSet     zset.Limits
	ListFill int // list-max-listpack-size
}

func defaultEncodingConfig() EncodingConfig {
	return EncodingConfig{
		Hash:     hash.DefaultLimits(),
		Set:      set.DefaultLimits(),
		ZSet:     zset.DefaultLimits(),
		ListFill: list.DefaultFill,
	}
}

// encodingParams are the encoding parameters, with Redis 7's bounds (sizes
// are size_t up to LONG_MAX; list-max-listpack-size takes any int and is
// clamped where it is used, as by Redis's quicklist).
func encodingParams() []param {
	const maxInt = 1<<63 - 1
	return []param{
		intParam("hash-max-listpack-entries", false, 0, maxInt, func(c *Config) *int { return &c.Encoding.Hash.MaxListpackEntries }),
		intParam("hash-max-listpack-value", false, 0, maxInt, func(c *Config) *int { return &c.Encoding.Hash.MaxListpackValue }),
		intParam("list-max-listpack-size", false, -1<<31, 1<<31-1, func(c *Config) *int { return &c.Encoding.ListFill }),
		intParam("set-max-intset-entries", false, 0, maxInt, func(c *Config) *int { return &c.Encoding.Set.MaxIntsetEntries }),
		intParam("set-max-listpack-entries", false, 0, maxInt, func(c *Config) *int { return &c.Encoding.Set.MaxListpackEntries }),
		intParam("set-max-listpack-value", false, 0, maxInt, func(c *Config) *int { return &c.Encoding.Set.MaxListpackValue }),
		intParam("zset-max-listpack-entries", false, 0, maxInt, func(c *Config) *int { return &c.Encoding.ZSet.MaxListpackEntries }),
		intParam("zset-max-listpack-value", false, 0, maxInt, func(c *Config) *int { return &c.Encoding.ZSet.MaxListpackValue }),
	}
}
