package persistence

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// The writer reports each write and appendfsync-always fsync under
// Redis's latency event names.
func TestAOFWriterReportsLatency(t *testing.T) {
	w := newAOFWriter(&flakyFile{}, FsyncAlways)
	defer w.Close()
	var mu sync.Mutex
	seen := map[string]bool{}
	w.SetLatencyHook(func(event string, d time.Duration) {
		mu.Lock()
		seen[event] = d >= 0
		mu.Unlock()
	})
	if err := w.WaitSynced(w.Append(0, argv("SET", "a", "1"))); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var got []string
	for e, ok := range seen {
		if ok {
			got = append(got, e)
		}
	}
	slices.Sort(got)
	if want := []string{"aof-fsync-always", "aof-write", "aof-write-alone"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}
