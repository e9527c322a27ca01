package stream

import (
	"sort"
)

// InvalidEntriesRead is a group's entries-read when it is unknown
// (Redis's SCG_INVALID_ENTRIES_READ).
const InvalidEntriesRead int64 = -1

// Group is a consumer group.
type Group struct {
	Name        string
	LastID      ID
	EntriesRead int64
	pel         []*Pending // ordered by ID
	consumers   []*Consumer
}

// Pending is an entry of a group's PEL: delivered, not yet acknowledged.
type Pending struct {
	ID            ID
	DeliveryTime  int64 // unix ms of the last delivery
	DeliveryCount int64
	Consumer      *Consumer
}

// Consumer is a consumer of a group.
type Consumer struct {
	Name     string
	SeenTime int64
	pel      []*Pending // ordered by ID
}

// Groups are the stream's groups, ordered by name.
func (s *Stream) Groups() []*Group { return s.groups }

// Group finds a group by name.
func (s *Stream) Group(name []byte) *Group {
	i, ok := s.groupIndex(name)
	if !ok {
		return nil
	}
	return s.groups[i]
}

func (s *Stream) groupIndex(name []byte) (int, bool) {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].Name >= string(name) })
	return i, i < len(s.groups) && s.groups[i].Name == string(name)
}

// AddGroup creates a group; nil when it exists.
func (s *Stream) AddGroup(name []byte, lastID ID, entriesRead int64) *Group {
	i, ok := s.groupIndex(name)
	if ok {
		return nil
	}
	g := &Group{Name: string(name), LastID: lastID, EntriesRead: entriesRead}
	s.groups = append(s.groups, nil)
	copy(s.groups[i+1:], s.groups[i:])
	s.groups[i] = g
	return g
}

// DeleteGroup removes a group; false when absent.
func (s *Stream) DeleteGroup(name []byte) bool {
	i, ok := s.groupIndex(name)
	if !ok {
		return false
	}
	s.groups = append(s.groups[:i], s.groups[i+1:]...)
	return true
}

// PEL is the group's pending entries, ordered by ID (do not modify).
func (g *Group) PEL() []*Pending { return g.pel }

// Consumers are the group's consumers, ordered by name (do not modify).
func (g *Group) Consumers() []*Consumer { return g.consumers }

// PEL is the consumer's pending entries, ordered by ID (do not modify).
func (c *Consumer) PEL() []*Pending { return c.pel }

func (g *Group) consumerIndex(name []byte) (int, bool) {
	i := sort.Search(len(g.consumers), func(i int) bool { return g.consumers[i].Name >= string(name) })
	return i, i < len(g.consumers) && g.consumers[i].Name == string(name)
}

// Consumer finds a consumer.
func (g *Group) Consumer(name []byte) *Consumer {
	i, ok := g.consumerIndex(name)
	if !ok {
		return nil
	}
	return g.consumers[i]
}

// AddConsumer creates a consumer seen at now; nil when it exists.
func (g *Group) AddConsumer(name []byte, now int64) *Consumer {
	i, ok := g.consumerIndex(name)
	if ok {
		return nil
	}
	c := &Consumer{Name: string(name), SeenTime: now}
	g.consumers = append(g.consumers, nil)
	copy(g.consumers[i+1:], g.consumers[i:])
	g.consumers[i] = c
	return c
}

// DeleteConsumer removes a consumer and its pending entries from the
// group's PEL; it returns how many pending entries it had, or -1 when
// there is no such consumer.
func (g *Group) DeleteConsumer(name []byte) int {
	i, ok := g.consumerIndex(name)
	if !ok {
		return -1
	}
	c := g.consumers[i]
	for _, p := range c.pel {
		g.pel = removePending(g.pel, p.ID)
	}
	g.consumers = append(g.consumers[:i], g.consumers[i+1:]...)
	return len(c.pel)
}

func searchPending(pel []*Pending, id ID) (int, bool) {
	i := sort.Search(len(pel), func(i int) bool { return !pel[i].ID.Less(id) })
	return i, i < len(pel) && pel[i].ID == id
}

func insertPending(pel []*Pending, p *Pending) []*Pending {
	if n := len(pel); n == 0 || pel[n-1].ID.Less(p.ID) {
		return append(pel, p)
	}
	i, _ := searchPending(pel, p.ID)
	pel = append(pel, nil)
	copy(pel[i+1:], pel[i:])
	pel[i] = p
	return pel
}

func removePending(pel []*Pending, id ID) []*Pending {
	i, ok := searchPending(pel, id)
	if !ok {
		return pel
	}
	copy(pel[i:], pel[i+1:])
	pel[len(pel)-1] = nil
	return pel[:len(pel)-1]
}

// Pending finds an entry of the group's PEL.
func (g *Group) Pending(id ID) *Pending {
	if n := len(g.pel); n == 0 || g.pel[n-1].ID.Less(id) {
		return nil // the common case: a new entry, after every pending one
	}
	i, ok := searchPending(g.pel, id)
	if !ok {
		return nil
	}
	return g.pel[i]
}

// AddPending adds id to the PEL of the group and of c (id not pending).
func (g *Group) AddPending(id ID, c *Consumer, deliveryTime, deliveryCount int64) *Pending {
	p := &Pending{ID: id, DeliveryTime: deliveryTime, DeliveryCount: deliveryCount, Consumer: c}
	g.pel = insertPending(g.pel, p)
	c.pel = insertPending(c.pel, p)
	return p
}

// Ack removes id from the PEL; false when it was not pending.
func (g *Group) Ack(id ID) bool {
	i, ok := searchPending(g.pel, id)
	if !ok {
		return false
	}
	p := g.pel[i]
	copy(g.pel[i:], g.pel[i+1:])
	g.pel[len(g.pel)-1] = nil
	g.pel = g.pel[:len(g.pel)-1]
	p.Consumer.pel = removePending(p.Consumer.pel, id)
	return true
}

// Transfer makes p owned by c.
func (g *Group) Transfer(p *Pending, c *Consumer) {
	if p.Consumer == c {
		return
	}
	p.Consumer.pel = removePending(p.Consumer.pel, p.ID)
	p.Consumer = c
	c.pel = insertPending(c.pel, p)
}

// PendingRange calls fn for the pending entries with start <= ID <= end
// (of consumer c when not nil), ascending.
func (g *Group) PendingRange(c *Consumer, start, end ID, fn func(p *Pending) bool) {
	pel := g.pel
	if c != nil {
		pel = c.pel
	}
	i, _ := searchPending(pel, start)
	for ; i < len(pel); i++ {
		if end.Less(pel[i].ID) || !fn(pel[i]) {
			return
		}
	}
}

func (g *Group) clone() *Group {
	n := &Group{Name: g.Name, LastID: g.LastID, EntriesRead: g.EntriesRead}
	byName := map[*Consumer]*Consumer{}
	for _, c := range g.consumers {
		nc := &Consumer{Name: c.Name, SeenTime: c.SeenTime}
		byName[c] = nc
		n.consumers = append(n.consumers, nc)
	}
	for _, p := range g.pel {
		n.AddPending(p.ID, byName[p.Consumer], p.DeliveryTime, p.DeliveryCount)
	}
	return n
}

// RangeHasTombstones is Redis's streamRangeHasTombstones: whether an
// entry between start and end (nil: the stream's ends) may have been
// deleted.
func (s *Stream) RangeHasTombstones(start ID, end *ID) bool {
	if s.length == 0 || s.maxDeletedID.IsZero() {
		return false
	}
	if s.maxDeletedID.Less(s.firstID) {
		return false
	}
	e := MaxID
	if end != nil {
		e = *end
	}
	return !s.maxDeletedID.Less(start) && !e.Less(s.maxDeletedID)
}

// EstimateDistance is Redis's streamEstimateDistanceFromFirstEverEntry:
// the entries-read counter of id, or InvalidEntriesRead.
func (s *Stream) EstimateDistance(id ID) int64 {
	if s.entriesAdded == 0 {
		return 0
	}
	if s.length == 0 && id.Compare(s.lastID) < 1 {
		return s.entriesAdded
	}
	cmpLast := id.Compare(s.lastID)
	if cmpLast == 0 {
		return s.entriesAdded
	} else if cmpLast > 0 {
		return InvalidEntriesRead
	}
	cmpIDFirst := id.Compare(s.firstID)
	if s.maxDeletedID.IsZero() || s.maxDeletedID.Less(s.firstID) {
		if cmpIDFirst < 0 {
			return s.entriesAdded - s.length
		} else if cmpIDFirst == 0 {
			return s.entriesAdded - s.length + 1
		}
	}
	return InvalidEntriesRead
}

// Lag is a group's lag as XINFO reports it; ok false: unknown (null).
func (s *Stream) Lag(g *Group) (lag int64, ok bool) {
	if s.entriesAdded == 0 {
		return 0, true
	}
	if g.EntriesRead != InvalidEntriesRead && !s.RangeHasTombstones(g.LastID, nil) {
		return s.entriesAdded - g.EntriesRead, true
	}
	er := s.EstimateDistance(g.LastID)
	if er == InvalidEntriesRead {
		return 0, false
	}
	return s.entriesAdded - er, true
}

// Delivered advances g past id as a read by the group does (Redis's
// streamReplyWithRange); it reports whether LastID moved.
func (s *Stream) Delivered(g *Group, id ID) bool {
	if !g.LastID.Less(id) {
		return false
	}
	if g.EntriesRead != InvalidEntriesRead && !s.RangeHasTombstones(id, nil) {
		g.EntriesRead++
	} else if s.entriesAdded != 0 {
		g.EntriesRead = s.EstimateDistance(id)
	}
	g.LastID = id
	return true
}
