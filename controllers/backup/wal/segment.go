package wal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Checkpoint says that the stream's bytes up to Offset (a replica's
// offset: the last byte held) were received by the archiver at UnixMilli.
type Checkpoint struct {
	Offset    int64 `json:"o"`
	UnixMilli int64 `json:"t"`
}

// Time is the checkpoint's time.
func (c Checkpoint) Time() time.Time { return time.UnixMilli(c.UnixMilli) }

// Segment is a stretch of a master's replication stream: the bytes that
// take a replica from offset From to offset To, received under ReplID.
type Segment struct {
	ReplID string
	From   int64
	To     int64
	// Checkpoints in offset order, the last at To.
	Checkpoints []Checkpoint
	Data        []byte
}

// segmentMagic starts every segment object; the SHA-256 of the rest of
// the object follows on the same line.
const segmentMagic = "SHOALWAL 1 "

// segmentHeader is the JSON line after the magic.
type segmentHeader struct {
	ReplID      string       `json:"replID"`
	From        int64        `json:"from"`
	To          int64        `json:"to"`
	Checkpoints []Checkpoint `json:"checkpoints"`
}

// ErrCorrupt is a segment whose bytes are not those it was written with
// (its SHA-256 does not match), or that does not describe itself
// consistently: it is refused, never replayed.
var ErrCorrupt = errors.New("corrupt segment")

// Encode is the segment's object: "SHOALWAL 1 <sha256 of the rest>\n",
// a JSON header line, then the stream's bytes.
func (s *Segment) Encode() []byte {
	h, _ := json.Marshal(segmentHeader{ReplID: s.ReplID, From: s.From, To: s.To, Checkpoints: s.Checkpoints})
	body := make([]byte, 0, len(h)+1+len(s.Data))
	body = append(append(append(body, h...), '\n'), s.Data...)
	sum := sha256.Sum256(body)
	out := make([]byte, 0, len(segmentMagic)+64+1+len(body))
	out = append(out, segmentMagic...)
	out = append(out, hex.EncodeToString(sum[:])...)
	out = append(out, '\n')
	return append(out, body...)
}

// Decode parses and checks a segment object: its SHA-256, and that its
// header agrees with its length and checkpoints.
func Decode(b []byte) (*Segment, error) {
	first, body, ok := bytes.Cut(b, []byte{'\n'})
	sum, hasMagic := strings.CutPrefix(string(first), segmentMagic)
	if !ok || !hasMagic {
		return nil, fmt.Errorf("%w: no segment header", ErrCorrupt)
	}
	got := sha256.Sum256(body)
	if hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("%w: SHA-256 %x, the segment says %s", ErrCorrupt, got, sum)
	}
	hline, data, ok := bytes.Cut(body, []byte{'\n'})
	var h segmentHeader
	if !ok || json.Unmarshal(hline, &h) != nil {
		return nil, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	s := &Segment{ReplID: h.ReplID, From: h.From, To: h.To, Checkpoints: h.Checkpoints, Data: data}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return s, nil
}

// check: the data is To-From bytes, the checkpoints rise within (From,
// To] and the last is at To.
func (s *Segment) check() error {
	if s.From < 0 || s.To-s.From != int64(len(s.Data)) || len(s.Data) == 0 {
		return fmt.Errorf("offsets %d to %d with %d bytes", s.From, s.To, len(s.Data))
	}
	prev := Checkpoint{Offset: s.From}
	for _, c := range s.Checkpoints {
		if c.Offset <= prev.Offset || c.Offset > s.To || c.UnixMilli < prev.UnixMilli {
			return fmt.Errorf("checkpoint %+v after %+v", c, prev)
		}
		prev = c
	}
	if prev.Offset != s.To {
		return fmt.Errorf("the last checkpoint is at %d, not at the end %d", prev.Offset, s.To)
	}
	return nil
}

// Dir is the folder of a shard's segments in a backup's folder.
func Dir(folder string, shard int) string {
	return path.Join(folder, "wal", strconv.Itoa(shard)) + "/"
}

// Key is the object name of the segment from..to of shard.
func Key(folder string, shard int, from, to int64) string {
	return fmt.Sprintf("%s%020d-%020d.seg", Dir(folder, shard), from, to)
}

// parseKey reads from and to out of a segment's object name.
func parseKey(key string) (from, to int64, ok bool) {
	name, ok := strings.CutSuffix(path.Base(key), ".seg")
	a, b, ok2 := strings.Cut(name, "-")
	if !ok || !ok2 {
		return 0, 0, false
	}
	from, err1 := strconv.ParseInt(a, 10, 64)
	to, err2 := strconv.ParseInt(b, 10, 64)
	return from, to, err1 == nil && err2 == nil && from < to
}

// Span is one segment of a chain.
type Span struct {
	Key      string
	From, To int64
}

// Chain picks, out of a shard's segment keys, the segments that continue
// each other from offset base (the base backup's): the longest starting
// at base, then the longest starting where it ends, and so on. end is
// where the chain ends (base when none starts there).
func Chain(keys []string, base int64) (chain []Span, end int64) {
	byFrom := map[int64]Span{}
	for _, k := range keys {
		from, to, ok := parseKey(k)
		if !ok {
			continue
		}
		if s, seen := byFrom[from]; !seen || to > s.To {
			byFrom[from] = Span{Key: k, From: from, To: to}
		}
	}
	end = base
	for {
		s, ok := byFrom[end]
		if !ok {
			return chain, end
		}
		chain = append(chain, s)
		end = s.To
	}
}

// Cut is the offset to replay up to for a time: the last checkpoint at or
// before t, among checkpoints in offset order. ok is false when t is
// after the last checkpoint (the archive may not hold all of t's writes
// yet); before the first, the cut is base.
func Cut(cps []Checkpoint, base int64, t time.Time) (cut int64, at time.Time, ok bool) {
	ms := t.UnixMilli()
	if len(cps) == 0 || cps[len(cps)-1].UnixMilli < ms {
		return base, time.Time{}, false
	}
	i, _ := slices.BinarySearchFunc(cps, ms+1, func(c Checkpoint, v int64) int {
		if c.UnixMilli < v {
			return -1
		}
		return 1
	})
	if i == 0 {
		return base, time.Time{}, true
	}
	return cps[i-1].Offset, cps[i-1].Time(), true
}
