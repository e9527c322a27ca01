package server

import "time"

// slowlogEntry is one SLOWLOG GET entry.
type slowlogEntry struct {
	id       int64
	time     int64 // unix seconds
	duration int64 // microseconds
	args     []string
	addr     string
	name     string
}

type slowlog struct {
	entries []slowlogEntry // newest first
	nextID  int64
}

func (l *slowlog) init() {}

const (
	slowlogMaxArgc   = 32
	slowlogMaxArgLen = 128
)

func (l *slowlog) add(c *Client, d time.Duration, maxLen int) {
	if maxLen <= 0 {
		return
	}
	// What the client sent, not what propagates (SPOP, not SREM): Redis
	// logs the original argv of a rewritten command, secrets redacted.
	args := c.Cmd.RedactedArgs(c.Args)
	n := len(args)
	if n > slowlogMaxArgc {
		n = slowlogMaxArgc
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if i == slowlogMaxArgc-1 && len(args) > slowlogMaxArgc {
			out = append(out, "... ("+itoa(int64(len(args)-slowlogMaxArgc+1))+" more arguments)")
			break
		}
		a := args[i]
		if len(a) > slowlogMaxArgLen {
			out = append(out, string(a[:slowlogMaxArgLen])+"... ("+itoa(int64(len(a)-slowlogMaxArgLen))+" more bytes)")
		} else {
			out = append(out, string(a))
		}
	}
	e := slowlogEntry{id: l.nextID, time: time.Now().Unix(), duration: d.Microseconds(), args: out, addr: c.addr, name: c.name}
	l.nextID++
	l.entries = append([]slowlogEntry{e}, l.entries...)
	if len(l.entries) > maxLen {
		l.entries = l.entries[:maxLen]
	}
}
