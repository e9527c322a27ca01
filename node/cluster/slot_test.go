package cluster

import "testing"

func TestCRC16XModemCheckValue(t *testing.T) {
	// The standard check value of CRC-16/XMODEM, also quoted by the Redis
	// Cluster specification.
	if got := CRC16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("CRC16(123456789) = %#04x, want 0x31c3", got)
	}
	if got := CRC16(nil); got != 0 {
		t.Fatalf("CRC16(nil) = %#04x, want 0", got)
	}
}

// TestKeyHashSlotMatchesRedis holds slots that Redis 7.0.15 returned for
// CLUSTER KEYSLOT, including every hash tag corner case of the specification.
func TestKeyHashSlotMatchesRedis(t *testing.T) {
	for _, tc := range []struct {
		key  string
		slot int
	}{
		{"foo", 12182},
		{"bar", 5061},
		{"hello", 866},
		{"123456789", 12739},
		{"", 0},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"foo{}{bar}", 8363},    // empty tag: the whole key is hashed
		{"foo{{bar}}zap", 4015}, // tag is "{bar"
		{"foo{bar}{zap}", 5061}, // only the first tag counts: "bar"
		{"{}", 15257},           // empty tag
		{"{", 4092},             // no closing brace
		{"}", 12090},            // no opening brace
		{"a{b", 13340},          // unterminated tag
		{"{a}", 15495},          // tag "a"
		{"x{}y{z}", 15453},      // first '{' has an empty tag: whole key
		{"{{}}", 4092},          // tag is "{"
		{"abc}{def}", 16148},    // '}' before '{' is ignored: tag "def"
	} {
		if got := KeyHashSlot([]byte(tc.key)); got != tc.slot {
			t.Errorf("KeyHashSlot(%q) = %d, want %d", tc.key, got, tc.slot)
		}
	}
}

func TestKeyHashSlotSameTagSameSlot(t *testing.T) {
	a := KeyHashSlot([]byte("{user1000}.following"))
	b := KeyHashSlot([]byte("{user1000}.followers"))
	if a != b || a != KeyHashSlot([]byte("user1000")) {
		t.Fatalf("hash tags: %d %d %d", a, b, KeyHashSlot([]byte("user1000")))
	}
}

func BenchmarkKeyHashSlot(b *testing.B) {
	key := []byte("{user1000}.following:some-longer-suffix")
	for b.Loop() {
		KeyHashSlot(key)
	}
}
