package server

import (
	"bytes"
	"fmt"
	"net"
	"time"

	"github.com/shoal-dev/shoal/node/resp"
)

// What a metrics exporter (node/metrics) reads of the engine: the numbers
// INFO and CLUSTER INFO give, rendered by the same code, and the
// per-command latency histograms of LATENCY HISTOGRAM and INFO
// latencystats, all taken under one hold of the lock. Reading them counts
// no command (commandstats, total_commands_processed stay as they were):
// a scrape is not a client.

// Scrape is the node's state at one instant.
type Scrape struct {
	// Info is INFO everything's text (every section, commandstats and
	// latencystats included).
	Info string
	// ClusterInfo is CLUSTER INFO's text in cluster mode, "" otherwise.
	ClusterInfo string
	// Latency is the latency histogram of every command that has one, in
	// command table order.
	Latency []CommandLatency
	// Took is how long the lock was held for it.
	Took time.Duration
}

// CommandLatency is one command's latency histogram (latency-tracking).
type CommandLatency struct {
	// Name is the command's full name as INFO names it ("get",
	// "config|get").
	Name string
	// Count is the number of durations recorded; Usec is the command's
	// total time in microseconds (commandstats' usec).
	Count int64
	Usec  int64
	// Cumulative[i] counts the durations up to Bounds[i] (the Bounds
	// argument of Server.Scrape): the recorded values are whole
	// microseconds, kept to hdr's 1/128 precision, and a bucket whose
	// lowest value is at most a bound counts under it.
	Cumulative []int64
	// CDFUsec and CDFCount are LATENCY HISTOGRAM's histogram_usec: the top
	// of each power-of-two level from 1 µs, in µs, with the count of
	// durations up to it, for every level up to the highest one used
	// (levels whose count did not grow included, so the buckets of a
	// command do not come and go between scrapes).
	CDFUsec  []int64
	CDFCount []int64
}

// ScrapeReader reads the node for a metrics exporter; it keeps the
// internal client that runs CLUSTER INFO. Make one per exporter
// (NewScrapeReader) and call Read from one goroutine at a time.
type ScrapeReader struct {
	s *Server
	c *Client
	// Bounds are the upper bounds, in nanoseconds, of the buckets of
	// CommandLatency.Cumulative, ascending.
	Bounds []int64
}

// NewScrapeReader makes a reader for s.
func (s *Server) NewScrapeReader(bounds []int64) *ScrapeReader {
	c := s.NewInternalClient("metrics")
	c.W = resp.NewWriter(nullConn{})
	return &ScrapeReader{s: s, c: c, Bounds: bounds}
}

// everything is INFO everything's sections.
func everything() map[string]bool {
	want := map[string]bool{"commandstats": true, "latencystats": true}
	for _, name := range defaultInfoSections {
		want[name] = true
	}
	return want
}

// Read takes the lock once and reads the node.
func (r *ScrapeReader) Read() Scrape {
	s := r.s
	s.mu.Lock()
	start := time.Now()
	sc := Scrape{Info: s.info(everything())}
	if s.cfg.ClusterEnabled {
		sc.ClusterInfo = r.clusterInfo()
	}
	sc.Latency = s.commandLatencies(r.Bounds)
	sc.Took = time.Since(start)
	s.mu.Unlock()
	return sc
}

// clusterInfo runs CLUSTER INFO's handler as the reader's client, without
// counting it, and returns its text (lock held).
func (r *ScrapeReader) clusterInfo() string {
	s, c := r.s, r.c
	args := [][]byte{[]byte("cluster"), []byte("info")}
	spec, _ := s.cmds.LookupArgs(args)
	if spec == nil || s.handlers[spec.ID()] == nil {
		return ""
	}
	c.W.Truncate(0)
	c.Args, c.Cmd = args, spec
	s.runHandler(c, spec)
	c.Args = nil
	reply := c.W.Bytes()
	// A bulk string ($n\r\n...\r\n); an error (-...) is no text.
	if len(reply) == 0 || reply[0] != '$' {
		return ""
	}
	i := bytes.Index(reply, []byte("\r\n"))
	if i < 0 {
		return ""
	}
	return string(bytes.TrimSuffix(reply[i+2:], []byte("\r\n")))
}

// commandLatencies copies the latency histograms (lock held).
func (s *Server) commandLatencies(bounds []int64) []CommandLatency {
	var out []CommandLatency
	for id := 0; id < s.cmds.NumIDs(); id++ {
		st := &s.cmdStats[id]
		h := st.hist
		if h == nil || h.total == 0 {
			continue
		}
		cl := CommandLatency{Name: s.cmds.ByID(id).FullName(), Count: h.total, Usec: st.usec}
		cl.Cumulative = h.cumulative(bounds)
		cl.CDFUsec, cl.CDFCount = h.levels()
		out = append(out, cl)
	}
	return out
}

// cumulative counts the durations up to each bound (ns, ascending): a
// bucket counts under the first bound at or above its lowest value.
func (h *latencyHist) cumulative(bounds []int64) []int64 {
	out := make([]int64, len(bounds))
	b := 0
	var cum int64
	for i, n := range h.counts {
		if n == 0 {
			continue
		}
		low := latencyHistLowest(i)
		for b < len(bounds) && bounds[b] < low {
			out[b] = cum
			b++
		}
		cum += n
	}
	for ; b < len(bounds); b++ {
		out[b] = cum
	}
	return out
}

// levels is hdr's logarithmic iteration from 1024 ns by powers of two:
// the top of each level in µs with the count of durations up to it, for
// every level up to the first that holds them all (cdf keeps those whose
// count grew).
func (h *latencyHist) levels() (usec, cum []int64) {
	var c int64
	for j := 0; j <= latencyHistLevels && c < h.total; j++ {
		level := j * latencyHistSub
		if j < latencyHistLevels {
			for i := max(0, level-latencyHistSub+1); i <= level; i++ {
				c += h.counts[i]
			}
		} else {
			c = h.total
		}
		top := int64(latencyHistMinNs)<<j + int64(1)<<(j+latencyHistMinBit-7) - 1
		usec = append(usec, top/1000)
		cum = append(cum, c)
	}
	return usec, cum
}

// ListenOnBind opens port on bind's addresses, as Listen opens the client
// port: the metrics endpoint's listeners. On an error it closes what it
// opened; no address at all is an error.
func (s *Server) ListenOnBind(port int) ([]net.Listener, error) {
	lns, err := s.listenBind(port)
	if err == nil && len(lns) == 0 {
		err = fmt.Errorf("could not listen on any of %v port %d", s.bindAddrs(), port)
	}
	return lns, err
}
