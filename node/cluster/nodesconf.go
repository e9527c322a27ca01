package cluster

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

// NodesConf is the content of nodes.conf: the CLUSTER NODES line of every
// node but those in handshake (with the shard ID added to the address
// field, as Redis 7.2 does), then "vars currentEpoch N lastVoteEpoch M".
func (m *Machine) NodesConf() []byte {
	var b []byte
	for _, n := range m.list {
		if n.inHandshake() {
			continue
		}
		b = m.appendNodeDescription(b, n, true)
		b = append(b, '\n')
	}
	b = append(b, "vars currentEpoch "...)
	b = strconv.AppendUint(b, m.currentEpoch, 10)
	b = append(b, " lastVoteEpoch "...)
	b = strconv.AppendUint(b, m.lastVoteEpoch, 10)
	b = append(b, '\n')
	return b
}

// NodesConfError is a corrupt nodes.conf: the line and what is wrong.
type NodesConfError struct {
	Line int
	Msg  string
}

func (e *NodesConfError) Error() string {
	if e.Line == 0 {
		return "nodes.conf: " + e.Msg
	}
	return fmt.Sprintf("nodes.conf line %d: %s", e.Line, e.Msg)
}

// Load creates the machine of a node from its nodes.conf (clusterLoadConfig):
// its identity, epochs, the node table and the slot map. A corrupt file is
// an error (*NodesConfError), never a partly loaded table. The announced
// address in cfg wins over the saved one for myself.
func Load(now time.Time, cfg Config, data []byte) (*Machine, Ready, error) {
	m, err := newMachine(cfg)
	if err != nil {
		return nil, Ready{}, err
	}
	m.begin(now)
	if err := m.parseNodesConf(data); err != nil {
		return nil, Ready{}, err
	}
	m.applyAnnounced()
	// Something that should never happen: currentEpoch smaller than the
	// greatest epoch in the file. Handle it by updating currentEpoch.
	if e := m.maxEpoch(); e > m.currentEpoch {
		m.currentEpoch = e
	}
	m.logf(LogNotice, "Node configuration loaded, I'm %s", m.myself.id)
	m.todo |= todoSaveConfig | todoFsyncConfig
	return m, m.finish(), nil
}

// lookupOrCreate returns the node with id, adding it without flags if new
// (a master referenced before its own line).
func (m *Machine) lookupOrCreate(id string) *node {
	if n := m.lookup(id); n != nil {
		return n
	}
	n := m.createNode(id, 0)
	m.addNode(n)
	return n
}

func (m *Machine) parseNodesConf(data []byte) error {
	if len(data) == 0 {
		return &NodesConfError{Msg: "empty file"}
	}
	sawVars := false
	defined := map[*node]bool{}
	order := map[*node]int{}
	for i, line := range strings.Split(string(data), "\n") {
		lineNo := i + 1
		fail := func(format string, args ...any) error {
			return &NodesConfError{Line: lineNo, Msg: fmt.Sprintf(format, args...)}
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		if argv[0] == "vars" {
			if sawVars {
				return fail("duplicate vars line")
			}
			sawVars = true
			if err := m.parseVars(argv[1:]); err != nil {
				return fail("%v", err)
			}
			continue
		}
		if len(argv) < 8 {
			return fail("%d fields, want at least 8", len(argv))
		}
		if err := m.parseNodeLine(argv, defined); err != nil {
			return fail("%v", err)
		}
		order[m.nodes[argv[0]]] = len(order)
	}
	if m.myself == nil {
		return &NodesConfError{Msg: "no node flagged myself"}
	}
	for _, n := range m.list {
		if !defined[n] {
			return &NodesConfError{Msg: fmt.Sprintf("node %s is referenced but has no line", n.id)}
		}
	}
	// Keep the order of the file (a master may be referenced before its
	// line), so that CLUSTER NODES lists nodes as they were saved.
	slices.SortStableFunc(m.list, func(a, b *node) int { return cmp.Compare(order[a], order[b]) })
	return nil
}

func (m *Machine) parseVars(kv []string) error {
	if len(kv)%2 != 0 {
		return fmt.Errorf("vars line with an odd number of fields")
	}
	for j := 0; j < len(kv); j += 2 {
		v, err := strconv.ParseUint(kv[j+1], 10, 64)
		switch kv[j] {
		case "currentEpoch":
			m.currentEpoch = v
		case "lastVoteEpoch":
			m.lastVoteEpoch = v
		default:
			continue // unknown variables are skipped, as Redis does
		}
		if err != nil {
			return fmt.Errorf("invalid %s %q", kv[j], kv[j+1])
		}
	}
	return nil
}

// parseNodeLine parses "<id> <ip:port@cport[,hostname[,aux=val...]]>
// <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state>
// <slot>...".
func (m *Machine) parseNodeLine(argv []string, defined map[*node]bool) error {
	id := argv[0]
	if !bus.ValidNodeID(id) {
		return fmt.Errorf("invalid node ID %q", id)
	}
	n := m.lookupOrCreate(id)
	if defined[n] {
		return fmt.Errorf("duplicate node %s", id)
	}
	defined[n] = true
	if err := parseAddress(n, argv[1]); err != nil {
		return err
	}
	for _, f := range strings.Split(argv[2], ",") {
		flag, ok := flagByName(f)
		if !ok {
			return fmt.Errorf("unknown flag %q", f)
		}
		if flag == bus.FlagMyself {
			if m.myself != nil {
				return fmt.Errorf("more than one node flagged myself")
			}
			m.myself = n
		}
		if flag == bus.FlagFail {
			n.failTime = m.now
		}
		n.flags |= flag
	}
	if n.flags&(bus.FlagMaster|bus.FlagSlave) == bus.FlagMaster|bus.FlagSlave {
		return fmt.Errorf("node %s is both master and slave", id)
	}
	if argv[3] != "-" {
		if !bus.ValidNodeID(argv[3]) || argv[3] == id {
			return fmt.Errorf("invalid master ID %q", argv[3])
		}
		master := m.lookupOrCreate(argv[3])
		n.master = master
		master.addReplica(n)
	}
	pingSent, err1 := strconv.ParseInt(argv[4], 10, 64)
	pongRecv, err2 := strconv.ParseInt(argv[5], 10, 64)
	epoch, err3 := strconv.ParseUint(argv[6], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || pingSent < 0 || pongRecv < 0 {
		return fmt.Errorf("invalid ping-sent, pong-recv or config-epoch %q %q %q", argv[4], argv[5], argv[6])
	}
	// Times are from another life of the process: only "some" survives.
	if pingSent != 0 {
		n.pingSent = m.now
	}
	if pongRecv != 0 {
		n.pongReceived = m.now
	}
	n.configEpoch = epoch
	if argv[7] != "connected" && argv[7] != "disconnected" {
		return fmt.Errorf("invalid link state %q", argv[7])
	}
	for _, s := range argv[8:] {
		if err := m.parseSlotField(n, s); err != nil {
			return err
		}
	}
	return nil
}

// parseAddress parses "ip:port@cport[,hostname[,key=value...]]".
func parseAddress(n *node, field string) error {
	addr, aux, _ := strings.Cut(field, ",")
	at := strings.LastIndexByte(addr, '@')
	colon := strings.LastIndexByte(addr[:max(at, 0)], ':')
	if at < 0 || colon < 0 {
		return fmt.Errorf("invalid address %q", field)
	}
	ip := addr[:colon]
	port, err1 := strconv.Atoi(addr[colon+1 : at])
	cport, err2 := strconv.Atoi(addr[at+1:])
	if err1 != nil || err2 != nil || port < 0 || port > 65535 || cport < 0 || cport > 65535 || !bus.ValidIP(ip) {
		return fmt.Errorf("invalid address %q", field)
	}
	n.ip, n.port, n.cport = ip, port, cport
	if aux == "" {
		return nil
	}
	fields := strings.Split(aux, ",")
	if !bus.ValidHostname(fields[0]) {
		return fmt.Errorf("invalid hostname %q", fields[0])
	}
	n.hostname = fields[0]
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return fmt.Errorf("invalid address field %q", f)
		}
		if k == "shard-id" {
			if !bus.ValidNodeID(v) {
				return fmt.Errorf("invalid shard-id %q", v)
			}
			n.shardID = v
		}
	}
	return nil
}

// parseSlotField parses a slot, a range "a-b", or an open slot
// "[slot->-id]" / "[slot-<-id]" (only on the myself line).
func (m *Machine) parseSlotField(n *node, s string) error {
	if strings.HasPrefix(s, "[") {
		if n != m.myself {
			return fmt.Errorf("open slot %q on a node other than myself", s)
		}
		body, closed := strings.CutSuffix(s[1:], "]")
		slotText, id, migrating := strings.Cut(body, "->-")
		ok := closed
		if !migrating {
			var importing bool
			slotText, id, importing = strings.Cut(body, "-<-")
			ok = ok && importing
		}
		slot, err := strconv.Atoi(slotText)
		if !ok || err != nil || slot < 0 || slot >= Slots || !bus.ValidNodeID(id) {
			return fmt.Errorf("invalid open slot %q", s)
		}
		other := m.lookupOrCreate(id)
		if migrating {
			m.setMigrating(slot, other)
		} else {
			m.setImporting(slot, other)
		}
		return nil
	}
	startText, endText, isRange := strings.Cut(s, "-")
	start, err := strconv.Atoi(startText)
	end := start
	if err == nil && isRange {
		end, err = strconv.Atoi(endText)
	}
	if err != nil || start < 0 || end >= Slots || start > end {
		return fmt.Errorf("invalid slot or range %q", s)
	}
	for j := start; j <= end; j++ {
		if owner := m.slots[j]; owner != nil && owner != n {
			return fmt.Errorf("slot %d assigned to both %s and %s", j, owner.id, n.id)
		}
		m.addSlot(n, j)
	}
	return nil
}

// WriteNodesConf replaces the file at path with data atomically: it writes
// a temporary file in the same directory, fsyncs it, renames it over path
// and fsyncs the directory, so that a crash leaves the old or the new file,
// never a mix. (persistence.WriteFileAtomic does the same for snapshots; it
// is not used here so that this pure package does not depend on the
// keyspace through it.)
func WriteNodesConf(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Close()
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
