package command

// NumberEdgeCases are arguments at the edges of Redis's integer and float
// grammars (string2ll, strtod, string2ld, strtoul), for tests and
// fuzz seeds of every package that parses numbers.
var NumberEdgeCases = []string{
	"42\x00", "1.5\x00x", "1\x00", "\x001", " 1", "1 ", "\t1", "1\n", "+1", "-0", "00", "01", "-",
	"", "0x10", "0X1P3", "0x1.8", "0x", "0x1p", ".5", "5.", ".", "1e", "1e+", "1e-400", "4e-320",
	"1e5000", "-1e5000", "inf", "-inf", "+inf", "Infinity", "nan", "-nan", "1_0", "0b1", "1,5",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551615",
	"123456789012345678901", "0.1", "1e308", "2.5e-324",
}
