package bus

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	idA = "3002e293a05fe17bb5e1f538ef0191006d55d9f7"
	idB = "0d3ad58af6cd5073cc265ec3256a3ca147e6b65a"
	idC = "c480a51a1f2fe0ef1f940de4ba465fc7521e0ce3"
)

func header(t Type) Header {
	h := Header{
		Type: t, Port: 7000, CPort: 17000, CurrentEpoch: 6, ConfigEpoch: 2, Offset: 1234,
		Sender: idA, ShardID: idC, IP: "10.0.0.1", Hostname: "shoal-0.shoal.ns.svc",
		Flags: FlagMaster, State: StateOK,
	}
	for s := 0; s < 16384; s += 1000 {
		h.Slots.Set(s)
	}
	return h
}

// sampleMessages has one message of every type, with every field set.
func sampleMessages() map[string]*Message {
	ping := &Message{Header: header(TypePing), Gossip: []Gossip{
		{NodeID: idB, PingSent: 1795241522563, PongReceived: 1795241520000, IP: "10.0.0.2", Port: 7001, CPort: 17001, Flags: FlagMaster | FlagPFail},
		{NodeID: idC, IP: "fe80::1", Port: 7002, CPort: 17002, Flags: FlagSlave | FlagNoFailover},
	}, OpenSlots: []OpenSlot{{Slot: 100, NodeID: idB}, {Slot: 6000, Importing: true, NodeID: idC}}}
	pong := &Message{Header: header(TypePong)}
	pong.MasterID, pong.Flags, pong.MFlags = idB, FlagSlave, MsgFlagPaused
	meet := &Message{Header: header(TypeMeet)}
	meet.IP, meet.Hostname = "", ""
	fail := &Message{Header: header(TypeFail), Fail: &Fail{NodeID: idB}}
	upd := &Message{Header: header(TypeUpdate), Update: &Update{ConfigEpoch: 9, NodeID: idC}}
	upd.Update.Slots.Set(0)
	upd.Update.Slots.Set(16383)
	pub := &Message{Header: header(TypePublish), Publish: &Publish{Channel: []byte("news"), Message: []byte("hello\r\n\x00")}}
	spub := &Message{Header: header(TypePublishShard), Publish: &Publish{Channel: []byte("{s}"), Message: []byte{}}}
	req := &Message{Header: header(TypeFailoverAuthRequest)}
	req.MFlags = MsgFlagForceAck
	ack := &Message{Header: header(TypeFailoverAuthAck)}
	mf := &Message{Header: header(TypeMFStart)}
	return map[string]*Message{
		"ping": ping, "pong": pong, "meet": meet, "fail": fail, "update": upd,
		"publish": pub, "publishshard": spub, "auth-req": req, "auth-ack": ack, "mfstart": mf,
	}
}

func TestRoundTripEveryType(t *testing.T) {
	for name, m := range sampleMessages() {
		b, err := Encode(nil, m)
		if err != nil {
			t.Fatalf("%s: encode: %v", name, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", name, got, m)
		}
		if got.Type.String() != name {
			t.Errorf("type name %q, want %q", got.Type.String(), name)
		}
	}
}

// TestGoldenBytes freezes the wire format: a change to it must be deliberate
// (run with -update and bump Version when old peers could not decode it).
func TestGoldenBytes(t *testing.T) {
	for name, m := range sampleMessages() {
		b, err := Encode(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "golden", name+".hex")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(hex.Dump(b)), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if got := hex.Dump(b); got != string(want) {
			t.Errorf("%s: encoding changed:\n%s\nwant:\n%s", name, got, want)
		}
	}
}

func TestHeaderLayout(t *testing.T) {
	m := sampleMessages()["auth-ack"]
	b, err := Encode(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:4]) != "RCmb" || int(b[7])|int(b[6])<<8 != len(b) || b[9] != Version || b[11] != byte(TypeFailoverAuthAck) {
		t.Fatalf("prefix % x", b[:12])
	}
	if string(b[40:80]) != idA {
		t.Fatalf("sender at 40: %q", b[40:80])
	}
	if want := fixedLen + 1 + len(m.IP) + 1 + len(m.Hostname) + 2; len(b) != want {
		t.Fatalf("len %d, want %d", len(b), want)
	}
}

func encode(t *testing.T, m *Message) []byte {
	t.Helper()
	b, err := Encode(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRejectsMalformed(t *testing.T) {
	ping := encode(t, sampleMessages()["ping"])
	pub := encode(t, sampleMessages()["publish"])
	ipOff := fixedLen // length byte of the announced IP
	mutate := func(b []byte, f func([]byte) []byte) []byte { return f(append([]byte{}, b...)) }
	setLen := func(b []byte) []byte {
		b[4], b[5], b[6], b[7] = byte(len(b)>>24), byte(len(b)>>16), byte(len(b)>>8), byte(len(b))
		return b
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "shorter"},
		{"bad signature", mutate(ping, func(b []byte) []byte { b[0] = 'X'; return b }), "signature"},
		{"length too big", mutate(ping, func(b []byte) []byte { b[7]++; return b }), "length field"},
		{"truncated", ping[:len(ping)-1], "length field"},
		{"truncated with fixed length", mutate(ping[:len(ping)-3], setLen), "exceeds"},
		{"truncated header", mutate(ping[:fixedLen+4], setLen), "truncated"},
		{"trailing bytes", mutate(append(append([]byte{}, ping...), 0), setLen), "trailing"},
		{"future version", mutate(ping, func(b []byte) []byte { b[9] = 2; return b }), "version"},
		{"unknown type", mutate(ping, func(b []byte) []byte { b[11] = 99; return b }), "unknown type"},
		{"module type", mutate(ping, func(b []byte) []byte { b[11] = byte(typeModule); return b }), "unknown type"},
		{"sender not hex", mutate(ping, func(b []byte) []byte { b[45] = 'Z'; return b }), "invalid node ID"},
		{"sender empty", mutate(ping, func(b []byte) []byte { copy(b[40:80], make([]byte, 40)); return b }), "invalid node ID"},
		{"master ID partly NUL", mutate(ping, func(b []byte) []byte { b[80] = 0; b[81] = 'a'; return b }), "invalid node ID"},
		{"unknown node flag", mutate(ping, func(b []byte) []byte { b[2208] = 0x80; return b }), "unknown flags"},
		{"newline in IP", mutate(ping, func(b []byte) []byte { b[ipOff+2] = '\n'; return b }), "invalid IP"},
		{"IP length past end", mutate(ping, func(b []byte) []byte { b[ipOff] = 255; return b }), ""},
		{"space in hostname", mutate(ping, func(b []byte) []byte { b[ipOff+1+8+3] = ' '; return b }), "invalid hostname"},
		{"huge gossip count", mutate(ping, func(b []byte) []byte {
			off := ipOff + 1 + 8 + 1 + 20
			b[off], b[off+1] = 0xff, 0xff
			return b
		}), "gossip entries"},
		{"publish lengths overflow", mutate(pub, func(b []byte) []byte {
			off := ipOff + 1 + 8 + 1 + 20
			b[off], b[off+1], b[off+2], b[off+3] = 0xff, 0xff, 0xff, 0xff
			return b
		}), "publish lengths"},
	} {
		m, err := Decode(tc.b)
		if err == nil || m != nil {
			t.Errorf("%s: decoded %v, want an error", tc.name, m)
			continue
		}
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q, want ErrMalformed mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestUnknownExtensionIsSkipped(t *testing.T) {
	m := sampleMessages()["pong"]
	b := encode(t, m)
	// Replace the empty extension list with one unknown extension.
	b = b[:len(b)-2]
	b = append(b, 0, 1, 0, 77, 0, 0, 0, 3, 'x', 'y', 'z')
	b[4], b[5], b[6], b[7] = 0, byte(len(b)>>16), byte(len(b)>>8), byte(len(b))
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("got %+v", got)
	}
}

func TestEncodeRefusesWhatWouldNotDecode(t *testing.T) {
	for name, f := range map[string]func(m *Message){
		"bad sender":       func(m *Message) { m.Sender = "x" },
		"uppercase sender": func(m *Message) { m.Sender = strings.ToUpper(idA) },
		"newline hostname": func(m *Message) { m.Hostname = "a\nb" },
		"comma hostname":   func(m *Message) { m.Hostname = "a,b" },
		"long IP":          func(m *Message) { m.IP = strings.Repeat("1", 46) },
		"fail without body": func(m *Message) {
			m.Type = TypeFail
			m.Gossip = nil
			m.OpenSlots = nil
		},
		"gossip in fail": func(m *Message) { m.Type, m.Fail = TypeFail, &Fail{NodeID: idB} },
		"module type":    func(m *Message) { m.Type = typeModule },
		"bad gossip id":  func(m *Message) { m.Gossip[0].NodeID = "zz" },
		"bad open slot":  func(m *Message) { m.OpenSlots[0].Slot = 16384 },
	} {
		m := sampleMessages()["ping"]
		f(m)
		if b, err := Encode([]byte("keep"), m); err == nil || string(b) != "keep" {
			t.Errorf("%s: Encode = %q, %v; want an error and dst unchanged", name, b, err)
		}
	}
}

func TestReadFrame(t *testing.T) {
	a, b := encode(t, sampleMessages()["ping"]), encode(t, sampleMessages()["fail"])
	r := bytes.NewReader(append(append([]byte{}, a...), b...))
	var buf []byte
	for i, want := range [][]byte{a, b} {
		got, err := ReadFrame(r, buf, 0)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: %v", i, err)
		}
		buf = got
	}
	if _, err := ReadFrame(r, buf, 0); err != io.EOF {
		t.Fatalf("at end: %v, want EOF", err)
	}
	if _, err := ReadFrame(bytes.NewReader(a[:100]), nil, 0); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader(a), nil, len(a)-1); !errors.Is(err, ErrMalformed) {
		t.Fatalf("over max: %v", err)
	}
	huge := []byte("RCmb\xff\xff\xff\xff")
	if _, err := ReadFrame(bytes.NewReader(huge), nil, 0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("hostile length: %v", err)
	}
	if _, err := ReadFrame(strings.NewReader("GET / HTTP/1.1\r\n"), nil, 0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("not a bus peer: %v", err)
	}
}

func TestSlotBitmap(t *testing.T) {
	var b SlotBitmap
	for _, s := range []int{0, 7, 8, 16383} {
		b.Set(s)
	}
	if !b.Has(0) || !b.Has(7) || !b.Has(8) || !b.Has(16383) || b.Has(1) || b.Count() != 4 {
		t.Fatalf("bitmap %v", b.Count())
	}
	if b[0] != 0x81 || b[1] != 0x01 || b[2047] != 0x80 {
		t.Fatalf("bit order differs from Redis: % x % x", b[:2], b[2047])
	}
	b.Clear(7)
	if b.Has(7) || b.Count() != 3 {
		t.Fatal("clear")
	}
}

// TestClientPortExtension: the client port travels in extension 2 of
// PING/PONG/MEET, next to the open slots, and a message without one encodes
// as before (the golden files above do not change).
func TestClientPortExtension(t *testing.T) {
	m := sampleMessages()["ping"]
	m.ClientPort = 31001
	b := encode(t, m)
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip\n got %+v\nwant %+v", got, m)
	}
	tail := []byte{0, 2, 0, 0, 0, 2, 0x79, 0x19} // type 2, length 2, 31001
	if !bytes.Contains(b, tail) {
		t.Fatalf("no client port extension in % x", b[len(b)-64:])
	}

	fail := sampleMessages()["fail"]
	fail.ClientPort = 31001
	if _, err := Encode(nil, fail); err == nil {
		t.Error("Encode of a FAIL with a client port: want an error")
	}
	// Port 0 and a second client port extension are malformed.
	pong := encode(t, sampleMessages()["pong"])
	for name, ext := range map[string][]byte{
		"port 0": {0, 1, 0, 2, 0, 0, 0, 2, 0, 0},
		"twice":  {0, 2, 0, 2, 0, 0, 0, 2, 0, 1, 0, 2, 0, 0, 0, 2, 0, 1},
		"short":  {0, 1, 0, 2, 0, 0, 0, 1, 7},
	} {
		b := append(slices.Clone(pong[:len(pong)-2]), ext...)
		binary.BigEndian.PutUint32(b[4:], uint32(len(b)))
		if _, err := Decode(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Decode = %v, want ErrMalformed", name, err)
		}
	}
}
