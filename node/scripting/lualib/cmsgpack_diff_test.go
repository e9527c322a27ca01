package lualib

import "testing"

// hexPrelude defines hex(s) in the cases (a local, as Redis forbids
// globals).
const hexPrelude = `local function hex(s) return (string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end)) end `

// cmsgpackDiffCases pack every type Redis produces and unpack each
// MessagePack form, compared with Redis's. Maps have at most one key
// (their order follows each Lua's table internals).
var cmsgpackDiffCases = []string{
	`return hex(cmsgpack.pack(0, 1, 127, 128, 255, 256, 65535, 65536, 2^32-1, 2^32, 2^53, 2^63, -2^63, 2^64))`,
	`return hex(cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31-1, -2^53))`,
	`return hex(cmsgpack.pack(0.5, -0.5, 1.1, 1e308, 1/0, -1/0, 3.4028234663852886e38, 1e-45, 2^-149))`,
	`return hex(cmsgpack.pack(0/0))`,
	`local z = 0 return hex(cmsgpack.pack(-z))`,
	`return hex(cmsgpack.pack('', 'a', string.rep('x', 31), string.rep('x', 32), string.rep('x', 255), string.rep('x', 256)))`,
	`return #cmsgpack.pack(string.rep('x', 65535)), #cmsgpack.pack(string.rep('x', 65536)), hex(string.sub(cmsgpack.pack(string.rep('x', 65536)), 1, 5))`,
	`return hex(cmsgpack.pack("\0\1\255binary\0"))`,
	`return hex(cmsgpack.pack(true, false, nil, cjson.null, cmsgpack.pack))`,
	`return hex(cmsgpack.pack({}, {1, 2, 3}, {a = 1}, {[1] = 1, [3] = 3}, {[0] = 1}, {[1.5] = 1}, {1, nil, 3}))`,
	`local t = {} for i = 1, 16 do t[i] = i end return hex(cmsgpack.pack(t))`,
	`local t = {} for i = 1, 65536 do t[i] = 0 end return hex(string.sub(cmsgpack.pack(t), 1, 8))`,
	`local t = {} for i = 1, 20 do t['k' .. i] = true end return #cmsgpack.pack(t), hex(string.sub(cmsgpack.pack(t), 1, 3))`,
	`local t = {} t[1] = t return hex(cmsgpack.pack(t))`,
	`local t = {} t.a = t return hex(cmsgpack.pack(t))`,
	`return hex(cmsgpack.pack({[2^31] = 1}))`,
	`return hex(cmsgpack.pack({{{{{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}}}}}))`,
	`return cmsgpack.pack()`,
	`return cmsgpack.unpack(cmsgpack.pack(1, -1, 0.5, 'x', true, false, {1, {2}}, {a = {b = 'c'}}))`,
	`return cmsgpack.unpack(cmsgpack.pack(nil, 1, nil))`,
	`return cmsgpack.unpack('\204\255\208\128\205\255\255\209\128\0\206\255\255\255\255\210\128\0\0\0')`,
	`return cmsgpack.unpack('\207\255\255\255\255\255\255\255\255\207\127\255\255\255\255\255\255\255\211\128\0\0\0\0\0\0\0')`,
	`return cmsgpack.unpack('\202\63\192\0\0\203\63\248\0\0\0\0\0\0\202\127\128\0\0')`,
	`return cmsgpack.unpack('\217\3abc\218\0\2ab\219\0\0\0\1a\165hello')`,
	`return cmsgpack.unpack('\220\0\2\1\2\221\0\0\0\1\3\222\0\1\1\2\223\0\0\0\1\161a\161b')`,
	`return cmsgpack.unpack('\147\1\192\3')`,
	`return cmsgpack.unpack('\130\1\2\1\3')`,
	`return cmsgpack.unpack('\129\192\1')`,
	`return cmsgpack.unpack('\129\203\255\248\0\0\0\0\0\0\1')`,
	`return cmsgpack.unpack('\193')`,
	`return cmsgpack.unpack('\196\1a')`,
	`return cmsgpack.unpack('\199\1\1a')`,
	`return cmsgpack.unpack('\204')`,
	`return cmsgpack.unpack('\219\255\255\255\255a')`,
	`return cmsgpack.unpack('\221\255\255\255\255\1')`,
	`return cmsgpack.unpack('\147\1\2')`,
	`return cmsgpack.unpack('')`,
	`return cmsgpack.unpack(42)`,
	`return cmsgpack.unpack({})`,
	`return cmsgpack.unpack_one('\1\2\3')`,
	`return cmsgpack.unpack_one('\1\2\3', 1)`,
	`return cmsgpack.unpack_one('\1\2\3', 2)`,
	`return cmsgpack.unpack_one('\1\2\3', 3)`,
	`return cmsgpack.unpack_one('\1\2\3', 4)`,
	`return cmsgpack.unpack_one('\1\2\3', -1)`,
	`return cmsgpack.unpack_one('\1\2\3', 'x')`,
	`return cmsgpack.unpack_one('\1\2\3', 1.7)`,
	`return cmsgpack.unpack_limit('\1\2\3', 2)`,
	`return cmsgpack.unpack_limit('\1\2\3', 2, 2)`,
	`return cmsgpack.unpack_limit('\1\2\3', 0, 0)`,
	`return cmsgpack.unpack_limit('\1\2\3', 0, 1)`,
	`return cmsgpack.unpack_limit('\1\2\3', -1)`,
	`return cmsgpack.unpack_limit('\1\2\3')`,
	`return cmsgpack.unpack_limit('\1\2\3', 5, nil)`,
	`return #{cmsgpack.unpack(string.rep('\1', 7990))}`,
	`return #{cmsgpack.unpack(string.rep('\1', 10000))}`,
	`return type(cmsgpack.unpack(string.rep('\145', 10000) .. '\1'))`,
	`return type(cmsgpack.unpack(string.rep('\129\1', 10000) .. '\1'))`,
	`return type(cmsgpack.unpack(string.rep('\145', 3000) .. '\1'))`,
	`return cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION`,
}

func TestCmsgpackDifferential(t *testing.T) {
	cases := make([]string, len(cmsgpackDiffCases))
	for i, c := range cmsgpackDiffCases {
		cases[i] = hexPrelude + c
	}
	diffCases(t, cases)
}
