package lualib

import "testing"

// structDiffCases: formats with endianness, sizes and alignment, compared
// with Redis's.
var structDiffCases = []string{
	`return hex(struct.pack('>i', 1)), hex(struct.pack('<i', 1)), hex(struct.pack('i', -2))`,
	`return hex(struct.pack('bBhHlLT', -1, 255, -2, 65535, -3, 2^53, 7))`,
	`return hex(struct.pack('>bBhHlLT', -1, 255, -2, 65535, -3, 2^53, 7))`,
	`return hex(struct.pack('i1i2i3i5i8i16', 1, -1, 2^23, -2^39, 2^62, -1))`,
	`return hex(struct.pack('>i3I16', -5, 2^60))`,
	`return hex(struct.pack('i33', 1))`,
	`return hex(struct.pack('i99999999999', 1))`,
	`return hex(struct.pack('B', 256)), hex(struct.pack('b', 200)), hex(struct.pack('h', 2^17+3))`,
	`return hex(struct.pack('L', 2^64)), hex(struct.pack('L', 2^63)), hex(struct.pack('l', -2^63)), hex(struct.pack('l', -2^64))`,
	`return hex(struct.pack('i', 1.9)), hex(struct.pack('i', -1.9)), hex(struct.pack('I', 2^32 + 1))`,
	`return hex(struct.pack('<f>f<d>d', 1.5, -0.1, 1e308, 1/3))`,
	`return hex(struct.pack('f', 1e39)), hex(struct.pack('d', 1/0))`,
	`return hex(struct.pack('!4 b i b d', 1, 2, 3, 4))`,
	`return hex(struct.pack('!b d', 1, 2)), hex(struct.pack('!2 b d', 1, 2)), hex(struct.pack('!8bxh', 1, 2))`,
	`return hex(struct.pack('!3 b i', 1, 2))`,
	`return hex(struct.pack('c5', 'hello world')), hex(struct.pack('c0', 'abc')), hex(struct.pack('s', 'a\0b'))`,
	`return hex(struct.pack('c5', 'hi'))`,
	`return hex(struct.pack('xx b x', 7))`,
	`return struct.pack('q', 1)`,
	`return struct.pack('i', 'x')`,
	`return struct.pack('i')`,
	`return struct.pack('c', {})`,
	`return hex(struct.pack('i', '12'))`,
	`return hex(struct.pack('b\0b', 1, 2))`,
	`return struct.unpack('>i', '\0\0\1\0')`,
	`return struct.unpack('<i', '\0\0\1\0')`,
	`return struct.unpack('bBhHlLT', struct.pack('bBhHlLT', -1, 255, -2, 65535, -3, 2^53, 7))`,
	`return struct.unpack('i3I3>i3', '\255\255\255\255\255\255\128\0\0')`,
	`return struct.unpack('i16', string.rep('\255', 16))`,
	`return struct.unpack('I8', string.rep('\255', 8))`,
	`return struct.unpack('i8', '\0\0\0\0\0\0\0\128')`,
	`return struct.unpack('<f>d', struct.pack('<f>d', 1.5, 0.1))`,
	`return struct.unpack('!4 b i', struct.pack('!4 b i', 1, 2))`,
	`return struct.unpack('b c0', '\3abcd')`,
	`return struct.unpack('c0', 'abc')`,
	`return struct.unpack('s c0', 'x\0abc')`,
	`return struct.unpack('b c0', '\9abc')`,
	`return struct.unpack('s', 'abc\0def')`,
	`return struct.unpack('s', 'abc')`,
	`return struct.unpack('c2 c2', 'abcd')`,
	`return struct.unpack('i', 'abc')`,
	`return struct.unpack('b', 'abc', 3)`,
	`return struct.unpack('b', 'abc', 4)`,
	`return struct.unpack('b', 'abc', 0)`,
	`return struct.unpack('b', 'abc', -1)`,
	`return struct.unpack('b', 'abc', 2.9)`,
	`return struct.unpack('x b', 'abc')`,
	`return struct.unpack('z', 'abc')`,
	`return struct.unpack('!5 b', 'abc')`,
	`return struct.unpack('i', 'abcd', 'x')`,
	`return #{struct.unpack(string.rep('b', 9000), string.rep('a', 9000))}`,
	`return #{struct.unpack(string.rep('b', 7000), string.rep('a', 7000))}`,
	`return struct.size('bhilfdT'), struct.size('!bhilfd'), struct.size('!4 b d'), struct.size('i3 c7 x')`,
	`return struct.size('s')`,
	`return struct.size('c0')`,
	`return struct.size('z')`,
	`return struct.size('?')`,
	`return struct.size('i64')`,
	`return struct.size('!6')`,
	`return struct.size('')`,
	`return struct.size({})`,
}

func TestStructDifferential(t *testing.T) {
	cases := make([]string, len(structDiffCases))
	for i, c := range structDiffCases {
		cases[i] = hexPrelude + c
	}
	diffCases(t, cases)
}
