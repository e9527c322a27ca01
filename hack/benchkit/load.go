package benchkit

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Load writes n keys through cc: set adds the commands of key i to a
// pipeline; 8 writers send pipelines of 2000 keys.
func Load(ctx context.Context, cc *redis.ClusterClient, n int, set func(ctx context.Context, p redis.Pipeliner, i int)) error {
	const chunk = 2000
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	next := atomic.Int64{}
	for range 8 {
		wg.Go(func() {
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= n {
					return
				}
				_, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
					for i := start; i < min(start+chunk, n); i++ {
						set(ctx, p, i)
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// LoadGen runs Clients clients each calling Op in a loop and keeps each
// call's end, latency and error (Samples). Phase marks the start of a
// phase; Stats is what the calls that ended in a phase saw. With Rate > 0
// the clients together start at most Rate calls a second, evenly spaced
// (a client behind its schedule does not wait); the latency is measured
// from the call's start, as redis-benchmark does.
type LoadGen struct {
	Clients int
	Rate    int
	// Op is one call; redis.Nil is not an error.
	Op func(ctx context.Context, client int) error

	mu      sync.Mutex
	samples []Sample
	phases  []time.Time // the start of each phase
	stopped time.Time
	wg      sync.WaitGroup
	cancel  context.CancelFunc
}

// Sample is one call: when it ended, how long it took and its error ("",
// none).
type Sample struct {
	End     time.Time
	Latency time.Duration
	Err     string
}

// PhaseStats is what the load saw in one phase.
type PhaseStats struct {
	Ops, Errors int64
	FirstErr    string
	P50, P99    time.Duration
	// Rate is the calls a second done in the phase.
	Rate float64
}

// Start runs the clients until Stop; phase 0 starts.
func (l *LoadGen) Start(ctx context.Context) {
	ctx, l.cancel = context.WithCancel(ctx)
	l.Phase(0)
	var interval time.Duration
	if l.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(l.Clients) / float64(l.Rate))
	}
	for c := range l.Clients {
		l.wg.Go(func() {
			next := time.Now().Add(time.Duration(c) * interval / time.Duration(l.Clients))
			for ctx.Err() == nil {
				if interval > 0 {
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					}
					next = next.Add(interval)
				}
				start := time.Now()
				err := l.Op(ctx, c)
				end := time.Now()
				if ctx.Err() != nil {
					return
				}
				s := Sample{End: end, Latency: end.Sub(start)}
				if err != nil && !errors.Is(err, redis.Nil) {
					s.Err = err.Error()
				}
				l.mu.Lock()
				l.samples = append(l.samples, s)
				l.mu.Unlock()
			}
		})
	}
}

// Phase starts phase i (phases are numbered in the order they start).
func (l *LoadGen) Phase(i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.phases) <= i {
		l.phases = append(l.phases, time.Time{})
	}
	l.phases[i] = time.Now()
}

// Stop ends the clients and waits for them.
func (l *LoadGen) Stop() {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	l.stopped = time.Now()
	l.mu.Unlock()
}

// Samples are the calls so far, in the order they ended.
func (l *LoadGen) Samples() []Sample {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.samples)
}

// Stats of phase i: the calls that ended from its start to the next
// phase's (or Stop).
func (l *LoadGen) Stats(i int) PhaseStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i >= len(l.phases) {
		return PhaseStats{}
	}
	end := l.stopped
	if i+1 < len(l.phases) {
		end = l.phases[i+1]
	}
	return StatsOf(l.samples, l.phases[i], end)
}

// StatsOf the samples that ended in [from, to).
func StatsOf(samples []Sample, from, to time.Time) PhaseStats {
	var s PhaseStats
	var lat []time.Duration
	for _, x := range samples {
		if x.End.Before(from) || !x.End.Before(to) {
			continue
		}
		s.Ops++
		if x.Err != "" {
			s.Errors++
			if s.FirstErr == "" {
				s.FirstErr = x.Err
			}
			continue
		}
		lat = append(lat, x.Latency)
	}
	slices.Sort(lat)
	s.P50, s.P99 = percentile(lat, 50), percentile(lat, 99)
	if d := to.Sub(from); d > 0 {
		s.Rate = float64(s.Ops) / d.Seconds()
	}
	return s
}

// P99 of latencies, to 10 µs.
func P99(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return percentile(s, 99)
}

// percentile q of sorted latencies, to 10 µs.
func percentile(sorted []time.Duration, q int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[len(sorted)*q/100].Round(10 * time.Microsecond)
}
