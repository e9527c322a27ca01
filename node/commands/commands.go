package commands

import (
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/commands/generic"
	"github.com/shoal-dev/shoal/node/commands/hash"
	"github.com/shoal-dev/shoal/node/commands/list"
	"github.com/shoal-dev/shoal/node/commands/lolwut"
	"github.com/shoal-dev/shoal/node/commands/scripting"
	"github.com/shoal-dev/shoal/node/commands/set"
	"github.com/shoal-dev/shoal/node/commands/str"
	"github.com/shoal-dev/shoal/node/commands/zset"
)

// All is every command family of the data node: one line per family.
func All() [][]command.Spec {
	return [][]command.Spec{
		generic.Commands(),
		hash.Commands(),
		list.Commands(),
		lolwut.Commands(),
		set.Commands(),
		str.Commands(),
		scripting.Commands(),
		zset.Commands(),
	}
}
