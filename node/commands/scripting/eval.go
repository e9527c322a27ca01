package scripting

import (
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/scripting"
)

func cmdEval(c *command.Ctx)      { evalGeneric(c, false, false) }
func cmdEvalRO(c *command.Ctx)    { evalGeneric(c, false, true) }
func cmdEvalsha(c *command.Ctx)   { evalGeneric(c, true, false) }
func cmdEvalshaRO(c *command.Ctx) { evalGeneric(c, true, true) }

const errNoScript = "NOSCRIPT No matching script. Please use EVAL."

// keysAndArgs splits EVAL's and FCALL's arguments after numkeys; ok is
// false once the error is replied.
func keysAndArgs(c *command.Ctx) (keys, args [][]byte, ok bool) {
	n, ok := c.ParseInt(c.Args[2])
	if !ok {
		return nil, nil, false
	}
	rest := c.Args[3:]
	if n > int64(len(rest)) {
		c.Error("ERR Number of keys can't be greater than number of args")
		return nil, nil, false
	}
	if n < 0 {
		c.Error("ERR Number of keys can't be negative")
		return nil, nil, false
	}
	return rest[:n], rest[n:], true
}

// evalGeneric is Redis's evalGenericCommand.
func evalGeneric(c *command.Ctx, evalsha, ro bool) {
	if evalsha && len(c.Args[1]) != 40 {
		c.Error(errNoScript) // no match possible: before numkeys, as Redis
		return
	}
	keys, args, ok := keysAndArgs(c)
	if !ok {
		return
	}
	// The script's writes propagate themselves (effects replication).
	c.PreventPropagation()
	rt := scripting.Of(c)
	var s *scripting.Script
	if evalsha {
		if s = rt.LookupSHA(c.Args[1]); s == nil {
			c.Error(errNoScript)
			return
		}
	} else {
		var msg string
		_, s, msg = rt.CreateScript(string(c.Args[1]))
		if msg != "" {
			c.Error(msg)
			return
		}
	}
	rt.Eval(c, s, keys, args, ro)
}
