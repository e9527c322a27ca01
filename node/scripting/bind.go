package scripting

import lua "github.com/yuin/gopher-lua"

// bindGlobals replaces each read of a global in p's code (and its nested
// functions'; only theirs when self is false) by a load of the global's
// value: GETGLOBAL becomes LOADK of a constant appended to the function.
// A script sees the globals through a read-only view, so reading one
// costs a miss in the view, its metatable's __index and the globals
// table; redis.call pays that on every call. The values cannot change
// under a compiled chunk: scripts cannot write the globals (read-only,
// rawset refuses them), the runtime sets only KEYS and ARGV and SCRIPT
// FLUSH makes a new state and compiles again. Globals that do not exist
// stay reads (their error is raised when read).
//
// KEYS and ARGV, which EVAL sets before each run, become loads of
// constants that Eval points at the tables of the run (argSlots), for an
// EVAL script (slots not nil); a library's functions keep reading them.
//
// A library's chunk is left as it is (self false): it runs at FUNCTION
// LOAD with the load globals, and its functions are bound once it ran.
func (rt *Runtime) bindGlobals(p *lua.FunctionProto, self bool, slots *[]argSlot) {
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
			isArgs := name == "KEYS" || name == "ARGV"
			if !ok || isArgs && slots == nil {
				continue
			}
			k, seen := bound[string(name)]
			if !seen {
				v := rt.globals.RawGetString(string(name))
				if v == lua.LNil && !isArgs || len(p.Constants) > maxArgBx {
					continue
				}
				if isArgs {
					v = lua.LNil // set by Eval (setArgs)
					*slots = append(*slots, argSlot{p: p, k: len(p.Constants), argv: name == "ARGV"})
				}
				k = len(p.Constants)
				p.Constants = append(p.Constants, v)
				bound[string(name)] = k
			}
			p.Code[i] = uint32(lua.OP_LOADK)<<26 | inst&(0xff<<18) | uint32(k)
		}
		rt.bindFields(p, len(p.Constants)-len(bound))
	}
	for _, sub := range p.FunctionPrototypes {
		rt.bindGlobals(sub, true, slots)
	}
}

// argSlot is a constant of p that stands for KEYS (or ARGV).
type argSlot struct {
	p    *lua.FunctionProto
	k    int
	argv bool
}

// setArgs points a script's KEYS and ARGV constants at the tables of
// this run.
func setArgs(slots []argSlot, keys, argv *lua.LTable) {
	for _, s := range slots {
		var t lua.LValue = keys
		if s.argv {
			t = argv
		}
		if s.p.Constants[s.k] != t {
			s.p.Constants[s.k] = t
		}
	}
}

// bindFields replaces a field read right after a bound global's load
// (redis.call, string.format: LOADK r, view; GETTABLEKS x, r, "name")
// by a load of the field's value, when the global is a read-only view
// of a library table (its fields are as fixed as the globals) and the
// field read is no jump target (only the load leads to it). Constants
// from first on are the bound globals.
func (rt *Runtime) bindFields(p *lua.FunctionProto, first int) {
	var targets map[int]bool
	for i := 0; i+1 < len(p.Code); i++ {
		inst, next := p.Code[i], p.Code[i+1]
		if int(inst>>26) != lua.OP_LOADK || int(next>>26) != lua.OP_GETTABLEKS {
			continue
		}
		r, k := int(inst>>18)&0xff, int(inst&0x3ffff)
		b, c := int(next&0x1ff), int(next>>9)&0x1ff
		if k < first || k >= len(p.Constants) || b != r || c&0x100 == 0 || c&0xff >= len(p.Constants) {
			continue
		}
		name, ok := p.Constants[c&0xff].(lua.LString)
		if !ok {
			continue
		}
		v := rt.viewField(p.Constants[k], string(name))
		if v == lua.LNil || len(p.Constants) > maxArgBx {
			continue
		}
		if targets == nil {
			targets = jumpTargets(p.Code)
		}
		if targets[i+1] {
			continue
		}
		p.Constants = append(p.Constants, v)
		p.Code[i+1] = uint32(lua.OP_LOADK)<<26 | next&(0xff<<18) | uint32(len(p.Constants)-1)
	}
}

// viewField is the field name of a read-only view of a library table
// (not the globals' view, whose __index FUNCTION LOAD swaps), LNil when
// v is no such view or has no such field.
func (rt *Runtime) viewField(v lua.LValue, name string) lua.LValue {
	t, ok := v.(*lua.LTable)
	if !ok || t == rt.env || !rt.protected[t] {
		return lua.LNil
	}
	if k, _ := t.Next(lua.LNil); k != lua.LNil {
		return lua.LNil
	}
	mt, ok := t.Metatable.(*lua.LTable)
	if !ok {
		return lua.LNil
	}
	lib, ok := mt.RawGetString("__index").(*lua.LTable)
	if !ok || !rt.protected[lib] {
		return lua.LNil
	}
	return lib.RawGetString(name)
}

// jumpTargets are the instructions a jump or a skip (a test's pc++)
// may lead to, as gopher-lua's VM moves its pc: JMP, FORLOOP and FORPREP
// land at their own place + 1 + sBx; a TFORLOOP that goes on lands where
// its next JMP would (its pc moves by the JMP's offset, then past it),
// one that ends, past that JMP. A loop's body starting with redis.call
// (LOADK redis; GETTABLEKS call) is a target at the LOADK only.
func jumpTargets(code []uint32) map[int]bool {
	t := map[int]bool{}
	for j, inst := range code {
		switch int(inst >> 26) {
		case lua.OP_JMP, lua.OP_FORLOOP, lua.OP_FORPREP:
			t[j+1+sBx(inst)] = true
		case lua.OP_TFORLOOP:
			if j+1 < len(code) {
				t[j+2+sBx(code[j+1])] = true
			}
			t[j+2] = true
		case lua.OP_EQ, lua.OP_LT, lua.OP_LE, lua.OP_TEST, lua.OP_TESTSET, lua.OP_LOADBOOL:
			t[j+2] = true
		}
	}
	return t
}

// sBx is an instruction's signed Bx operand.
func sBx(inst uint32) int { return int(inst&0x3ffff) - maxArgSBx }

// maxArgSBx is the bias of a signed Bx operand.
const maxArgSBx = maxArgBx >> 1

// maxArgBx is the largest Bx operand (18 bits).
const maxArgBx = 1<<18 - 1
