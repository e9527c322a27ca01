package scripting

import lua "github.com/yuin/gopher-lua"

// bindGlobals replaces each read of a global in p's code (and its nested
// functions'; only theirs when self is false) by a load of the global's
// value: GETGLOBAL becomes LOADK of a constant appended to the function.
// A script sees the globals through a read-only view, so reading one
// costs a miss in the view, its metatable's __index and the globals
// table; redis.call pays that on every call. The values cannot change
// under a compiled chunk: scripts cannot write the globals (read-only,
// rawset refuses them), the runtime sets only KEYS and ARGV (left as
// reads) and SCRIPT FLUSH makes a new state and compiles again. Globals
// that do not exist stay reads (their error is raised when read).
//
// A library's chunk is left as it is (self false): it runs at FUNCTION
// LOAD with the load globals, and its functions are bound once it ran.
func (rt *Runtime) bindGlobals(p *lua.FunctionProto, self bool) {
	if self {
		bound := map[string]int{}
		for i, inst := range p.Code {
			if int(inst>>26) != lua.OP_GETGLOBAL {
				continue
			}
			bx := int(inst & 0x3ffff)
			if bx >= len(p.Constants) {
				continue
			}
			name, ok := p.Constants[bx].(lua.LString)
			if !ok || name == "KEYS" || name == "ARGV" {
				continue
			}
			k, seen := bound[string(name)]
			if !seen {
				v := rt.globals.RawGetString(string(name))
				if v == lua.LNil || len(p.Constants) > maxArgBx {
					continue
				}
				k = len(p.Constants)
				p.Constants = append(p.Constants, v)
				bound[string(name)] = k
			}
			p.Code[i] = uint32(lua.OP_LOADK)<<26 | inst&(0xff<<18) | uint32(k)
		}
	}
	for _, sub := range p.FunctionPrototypes {
		rt.bindGlobals(sub, true)
	}
}

// maxArgBx is the largest Bx operand (18 bits).
const maxArgBx = 1<<18 - 1
