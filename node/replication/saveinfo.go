package replication

import (
	"fmt"
	"strconv"
)

// Aux field names a snapshot carries its replication state in, Redis's
// names for the same RDB aux fields.
const (
	AuxReplID       = "repl-id"
	AuxReplOffset   = "repl-offset"
	AuxReplStreamDB = "repl-stream-db"
)

// SaveInfo is the replication state a snapshot was taken at (Redis's
// rdbSaveInfo): the replication ID and offset the data set corresponds to
// and the database the stream had selected. A replica restarted from the
// snapshot asks its master to continue from Offset+1 of ID.
type SaveInfo struct {
	ID       string
	Offset   int64
	StreamDB int
}

// Aux returns the aux fields of s, in the order they are written.
func (s SaveInfo) Aux() [][2]string {
	return [][2]string{
		{AuxReplStreamDB, strconv.Itoa(s.StreamDB)},
		{AuxReplID, s.ID},
		{AuxReplOffset, strconv.FormatInt(s.Offset, 10)},
	}
}

// SaveInfoReader collects a SaveInfo from the aux fields of a snapshot as
// they are read; fields of other names are ignored.
type SaveInfoReader struct {
	info                 SaveInfo
	hasID, hasOff, hasDB bool
}

// Aux takes one aux field. A replication field with a malformed value is
// an error: the snapshot is corrupt.
func (r *SaveInfoReader) Aux(name, value string) error {
	switch name {
	case AuxReplID:
		if len(value) != 40 {
			return fmt.Errorf("bad %s %q", AuxReplID, value)
		}
		r.info.ID, r.hasID = value, true
	case AuxReplOffset:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("bad %s %q", AuxReplOffset, value)
		}
		r.info.Offset, r.hasOff = n, true
	case AuxReplStreamDB:
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 {
			return fmt.Errorf("bad %s %q", AuxReplStreamDB, value)
		}
		r.info.StreamDB, r.hasDB = n, true
	}
	return nil
}

// Info returns the SaveInfo read, and false when the snapshot had no
// complete one (older snapshots have none; the stream DB defaults to 0).
func (r *SaveInfoReader) Info() (SaveInfo, bool) {
	return r.info, r.hasID && r.hasOff
}
