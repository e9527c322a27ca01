package lolwut

import "github.com/shoal-dev/shoal/node/command"

// Commands returns the spec of LOLWUT with its handler.
func Commands() []command.Spec {
	return []command.Spec{
		{Name: "lolwut", Run: cmdLolwut, Arity: -1, Flags: command.ReadOnly | command.Fast, FirstKey: 0, LastKey: 0, Step: 0,
			Categories: command.CatRead | command.CatFast,
			Doc: command.Doc{Group: "server", Since: "5.0.0", Summary: "Display some computer art and the Redis version", Complexity: "", Arguments: []command.Arg{
				{Name: "version", Type: "integer", Token: "VERSION", Optional: true},
			}},
		},
	}
}
