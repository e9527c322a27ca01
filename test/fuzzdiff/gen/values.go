package gen

import (
	"strconv"
	"strings"
)

// Edge values. Every list is data the generator draws from; none holds a
// value that makes Redis itself allocate without bound (a count below
// -1000 for SRANDMEMBER/HRANDFIELD/ZRANDMEMBER: see safeCount), and the
// integers leave out the largest offsets Redis accepts (2^32-1 for SETBIT,
// 2^29-1 for SETRANGE: half a gigabyte each); 2^31-1 stays (256 MB).

// bigString is the ~1 MB argument.
var bigString = strings.Repeat("x", 1<<20)

// aaaa is 40 'a's: a key, a field, a member and a list element in the
// setup, so that glob patterns with many stars have something to chew on.
var aaaa = strings.Repeat("a", 40)

// edgeInts are the integers at the limits of int32, uint32 and int64;
// notInts are what a lax parser would take for an integer.
var edgeInts = []string{
	"0", "-1", "2147483647", "2147483648", "4294967296", "9223372036854775807",
	"-9223372036854775808", "9223372036854775808", "18446744073709551616", "-9223372036854775809",
	"536870912", "-4294967296", "-2147483649",
}

var notInts = []string{"", "abc", "1.5", "1e3", "+1", "-0", "007", " 1", "1 ", "0x10", "1\x00", "42\x00"}

var edgeFloats = []string{
	"0", "-0", "1", "-1", "1.5", "-2.5", "inf", "-inf", "+inf", "nan", "NaN",
	"1e308", "-1e308", "1e309", "4.9e-324", "2.2250738585072014e-308", "9007199254740993",
	"", "abc", "1e", ".5", "5.", " 1", "1.5\x00x", "0x1p3", "(1", "(-inf", "infinity",
}

var edgeStrings = []string{
	"", "a", "b", "c", "1", "2", "-1", "1.5", "x", aaaa, "\x00", "a\x00b", "\x00\x01\xff\xfe",
	"\r\n", "é", "hello world", "42\x00", " ", "*", "?", strings.Repeat("z", 4096),
}

var edgePatterns = []string{
	"*", "?", "", "a*", "*a", "[a-z]*", "[", "[^", "[a-", "\\", "[\\", "h?llo", "[[[[]]]]",
	"*[*[*[*", "nokey", "k*", "\\*", "[^a]*", "[z-a]*",
	strings.Repeat("a*", 20) + "b",
	strings.Repeat("*", 100),
	strings.Repeat("[a]", 30) + "*",
	strings.Repeat("*a", 40) + "*b",
	strings.Repeat("[a-z]*", 15) + "x",
	strings.Repeat("?", 41),
	strings.Repeat("[^b]*", 12) + "[",
}

// Ranges for sorted-set and list commands whose bounds are strings.
var edgeRanges = []string{
	"-", "+", "[a", "(a", "[b", "(c", "[", "(", "a", "-inf", "+inf", "(1", "(-inf", "0", "-1", "1", "3", "(3",
	"[" + aaaa, "(\x00",
}

var smallBlockTimeouts = []string{"0.01", "0.02", "0.05", "0.001", "-1", "abc"}

var aclRules = []string{
	"on", "off", "nopass", ">pass", "<pass", "#" + strings.Repeat("a", 64), "resetpass",
	"~*", "~k*", "%R~r*", "%W~w*", "%RW~*", "allkeys", "resetkeys", "&*", "&ch*", "allchannels",
	"resetchannels", "+@all", "-@all", "+@read", "-@dangerous", "+get", "-set", "+config|get",
	"allcommands", "nocommands", "(+get ~k*)", "(~*", "clearselectors", "reset", "bogus", "",
}

var userNames = []string{"fz1", "fz2"}

var typeNames = []string{"string", "list", "set", "zset", "hash", "stream", "none", "bogus"}

var bitfieldEncodings = []string{"u1", "u8", "i8", "i16", "u63", "i64", "u64", "i65", "u0", "x8", "8"}

// bitfieldOffsets: 2^32-1 (a half-gigabyte string, as SETBIT's largest
// offset) is left out as the file's comment says; 2^32 is the first offset
// Redis refuses.
var bitfieldOffsets = []string{"0", "1", "7", "100", "#0", "#1", "#-1", "-1", "#", "2147483647", "4294967296", "#536870912"}

var streamIDs = []string{"0", "0-0", "*", "$", ">", "-", "+", "1-1", "1-*", "18446744073709551615-18446744073709551615", "abc"}

var scripts = []string{"return 1", "return redis.call('get', KEYS[1])", "return {1,2,3}", "return redis.error_reply('x')", "syntax error here", ""}

var configValues = []string{
	"yes", "no", "0", "1", "-1", "100", "1000", "2147483647", "9223372036854775807", "1gb", "10mb", "1k",
	"", "abc", "allkeys-lru", "noeviction", "notice", "KEA", "$lshzxeKEA", "0.5",
}

// configDenied are the parameters CONFIG SET must not touch: they would
// move files, sockets or the process, lock the fuzzer out, or make every
// later command fail for a reason unrelated to the command.
var configDenied = map[string]bool{
	"dir": true, "dbfilename": true, "logfile": true, "pidfile": true, "port": true, "bind": true,
	"bind-source-addr": true, "unixsocket": true, "unixsocketperm": true, "requirepass": true,
	"masterauth": true, "masteruser": true, "maxmemory": true, "maxclients": true, "timeout": true,
	"appendonly": true, "appendfilename": true, "appenddirname": true, "aclfile": true,
	"replicaof": true, "slaveof": true, "protected-mode": true, "daemonize": true, "supervised": true,
	"save": true, "io-threads": true, "client-output-buffer-limit": true, "client-query-buffer-limit": true,
	"proto-max-bulk-len": true, "min-replicas-to-write": true, "min-slaves-to-write": true,
	"oom-score-adj": true, "oom-score-adj-values": true, "syslog-enabled": true, "syslog-ident": true,
	"syslog-facility": true, "watchdog-period": true, "proc-title-template": true, "set-proc-title": true,
	"tls-port": true, "tls-cluster": true, "tls-replication": true, "enable-debug-command": true,
	"maxmemory-clients": true, "cluster-enabled": true, "cluster-config-file": true, "cluster-port": true,
	"busy-reply-threshold": true, "lua-time-limit": true, "shutdown-timeout": true,
}

// ConfigSettable reports whether the fuzzer may CONFIG SET the parameter.
func ConfigSettable(name string) bool {
	n := strings.ToLower(name)
	return !configDenied[n] && !strings.HasPrefix(n, "tls-") && !strings.HasPrefix(n, "cluster-")
}

// safeCount bounds the count of SRANDMEMBER, HRANDFIELD and ZRANDMEMBER:
// a negative count asks for that many (repeated) elements, and Redis
// 7.0.15 accepts anything above LONG_MIN, so -2^31 alone makes it build a
// reply of tens of gigabytes. Counts below -1000 other than LONG_MIN
// (which Redis refuses) become -1000.
func safeCount(s string) string {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n >= -1000 || n == -1<<63 {
		return s
	}
	return "-1000"
}
