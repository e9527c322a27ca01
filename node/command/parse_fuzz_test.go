package command

import (
	"bytes"
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for the parsers and the glob matcher, each against a
// reference written differently: a regular expression for the grammar and
// math/big for the value; a memoized matcher without the early exit.

// strtodGrammar is C strtod's grammar (C locale), anchored: all of the
// input must be one number.
var strtodGrammar = regexp.MustCompile(`^[+-]?(?i:inf|infinity|nan|0x([0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(p[+-]?[0-9]+)?|([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?)$`)

// hugeExponent finds an exponent's digits without their leading zeros.
var hugeExponent = regexp.MustCompile(`[ep][+-]?0*([0-9]+)$`)

// refDouble is the reference for parseDouble: the grammar, NaN refused,
// the value rounded by math/big; a result beyond float64 (overflow) or
// rounded to zero from a non-zero value (underflow) refused.
func refDouble(b []byte) (float64, bool) {
	if !strtodGrammar.Match(b) {
		return 0, false
	}
	s := strings.ToLower(string(b))
	body := strings.TrimLeft(s, "+-")
	neg := strings.HasPrefix(s, "-")
	switch body {
	case "nan":
		return 0, false
	case "inf", "infinity":
		if neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	if strings.HasPrefix(body, "0x") && !strings.Contains(body, "p") {
		body += "p0"
	}
	if isZeroMantissa(body) {
		return 0, true // 0e99999999999999999999: zero, however large the exponent (as strtod)
	}
	if m := hugeExponent.FindStringSubmatch(body); m != nil && len(m[1]) > 6 {
		// beyond 10^999999 or 2^999999 either way, whatever the (at most
		// 400) digits: an overflow or an underflow, both refused; big.Rat
		// would take minutes to say so.
		return 0, false
	}
	r, ok := new(big.Rat).SetString(body)
	if !ok {
		if strings.HasPrefix(body, "0x") {
			// big.Rat reads no hex fractions: go through big.Float exactly.
			f, _, err := big.ParseFloat(body, 0, 100000, big.ToNearestEven)
			if err != nil {
				return 0, false
			}
			r, _ = f.Rat(nil)
		} else {
			return 0, false
		}
	}
	f, _ := r.Float64()
	if math.IsInf(f, 0) || (f == 0 && r.Sign() != 0) {
		return 0, false
	}
	if neg {
		f = -f
	}
	return f, true
}

// isZeroMantissa reports whether a number matched by strtodGrammar (hex
// ones with their p exponent) has only zero digits before its exponent.
func isZeroMantissa(body string) bool {
	mant := body
	if strings.HasPrefix(mant, "0x") {
		mant = mant[2:strings.IndexByte(mant, 'p')]
	} else if i := strings.IndexByte(mant, 'e'); i >= 0 {
		mant = mant[:i]
	}
	return strings.Trim(mant, "0.") == ""
}

func FuzzParseDouble(f *testing.F) {
	for _, s := range NumberEdgeCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 400 {
			return // big.Rat's exponent arithmetic, not the parser, would be slow
		}
		got, ok := ParseDouble(b)
		want, wantOK := refDouble(b)
		if ok != wantOK || (ok && got != want && !(got == 0 && want == 0)) {
			t.Fatalf("ParseDouble(%q) = %v,%v; reference %v,%v", b, got, ok, want, wantOK)
		}
	})
}

func TestParseDoubleCases(t *testing.T) {
	for in, want := range map[string]bool{
		"1": true, "1\x00": false, "1.5\x00x": false, " 1": false, "1 ": false, "+1": true, "0x10": true,
		"0x1p3": true, "0x1.8": true, "0x": false, "1e": false, ".": false, "5.": true, ".5": true,
		"1e-400": false, "4e-320": true, "0E10000000000000000000": true, "0x0p-99999999999999999999": true, "1e5000": false, "inf": true, "-Infinity": true, "nan": false, "1_0": false,
	} {
		if _, ok := ParseDouble([]byte(in)); ok != want {
			t.Errorf("ParseDouble(%q) ok=%v, want %v", in, ok, want)
		}
	}
	// strtod keeps the sign of a zero, and the integer fast path must too.
	for in, neg := range map[string]bool{"-0": true, "0": false, "+0": false, "-000": true, "-0.0": true} {
		if f, ok := ParseDouble([]byte(in)); !ok || f != 0 || math.Signbit(f) != neg {
			t.Errorf("ParseDouble(%q) = %v,%v; want a zero with sign bit %v", in, f, ok, neg)
		}
	}
}

func FuzzParseScanCursor(f *testing.F) {
	for _, s := range NumberEdgeCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := ScanCursor(b)
		// Reference: strtoul's grammar up to the first NUL, in big.Int.
		s := b
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		wantOK := len(b) == 0 || !isSpaceByte(b[0])
		var want uint64
		if wantOK && len(s) > 0 {
			m := regexp.MustCompile(`^[+-]?[0-9]+$`).Match(s)
			n, _ := new(big.Int).SetString(strings.TrimPrefix(string(s), "+"), 10)
			switch {
			case !m || n == nil:
				wantOK = false
			case new(big.Int).Abs(n).BitLen() > 64:
				wantOK = false
			default:
				mod := new(big.Int).Mod(n, new(big.Int).Lsh(big.NewInt(1), 64))
				want = mod.Uint64()
			}
		}
		if ok != wantOK || (ok && got != want) {
			t.Fatalf("ScanCursor(%q) = %d,%v; reference %d,%v", b, got, ok, want, wantOK)
		}
	})
}

// refGlob is Redis's stringmatchlen without its early exit, memoized on
// the lengths of the rest of the pattern and string after a '*'.
func refGlob(pattern, str []byte, nocase bool) bool {
	type at struct{ p, s int }
	memo := map[at]bool{}
	lower := func(c byte) byte {
		if nocase {
			return lowerByte(c)
		}
		return c
	}
	var match func(p, s []byte) bool
	match = func(p, s []byte) bool {
		for len(p) > 0 && len(s) > 0 {
			switch p[0] {
			case '*':
				for len(p) > 1 && p[1] == '*' {
					p = p[1:]
				}
				if len(p) == 1 {
					return true
				}
				for ; len(s) > 0; s = s[1:] {
					k := at{len(p) - 1, len(s)}
					r, seen := memo[k]
					if !seen {
						r = match(p[1:], s)
						memo[k] = r
					}
					if r {
						return true
					}
				}
				return false
			case '?':
			case '[':
				q := p[1:]
				not := len(q) > 0 && q[0] == '^'
				if not {
					q = q[1:]
				}
				hit := false
				for len(q) > 0 && q[0] != ']' {
					switch {
					case q[0] == '\\' && len(q) >= 2:
						hit = hit || q[1] == s[0]
						q = q[2:]
					case len(q) >= 3 && q[1] == '-':
						lo, hi := q[0], q[2]
						if lo > hi {
							lo, hi = hi, lo
						}
						c := lower(s[0])
						hit = hit || (c >= lower(lo) && c <= lower(hi))
						q = q[3:]
					default:
						hit = hit || lower(q[0]) == lower(s[0])
						q = q[1:]
					}
				}
				if hit == not {
					return false
				}
				if len(q) == 0 {
					q = []byte{']'} // an unterminated class ends the pattern
				}
				p = q // at the ']', consumed below
			case '\\':
				if len(p) >= 2 {
					p = p[1:]
				}
				if lower(p[0]) != lower(s[0]) {
					return false
				}
			default:
				if lower(p[0]) != lower(s[0]) {
					return false
				}
			}
			p = p[1:]
			s = s[1:]
			if len(s) == 0 {
				for len(p) > 0 && p[0] == '*' {
					p = p[1:]
				}
				break
			}
		}
		return len(p) == 0 && len(s) == 0
	}
	return match(pattern, str)
}

func FuzzGlobMatch(f *testing.F) {
	f.Add([]byte("a*a*a*b"), []byte("aaaaaaaaaa"), false)
	f.Add([]byte("h[^e-a]llo"), []byte("hallo"), true)
	f.Add([]byte("[\\]]*\\"), []byte("]x\\"), false)
	f.Add([]byte("*[a"), []byte("xa"), false)
	f.Fuzz(func(t *testing.T, p, s []byte, nocase bool) {
		if len(p) > 200 || len(s) > 200 {
			return
		}
		if got, want := GlobMatch(p, s, nocase), refGlob(p, s, nocase); got != want {
			t.Fatalf("GlobMatch(%q, %q, %v) = %v; reference %v", p, s, nocase, got, want)
		}
	})
}

// TestGlobMatchBoundsItsWork is CVE-2022-36021: a pattern of many stars
// against a string it cannot match answers at once, as Redis's
// stringmatchlen does since 7.0.9.
func TestGlobMatchBoundsItsWork(t *testing.T) {
	s := []byte(strings.Repeat("a", 40))
	p := []byte(strings.Repeat("a*", 20) + "b")
	start := time.Now()
	if GlobMatch(p, s, false) {
		t.Fatal("matched")
	}
	// Backtracking would take hours; a second leaves room for a busy
	// machine's scheduler (a thread can wait 50 ms for a CPU).
	if d := time.Since(start); d > time.Second {
		t.Fatalf("a 21-star pattern took %v", d)
	}
	long := []byte(strings.Repeat("*", 5000) + "b")
	if GlobMatch(long, s, false) {
		t.Fatal("a pattern nested over 1000 stars matched")
	}
	if !GlobMatch([]byte(strings.Repeat("a*", 20)), s, false) {
		t.Fatal("a*a*...a* must match 40 a's")
	}
}

// BenchmarkGlobMatchManyStars is the KEYS pattern against its key.
func BenchmarkGlobMatchManyStars(b *testing.B) {
	s := []byte(strings.Repeat("a", 40))
	p := []byte(strings.Repeat("a*", 20) + "b")
	for b.Loop() {
		GlobMatch(p, s, false)
	}
}
