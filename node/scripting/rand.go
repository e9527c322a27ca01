package scripting

// lrand48 is Redis's redisLrand48 (rand.c): the 48-bit linear
// congruential generator math.random uses in scripts, so a seed gives the
// same sequence on every platform.
type lrand48 struct{ x uint64 }

const (
	lrandA   = 0x5DEECE66D
	lrandC   = 0xB
	lrandMax = 1<<31 - 1 // REDIS_LRAND48_MAX (INT32_MAX)
)

// seed is redisSrand48.
func (r *lrand48) seed(s int32) { r.x = (uint64(uint32(s))<<16 | 0x330E) & (1<<48 - 1) }

// next is redisLrand48: the high 31 bits of the next state.
func (r *lrand48) next() int32 {
	r.x = (lrandA*r.x + lrandC) & (1<<48 - 1)
	return int32(r.x >> 17)
}
