package commands

import (
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/commands/bitfield"
	"github.com/shoal-dev/shoal/node/commands/generic"
	"github.com/shoal-dev/shoal/node/commands/geo"
	"github.com/shoal-dev/shoal/node/commands/hash"
	"github.com/shoal-dev/shoal/node/commands/hyperloglog"
	"github.com/shoal-dev/shoal/node/commands/list"
	"github.com/shoal-dev/shoal/node/commands/lolwut"
	"github.com/shoal-dev/shoal/node/commands/scripting"
	"github.com/shoal-dev/shoal/node/commands/set"
	"github.com/shoal-dev/shoal/node/commands/sort"
	"github.com/shoal-dev/shoal/node/commands/str"
	"github.com/shoal-dev/shoal/node/commands/stream"
	"github.com/shoal-dev/shoal/node/commands/zset"
)

// All is every command family of the data node: one line per family.
func All() [][]command.Spec {
	return [][]command.Spec{
		bitfield.Commands(),
		generic.Commands(),
		geo.Commands(),
		hash.Commands(),
		hyperloglog.Commands(),
		list.Commands(),
		lolwut.Commands(),
		scripting.Commands(),
		set.Commands(),
		sort.Commands(),
		str.Commands(),
		stream.Commands(),
		zset.Commands(),
	}
}
