package server

import "github.com/shoal-dev/shoal/node/config"

// The configuration model lives in node/config (the Config struct, the
// parameter table, redis.conf and command-line parsing, CONFIG REWRITE's
// file text); the engine keeps CONFIG's handlers (config_cmd.go) and what
// applies a changed value to the running server (configChanged). These
// names keep the engine's uses of the model short.

// Config is the node's configuration (config.Config).
type Config = config.Config

// Client classes of client-output-buffer-limit.
const (
	ClassNormal  = config.ClassNormal
	ClassReplica = config.ClassReplica
	ClassPubSub  = config.ClassPubSub
)

// DefaultConfig is Redis 7's defaults (config.DefaultConfig).
func DefaultConfig() *Config { return config.DefaultConfig() }

// ParseArgs builds a configuration from redis-server's command-line
// arguments (config.ParseArgs).
func ParseArgs(args []string) (*Config, error) { return config.ParseArgs(args) }
