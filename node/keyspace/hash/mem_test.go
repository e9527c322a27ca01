package hash

import (
	"runtime"
	"strconv"
	"testing"
)

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkMemoryPerField reports the live heap per field of a hash of 1M
// fields "field:N" -> "value" (Redis 7.0.15: 64 bytes per field in
// used_memory, hashtable encoding) and per field of 100k 10-field listpack
// hashes.
func BenchmarkMemoryPerField(b *testing.B) {
	lim := DefaultLimits()
	for b.Loop() {
		before := heapInUse()
		h := New()
		for i := range 1000000 {
			h.Set([]byte("field:"+strconv.Itoa(i)), []byte("value"), lim)
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/1e6, "heapB/field")
		b.ReportMetric(float64(h.MemoryUsage())/1e6, "estB/field")
		runtime.KeepAlive(h)

		before = heapInUse()
		hs := make([]*Hash, 100000)
		for i := range hs {
			hs[i] = New()
			for j := range 10 {
				hs[i].Set([]byte("field:"+strconv.Itoa(j)), []byte("value"), lim)
			}
		}
		after = heapInUse()
		b.ReportMetric(float64(after-before)/1e6, "smallHeapB/field")
		runtime.KeepAlive(hs)
	}
}
