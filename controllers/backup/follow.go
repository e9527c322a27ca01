package backup

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrFullResync is returned by Follow when the master cannot continue the
// stream from the offset asked for (it answered +FULLRESYNC: another
// history, or the range left its backlog): the stream has a gap.
var ErrFullResync = errors.New("the master does not hold the stream from this offset (it offered a full resynchronisation)")

// Follower is a replication stream continued from an offset: the raw
// bytes the master sends its replicas (commands, PINGs, REPLCONF GETACK),
// the first of them at the offset asked for.
type Follower struct {
	s *session
	// ReplID is the replication ID the stream continues under: the one
	// asked for, or the new one a promoted replica announced
	// (+CONTINUE <replid>).
	ReplID string
	stop   func() bool
}

// Follow connects to the master at addr as a replica that holds the
// stream of replID up to offset, and asks for the rest (PSYNC replID
// offset+1). A master that continues it (+CONTINUE, also a promoted
// replica of the same history) returns a Follower; one that offers a full
// resynchronisation returns ErrFullResync.
func Follow(ctx context.Context, addr, replID string, offset int64, o Options) (*Follower, error) {
	s, err := dialMaster(ctx, addr, o)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetDeadline(time.Now()) })
	f, err := s.follow(replID, offset)
	if err != nil {
		stop()
		s.conn.Close()
		return nil, fmt.Errorf("PSYNC %s %d to %s: %w", replID, offset+1, addr, err)
	}
	f.stop = stop
	return f, nil
}

func (s *session) follow(replID string, offset int64) (*Follower, error) {
	if err := s.send("PSYNC", replID, strconv.FormatInt(offset+1, 10)); err != nil {
		return nil, err
	}
	line, err := s.line(true)
	if err != nil {
		return nil, err
	}
	next, err := parseContinue(line, replID)
	if err != nil {
		return nil, err
	}
	return &Follower{s: s, ReplID: next}, nil
}

// parseContinue parses the reply to a partial PSYNC: +CONTINUE (the same
// replication ID) or +CONTINUE <replid>; +FULLRESYNC is ErrFullResync.
func parseContinue(line, replID string) (string, error) {
	f := strings.Fields(strings.TrimPrefix(line, "+"))
	switch {
	case len(f) >= 1 && f[0] == "FULLRESYNC":
		return "", ErrFullResync
	case len(f) == 1 && f[0] == "CONTINUE":
		return replID, nil
	case len(f) == 2 && f[0] == "CONTINUE" && len(f[1]) == 40:
		return f[1], nil
	}
	return "", fmt.Errorf("expected +CONTINUE, got %q", line)
}

// Read reads the stream; a master silent for longer than the timeout (it
// PINGs its replicas every 10 s by default) is an error.
func (f *Follower) Read(p []byte) (int, error) {
	_ = f.s.conn.SetReadDeadline(time.Now().Add(f.s.timeout))
	return f.s.rd.Read(p)
}

// Ack tells the master the offset the follower holds (REPLCONF ACK), as a
// replica does every second: a master drops a replica that stays silent
// for its repl-timeout. Ack may be called while Read runs.
func (f *Follower) Ack(offset int64) error {
	return f.s.send("REPLCONF", "ACK", strconv.FormatInt(offset, 10))
}

// Close ends the stream.
func (f *Follower) Close() error {
	f.stop()
	return f.s.conn.Close()
}
