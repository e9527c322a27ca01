package stream

import (
	"bytes"
	"strconv"
)

// ID is a stream entry ID: milliseconds and a sequence number.
type ID struct{ Ms, Seq uint64 }

// MaxID is the greatest ID (`+`).
var MaxID = ID{^uint64(0), ^uint64(0)}

// Compare returns -1, 0 or 1 as a is less than, equal to or greater than b.
func (a ID) Compare(b ID) int {
	switch {
	case a.Ms < b.Ms:
		return -1
	case a.Ms > b.Ms:
		return 1
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// Less reports a < b.
func (a ID) Less(b ID) bool { return a.Compare(b) < 0 }

// IsZero reports a == 0-0.
func (a ID) IsZero() bool { return a.Ms == 0 && a.Seq == 0 }

// Incr returns the next ID; ok is false at MaxID.
func (a ID) Incr() (ID, bool) {
	if a.Seq == ^uint64(0) {
		if a.Ms == ^uint64(0) {
			return a, false
		}
		return ID{a.Ms + 1, 0}, true
	}
	return ID{a.Ms, a.Seq + 1}, true
}

// Decr returns the previous ID; ok is false at 0-0.
func (a ID) Decr() (ID, bool) {
	if a.Seq == 0 {
		if a.Ms == 0 {
			return a, false
		}
		return ID{a.Ms - 1, ^uint64(0)}, true
	}
	return ID{a.Ms, a.Seq - 1}, true
}

// Append appends "ms-seq".
func (a ID) Append(dst []byte) []byte {
	dst = strconv.AppendUint(dst, a.Ms, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, a.Seq, 10)
}

// String is "ms-seq".
func (a ID) String() string { return string(a.Append(nil)) }

// ParseID parses "ms" or "ms-seq" (missingSeq is the sequence of "ms"),
// and, when special, "-" and "+". seqGiven is false for "ms" alone.
// It follows Redis's streamGenericParseIDOrReply, except for the "*"
// forms which XADD parses itself.
func ParseID(b []byte, missingSeq uint64, special bool) (id ID, seqGiven bool, ok bool) {
	if len(b) > 127 {
		return ID{}, false, false
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i] // Redis parses a C string: a zero byte ends it
	}
	if special && len(b) == 1 {
		switch b[0] {
		case '-':
			return ID{}, true, true
		case '+':
			return MaxID, true, true
		}
	}
	dot := -1
	for i, c := range b {
		if c == '-' {
			dot = i
			break
		}
	}
	if dot < 0 {
		ms, ok := parseUint(b)
		return ID{ms, missingSeq}, false, ok
	}
	ms, ok1 := parseUint(b[:dot])
	seq, ok2 := parseUint(b[dot+1:])
	return ID{ms, seq}, true, ok1 && ok2
}

// parseUint parses as Redis's string2ull (strtoull with a full-string
// check): leading white space and one '+' are accepted, a sign '-' is not.
func parseUint(b []byte) (uint64, bool) {
	for len(b) > 0 && (b[0] == ' ' || b[0] >= '\t' && b[0] <= '\r') {
		b = b[1:]
	}
	if len(b) > 0 && b[0] == '+' {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '0' || b[0] > '9' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	return v, err == nil
}
