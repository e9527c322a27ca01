package config

import (
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace/hash"
	"github.com/shoal-dev/shoal/node/keyspace/list"
	"github.com/shoal-dev/shoal/node/keyspace/set"
	"github.com/shoal-dev/shoal/node/keyspace/stream"
	"github.com/shoal-dev/shoal/node/keyspace/zset"
)

// EncodingConfig is the encoding parameters (command.Encoding).
type EncodingConfig = command.Encoding

func defaultEncodingConfig() EncodingConfig {
	return EncodingConfig{
		Hash:     hash.DefaultLimits(),
		Set:      set.DefaultLimits(),
		ZSet:     zset.DefaultLimits(),
		ListFill: list.DefaultFill,
		Stream:   stream.DefaultLimits(),
	}
}

// encodingParams are the encoding parameters, with Redis 7's bounds and
// its Redis 6 (ziplist) aliases. Sizes are size_t up to LONG_MAX, the
// *-value ones memory values; list-max-listpack-size takes any int and is
// clamped where it is used, as by Redis's quicklist. set-max-listpack-*
// are Redis 7.2's, the node's own in 7.0.
func encodingParams() []Param {
	entries := sizes(0, longMax)
	value := memorySizes(0, longMax)
	return []Param{
		numParam("hash-max-listpack-entries", "hash-max-ziplist-entries", 0, entries, func(c *Config) *int { return &c.Encoding.Hash.MaxListpackEntries }),
		numParam("hash-max-listpack-value", "hash-max-ziplist-value", 0, value, func(c *Config) *int { return &c.Encoding.Hash.MaxListpackValue }),
		intParam("list-max-listpack-size", "list-max-ziplist-size", 0, intMin, intMax, func(c *Config) *int { return &c.Encoding.ListFill }),
		numParam("set-max-intset-entries", "", 0, entries, func(c *Config) *int { return &c.Encoding.Set.MaxIntsetEntries }),
		numParam("set-max-listpack-entries", "", 0, entries, func(c *Config) *int { return &c.Encoding.Set.MaxListpackEntries }),
		numParam("set-max-listpack-value", "", 0, value, func(c *Config) *int { return &c.Encoding.Set.MaxListpackValue }),
		numParam("zset-max-listpack-entries", "zset-max-ziplist-entries", 0, entries, func(c *Config) *int { return &c.Encoding.ZSet.MaxListpackEntries }),
		numParam("zset-max-listpack-value", "zset-max-ziplist-value", 0, value, func(c *Config) *int { return &c.Encoding.ZSet.MaxListpackValue }),
		numParam("stream-node-max-bytes", "", 0, value, func(c *Config) *int64 { return &c.Encoding.Stream.NodeMaxBytes }),
		numParam("stream-node-max-entries", "", 0, ints(0, longMax), func(c *Config) *int64 { return &c.Encoding.Stream.NodeMaxEntries }),
	}
}
