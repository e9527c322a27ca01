package nodeadmin

import (
	"sort"
	"sync"
	"time"
)

// Pacer keeps a slot move from being felt by clients. On Redis's nodes
// MIGRATE runs in the event loop of the source (serialising and sending
// the keys, waiting for the target's replies) and the target's RESTOREs in
// its own, so a client of either waits for the whole command; ours
// serialize and delete in short lock holds, and there a MIGRATE's time
// says how busy the two nodes are. Either way the pacer keeps each
// MIGRATE near half of Target by resizing the batch from the durations it
// observes (halved when one took longer, grown by a quarter when one took
// less than a quarter: the time of a MIGRATE is a fixed cost plus a cost
// per key, and neither is known in advance), and lets one MIGRATE at a
// time touch a node, so no client waits behind two of them. A batch is
// never smaller than redis-cli's (--cluster-pipeline 10): on a node too
// busy for the target, the move goes on at redis-cli's pace rather than
// stall.
type Pacer struct {
	target  time.Duration
	maxKeys int

	mu    sync.Mutex
	batch int
	nodes map[string]*sync.Mutex
}

// The first batch (small enough for any target on a loaded node, large
// enough to measure) and the smallest.
const (
	pacerFirstBatch = 50
	pacerMinBatch   = 10
)

// NewPacer returns a pacer aiming at target per MIGRATE (client-visible
// latency added), with batches of at most maxKeys keys.
func NewPacer(target time.Duration, maxKeys int) *Pacer {
	maxKeys = max(1, maxKeys)
	return &Pacer{target: target, maxKeys: maxKeys, batch: min(pacerFirstBatch, maxKeys), nodes: map[string]*sync.Mutex{}}
}

// Batch is how many keys the next MIGRATE should move.
func (p *Pacer) Batch() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.batch
}

// Observe records that a MIGRATE of keys keys took d.
func (p *Pacer) Observe(keys int, d time.Duration) {
	if keys <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.batch = nextBatch(p.batch, keys, d, p.target, p.maxKeys)
}

// nextBatch is the batch after a MIGRATE of keys keys took d: halved when
// d is over half the target, grown by a quarter (at least one key) when d
// is under a quarter of it and the MIGRATE was a full batch (a short slot's
// last batch says nothing about larger ones); within [pacerMinBatch,
// maxKeys] (maxKeys alone when it is smaller).
func nextBatch(batch, keys int, d, target time.Duration, maxKeys int) int {
	switch {
	case d > target/2:
		batch /= 2
	case d < target/4 && keys >= batch:
		batch += batch/4 + 1
	}
	return min(max(batch, pacerMinBatch), maxKeys)
}

// Hold waits until no other MIGRATE of this pacer involves any of the
// nodes (any name unique to a node: the mover uses node IDs) and returns
// the function that lets them go. Nodes are taken in one order, so two
// moves never wait for each other.
func (p *Pacer) Hold(nodes ...string) (release func()) {
	sorted := append([]string(nil), nodes...)
	sort.Strings(sorted)
	var held []*sync.Mutex
	for i, n := range sorted {
		if i > 0 && n == sorted[i-1] {
			continue
		}
		m := p.node(n)
		m.Lock()
		held = append(held, m)
	}
	return func() {
		for _, m := range held {
			m.Unlock()
		}
	}
}

func (p *Pacer) node(addr string) *sync.Mutex {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, ok := p.nodes[addr]
	if !ok {
		m = &sync.Mutex{}
		p.nodes[addr] = m
	}
	return m
}
