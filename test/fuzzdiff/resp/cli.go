package resp

import (
	"fmt"
	"strings"
)

// QuoteArg quotes one argument the way redis-cli reads it back (its
// sdssplitargs): bare when it is non-empty printable ASCII without spaces or
// quotes, otherwise in double quotes with \", \\, \n, \r, \t and \xHH
// escapes.
func QuoteArg(a string) string {
	if a != "" && bare(a) {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(a); i++ {
		c := a[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func bare(a string) bool {
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\' {
			return false
		}
	}
	return true
}

// CommandLine is args as one redis-cli line, every argument in full.
func CommandLine(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = QuoteArg(a)
	}
	return strings.Join(q, " ")
}

// ShortLine is args as one line for people to read: an argument longer than
// max is shown by its length and first bytes (it is not pastable then; the
// full line is CommandLine).
func ShortLine(args []string, max int) string {
	q := make([]string, len(args))
	for i, a := range args {
		if len(a) > max {
			q[i] = fmt.Sprintf("<%d bytes: %s...>", len(a), QuoteArg(a[:16]))
			continue
		}
		q[i] = QuoteArg(a)
	}
	return strings.Join(q, " ")
}
