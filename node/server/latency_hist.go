package server

import (
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// latencyHist is a command's latency histogram (LATENCY HISTOGRAM, INFO
// latencystats) with the buckets of Redis 7.0's hdr_histogram
// (hdr_init(1, 1e9, 2)): durations in nanoseconds, clamped to [1024 ns,
// 1 s], 128 linear sub-buckets in each power of two from 2^10 ns, so a
// value is known to 1/128 (2 significant figures). Recording one
// duration is an index computed from its top bit and two increments.
type latencyHist struct {
	total  int64
	counts [latencyHistLen]int64
}

const (
	latencyHistMinNs  = 1024          // CONFIG_LATENCY_HISTOGRAM_MIN_VALUE
	latencyHistMaxNs  = 1_000_000_000 // CONFIG_LATENCY_HISTOGRAM_MAX_VALUE
	latencyHistMinBit = 10            // 2^10 = latencyHistMinNs
	latencyHistSub    = 128           // sub-buckets in each power of two
	latencyHistLevels = 20            // powers of two from 2^10 to 2^29 (1e9 < 2^30)
	latencyHistLen    = latencyHistLevels * latencyHistSub
)

// latencyHistIndex is the bucket of ns (already clamped): its power of
// two and its top 8 bits.
func latencyHistIndex(ns int64) int {
	k := bits.Len64(uint64(ns)) - 1
	shift := k - 7
	return (k-latencyHistMinBit)*latencyHistSub + int(ns>>shift) - latencyHistSub
}

// latencyHistLowest and latencyHistHighest are the smallest and largest
// values bucket i holds (hdr's lowest/highest_equivalent_value).
func latencyHistLowest(i int) int64 {
	k := i/latencyHistSub + latencyHistMinBit
	return int64(i%latencyHistSub+latencyHistSub) << (k - 7)
}

func latencyHistHighest(i int) int64 {
	k := i/latencyHistSub + latencyHistMinBit
	return int64(i%latencyHistSub+latencyHistSub+1)<<(k-7) - 1
}

// record adds one command's duration: Redis records whole microseconds
// times 1000, clamped to the histogram's range.
func (h *latencyHist) record(d time.Duration) {
	ns := min(max(d.Microseconds()*1000, latencyHistMinNs), latencyHistMaxNs)
	h.counts[latencyHistIndex(ns)]++
	h.total++
}

// recordLatency adds d to st's histogram, made on the first call as
// Redis allocates a command's on its first record.
func (st *cmdStat) recordLatency(d time.Duration) {
	if st.hist == nil {
		st.hist = new(latencyHist)
	}
	st.hist.record(d)
}

// valueAtPercentile is hdr_value_at_percentile: the highest value of the
// bucket where the cumulative count reaches p percent of the total (the
// lowest for p = 0).
func (h *latencyHist) valueAtPercentile(p float64) int64 {
	req := min(p, 100)
	at := max(int64(req/100*float64(h.total)+0.5), 1)
	var cum int64
	for i, n := range h.counts {
		cum += n
		if cum >= at {
			if p == 0 {
				return latencyHistLowest(i)
			}
			return latencyHistHighest(i)
		}
	}
	return 0
}

// cdf is LATENCY HISTOGRAM's histogram_usec: hdr's logarithmic iteration
// from 1024 ns by powers of two, each level with the count of durations
// up to the top of its bucket, for the levels whose count grew.
func (h *latencyHist) cdf() (usec, cum []int64) {
	levels, counts := h.levels() // scrape.go
	var prev int64
	for i, c := range counts {
		if c > prev {
			usec = append(usec, levels[i])
			cum = append(cum, c)
		}
		prev = c
	}
	return usec, cum
}

// writeLatencyPercentiles is one line of INFO latencystats (Redis's
// fillPercentileDistributionLatencies): p<percentile>=<usec, 3 decimals>.
func writeLatencyPercentiles(b *strings.Builder, name string, h *latencyHist, percentiles []float64) {
	b.WriteString("latency_percentiles_usec_" + name + ":")
	for j, p := range percentiles {
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString("p" + trimFloat(strconv.FormatFloat(p, 'f', 6, 64)) + "=")
		b.WriteString(strconv.FormatFloat(float64(h.valueAtPercentile(p))/1000, 'f', 3, 64))
	}
	b.WriteString("\r\n")
}

// trimFloat is Redis's trimDoubleString: "99.900000" -> "99.9", "50.000000" -> "50".
func trimFloat(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// latencyStatsSection is INFO latencystats: a line for every command with
// a histogram, while latency-tracking is on.
func (s *Server) latencyStatsSection(b *strings.Builder) {
	if !s.cfg.LatencyTracking {
		return
	}
	for id := 0; id < s.cmds.NumIDs(); id++ {
		if h := s.cmdStats[id].hist; h != nil && h.total > 0 {
			writeLatencyPercentiles(b, s.cmds.ByID(id).FullName(), h, s.cfg.LatencyTrackingPercentiles)
		}
	}
}

// countTimedOutCall counts a blocked command that timed out as one call
// of the time its blocking run took, as Redis 7.0's updateStatsOnUnblock
// (which leaves the latency histogram out).
func (s *Server) countTimedOutCall(b *blockedClient) {
	spec, _ := s.cmds.LookupArgs(b.args)
	if spec == nil {
		return
	}
	st := &s.cmdStats[spec.ID()]
	st.calls++
	st.usec += b.ran.Microseconds()
	s.stats.commands++
}
