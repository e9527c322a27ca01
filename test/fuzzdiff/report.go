package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/shoal-dev/shoal/test/fuzzdiff/compare"
	"github.com/shoal-dev/shoal/test/fuzzdiff/gen"
	"github.com/shoal-dev/shoal/test/fuzzdiff/resp"
)

// longArg is the length above which an argument is abbreviated in printed
// scripts (the 1 MB strings).
const longArg = 200

func printSeed(w io.Writer, r seedResult) {
	unknown := 0
	for _, d := range r.divergences {
		if d.kind == compare.Unknown {
			unknown++
		}
	}
	fmt.Fprintf(w, "seed %d: %d commands in %.1fs: %d CRASH, %d HANG, %d SLOW, %d divergences (%d of them unknown command); reproduce: -seed %d -n %d\n",
		r.seed, r.sent, r.elapsed.Seconds(), count(r.findings, "CRASH"), count(r.findings, "HANG"), r.slow,
		len(r.divergences), unknown, r.seed, r.sent)
	for i, note := range r.notes {
		if i == 10 {
			fmt.Fprintf(w, "  (%d more notes)\n", len(r.notes)-10)
			break
		}
		fmt.Fprintln(w, "  note:", note)
	}
}

// printSlowest prints the commands the seed spent most time on.
func printSlowest(w io.Writer, r seedResult, n int) {
	names := slices.Collect(maps.Keys(r.time))
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(r.time[b], r.time[a]) })
	var parts []string
	for _, name := range names[:min(n, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %.2fs", name, r.time[name].Seconds()))
	}
	fmt.Fprintf(w, "  slowest: %s\n", strings.Join(parts, ", "))
}

func count(fs []finding, kind string) int {
	n := 0
	for _, f := range fs {
		if f.kind == kind {
			n++
		}
	}
	return n
}

// report prints the findings with their scripts and the divergence table,
// and returns the exit status: 1 when anything crashed or hung.
func report(w io.Writer, results []seedResult, top int) int {
	var all []finding
	var divs []divergence
	for _, r := range results {
		all = append(all, r.findings...)
		divs = append(divs, r.divergences...)
	}
	for _, f := range all {
		printFinding(w, f)
	}
	printTable(w, divs, top)
	crashes, hangs, slow := count(all, "CRASH"), count(all, "HANG"), 0
	for _, r := range results {
		slow += r.slow
	}
	fmt.Fprintf(w, "fuzzdiff: %d CRASH, %d HANG, %d SLOW, %d divergences over %d seeds\n", crashes, hangs, slow, len(divs), len(results))
	if crashes+hangs > 0 {
		return 1
	}
	return 0
}

func printFinding(w io.Writer, f finding) {
	fmt.Fprintf(w, "\n### %s at seed %d, command #%d: %s\n\n", f.kind, f.seed, f.index, resp.ShortLine(f.line, longArg))
	fmt.Fprintf(w, "```\n%s\n```\n\n", strings.TrimSpace(f.detail))
	switch {
	case !f.reproduced:
		fmt.Fprintf(w, "Not reproduced by replaying a tail on a fresh node; the %d commands since the last restart, after the setup:\n\n", len(f.repro))
	case f.withSetup:
		fmt.Fprintf(w, "Reproduced on a fresh node by the setup, then:\n\n")
	default:
		fmt.Fprintf(w, "Reproduced on a fresh, empty node by:\n\n")
	}
	fmt.Fprintf(w, "```\n%s```\n", script(f.repro, f.withSetup))
}

// script is lines as a redis-cli script (one command a line), the setup
// first when withSetup.
func script(lines []gen.Line, withSetup bool) string {
	var b strings.Builder
	if withSetup {
		for _, l := range gen.Setup() {
			b.WriteString(resp.ShortLine(l.Args, 1<<20))
			b.WriteByte('\n')
		}
	}
	for _, l := range lines {
		if l.Async {
			b.WriteString("# on a second connection, its reply read after the next line:\n")
		}
		b.WriteString(resp.ShortLine(l.Args, longArg))
		b.WriteByte('\n')
	}
	return b.String()
}

// printTable prints the divergences grouped by (command, kind), most
// frequent first, with one example each; the commands and subcommands the
// node does not know are listed apart, by count.
func printTable(w io.Writer, divs []divergence, top int) {
	kinds := map[string]int{}
	var known, unknown []divergence
	for _, d := range divs {
		kinds[d.kind]++
		if d.kind == compare.Unknown || d.kind == compare.UnknownSub {
			unknown = append(unknown, d)
		} else {
			known = append(known, d)
		}
	}
	fmt.Fprintf(w, "\n%d divergences by kind:", len(divs))
	for _, k := range []string{compare.Unknown, compare.UnknownSub, compare.ErrorVsReply, compare.ReplyVsError,
		compare.ErrorCode, compare.ErrorText, compare.Reply, compare.Closed} {
		fmt.Fprintf(w, " %s %d;", k, kinds[k])
	}
	groups := groupDivergences(known)
	fmt.Fprintf(w, " %d distinct (command, kind) besides unknown commands\n\n", len(groups))
	fmt.Fprintln(w, "| count | command | kind | example (seed #index) | node | Redis |")
	fmt.Fprintln(w, "|---:|---|---|---|---|---|")
	for i, g := range groups {
		if i == top {
			break
		}
		fmt.Fprintf(w, "| %d | %s | %s | `%s` (%d #%d) | `%s` | `%s` |\n", g.n, g.command, g.kind,
			cell(resp.ShortLine(g.ex.line, 40)), g.ex.seed, g.ex.index, cell(g.ex.ours), cell(g.ex.ref))
	}
	var names []string
	for _, g := range groupDivergences(unknown) {
		names = append(names, fmt.Sprintf("%s %d", g.command, g.n))
	}
	fmt.Fprintf(w, "\nunknown to the node (%d replies, %d commands): %s\n", len(unknown), len(names), strings.Join(names, ", "))
}

// group is the divergences of one (command, kind).
type group struct {
	command, kind string
	n             int
	ex            divergence
}

// groupDivergences groups by (command, kind), most frequent first.
func groupDivergences(divs []divergence) []*group {
	byKey := map[string]*group{}
	for _, d := range divs {
		k := d.command + "\x00" + d.kind
		if byKey[k] == nil {
			byKey[k] = &group{command: d.command, kind: d.kind, ex: d}
		}
		byKey[k].n++
	}
	groups := make([]*group, 0, len(byKey))
	for _, g := range byKey {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b *group) int {
		return cmp.Or(b.n-a.n, strings.Compare(a.command, b.command), strings.Compare(a.kind, b.kind))
	})
	return groups
}

func cell(s string) string {
	if len(s) > 90 {
		s = s[:90] + "..."
	}
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s)
}
