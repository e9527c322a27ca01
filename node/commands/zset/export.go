package zset

import "github.com/shoal-dev/shoal/node/command"

// Zadd runs ZADD over c.Args. GEOADD (node/commands/geo) rewrites its
// arguments into a ZADD and runs it, as Redis's geoaddCommand calls
// zaddCommand, so both share every rule, reply and event.
func Zadd(c *command.Ctx) { zaddGeneric(c, 0) }
