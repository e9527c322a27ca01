package resp

import (
	"bytes"
	"math"
	"testing"
)

func TestWriterEncodings(t *testing.T) {
	cases := []struct {
		name  string
		write func(w *Writer)
		resp2 string
		resp3 string
	}{
		{"simple", func(w *Writer) { w.SimpleString("OK") }, "+OK\r\n", "+OK\r\n"},
		{"error sanitized", func(w *Writer) { w.Error("ERR a\r\nb") }, "-ERR a  b\r\n", "-ERR a  b\r\n"},
		{"int", func(w *Writer) { w.Int(-42) }, ":-42\r\n", ":-42\r\n"},
		{"bulk", func(w *Writer) { w.BulkString("hi") }, "$2\r\nhi\r\n", "$2\r\nhi\r\n"},
		{"empty bulk", func(w *Writer) { w.Bulk(nil) }, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"map", func(w *Writer) { w.MapLen(1); w.BulkString("a"); w.Int(1) }, "*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n$1\r\na\r\n:1\r\n"},
		{"set", func(w *Writer) { w.SetLen(1); w.BulkString("a") }, "*1\r\n$1\r\na\r\n", "~1\r\n$1\r\na\r\n"},
		{"push", func(w *Writer) { w.PushLen(1); w.BulkString("a") }, "*1\r\n$1\r\na\r\n", ">1\r\n$1\r\na\r\n"},
		{"double", func(w *Writer) { w.Double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{"double %.17g", func(w *Writer) { w.Double(0.1) }, "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"},
		{"double inf", func(w *Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"bool", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"verbatim", func(w *Writer) { w.Verbatim("txt", "hi") }, "$2\r\nhi\r\n", "=6\r\ntxt:hi\r\n"},
		{"big number", func(w *Writer) { w.BigNumber("123") }, "$3\r\n123\r\n", "(123\r\n"},
	}
	for _, tc := range cases {
		for _, proto := range []int{2, 3} {
			var out bytes.Buffer
			w := NewWriter(&out)
			w.SetProto(proto)
			tc.write(w)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			want := tc.resp2
			if proto == 3 {
				want = tc.resp3
			}
			if out.String() != want {
				t.Errorf("%s RESP%d = %q, want %q", tc.name, proto, out.String(), want)
			}
		}
	}
}

func TestWriterNoAllocs(t *testing.T) {
	var sink bytes.Buffer
	w := NewWriter(&sink)
	val := []byte("value")
	allocs := testing.AllocsPerRun(1000, func() {
		w.Bulk(val)
		w.Int(12345)
		w.OK()
		w.Truncate(0)
	})
	if allocs != 0 {
		t.Fatalf("writer allocates %.1f per reply", allocs)
	}
}

func TestSplitArgsNul(t *testing.T) {
	line := []byte("a b\x00c d")
	args, ok := SplitArgs(line, nil)
	if !ok || len(args) != 2 || string(args[1]) != "b" {
		t.Fatalf("SplitArgs with NUL = %q, %v", args, ok)
	}
}
