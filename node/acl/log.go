package acl

import "time"

// LogGroupingDelta is how recent a like denial must be to be counted in
// its entry.
const LogGroupingDelta = 60 * time.Second

// LogEntry is an ACL LOG entry.
type LogEntry struct {
	Count      int64
	Reason     Reason
	Context    string // toplevel, multi
	Object     string // the command, key or channel denied; for auth the command
	Username   string
	Created    time.Time // of the latest denial counted
	ClientInfo string    // the client's CLIENT LIST line
}

// Log is ACL LOG: the latest denials (commands, keys, channels, failed
// AUTH), as Redis 7.0 keeps them: newest first, a denial like a recent
// one (same reason, context, object and user within LogGroupingDelta)
// counts in that entry and moves it to the front.
type Log struct {
	entries []LogEntry // newest first
}

// Add records a denial (Redis's addACLLogEntry), e.Created being now; the
// log keeps the newest maxLen entries (acllog-max-len).
func (l *Log) Add(e LogEntry, maxLen int) {
	e.Count = 1
	for i, old := range l.entries {
		if old.Reason == e.Reason && old.Context == e.Context && old.Object == e.Object &&
			old.Username == e.Username && e.Created.Sub(old.Created) <= LogGroupingDelta {
			e.Count = old.Count + 1
			l.entries = append(l.entries[:i], l.entries[i+1:]...)
			break
		}
	}
	l.entries = append([]LogEntry{e}, l.entries...)
	if len(l.entries) > maxLen {
		l.entries = l.entries[:maxLen]
	}
}

// Entries are the entries, newest first. The slice is the log's own.
func (l *Log) Entries() []LogEntry { return l.entries }

// Reset empties the log (ACL LOG RESET).
func (l *Log) Reset() { l.entries = nil }
