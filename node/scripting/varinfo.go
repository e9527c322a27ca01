package scripting

import (
	"reflect"
	"regexp"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Variable names in runtime errors, as Lua 5.1 gives them (ldebug.c's
// luaG_typeerror with getobjname): "attempt to index local 't' (a nil
// value)", "attempt to call field 'foo' (a nil value)". gopher-lua's
// errors say only the type; the error handler, called while the frame
// that failed is still on the stack, finds the instruction that failed
// and names the register it used: a local by the debug information, else
// what loaded the register last (a global, a field, an upvalue, a method),
// by Lua 5.1's symbolic execution.
//
// gopher-lua keeps the frame's pc and the registers private: they are read
// by field name with reflect (frameState), so a gopher-lua that renamed
// them makes the errors read as before, not fail
// (TestDifferentialScriptErrors in node/server checks the names).

// gopher-lua's instruction layout (opcode.go): opcode in the top 6 bits,
// A in 8 bits at 18, C in 9 bits at 9, B in the low 9 bits, Bx the low 18.
func opOf(i uint32) int   { return int(i >> 26) }
func argA(i uint32) int   { return int(i>>18) & 0xff }
func argB(i uint32) int   { return int(i & 0x1ff) }
func argC(i uint32) int   { return int(i>>9) & 0x1ff }
func argBx(i uint32) int  { return int(i & 0x3ffff) }
func argSBx(i uint32) int { return argBx(i) - (1<<18-1)>>1 }

// rkConstant is the bit of an RK operand that names a constant.
const rkConstant = 1 << 8

// setsA are the opcodes that write register A (gopher-lua's opProps
// SetRegA, Lua 5.1's testAMode).
var setsA = func() (m [lua.OP_NOP + 1]bool) {
	for _, op := range []int{lua.OP_MOVE, lua.OP_MOVEN, lua.OP_LOADK, lua.OP_LOADBOOL, lua.OP_LOADNIL, lua.OP_GETUPVAL,
		lua.OP_GETGLOBAL, lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_NEWTABLE, lua.OP_SELF, lua.OP_ADD, lua.OP_SUB,
		lua.OP_MUL, lua.OP_DIV, lua.OP_MOD, lua.OP_POW, lua.OP_UNM, lua.OP_NOT, lua.OP_LEN, lua.OP_CONCAT, lua.OP_TEST,
		lua.OP_TESTSET, lua.OP_CALL, lua.OP_TAILCALL, lua.OP_FORLOOP, lua.OP_FORPREP, lua.OP_CLOSURE, lua.OP_VARARG} {
		m[op] = true
	}
	return m
}()

// localName is luaF_getlocalname: the n-th (from 0) local variable
// active at pc, "" when register n holds none. gopher-lua's EndPc is the
// last pc of the scope (luac's endpc is the one after it), and v1.1.2
// records it by register, not by variable (compile.go's EndScope), so
// once a block's registers are reused some ends land on the wrong
// variable: a variable left without an end tells, and then no local of
// the function is named (a wrong name is worse than none).
func localName(p *lua.FunctionProto, n, pc int) string {
	for _, l := range p.DbgLocals {
		// EndPc is StartPc-1 for a variable declared by the last
		// instruction of its block; less, it was never set.
		if l.EndPc < l.StartPc-1 {
			return ""
		}
	}
	for _, l := range p.DbgLocals {
		if l.StartPc > pc {
			break
		}
		if pc <= l.EndPc {
			if n == 0 {
				return l.Name
			}
			n--
		}
	}
	return ""
}

// lastWriter is Lua 5.1's symbexec for a register: the instruction that
// last wrote reg before lastpc, following forward jumps that stay before
// it; -1 for none.
func lastWriter(p *lua.FunctionProto, lastpc, reg int) int {
	last := -1
	for pc := 0; pc < lastpc && pc < len(p.Code); pc++ {
		i := p.Code[pc]
		op, a := opOf(i), argA(i)
		if op <= lua.OP_NOP && setsA[op] && a == reg {
			last = pc
		}
		switch op {
		case lua.OP_LOADNIL:
			if a <= reg && reg <= argB(i) {
				last = pc
			}
		case lua.OP_CALL, lua.OP_TAILCALL:
			if reg >= a {
				last = pc
			}
		case lua.OP_TFORLOOP:
			if reg >= a+2 {
				last = pc
			}
		case lua.OP_CLOSURE:
			// The upvalues' pseudo-instructions that follow.
			if bx := argBx(i); bx < len(p.FunctionPrototypes) {
				pc += int(p.FunctionPrototypes[bx].NumUpvalues)
			}
		case lua.OP_JMP, lua.OP_FORPREP:
			if b := argSBx(i); b > 0 && pc+1+b <= lastpc {
				pc += b
			}
		}
	}
	return last
}

// constantName is kname: a constant string operand's text, else "?".
func constantName(p *lua.FunctionProto, rk int) string {
	if rk&rkConstant != 0 {
		if k := rk &^ rkConstant; k < len(p.Constants) {
			if s, ok := p.Constants[k].(lua.LString); ok {
				return string(s)
			}
		}
	}
	return "?"
}

// objName is getobjname: what register reg held at pc ("local",
// "global", "field", "upvalue", "method") and its name; "" when unknown.
func objName(p *lua.FunctionProto, pc, reg int) (kind, name string) {
	for depth := 0; depth < 8; depth++ {
		if n := localName(p, reg, pc); n != "" {
			return "local", n
		}
		w := lastWriter(p, pc, reg)
		if w < 0 {
			return "", ""
		}
		i := p.Code[w]
		switch opOf(i) {
		case lua.OP_GETGLOBAL:
			if bx := argBx(i); bx < len(p.Constants) {
				return "global", p.Constants[bx].String()
			}
		case lua.OP_MOVE:
			if b := argB(i); b < argA(i) {
				reg = b
				continue
			}
		case lua.OP_GETTABLE, lua.OP_GETTABLEKS:
			return "field", constantName(p, argC(i))
		case lua.OP_GETUPVAL:
			if b := argB(i); b < len(p.DbgUpvalues) {
				return "upvalue", p.DbgUpvalues[b]
			}
			return "upvalue", "?"
		case lua.OP_SELF:
			return "method", constantName(p, argC(i))
		}
		return "", ""
	}
	return "", ""
}

// frameState is what the error handler sees of the Lua frame that raised
// an error: its function, the failing instruction's pc and its registers.
type frameState struct {
	proto *lua.FunctionProto
	pc    int
	regs  []lua.LValue
}

// failedFrame reads the private state of the frame below the error
// handler (level 0): the Lua function whose instruction raised the error.
// Not ok when that frame is a Go function (the error came from a library
// function, not from the VM).
func failedFrame(L *lua.LState) (frameState, bool) {
	dbg, ok := L.GetStack(1)
	if !ok {
		return frameState{}, false
	}
	fr := reflect.ValueOf(dbg).Elem().FieldByName("frame")
	if !fr.IsValid() || fr.Kind() != reflect.Pointer || fr.IsNil() {
		return frameState{}, false
	}
	f := fr.Elem()
	fnField, pcField, baseField := f.FieldByName("Fn"), f.FieldByName("Pc"), f.FieldByName("LocalBase")
	if !fnField.IsValid() || fnField.Kind() != reflect.Pointer || !pcField.CanInt() || !baseField.CanInt() {
		return frameState{}, false
	}
	fn := (*lua.LFunction)(unsafe.Pointer(fnField.Pointer()))
	if fn == nil || fn.IsG || fn.Proto == nil {
		return frameState{}, false
	}
	pc := int(pcField.Int()) - 1 // the VM moved past the instruction it runs
	if pc < 0 || pc >= len(fn.Proto.Code) {
		return frameState{}, false
	}
	return frameState{proto: fn.Proto, pc: pc, regs: registers(L, int(baseField.Int()))}, true
}

// registers are the stack slots of L from base on (nil when gopher-lua
// does not have them where this reads).
func registers(L *lua.LState, base int) []lua.LValue {
	reg := reflect.ValueOf(L).Elem().FieldByName("reg")
	if !reg.IsValid() || reg.IsNil() {
		return nil
	}
	arr := reg.Elem().FieldByName("array")
	if !arr.IsValid() || arr.Kind() != reflect.Slice {
		return nil
	}
	all := *(*[]lua.LValue)(unsafe.Pointer(arr.UnsafeAddr()))
	if base < 0 || base > len(all) {
		return nil
	}
	return all[base:]
}

// typeOf is the Lua type name of register r ("" when unknown).
func (f frameState) typeOf(r int) string {
	if r < 0 || r >= len(f.regs) || f.regs[r] == nil {
		return ""
	}
	return f.regs[r].Type().String()
}

// canConcat is Lua's "is a string or a number" of register r.
func (f frameState) canConcat(r int) bool {
	t := f.typeOf(r)
	return t == "string" || t == "number"
}

// describe is luaG_typeerror's text for register r holding a value of
// type typ: "attempt to <op> <kind> '<name>' (a <typ> value)".
func (f frameState) describe(op string, r int, typ string) string {
	if kind, name := objName(f.proto, f.pc, r); kind != "" {
		return "attempt to " + op + " " + kind + " '" + name + "' (a " + typ + " value)"
	}
	return "attempt to " + op + " a " + typ + " value"
}

var (
	vmIndexError = regexp.MustCompile(`attempt to index a non-table object\((\w+)\) with key '.*'$`)
	vmArithError = regexp.MustCompile(`cannot perform (\w+) operation between (\w+) and (\w+)$`)
)

// namedTypeError rewrites a gopher-lua type error raised by the failing
// frame's instruction into Lua 5.1's words with the variable's name; ok
// false when msg is not one or the frame cannot tell.
func namedTypeError(f frameState, msg string) (string, bool) {
	i := f.proto.Code[f.pc]
	op := opOf(i)
	cut := func(suffixLen int, text string) (string, bool) {
		return msg[:len(msg)-suffixLen] + text, true
	}
	switch {
	case vmIndexError.MatchString(msg):
		m := vmIndexError.FindStringSubmatchIndex(msg)
		typ := msg[m[2]:m[3]]
		switch op {
		case lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_SELF:
			return cut(len(msg)-m[0], f.describe("index", argB(i), typ))
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
			return cut(len(msg)-m[0], f.describe("index", argA(i), typ))
		}
	case strings.HasSuffix(msg, "attempt to call a non-function object"):
		if op == lua.OP_CALL || op == lua.OP_TAILCALL {
			if typ := f.typeOf(argA(i)); typ != "" {
				return cut(len("attempt to call a non-function object"), f.describe("call", argA(i), typ))
			}
		}
	case strings.HasSuffix(msg, "__unm undefined"):
		if op == lua.OP_UNM {
			if typ := f.typeOf(argB(i)); typ != "" {
				return cut(len("__unm undefined"), f.describe("perform arithmetic on", argB(i), typ))
			}
		}
	case strings.HasSuffix(msg, "__len undefined"):
		if op == lua.OP_LEN {
			if typ := f.typeOf(argB(i)); typ != "" {
				return cut(len("__len undefined"), f.describe("get length of", argB(i), typ))
			}
		}
	case vmArithError.MatchString(msg):
		m := vmArithError.FindStringSubmatchIndex(msg)
		opName, lhs, rhs := msg[m[2]:m[3]], msg[m[4]:m[5]], msg[m[6]:m[7]]
		if opName == "concat" {
			if op != lua.OP_CONCAT {
				break
			}
			return cut(len(msg)-m[0], f.concatError(argB(i), argC(i), lhs, rhs))
		}
		if op < lua.OP_ADD || op > lua.OP_POW {
			break
		}
		// luaG_aritherror: the second operand unless it is a number.
		rk, typ := argB(i), lhs
		if rhs != "number" {
			rk, typ = argC(i), rhs
		}
		if rk&rkConstant != 0 {
			return cut(len(msg)-m[0], "attempt to perform arithmetic on a "+typ+" value")
		}
		return cut(len(msg)-m[0], f.describe("perform arithmetic on", rk, typ))
	}
	return "", false
}

// concatError is luaG_concaterror for OP_CONCAT of registers b..c, which
// Lua 5.1 concatenates from the right: the first pair that fails is the
// last two when the last is not a string or a number, else the rightmost
// such operand and the strings after it.
func (f frameState) concatError(b, c int, lhs, rhs string) string {
	if len(f.regs) <= c {
		typ := lhs
		if lhs == "string" || lhs == "number" {
			typ = rhs
		}
		return "attempt to concatenate a " + typ + " value"
	}
	bad := -1
	if !f.canConcat(c) {
		bad = c
		if !f.canConcat(c - 1) {
			bad = c - 1
		}
	} else {
		for r := c - 1; r >= b; r-- {
			if !f.canConcat(r) {
				bad = r
				break
			}
		}
	}
	if bad < 0 {
		return "attempt to concatenate a " + rhs + " value"
	}
	return f.describe("concatenate", bad, f.typeOf(bad))
}
