package clusteradmin

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// ParseClusterNodes parses a CLUSTER NODES reply. Every line has the 8 fields
// of the Redis Cluster specification (id, ip:port@cport[,hostname], flags,
// master, ping-sent, pong-recv, config-epoch, link-state) followed by slots:
// "n", "a-b", and open slots "[n->-id]" (migrating) or "[n-<-id]"
// (importing).
func ParseClusterNodes(reply string) ([]Node, error) {
	var nodes []Node
	sc := bufio.NewScanner(strings.NewReader(reply))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		n, err := parseNodeLine(line)
		if err != nil {
			return nil, fmt.Errorf("CLUSTER NODES line %q: %w", line, err)
		}
		nodes = append(nodes, n)
	}
	return nodes, sc.Err()
}

func parseNodeLine(line string) (Node, error) {
	f := strings.Fields(line)
	if len(f) < 8 {
		return Node{}, fmt.Errorf("want at least 8 fields, got %d", len(f))
	}
	n := Node{ID: f[0], Flags: strings.Split(f[2], ","), LinkState: f[7]}
	if err := parseNodeAddr(f[1], &n); err != nil {
		return n, err
	}
	if f[3] != "-" {
		n.MasterID = f[3]
	}
	var err error
	if n.PingSent, err = strconv.ParseInt(f[4], 10, 64); err != nil {
		return n, fmt.Errorf("ping-sent: %w", err)
	}
	if n.PongRecv, err = strconv.ParseInt(f[5], 10, 64); err != nil {
		return n, fmt.Errorf("pong-recv: %w", err)
	}
	if n.ConfigEpoch, err = strconv.ParseUint(f[6], 10, 64); err != nil {
		return n, fmt.Errorf("config-epoch: %w", err)
	}
	for _, s := range f[8:] {
		if err := parseSlotField(s, &n); err != nil {
			return n, err
		}
	}
	return n, nil
}

// parseNodeAddr parses "ip:port@cport[,hostname]". The ip may be empty
// (":0@0" for a node that does not know its address yet) or an IPv6 address
// with colons: the port follows the last colon.
func parseNodeAddr(s string, n *Node) error {
	addr, hostname, _ := strings.Cut(s, ",")
	n.Hostname = hostname
	hostPort, bus, ok := strings.Cut(addr, "@")
	if !ok {
		return fmt.Errorf("address %q: no @cport", s)
	}
	i := strings.LastIndexByte(hostPort, ':')
	if i < 0 {
		return fmt.Errorf("address %q: no port", s)
	}
	n.IP = hostPort[:i]
	var err error
	if n.Port, err = strconv.Atoi(hostPort[i+1:]); err != nil {
		return fmt.Errorf("address %q: port: %w", s, err)
	}
	if n.BusPort, err = strconv.Atoi(bus); err != nil {
		return fmt.Errorf("address %q: cport: %w", s, err)
	}
	return nil
}

func parseSlotField(s string, n *Node) error {
	if strings.HasPrefix(s, "[") {
		body := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		if slot, id, ok := strings.Cut(body, "->-"); ok {
			return addOpenSlot(&n.MigratingSlotsTo, slot, id)
		}
		if slot, id, ok := strings.Cut(body, "-<-"); ok {
			return addOpenSlot(&n.ImportingSlotsFrom, slot, id)
		}
		return fmt.Errorf("open slot %q", s)
	}
	first, last, isRange := strings.Cut(s, "-")
	a, err := parseSlot(first)
	if err != nil {
		return err
	}
	b := a
	if isRange {
		if b, err = parseSlot(last); err != nil {
			return err
		}
	}
	if b < a {
		return fmt.Errorf("slot range %q", s)
	}
	n.Slots = append(n.Slots, SlotRange{First: a, Last: b})
	return nil
}

func addOpenSlot(m *map[int]string, slot, id string) error {
	n, err := parseSlot(slot)
	if err != nil {
		return err
	}
	if *m == nil {
		*m = map[int]string{}
	}
	(*m)[n] = id
	return nil
}

func parseSlot(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n >= SlotCount {
		return 0, fmt.Errorf("slot %q out of range", s)
	}
	return n, nil
}

// infoFields parses "key:value" lines (CLUSTER INFO, INFO sections); lines
// starting with '#' and blank lines are skipped.
func infoFields(reply string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(reply, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// fieldReader reads typed fields out of infoFields, remembering the first
// error.
type fieldReader struct {
	fields map[string]string
	what   string
	err    error
}

func (r *fieldReader) int(key string) int64 {
	v, ok := r.fields[key]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("%s %s: %q is not a number", r.what, key, v)
	}
	return n
}

// ParseClusterInfo parses a CLUSTER INFO reply. Missing fields are zero;
// fields that are present must be well formed.
func ParseClusterInfo(reply string) (ClusterInfo, error) {
	r := &fieldReader{fields: infoFields(reply), what: "CLUSTER INFO"}
	state, ok := r.fields["cluster_state"]
	if !ok {
		return ClusterInfo{}, fmt.Errorf("CLUSTER INFO: no cluster_state field")
	}
	ci := ClusterInfo{
		State:         state,
		SlotsAssigned: int(r.int("cluster_slots_assigned")),
		SlotsOK:       int(r.int("cluster_slots_ok")),
		SlotsPFail:    int(r.int("cluster_slots_pfail")),
		SlotsFail:     int(r.int("cluster_slots_fail")),
		KnownNodes:    int(r.int("cluster_known_nodes")),
		Size:          int(r.int("cluster_size")),
		CurrentEpoch:  uint64(r.int("cluster_current_epoch")),
		MyEpoch:       uint64(r.int("cluster_my_epoch")),
	}
	return ci, r.err
}

// ParseInfoReplication parses the replication section of INFO.
func ParseInfoReplication(reply string) (Replication, error) {
	r := &fieldReader{fields: infoFields(reply), what: "INFO replication"}
	role, ok := r.fields["role"]
	if !ok {
		return Replication{}, fmt.Errorf("INFO replication: no role field")
	}
	rep := Replication{
		Role:             role,
		MasterLinkStatus: r.fields["master_link_status"],
		Offset:           r.int("master_repl_offset"),
	}
	return rep, r.err
}
