package server

import (
	"slices"
	"sort"
	"strings"

	"github.com/shoal-dev/shoal/node/command"
)

// Client-side caching (Redis's tracking.c): CLIENT TRACKING remembers the
// keys a client read, and a change of one of them sends the client an
// invalidation: a RESP3 push `>2 invalidate [keys]`, or, for a client
// redirecting to a RESP2 connection in Pub/Sub mode, a message on
// __redis__:invalidate. In BCAST mode a client is told about every key
// changed under its prefixes instead. Every change reaches this file
// through touchWatched (Redis's signalModifiedKey), and every flush
// through trackingFlush.

// trackingFlags are a client's CLIENT_TRACKING_* flags.
type trackingFlags uint8

const (
	trkOn trackingFlags = 1 << iota
	trkBcast
	trkOptin
	trkOptout
	trkNoloop
	trkCaching // CLIENT CACHING yes (OPTIN) / no (OPTOUT) for the next command
	trkBrokenRedir
)

// clientTracking is a client's tracking state.
type clientTracking struct {
	flags    trackingFlags
	redirect int64
	prefixes []string // BCAST prefixes, sorted
}

// trackedKey is an entry of the tracking table: who read the key.
type trackedKey struct {
	ids map[int64]struct{}
	seq uint64 // insertion order, for tracking-table-max-keys
}

// bcastPrefix is a prefix BCAST clients listen to, and the keys changed
// under it since the last broadcast, with the client that changed each
// (nil when several did), for NOLOOP.
type bcastPrefix struct {
	clients map[*Client]struct{}
	keys    map[string]*Client
}

// trackingState is the server's tracking table (keys to client IDs), the
// BCAST prefixes and the invalidations waiting for the command that
// caused them to finish.
type trackingState struct {
	clients  int                    // tracking_clients
	table    map[string]*trackedKey // nil until a client enables tracking
	items    int                    // tracking_total_items
	fifo     []trackedRef           // keys in insertion order
	seq      uint64
	prefixes map[string]*bcastPrefix
	current  *Client  // the client executing a command
	pending  []string // invalidations for current, sent after its command
	pendNull bool     // a flush invalidation for current is pending
}

type trackedRef struct {
	key string
	seq uint64
}

const trackingChannel = "__redis__:invalidate"

// active reports whether any tracking state exists (one test on the
// paths of every command).
func (t *trackingState) active() bool { return t.table != nil }

// enableTracking is Redis's enableTracking.
func (s *Server) enableTracking(c *Client, redirect int64, opts trackingFlags, prefixes []string) {
	t := &s.trk
	if c.trk.flags&trkOn == 0 {
		t.clients++
	}
	c.trk.flags = c.trk.flags&^(trkBrokenRedir|trkBcast|trkOptin|trkOptout|trkNoloop) | trkOn
	c.trk.redirect = redirect
	if t.table == nil {
		t.table = map[string]*trackedKey{}
		t.prefixes = map[string]*bcastPrefix{}
	}
	if opts&trkBcast != 0 {
		c.trk.flags |= trkBcast
		if len(prefixes) == 0 {
			prefixes = []string{""}
		}
		for _, p := range prefixes {
			s.enableBcastPrefix(c, p)
		}
	}
	c.trk.flags |= opts & (trkOptin | trkOptout | trkNoloop)
	c.makeAsync() // invalidations come from other clients' commands
}

func (s *Server) enableBcastPrefix(c *Client, p string) {
	bp := s.trk.prefixes[p]
	if bp == nil {
		bp = &bcastPrefix{clients: map[*Client]struct{}{}, keys: map[string]*Client{}}
		s.trk.prefixes[p] = bp
	}
	if _, ok := bp.clients[c]; !ok {
		bp.clients[c] = struct{}{}
		i, _ := slices.BinarySearch(c.trk.prefixes, p)
		c.trk.prefixes = slices.Insert(c.trk.prefixes, i, p)
	}
}

// disableTracking is Redis's disableTracking (CLIENT TRACKING off, and a
// client that closes).
func (s *Server) disableTracking(c *Client) {
	if c.trk.flags&trkOn == 0 {
		return
	}
	for _, p := range c.trk.prefixes {
		if bp := s.trk.prefixes[p]; bp != nil {
			delete(bp.clients, c)
			if len(bp.clients) == 0 {
				delete(s.trk.prefixes, p)
			}
		}
	}
	c.trk = clientTracking{}
	s.trk.clients--
}

// trackingRememberKeys records the keys a read-only command of a tracking
// client read (Redis's trackingRememberKeys).
func (s *Server) trackingRememberKeys(c *Client, spec *command.Spec, args [][]byte) {
	f := c.trk.flags
	if f&trkBcast != 0 || !spec.Is(command.ReadOnly) {
		return
	}
	caching := f&trkCaching != 0
	if (f&trkOptin != 0 && !caching) || (f&trkOptout != 0 && caching) {
		return
	}
	var ok bool
	c.keysBuf, ok = spec.GetKeys(args, c.keysBuf[:0])
	if !ok {
		return
	}
	t := &s.trk
	for _, pos := range c.keysBuf {
		key := string(args[pos])
		tk := t.table[key]
		if tk == nil {
			t.seq++
			tk = &trackedKey{ids: map[int64]struct{}{}, seq: t.seq}
			t.table[key] = tk
			t.fifo = append(t.fifo, trackedRef{key, t.seq})
		}
		if _, ok := tk.ids[c.ID]; !ok {
			tk.ids[c.ID] = struct{}{}
			t.items++
		}
	}
}

// trackingInvalidateKey tells the clients that read key that it changed,
// and queues it for the BCAST prefixes it falls under (Redis's
// trackingInvalidateKey).
func (s *Server) trackingInvalidateKey(key string, bcast bool) {
	t := &s.trk
	if bcast && len(t.prefixes) > 0 {
		for p, bp := range t.prefixes {
			if strings.HasPrefix(key, p) {
				if by, ok := bp.keys[key]; ok && by != t.current {
					bp.keys[key] = nil
				} else if !ok {
					bp.keys[key] = t.current
				}
			}
		}
	}
	tk := t.table[key]
	if tk == nil {
		return
	}
	ids := make([]int64, 0, len(tk.ids))
	for id := range tk.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		target := s.clients[id]
		if target == nil || target.trk.flags&trkOn == 0 || target.trk.flags&trkBcast != 0 {
			continue
		}
		if target == t.current {
			if target.trk.flags&trkNoloop != 0 {
				continue
			}
			t.pending = append(t.pending, key)
			continue
		}
		s.sendTrackingMessage(target, []string{key}, false)
	}
	t.items -= len(tk.ids)
	delete(t.table, key)
}

// trackingFlush is Redis's trackingInvalidateKeysOnFlush: every tracking
// client gets a null invalidation and the table is emptied.
func (s *Server) trackingFlush() {
	t := &s.trk
	if !t.active() {
		return
	}
	for _, c := range s.clients {
		if c.trk.flags&trkOn == 0 {
			continue
		}
		if c == t.current {
			t.pendNull = true
		} else {
			s.sendTrackingMessage(c, nil, true)
		}
	}
	t.table = map[string]*trackedKey{}
	t.items = 0
	t.fifo = nil
}

// sendTrackingMessage is Redis's sendTrackingMessage: keys (or null)
// to c, or to the client c redirects to.
func (s *Server) sendTrackingMessage(c *Client, keys []string, null bool) {
	target, redirected := c, false
	if c.trk.redirect != 0 {
		r := s.clients[c.trk.redirect]
		if r == nil {
			c.trk.flags |= trkBrokenRedir
			if c.W.Proto() > 2 {
				c.W.PushLen(2)
				c.W.BulkString("tracking-redir-broken")
				c.W.Int(c.trk.redirect)
				s.deliverTracking(c)
			}
			return
		}
		target, redirected = r, true
	}
	switch {
	case target.W.Proto() > 2:
		if !target.async && target != s.trk.current {
			return // nobody may write to its connection but itself
		}
		target.W.PushLen(2)
		target.W.BulkString("invalidate")
	case redirected && target.subscriptions()+len(target.cl.shardChannels) > 0:
		target.W.PushLen(3)
		target.W.BulkString("message")
		target.W.BulkString(trackingChannel)
	default:
		return // RESP2 without a redirection: nowhere to say it
	}
	if null {
		target.W.Null()
	} else {
		target.W.ArrayLen(len(keys))
		for _, k := range keys {
			target.W.BulkString(k)
		}
	}
	s.deliverTracking(target)
}

func (s *Server) deliverTracking(c *Client) {
	if c != s.trk.current {
		c.deliver()
	}
}

// trackingAfterCommand runs after each top-level command of c: the
// invalidations c caused for itself follow its reply, and CLIENT CACHING
// applied to this command only.
func (s *Server) trackingAfterCommand(c *Client, spec *command.Spec) {
	t := &s.trk
	if p := spec.Parent(); c.multi == nil && (p == nil || p.Name != "client") {
		c.trk.flags &^= trkCaching
	}
	t.current = nil
	if t.pendNull {
		t.pendNull = false
		s.sendTrackingMessage(c, nil, true)
	}
	for _, k := range t.pending {
		s.sendTrackingMessage(c, []string{k}, false)
	}
	t.pending = t.pending[:0]
}

// trackingEndCommand runs once the effects of a top-level command are
// done (blocked clients served): BCAST prefixes are broadcast and
// tracking-table-max-keys is enforced (Redis's beforeSleep).
func (s *Server) trackingEndCommand() {
	s.trackingBroadcast()
	s.trackingLimitKeys()
}

// trackingBroadcast is trackingBroadcastInvalidationMessages: each BCAST
// client gets the keys changed under each of its prefixes, sorted, less
// the ones it changed itself when NOLOOP, prefix by prefix in order.
func (s *Server) trackingBroadcast() {
	var names []string
	for p, bp := range s.trk.prefixes {
		if len(bp.keys) > 0 {
			names = append(names, p)
		}
	}
	if len(names) == 0 {
		return
	}
	sort.Strings(names) // Redis walks its prefix table in order
	for _, p := range names {
		bp := s.trk.prefixes[p]
		all := make([]string, 0, len(bp.keys))
		for k := range bp.keys {
			all = append(all, k)
		}
		sort.Strings(all)
		for c := range bp.clients {
			keys := all
			if c.trk.flags&trkNoloop != 0 {
				keys = nil
				for _, k := range all {
					if bp.keys[k] != c {
						keys = append(keys, k)
					}
				}
			}
			if len(keys) > 0 {
				s.sendTrackingMessage(c, keys, false)
			}
		}
		clear(bp.keys)
	}
}

// trackingLimitKeys keeps the tracking table within
// tracking-table-max-keys, invalidating the oldest keys (Redis picks
// them at random).
func (s *Server) trackingLimitKeys() {
	t := &s.trk
	limit := s.cfg.Inert.TrackingTableMaxKeys
	if limit <= 0 {
		if len(t.fifo) > 2*len(t.table)+64 {
			t.compactFIFO()
		}
		return
	}
	for int64(len(t.table)) > limit && len(t.fifo) > 0 {
		ref := t.fifo[0]
		t.fifo = t.fifo[1:]
		if tk := t.table[ref.key]; tk != nil && tk.seq == ref.seq {
			s.trackingInvalidateKey(ref.key, false)
		}
	}
	if len(t.fifo) > 2*len(t.table)+64 {
		t.compactFIFO()
	}
}

// compactFIFO drops the references to keys no longer tracked.
func (t *trackingState) compactFIFO() {
	live := t.fifo[:0]
	for _, ref := range t.fifo {
		if tk := t.table[ref.key]; tk != nil && tk.seq == ref.seq {
			live = append(live, ref)
		}
	}
	t.fifo = slices.Clip(live)
}

// flagLetters are CLIENT LIST's tracking flags: t, R (broken
// redirection), B (BCAST).
func (t *clientTracking) flagLetters() string {
	var b []byte
	if t.flags&trkOn != 0 {
		b = append(b, 't')
	}
	if t.flags&trkBrokenRedir != 0 {
		b = append(b, 'R')
	}
	if t.flags&trkBcast != 0 {
		b = append(b, 'B')
	}
	return string(b)
}

// redir is the redirection CLIENT GETREDIR and CLIENT LIST show: -1 when
// tracking is off, 0 without a redirection.
func (t *clientTracking) redir() int64 {
	if t.flags&trkOn == 0 {
		return -1
	}
	return t.redirect
}

// prefixesOverlap reports whether a is a prefix of b or b of a (Redis's
// stringCheckPrefix).
func prefixesOverlap(a, b string) bool {
	n := min(len(a), len(b))
	return a[:n] == b[:n]
}

// checkPrefixCollisions is checkPrefixCollisionsOrReply: "" when the new
// prefixes overlap neither the client's nor each other.
func checkPrefixCollisions(have, prefixes []string) string {
	for i, p := range prefixes {
		for _, h := range have {
			if prefixesOverlap(h, p) {
				return "ERR Prefix '" + p + "' overlaps with an existing prefix '" + h + "'. Prefixes for a single client must not overlap."
			}
		}
		for _, q := range prefixes[i+1:] {
			if prefixesOverlap(p, q) {
				return "ERR Prefix '" + p + "' overlaps with another provided prefix '" + q + "'. Prefixes for a single client must not overlap."
			}
		}
	}
	return ""
}

// CLIENT TRACKING (ON|OFF) [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN]
// [OPTOUT] [NOLOOP], checked in Redis 7.0's order with its error texts.
func cmdClientTracking(c *Client) {
	s := c.srv
	var redirect int64
	var opts trackingFlags
	var prefixes []string
	for j := 3; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		a := c.Args[j]
		switch {
		case command.EqFold(a, "redirect") && more > 0:
			j++
			if redirect != 0 {
				c.Error("ERR A client can only redirect to a single other client")
				return
			}
			id, ok := c.ParseInt(c.Args[j])
			if !ok {
				return
			}
			if s.clients[id] == nil {
				c.Error("ERR The client ID you want redirect to does not exist")
				return
			}
			redirect = id
		case command.EqFold(a, "bcast"):
			opts |= trkBcast
		case command.EqFold(a, "optin"):
			opts |= trkOptin
		case command.EqFold(a, "optout"):
			opts |= trkOptout
		case command.EqFold(a, "noloop"):
			opts |= trkNoloop
		case command.EqFold(a, "prefix") && more > 0:
			j++
			prefixes = append(prefixes, string(c.Args[j]))
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	switch {
	case command.EqFold(c.Args[2], "on"):
		if msg := checkTrackingOn(c.trk.flags, opts, len(prefixes)); msg != "" {
			c.Error(msg)
			return
		}
		if opts&trkBcast != 0 {
			if msg := checkPrefixCollisions(c.trk.prefixes, prefixes); msg != "" {
				c.Error(msg)
				return
			}
		}
		s.enableTracking(c, redirect, opts, prefixes)
	case command.EqFold(c.Args[2], "off"):
		s.disableTracking(c)
	default:
		c.Error(command.ErrSyntax)
		return
	}
	c.W.OK()
}

// checkTrackingOn checks the options of CLIENT TRACKING ON against each
// other and the client's current mode (flags).
func checkTrackingOn(flags, opts trackingFlags, prefixes int) string {
	switch {
	case opts&trkBcast == 0 && prefixes > 0:
		return "ERR PREFIX option requires BCAST mode to be enabled"
	case flags&trkOn != 0 && (flags&trkBcast != 0) != (opts&trkBcast != 0):
		return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
	case opts&trkBcast != 0 && opts&(trkOptin|trkOptout) != 0:
		return "ERR OPTIN and OPTOUT are not compatible with BCAST"
	case opts&trkOptin != 0 && opts&trkOptout != 0:
		return "ERR You can't specify both OPTIN mode and OPTOUT mode"
	case (opts&trkOptin != 0 && flags&trkOptout != 0) || (opts&trkOptout != 0 && flags&trkOptin != 0):
		return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
	}
	return ""
}

// CLIENT CACHING (YES|NO)
func cmdClientCaching(c *Client) {
	f := c.trk.flags
	if f&trkOn == 0 {
		c.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch {
	case command.EqFold(c.Args[2], "yes"):
		if f&trkOptin == 0 {
			c.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case command.EqFold(c.Args[2], "no"):
		if f&trkOptout == 0 {
			c.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		c.Error(command.ErrSyntax)
		return
	}
	c.trk.flags |= trkCaching
	c.W.OK()
}

// CLIENT GETREDIR
func cmdClientGetredir(c *Client) { c.W.Int(c.trk.redir()) }

// trackingInfoFlags are CLIENT TRACKINGINFO's flags after on/off, in
// Redis's order: each is shown when all of its flags are set.
var trackingInfoFlags = []struct {
	flags trackingFlags
	name  string
}{
	{trkBcast, "bcast"}, {trkOptin, "optin"}, {trkOptin | trkCaching, "caching-yes"},
	{trkOptout, "optout"}, {trkOptout | trkCaching, "caching-no"}, {trkNoloop, "noloop"},
	{trkBrokenRedir, "broken_redirect"},
}

// CLIENT TRACKINGINFO: flags, redirect, prefixes.
func cmdClientTrackinginfo(c *Client) {
	f := c.trk.flags
	flags := []string{"off"}
	if f&trkOn != 0 {
		flags[0] = "on"
	}
	for _, fl := range trackingInfoFlags {
		if f&fl.flags == fl.flags {
			flags = append(flags, fl.name)
		}
	}
	c.W.MapLen(3)
	c.W.BulkString("flags")
	c.W.SetLen(len(flags))
	for _, fl := range flags {
		c.W.BulkString(fl)
	}
	c.W.BulkString("redirect")
	c.W.Int(c.trk.redir())
	c.W.BulkString("prefixes")
	c.W.StringArray(c.trk.prefixes...)
}
