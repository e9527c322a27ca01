package replication

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// NoReplID is the all-zero ID Redis reports as master_replid2 when there
// is no previous replication ID.
const NoReplID = "0000000000000000000000000000000000000000"

// NewReplID returns a random 40 hex character replication ID.
func NewReplID() string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// IDs is a master's replication history: its current ID and offset and,
// after a promotion, the ID of the master it replicated from, valid up to
// SecondOffset (Redis's replid2 and second_replid_offset).
type IDs struct {
	ID           string
	ID2          string
	Offset       int64
	SecondOffset int64 // -1: no previous ID
}

// Shift is what a replica does when it becomes a master (Redis's
// shiftReplicationId): the old ID stays valid up to the current offset,
// so replicas of the old master can continue from this one.
func (h *IDs) Shift() {
	h.ID2 = h.ID
	h.SecondOffset = h.Offset + 1
	h.ID = NewReplID()
}

// ClearSecond forgets the previous ID.
func (h *IDs) ClearSecond() {
	h.ID2 = NoReplID
	h.SecondOffset = -1
}

// CanContinue is the master's PSYNC decision for a replica asking for
// the stream of replid from offset next (the first byte it lacks): true
// when the ID is this master's (or its previous one, up to SecondOffset)
// and the bytes are in the backlog. Otherwise it also says why, for the
// log.
func CanContinue(h IDs, b *Backlog, replid string, next int64) (bool, string) {
	switch {
	case replid == "?":
		return false, "full resync requested"
	case replid != h.ID && (replid != h.ID2 || next > h.SecondOffset):
		return false, fmt.Sprintf("replication ID mismatch (replica asked for '%s', my replication IDs are '%s' and '%s')", replid, h.ID, h.ID2)
	case b == nil:
		return false, "no backlog"
	case !b.Has(next):
		return false, fmt.Sprintf("requested offset %d is outside the backlog [%d, %d]", next, b.FirstByteOffset(), b.Offset()+1)
	}
	return true, ""
}

// Reply is the master's answer to PSYNC as a replica reads it.
type Reply struct {
	Full   bool   // +FULLRESYNC <replid> <offset>
	ID     string // the master's replication ID
	Offset int64  // for a full resync: the offset the snapshot is at
}

// ParseReply parses +FULLRESYNC / +CONTINUE [replid] (line without the
// leading '+' and the CRLF).
func ParseReply(line string) (Reply, error) {
	f := strings.Fields(line)
	switch {
	case len(f) == 3 && strings.EqualFold(f[0], "FULLRESYNC"):
		off, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || len(f[1]) != 40 {
			return Reply{}, fmt.Errorf("bad FULLRESYNC reply %q", line)
		}
		return Reply{Full: true, ID: f[1], Offset: off}, nil
	case len(f) >= 1 && strings.EqualFold(f[0], "CONTINUE"):
		r := Reply{}
		if len(f) == 2 && len(f[1]) == 40 {
			r.ID = f[1]
		}
		return r, nil
	}
	return Reply{}, fmt.Errorf("unexpected PSYNC reply %q", line)
}
