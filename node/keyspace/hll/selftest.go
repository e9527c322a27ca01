package hll

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
)

// SelfTest is PFSELFTEST's checks: register access through the 6-bit
// packing, then elements added to a dense and a sparse value at once,
// which must stay sparse while small, agree, and stay within six standard
// errors at every power of ten up to n. It returns "" or the failure as
// Redis words it ("TESTFAILED ...").
func SelfTest(n int) string {
	dense := make([]byte, DenseSize)
	copy(dense, "HYLL")
	r := dense[HeaderSize:]
	var want [Registers]uint8
	rnd := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for cycle := 0; cycle < 10; cycle++ {
		for i := range want {
			want[i] = uint8(rnd.IntN(RegisterMax + 1))
			denseSetReg(r, i, want[i])
		}
		for i := range want {
			if v := denseGet(r, i); v != want[i] {
				return fmt.Sprintf("TESTFAILED Register %d should be %d but is %d", i, want[i], v)
			}
		}
	}
	clear(r)
	sparse := New()
	relerr := 1.04 / math.Sqrt(Registers)
	seed := rnd.Uint64()
	var ele [8]byte
	checkpoint := 1
	for j := 1; j <= n; j++ {
		binary.LittleEndian.PutUint64(ele[:], uint64(j)^seed)
		index, count := PatLen(ele[:])
		denseSet(r, index, count)
		sparse, _, _ = Set(sparse, index, count, 3000)
		if j != checkpoint {
			continue
		}
		if j < 3000/2 && sparse[4] != EncSparse {
			return "TESTFAILED sparse encoding not used"
		}
		dc, _ := Count(dense)
		sc, err := Count(sparse)
		if err != nil || dc != sc {
			return "TESTFAILED dense/sparse disagree"
		}
		abserr := math.Abs(float64(checkpoint) - float64(dc))
		maxerr := math.Ceil(relerr * 6 * float64(checkpoint))
		if j == 10 {
			maxerr = 1
		}
		if abserr > maxerr {
			return fmt.Sprintf("TESTFAILED Too big error. card:%d abserr:%d", checkpoint, int64(abserr))
		}
		checkpoint *= 10
	}
	return ""
}
