package cluster

// Slots is CLUSTER_SLOTS: the number of hash slots of a Redis Cluster.
const Slots = 16384

// crc16tab is the CRC16 (XMODEM: polynomial 0x1021, initial value 0, no
// reflection, no final xor) lookup table, computed at compile time by
// crc16Table so it needs no init().
var crc16tab = crc16Table()

func crc16Table() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}

// CRC16 is the CRC16-CCITT (XMODEM) checksum the Redis Cluster specification
// uses for key hashing: CRC16("123456789") == 0x31C3.
func CRC16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crc16tab[byte(crc>>8)^c]
	}
	return crc
}

// KeyHashSlot maps a key to its hash slot as the specification says: when
// the key contains a '{' followed later by a '}' with at least one byte in
// between, only the bytes between the first '{' and the first '}' after it
// (the hash tag) are hashed; otherwise the whole key is.
func KeyHashSlot(key []byte) int {
	for s := 0; s < len(key); s++ {
		if key[s] != '{' {
			continue
		}
		for e := s + 1; e < len(key); e++ {
			if key[e] == '}' {
				if e == s+1 { // "{}": an empty tag hashes the whole key
					break
				}
				return int(CRC16(key[s+1:e]) & (Slots - 1))
			}
		}
		break // only the first '{' counts
	}
	return int(CRC16(key) & (Slots - 1))
}
