package server

import (
	"fmt"
	"github.com/shoal-dev/shoal/node/command"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The latency monitor (Redis's latency.c): while latency-monitor-threshold
// is above 0, an event that took at least that many milliseconds adds a
// sample to its time series: the last 160 seconds that had one, the
// highest latency of each second, and the all-time high. Events use
// Redis's names: "command" and "fast-command" (a command's run, by its
// fast flag), "expire-cycle" (the cron's active expiry), "eviction-cycle"
// (maxmemory eviction), and whatever the subsystems report through
// LatencySample ("aof-write", "aof-fsync-always", ...).

const latencyTSLen = 160 // LATENCY_TS_LEN

type latencySample struct {
	time    int64 // unix seconds
	latency int64 // milliseconds
}

type latencySeries struct {
	idx     int
	max     int64
	samples [latencyTSLen]latencySample
}

// latencyMonitor is safe for concurrent use: the subsystems (the AOF's
// writer) report from their own goroutines.
type latencyMonitor struct {
	threshold atomic.Int64 // ms; 0: off

	mu     sync.Mutex
	events map[string]*latencySeries
	order  []string // event names in the order they first occurred
}

// addIfNeeded is latencyAddSampleIfNeeded: a sample when the monitor is
// on and d reaches the threshold.
func (m *latencyMonitor) addIfNeeded(event string, d time.Duration) {
	t := m.threshold.Load()
	if t == 0 || d.Milliseconds() < t {
		return
	}
	m.add(event, d.Milliseconds(), time.Now().Unix())
}

// add is latencyAddSample: within one second only the highest latency
// is kept.
func (m *latencyMonitor) add(event string, ms, now int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.events[event]
	if ts == nil {
		if m.events == nil {
			m.events = map[string]*latencySeries{}
		}
		ts = new(latencySeries)
		m.events[event] = ts
		m.order = append(m.order, event)
	}
	ts.max = max(ts.max, ms)
	prev := (ts.idx + latencyTSLen - 1) % latencyTSLen
	if ts.samples[prev].time == now {
		ts.samples[prev].latency = max(ts.samples[prev].latency, ms)
		return
	}
	ts.samples[ts.idx] = latencySample{time: now, latency: ms}
	ts.idx = (ts.idx + 1) % latencyTSLen
}

// reset is latencyResetEvent: the events named (case-insensitively), or
// all with none; it returns how many it removed.
func (m *latencyMonitor) reset(names []string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	kept := m.order[:0]
	for _, ev := range m.order {
		drop := len(names) == 0
		for _, name := range names {
			if strings.EqualFold(ev, name) {
				drop = true
			}
		}
		if drop {
			delete(m.events, ev)
			n++
		} else {
			kept = append(kept, ev)
		}
	}
	m.order = kept
	return n
}

// latencyEvent is one event's series, copied for a reply.
type latencyEvent struct {
	name    string
	max     int64
	samples []latencySample // oldest first
	last    latencySample
}

// snapshot copies the events (all when name is "", else the one named,
// matched exactly as Redis's dict lookup).
func (m *latencyMonitor) snapshot(name string) []latencyEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []latencyEvent
	for _, ev := range m.order {
		if name != "" && ev != name {
			continue
		}
		ts := m.events[ev]
		e := latencyEvent{name: ev, max: ts.max, last: ts.samples[(ts.idx+latencyTSLen-1)%latencyTSLen]}
		for j := 0; j < latencyTSLen; j++ {
			if s := ts.samples[(ts.idx+j)%latencyTSLen]; s.time != 0 {
				e.samples = append(e.samples, s)
			}
		}
		out = append(out, e)
	}
	return out
}

// LatencySample reports that event took d, for the latency monitor
// (LATENCY LATEST/HISTORY/DOCTOR): a subsystem calls it with Redis's
// event name ("aof-write", "aof-fsync-always", "rdb-unlink-temp-file",
// ...) from any goroutine, with or without the server lock.
func (s *Server) LatencySample(event string, d time.Duration) { s.latency.addIfNeeded(event, d) }

// applyLatencyConfig copies latency-monitor-threshold where the monitor
// reads it without the server lock.
func (s *Server) applyLatencyConfig() { s.latency.threshold.Store(s.cfg.LatencyMonitorThreshold) }

// latencyGraph is LATENCY GRAPH's text (latencyCommandGenSparkeline).
func latencyGraph(e latencyEvent, now int64) string {
	var lo, hi int64
	seq := make([]sparkSample, 0, len(e.samples))
	for i, s := range e.samples {
		if i == 0 {
			lo, hi = s.latency, s.latency
		}
		lo, hi = min(lo, s.latency), max(hi, s.latency)
		elapsed := now - s.time
		var label string
		switch {
		case elapsed < 60:
			label = fmt.Sprintf("%ds", elapsed)
		case elapsed < 3600:
			label = fmt.Sprintf("%dm", elapsed/60)
		case elapsed < 3600*24:
			label = fmt.Sprintf("%dh", elapsed/3600)
		default:
			label = fmt.Sprintf("%dd", elapsed/(3600*24))
		}
		seq = append(seq, sparkSample{value: float64(s.latency), label: label})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", e.name, hi, lo, e.max)
	b.WriteString(strings.Repeat("-", 80) + "\n")
	sparklineRender(&b, seq, 80, 4)
	return b.String()
}

type sparkSample struct {
	value float64
	label string
}

// sparklineRender is Redis's sparklineRender with SPARKLINE_FILL: rows
// of "_o#|" bars, then the labels written downwards, columns at a time.
func sparklineRender(b *strings.Builder, seq []sparkSample, columns, rows int) {
	if len(seq) == 0 {
		return
	}
	lo, hi := seq[0].value, seq[0].value
	labels := 0
	for i, s := range seq {
		if i > 0 {
			if s.value < lo {
				lo = s.value
			} else if s.value > hi {
				hi = s.value
			}
		}
		if s.label != "" {
			labels++
		}
	}
	for j := 0; j < len(seq); j += columns {
		if j != 0 {
			b.WriteByte('\n')
		}
		sparklineRange(b, seq[j:min(j+columns, len(seq))], lo, hi, labels > 0, rows)
	}
}

func sparklineRange(b *strings.Builder, seq []sparkSample, lo, hi float64, labels bool, rows int) {
	const fill = "_o#"
	relmax := hi - lo
	if relmax == 0 {
		relmax = 1
	}
	steps := len(fill) * rows
	chars := make([]byte, len(seq))
	for row := 0; ; row++ {
		more := false
		for j := range chars {
			chars[j] = ' '
		}
		for j, s := range seq {
			step := int(float64(int((s.value-lo)*float64(steps))) / relmax)
			step = min(max(step, 0), steps-1)
			if row < rows {
				more = true
				idx := step - (rows-row-1)*len(fill)
				if idx >= 0 && idx < len(fill) {
					chars[j] = fill[idx]
				} else if idx >= len(fill) {
					chars[j] = '|'
				}
				continue
			}
			if labels && row-rows < 1 {
				more = true
				break
			}
			if c := row - rows - 1; c < len(s.label) {
				more = true
				chars[j] = s.label[c]
			}
		}
		if !more {
			return
		}
		b.Write(chars)
		b.WriteByte('\n')
	}
}

// latencyEventOf is the event a command's run is sampled as.
func latencyEventOf(spec *command.Spec) string {
	if spec.Is(command.Fast) {
		return "fast-command"
	}
	return "command"
}
