package command

// GlobMatch reports whether s matches the glob pattern as Redis's
// stringmatchlen does (* ? [a-z] [^x] and \ escapes), optionally ignoring
// case. It is the one matcher of the node: KEYS, SCAN/SSCAN/HSCAN/ZSCAN
// MATCH, PSUBSCRIBE and PUBSUB CHANNELS, ACL key and channel patterns,
// CONFIG GET and COMMAND LIST FILTERBY PATTERN all use it.
//
// Its work is bounded as in Redis 7.0.15 (CVE-2022-36021): recursion stops
// at a nesting of 1000 stars, and once the rest of the pattern after a '*'
// matched nowhere in the rest of the string, no earlier '*' tries a longer
// match (that could only start the rest later), so a pattern of n stars
// costs O(n * len(s)) instead of len(s)^n.
func GlobMatch(pattern, s []byte, nocase bool) bool {
	skipLonger := false
	return globMatch(pattern, s, nocase, 0, &skipLonger)
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func globMatch(p, s []byte, nocase bool, nesting int, skipLonger *bool) bool {
	// Like Redis, bound the recursion a hostile pattern can cause.
	if nesting > 1000 {
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if globMatch(p[1:], s, nocase, nesting+1, skipLonger) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			// The rest matched from no position: longer matches of any
			// earlier '*' cannot help either.
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if len(p) == 0 {
					break
				}
				if p[0] == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					start, end := p[0], p[2]
					c := s[0]
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = lowerByte(start), lowerByte(end), lowerByte(c)
					}
					p = p[2:]
					if c >= start && c <= end {
						match = true
					}
				} else {
					if nocase {
						if lowerByte(p[0]) == lowerByte(s[0]) {
							match = true
						}
					} else if p[0] == s[0] {
						match = true
					}
				}
				p = p[1:]
			}
			if len(p) == 0 {
				// Unterminated class: Redis treats the end as ']'.
				p = []byte{']'}
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if nocase {
				if lowerByte(p[0]) != lowerByte(s[0]) {
					return false
				}
			} else if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}
