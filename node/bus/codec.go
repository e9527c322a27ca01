package bus

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Wire format, version 1. All integers are big-endian.
//
//	offset size  field
//	0      4     signature "RCmb"
//	4      4     total length of the message in bytes, this prefix included
//	8      2     version (1)
//	10     2     type
//	12     2     port
//	14     2     cport
//	16     8     currentEpoch
//	24     8     configEpoch
//	32     8     replication offset
//	40     40    sender node ID
//	80     40    master node ID (40 NUL bytes: none)
//	120    40    shard ID (40 NUL bytes: none)
//	160    2048  slot bitmap
//	2208   2     node flags
//	2210   1     cluster state
//	2211   1     message flags
//	2212   1+n   announced IP (length byte, then the bytes)
//	       1+n   hostname (length byte, then the bytes)
//	       ...   body, by type:
//	             PING/PONG/MEET: u16 count, count gossip entries of
//	               40 node ID, 8 ping sent, 8 pong received, 2 port,
//	               2 cport, 2 flags, 1+n IP
//	             FAIL: 40 node ID
//	             UPDATE: 8 configEpoch, 40 node ID, 2048 slot bitmap
//	             PUBLISH/PUBLISHSHARD: u32 channel length, u32 message
//	               length, channel, message
//	             FAILOVER_AUTH_REQUEST/ACK, MFSTART: nothing
//	       2     extension count, then per extension: u16 type, u32 length,
//	             data. Unknown extension types are skipped, so a newer node
//	             can add extensions without breaking older peers; a change
//	             that old decoders cannot skip bumps the version.
//	             Extension 1 (open slots, PING/PONG/MEET only): u16 count,
//	             count entries of 2 slot, 1 kind (0 migrating, 1 importing),
//	             40 node ID.
//	             Extension 2 (client port, PING/PONG/MEET only, when not 0):
//	             u16 port clients are told to use.
//
// The decoder requires the total length to equal the bytes given and every
// byte to be consumed.
const (
	// Signature opens every message.
	Signature = "RCmb"
	// Version is the wire format version this package writes and reads.
	Version = 1
	// PrefixLen is the length of the signature plus the total length field:
	// what a reader needs to know how long the message is.
	PrefixLen = 8
	// MinLen is the length of the smallest valid message.
	MinLen = fixedLen + 1 + 1 + 2
	// MaxLen bounds the total length: a PUBLISH of a large payload fits, a
	// hostile length prefix cannot make a reader allocate more.
	MaxLen = 64 << 20
	// NodeIDLen is CLUSTER_NAMELEN.
	NodeIDLen = 40
	// MaxIPLen is NET_IP_STR_LEN - 1: the longest IPv6 text form.
	MaxIPLen = 45
	// MaxHostnameLen bounds announced hostnames (a DNS name).
	MaxHostnameLen = 255

	fixedLen      = 2212
	gossipFixed   = NodeIDLen + 8 + 8 + 2 + 2 + 2 + 1
	openSlotLen   = 2 + 1 + NodeIDLen
	extOpenSlots  = 1
	extClientPort = 2
	slotBitmapLen = len(SlotBitmap{})
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("bus: malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Encode appends the encoding of m to dst. It fails, appending nothing, when
// m cannot be represented or would not decode (bad node IDs, strings too
// long or with forbidden bytes, a missing body, too many entries).
func Encode(dst []byte, m *Message) ([]byte, error) {
	if err := validate(m); err != nil {
		return dst, err
	}
	start := len(dst)
	w := writer{b: dst}
	w.bytes([]byte(Signature))
	w.u32(0) // total length, patched below
	w.u16(Version)
	w.u16(uint16(m.Type))
	w.u16(m.Port)
	w.u16(m.CPort)
	w.u64(m.CurrentEpoch)
	w.u64(m.ConfigEpoch)
	w.u64(uint64(m.Offset))
	w.id(m.Sender)
	w.id(m.MasterID)
	w.id(m.ShardID)
	w.bytes(m.Slots[:])
	w.u16(uint16(m.Flags))
	w.u8(uint8(m.State))
	w.u8(uint8(m.MFlags))
	w.str8(m.IP)
	w.str8(m.Hostname)
	switch m.Type {
	case TypePing, TypePong, TypeMeet:
		w.u16(uint16(len(m.Gossip)))
		for i := range m.Gossip {
			g := &m.Gossip[i]
			w.id(g.NodeID)
			w.u64(uint64(g.PingSent))
			w.u64(uint64(g.PongReceived))
			w.u16(g.Port)
			w.u16(g.CPort)
			w.u16(uint16(g.Flags))
			w.str8(g.IP)
		}
	case TypeFail:
		w.id(m.Fail.NodeID)
	case TypeUpdate:
		w.u64(m.Update.ConfigEpoch)
		w.id(m.Update.NodeID)
		w.bytes(m.Update.Slots[:])
	case TypePublish, TypePublishShard:
		w.u32(uint32(len(m.Publish.Channel)))
		w.u32(uint32(len(m.Publish.Message)))
		w.bytes(m.Publish.Channel)
		w.bytes(m.Publish.Message)
	}
	exts := 0
	if len(m.OpenSlots) > 0 {
		exts++
	}
	if m.ClientPort != 0 {
		exts++
	}
	w.u16(uint16(exts))
	if m.ClientPort != 0 {
		w.u16(extClientPort)
		w.u32(2)
		w.u16(m.ClientPort)
	}
	if len(m.OpenSlots) > 0 {
		w.u16(extOpenSlots)
		w.u32(uint32(2 + len(m.OpenSlots)*openSlotLen))
		w.u16(uint16(len(m.OpenSlots)))
		for _, o := range m.OpenSlots {
			w.u16(o.Slot)
			if o.Importing {
				w.u8(1)
			} else {
				w.u8(0)
			}
			w.id(o.NodeID)
		}
	}
	total := len(w.b) - start
	if total > MaxLen {
		return dst, fmt.Errorf("bus: message of %d bytes exceeds %d", total, MaxLen)
	}
	binary.BigEndian.PutUint32(w.b[start+4:], uint32(total))
	return w.b, nil
}

// validate checks what Encode needs so that everything it writes decodes.
func validate(m *Message) error {
	if !knownType(m.Type) {
		return fmt.Errorf("bus: cannot encode message type %d", m.Type)
	}
	if !ValidNodeID(m.Sender) {
		return fmt.Errorf("bus: invalid sender node ID %q", m.Sender)
	}
	for _, id := range []string{m.MasterID, m.ShardID} {
		if id != "" && !ValidNodeID(id) {
			return fmt.Errorf("bus: invalid node ID %q", id)
		}
	}
	if m.Flags&^flagsKnown != 0 || m.MFlags&^msgFlagsKnown != 0 || m.State > StateFail {
		return errors.New("bus: unknown flags or state")
	}
	if !ValidIP(m.IP) || !ValidHostname(m.Hostname) {
		return fmt.Errorf("bus: invalid announced address %q / %q", m.IP, m.Hostname)
	}
	if len(m.Gossip) > 0xffff || len(m.OpenSlots) > 16384 {
		return errors.New("bus: too many entries")
	}
	for i := range m.Gossip {
		g := &m.Gossip[i]
		if !ValidNodeID(g.NodeID) || !ValidIP(g.IP) || g.Flags&^flagsKnown != 0 {
			return fmt.Errorf("bus: invalid gossip entry about %q", g.NodeID)
		}
	}
	if len(m.Gossip) > 0 && !hasGossip(m.Type) {
		return fmt.Errorf("bus: %s messages carry no gossip", m.Type)
	}
	if len(m.OpenSlots) > 0 && !hasGossip(m.Type) {
		return fmt.Errorf("bus: %s messages carry no open slots", m.Type)
	}
	if m.ClientPort != 0 && !hasGossip(m.Type) {
		return fmt.Errorf("bus: %s messages carry no client port", m.Type)
	}
	for _, o := range m.OpenSlots {
		if int(o.Slot) >= 16384 || !ValidNodeID(o.NodeID) {
			return fmt.Errorf("bus: invalid open slot %d %q", o.Slot, o.NodeID)
		}
	}
	switch m.Type {
	case TypeFail:
		if m.Fail == nil || !ValidNodeID(m.Fail.NodeID) {
			return errors.New("bus: FAIL needs the failing node ID")
		}
	case TypeUpdate:
		if m.Update == nil || !ValidNodeID(m.Update.NodeID) {
			return errors.New("bus: UPDATE needs the node ID")
		}
	case TypePublish, TypePublishShard:
		if m.Publish == nil {
			return errors.New("bus: PUBLISH needs a channel and a message")
		}
	}
	return nil
}

func knownType(t Type) bool { return t < TypeCount && t != typeModule }

func hasGossip(t Type) bool { return t == TypePing || t == TypePong || t == TypeMeet }

// Decode parses one whole message. It returns an error wrapping ErrMalformed,
// and no message, for anything but a well-formed message of exactly len(b)
// bytes. The message does not alias b.
func Decode(b []byte) (*Message, error) {
	if len(b) < MinLen {
		return nil, malformed("%d bytes is shorter than the minimum %d", len(b), MinLen)
	}
	if string(b[:4]) != Signature {
		return nil, malformed("bad signature %q", b[:4])
	}
	if n := binary.BigEndian.Uint32(b[4:]); uint64(n) != uint64(len(b)) {
		return nil, malformed("length field %d does not match %d bytes", n, len(b))
	}
	r := reader{b: b, off: 8}
	if v := r.u16(); v != Version {
		return nil, malformed("unsupported version %d", v)
	}
	m := &Message{}
	m.Type = Type(r.u16())
	if !knownType(m.Type) {
		return nil, malformed("unknown type %d", m.Type)
	}
	m.Port = r.u16()
	m.CPort = r.u16()
	m.CurrentEpoch = r.u64()
	m.ConfigEpoch = r.u64()
	m.Offset = int64(r.u64())
	m.Sender = r.id(false)
	m.MasterID = r.id(true)
	m.ShardID = r.id(true)
	copy(m.Slots[:], r.take(slotBitmapLen))
	m.Flags = NodeFlags(r.u16())
	m.State = ClusterState(r.u8())
	m.MFlags = MsgFlags(r.u8())
	if r.err == nil && (m.Flags&^flagsKnown != 0 || m.MFlags&^msgFlagsKnown != 0 || m.State > StateFail) {
		r.fail("unknown flags %#x/%#x or state %d", m.Flags, m.MFlags, m.State)
	}
	m.IP = r.ip()
	m.Hostname = r.hostname()
	switch m.Type {
	case TypePing, TypePong, TypeMeet:
		n := int(r.u16())
		if r.err == nil && n*gossipFixed > r.left() {
			r.fail("%d gossip entries do not fit in %d bytes", n, r.left())
		}
		if r.err == nil && n > 0 {
			m.Gossip = make([]Gossip, n)
			for i := range m.Gossip {
				g := &m.Gossip[i]
				g.NodeID = r.id(false)
				g.PingSent = int64(r.u64())
				g.PongReceived = int64(r.u64())
				g.Port = r.u16()
				g.CPort = r.u16()
				g.Flags = NodeFlags(r.u16())
				if r.err == nil && g.Flags&^flagsKnown != 0 {
					r.fail("unknown gossip flags %#x", g.Flags)
				}
				g.IP = r.ip()
			}
		}
	case TypeFail:
		m.Fail = &Fail{NodeID: r.id(false)}
	case TypeUpdate:
		m.Update = &Update{ConfigEpoch: r.u64(), NodeID: r.id(false)}
		copy(m.Update.Slots[:], r.take(slotBitmapLen))
	case TypePublish, TypePublishShard:
		cl, ml := r.u32(), r.u32()
		if r.err == nil && uint64(cl)+uint64(ml) > uint64(r.left()) {
			r.fail("publish lengths %d+%d exceed %d bytes", cl, ml, r.left())
		}
		m.Publish = &Publish{
			Channel: append([]byte{}, r.take(int(cl))...),
			Message: append([]byte{}, r.take(int(ml))...),
		}
	}
	r.extensions(m)
	if r.err == nil && r.left() != 0 {
		r.fail("%d trailing bytes", r.left())
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// ValidNodeID reports whether id is a node ID: 40 lowercase hex characters.
func ValidNodeID(id string) bool {
	if len(id) != NodeIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ValidIP reports whether s may be sent as an IP: at most MaxIPLen bytes of
// hex digits, '.', ':' and '%' (a zone), or "". It does not parse the
// address; it only keeps bytes out that would break CLUSTER NODES lines.
func ValidIP(s string) bool {
	if len(s) > MaxIPLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') && c != '.' && c != ':' && c != '%' {
			return false
		}
	}
	return true
}

// ValidHostname reports whether s may be announced as a hostname: at most
// MaxHostnameLen bytes of letters, digits, '-', '_' and '.', or "". (Redis
// accepts the same characters in cluster-announce-hostname.)
func ValidHostname(s string) bool {
	if len(s) > MaxHostnameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

type writer struct{ b []byte }

func (w *writer) u8(v uint8)     { w.b = append(w.b, v) }
func (w *writer) u16(v uint16)   { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *writer) u32(v uint32)   { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *writer) u64(v uint64)   { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *writer) bytes(p []byte) { w.b = append(w.b, p...) }
func (w *writer) str8(s string)  { w.u8(uint8(len(s))); w.b = append(w.b, s...) }
func (w *writer) id(id string) {
	if id == "" {
		w.b = append(w.b, make([]byte, NodeIDLen)...)
		return
	}
	w.b = append(w.b, id...)
}

// reader reads big-endian fields; after the first error every read returns
// zero values and the error sticks.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = malformed(format, args...)
	}
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.left() {
		r.fail("truncated at byte %d (need %d more)", r.off, n)
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u8() uint8 {
	if p := r.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if p := r.take(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if p := r.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if p := r.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// id reads a node ID; all NUL bytes mean "none" when optional.
func (r *reader) id(optional bool) string {
	p := r.take(NodeIDLen)
	if p == nil {
		return ""
	}
	if optional && string(p) == string(make([]byte, NodeIDLen)) {
		return ""
	}
	s := string(p)
	if !ValidNodeID(s) {
		r.fail("invalid node ID %q", p)
		return ""
	}
	return s
}

func (r *reader) str8() string {
	n := int(r.u8())
	return string(r.take(n))
}

func (r *reader) ip() string {
	s := r.str8()
	if r.err == nil && !ValidIP(s) {
		r.fail("invalid IP %q", s)
	}
	return s
}

func (r *reader) hostname() string {
	s := r.str8()
	if r.err == nil && !ValidHostname(s) {
		r.fail("invalid hostname %q", s)
	}
	return s
}

// extensions reads the extension list, keeping the known ones.
func (r *reader) extensions(m *Message) {
	n := int(r.u16())
	for range n {
		typ, size := r.u16(), r.u32()
		if r.err != nil {
			return
		}
		if uint64(size) > uint64(r.left()) {
			r.fail("extension %d of %d bytes exceeds %d", typ, size, r.left())
			return
		}
		data := r.take(int(size))
		if typ == extClientPort {
			if !hasGossip(m.Type) || m.ClientPort != 0 || len(data) != 2 {
				r.fail("unexpected client port extension of %d bytes in %s", len(data), m.Type)
				return
			}
			m.ClientPort = binary.BigEndian.Uint16(data)
			if m.ClientPort == 0 {
				r.fail("client port extension with port 0")
				return
			}
			continue
		}
		if typ != extOpenSlots {
			continue
		}
		if !hasGossip(m.Type) || m.OpenSlots != nil {
			r.fail("unexpected open slots extension in %s", m.Type)
			return
		}
		sub := reader{b: data}
		count := int(sub.u16())
		if sub.err == nil && count*openSlotLen != sub.left() {
			r.fail("open slots extension: %d entries in %d bytes", count, sub.left())
			return
		}
		if count == 0 {
			continue
		}
		m.OpenSlots = make([]OpenSlot, count)
		for i := range m.OpenSlots {
			o := &m.OpenSlots[i]
			o.Slot = sub.u16()
			kind := sub.u8()
			o.NodeID = sub.id(false)
			o.Importing = kind == 1
			if sub.err == nil && (o.Slot >= 16384 || kind > 1) {
				sub.fail("invalid open slot %d kind %d", o.Slot, kind)
			}
		}
		if sub.err != nil {
			r.err = sub.err
			return
		}
	}
}
