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
// call's latency in the phase it ended in (Phase sets it; 0 at first).
// With Rate > 0 the clients together start at most Rate calls a second,
// evenly spaced (a client behind its schedule does not wait); the latency
// is measured from the call's start, as redis-benchmark does.
type LoadGen struct {
	Clients int
	Rate    int
	// Op is one call; redis.Nil is not an error.
	Op func(ctx context.Context, client int) error

	mu     sync.Mutex
	phase  int
	phases []*phaseStats
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

type phaseStats struct {
	lat      []time.Duration
	errs     int64
	firstErr string
	start    time.Time
	end      time.Time
}

// PhaseStats is what the load saw in one phase.
type PhaseStats struct {
	Ops, Errors int64
	FirstErr    string
	P99         time.Duration
	// Rate is the calls a second done in the phase.
	Rate float64
}

// Start runs the clients until Stop.
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
				d := time.Since(start)
				if ctx.Err() != nil {
					return
				}
				l.record(d, err)
			}
		})
	}
}

func (l *LoadGen) record(d time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.phases[l.phase]
	if err != nil && !errors.Is(err, redis.Nil) {
		p.errs++
		if p.firstErr == "" {
			p.firstErr = err.Error()
		}
		return
	}
	p.lat = append(p.lat, d)
}

// Phase starts phase i: the calls that end from now on count in it.
func (l *LoadGen) Phase(i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.phase < len(l.phases) {
		l.phases[l.phase].end = now
	}
	for len(l.phases) <= i {
		l.phases = append(l.phases, &phaseStats{})
	}
	l.phase = i
	l.phases[i].start, l.phases[i].end = now, time.Time{}
}

// Stop ends the clients and waits for them.
func (l *LoadGen) Stop() {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	l.phases[l.phase].end = time.Now()
	l.mu.Unlock()
}

// Stats of phase i (after Stop, or of a phase already ended).
func (l *LoadGen) Stats(i int) PhaseStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i >= len(l.phases) {
		return PhaseStats{}
	}
	p := l.phases[i]
	s := PhaseStats{Ops: int64(len(p.lat)) + p.errs, Errors: p.errs, FirstErr: p.firstErr, P99: P99(p.lat)}
	if d := p.end.Sub(p.start); d > 0 {
		s.Rate = float64(s.Ops) / d.Seconds()
	}
	return s
}

// P99 of latencies, to 10 µs.
func P99(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)*99/100].Round(10 * time.Microsecond)
}
