package scripting

import lua "github.com/yuin/gopher-lua"

// paramsOnlyIndexed reports whether a function's code uses its first n
// parameters (FCALL's keys and args tables) only to index them (t[k],
// #t): it never stores, passes, returns, compares, captures or assigns
// into them, and takes no varargs. Then nothing of the tables outlives
// the call nor changes them, and FCALL may refill the same tables for
// the next call instead of making new ones (what EVAL does with KEYS and
// ARGV). The check reads the bytecode and refuses anything else, down to
// a register range that might include a parameter.
func paramsOnlyIndexed(fn *lua.LFunction, n int) bool {
	if fn == nil || fn.IsG || fn.Proto == nil || fn.Proto.IsVarArg != 0 {
		return false
	}
	if p := int(fn.Proto.NumParameters); p < n {
		n = p
	}
	if n == 0 {
		return true
	}
	isParam := func(r int) bool { return r < n }
	rk := func(x int) bool { return x&0x100 == 0 && isParam(x) } // a register, not a constant
	// from reports whether reading count registers from a (to the top
	// of the stack when count < 0) reads a parameter.
	from := func(a, count int) bool { return count != 0 && a < n }
	code := fn.Proto.Code
	for i := 0; i < len(code); i++ {
		inst := code[i]
		op := int(inst >> 26)
		a := int(inst>>18) & 0xff
		b := int(inst & 0x1ff)
		c := int(inst>>9) & 0x1ff
		var reads bool
		switch op {
		case lua.OP_CLOSURE:
			// The closure's upvalues follow: a MOVE captures a register.
			protos := fn.Proto.FunctionPrototypes
			if int(inst&0x3ffff) >= len(protos) {
				return false
			}
			for up := int(protos[inst&0x3ffff].NumUpvalues); up > 0 && i+1 < len(code); up-- {
				i++
				if int(code[i]>>26) == lua.OP_MOVE && isParam(int(code[i]&0x1ff)) {
					return false
				}
			}
		case lua.OP_LOADK, lua.OP_LOADBOOL, lua.OP_LOADNIL, lua.OP_GETUPVAL, lua.OP_GETGLOBAL,
			lua.OP_NEWTABLE, lua.OP_JMP, lua.OP_CLOSE, lua.OP_NOP:
		case lua.OP_GETTABLE, lua.OP_GETTABLEKS:
			reads = rk(c) // b, the table indexed, may be a parameter
		case lua.OP_LEN:
		case lua.OP_MOVE:
			// A copy into a temporary that the next instruction indexes
			// or takes the length of, in place (#keys as a for limit).
			reads = isParam(b) && !(a >= n && i+1 < len(code) && indexesInPlace(code[i+1], a))
		case lua.OP_MOVEN, lua.OP_UNM, lua.OP_NOT, lua.OP_TESTSET:
			reads = isParam(b)
		case lua.OP_SETGLOBAL, lua.OP_SETUPVAL, lua.OP_TEST:
			reads = isParam(a)
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
			reads = isParam(a) || rk(b) || rk(c)
		case lua.OP_SELF:
			reads = isParam(b) || rk(c)
		case lua.OP_ADD, lua.OP_SUB, lua.OP_MUL, lua.OP_DIV, lua.OP_MOD, lua.OP_POW,
			lua.OP_EQ, lua.OP_LT, lua.OP_LE:
			reads = rk(b) || rk(c)
		case lua.OP_CONCAT:
			reads = b < n
		case lua.OP_CALL, lua.OP_TAILCALL: // the function and b-1 arguments
			reads = from(a, toTop(b))
		case lua.OP_RETURN: // b-1 values
			reads = from(a, toTop(b)-1)
		case lua.OP_FORLOOP, lua.OP_FORPREP, lua.OP_TFORLOOP:
			reads = from(a, 3)
		case lua.OP_SETLIST: // the table and b values
			reads = from(a, toTop(b)+1)
		default: // VARARG (refused above) and anything unknown
			return false
		}
		if reads {
			return false
		}
	}
	return true
}

// toTop is a register count operand: 0 means up to the top of the stack
// (a negative count).
func toTop(b int) int {
	if b == 0 {
		return -2
	}
	return b
}

// indexesInPlace reports whether inst is R(t) := #R(t) or R(t) :=
// R(t)[k] for a k other than R(t): the table in t is used up.
func indexesInPlace(inst uint32, t int) bool {
	a, b, c := int(inst>>18)&0xff, int(inst&0x1ff), int(inst>>9)&0x1ff
	switch int(inst >> 26) {
	case lua.OP_LEN:
		return a == t && b == t
	case lua.OP_GETTABLE, lua.OP_GETTABLEKS:
		return a == t && b == t && c != t
	}
	return false
}
