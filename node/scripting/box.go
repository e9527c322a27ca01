package scripting

import (
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// numbers boxes Lua numbers as LValues without an allocation each, as
// gopher-lua's VM does for its own (its allocator is not exported): small
// integers are boxed once, others share blocks of numberBlock floats,
// freed once none of a block's numbers is referenced. redis.call's
// integer replies (INCR's) are boxed here.
type numbers struct {
	small []lua.LValue // 0 .. smallNumbers-1
	block []float64
}

const (
	smallNumbers = 256
	numberBlock  = 128
)

func newNumbers() *numbers {
	nb := &numbers{small: make([]lua.LValue, smallNumbers)}
	for i := range nb.small {
		nb.small[i] = lua.LNumber(i)
	}
	return nb
}

// eface is the layout of an interface value: its type word and data.
type eface struct {
	typ, data unsafe.Pointer
}

// box is v as an LValue.
func (nb *numbers) box(v lua.LNumber) lua.LValue {
	if v >= 0 && v < smallNumbers && v == lua.LNumber(int(v)) {
		return nb.small[int(v)]
	}
	if len(nb.block) == cap(nb.block) {
		nb.block = make([]float64, 0, numberBlock)
	}
	nb.block = append(nb.block, float64(v))
	out := nb.small[0] // an LNumber LValue: its type word
	(*eface)(unsafe.Pointer(&out)).data = unsafe.Pointer(&nb.block[len(nb.block)-1])
	return out
}
