package metrics

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// The Prometheus text exposition format (version 0.0.4): a family's
// samples together under one # HELP and one # TYPE line.

// ContentType is the text format's media type.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Metric types.
const (
	typeGauge     = "gauge"
	typeCounter   = "counter"
	typeHistogram = "histogram"
	typeSummary   = "summary"
)

type label struct{ name, value string }

type sample struct {
	suffix string // "", "_bucket", "_sum", "_count"
	labels []label
	value  float64
}

type family struct {
	name, typ, help string
	samples         []sample
}

// exposition collects families by name; Bytes writes them sorted.
type exposition struct {
	fams map[string]*family
}

func newExposition() *exposition { return &exposition{fams: map[string]*family{}} }

// family returns the family name, made with typ and help on first use. A
// name seen with another type keeps its first (a field the tables map to
// a name already used is dropped rather than mixed).
func (e *exposition) family(name, typ, help string) *family {
	f := e.fams[name]
	if f == nil {
		f = &family{name: name, typ: typ, help: help}
		e.fams[name] = f
	}
	return f
}

// add appends one sample of a gauge or a counter.
func (e *exposition) add(name, typ, help string, v float64, labels ...label) {
	f := e.family(name, typ, help)
	if f.typ != typ {
		return
	}
	f.samples = append(f.samples, sample{labels: labels, value: v})
}

// histogram appends one histogram: cumulative counts at bounds, then
// +Inf (count), _sum and _count.
func (e *exposition) histogram(name, help string, bounds []float64, cum []int64, count int64, sum float64, labels ...label) {
	f := e.family(name, typeHistogram, help)
	if f.typ != typeHistogram {
		return
	}
	for i, b := range bounds {
		f.samples = append(f.samples, sample{suffix: "_bucket", labels: withLabel(labels, "le", formatFloat(b)), value: float64(cum[i])})
	}
	f.samples = append(f.samples,
		sample{suffix: "_bucket", labels: withLabel(labels, "le", "+Inf"), value: float64(count)},
		sample{suffix: "_sum", labels: labels, value: sum},
		sample{suffix: "_count", labels: labels, value: float64(count)})
}

// summary appends one summary: quantiles (label, value), _sum, _count.
func (e *exposition) summary(name, help string, quantiles []label, count int64, sum float64, labels ...label) {
	f := e.family(name, typeSummary, help)
	if f.typ != typeSummary {
		return
	}
	for _, q := range quantiles {
		v, err := strconv.ParseFloat(q.value, 64)
		if err != nil {
			continue
		}
		f.samples = append(f.samples, sample{labels: withLabel(labels, "quantile", q.name), value: v})
	}
	f.samples = append(f.samples,
		sample{suffix: "_sum", labels: labels, value: sum},
		sample{suffix: "_count", labels: labels, value: float64(count)})
}

func withLabel(labels []label, name, value string) []label {
	out := make([]label, 0, len(labels)+1)
	return append(append(out, labels...), label{name, value})
}

// Bytes is the exposition, families sorted by name.
func (e *exposition) Bytes() []byte {
	names := make([]string, 0, len(e.fams))
	for n := range e.fams {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		f := e.fams[n]
		if len(f.samples) == 0 {
			continue
		}
		b.WriteString("# HELP " + f.name + " " + escapeHelp(f.help) + "\n")
		b.WriteString("# TYPE " + f.name + " " + f.typ + "\n")
		for _, s := range f.samples {
			b.WriteString(f.name)
			b.WriteString(s.suffix)
			if len(s.labels) > 0 {
				b.WriteByte('{')
				for i, l := range s.labels {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(l.name + `="` + escapeLabel(l.value) + `"`)
				}
				b.WriteByte('}')
			}
			b.WriteByte(' ')
			b.WriteString(formatFloat(s.value))
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeLabel(s string) string { return labelEscaper.Replace(s) }

// validName reports whether s is a valid metric name.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}
