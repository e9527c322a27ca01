package lualib

import "testing"

// run runs a chunk on a fresh state with the libraries and returns its
// first result as a string (tostring), or the error text.
func run(t testing.TB, src string) string {
	t.Helper()
	L := newState()
	defer L.Close()
	if err := L.DoString(src); err != nil {
		return "ERR " + err.Error()
	}
	return L.ToStringMeta(L.Get(-1)).String()
}

func TestBit(t *testing.T) {
	cases := map[string]string{
		"return bit.tobit(0xffffffff)":           "-1",
		"return bit.tobit(2^32+5)":               "5",
		"return bit.tobit(2^31)":                 "-2147483648",
		"return bit.tobit(1.5)":                  "2",
		"return bit.tobit(2.5)":                  "2",
		"return bit.tobit(-1.5)":                 "-2",
		"return bit.tohex(-1)":                   "ffffffff",
		"return bit.tohex(255, -4)":              "00FF",
		"return bit.tohex(255, 2)":               "ff",
		"return bit.tohex(0x12345678, 20)":       "12345678",
		"return bit.bnot(0)":                     "-1",
		"return bit.band(0xff, 0x0f, 0x3)":       "3",
		"return bit.bor(1, 2, 4, 8)":             "15",
		"return bit.bxor(-1, 1)":                 "-2",
		"return bit.lshift(1, 31)":               "-2147483648",
		"return bit.lshift(1, 32)":               "1",
		"return bit.rshift(-1, 28)":              "15",
		"return bit.arshift(-256, 4)":            "-16",
		"return bit.rol(0x12345678, 12)":         "1164411171",
		"return bit.ror(0x12345678, 12)":         "1736516421",
		"return bit.bswap(0x12345678)":           "2018915346",
		"return bit.tobit('10')":                 "10",
		"return select(2, pcall(bit.tobit, {}))": "bad argument #1 to '?' (number expected, got table)",
	}
	for src, want := range cases {
		if got := run(t, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
}
