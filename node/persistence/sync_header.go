package persistence

import (
	"fmt"
	"strconv"
	"strings"
)

// SyncEOFMarkLen is the length of the random mark that ends a snapshot
// sent without its length ($EOF:<mark>, Redis's diskless format).
const SyncEOFMarkLen = 40

// ParseSyncHeader parses the line before a full resync's snapshot:
// $<length>, or $EOF:<mark> when the master streams it without knowing
// its length (the mark follows the snapshot). total is -1 for the latter.
func ParseSyncHeader(hdr string) (total int64, mark string, err error) {
	if m, ok := strings.CutPrefix(hdr, "$EOF:"); ok {
		if len(m) != SyncEOFMarkLen {
			return 0, "", fmt.Errorf("bad end mark from master: %q", hdr)
		}
		return -1, m, nil
	}
	if !strings.HasPrefix(hdr, "$") {
		return 0, "", fmt.Errorf("bad bulk length from master: %q", hdr)
	}
	n, err := strconv.ParseInt(hdr[1:], 10, 64)
	if err != nil || n < 0 {
		return 0, "", fmt.Errorf("bad bulk length from master: %q", hdr)
	}
	return n, "", nil
}
