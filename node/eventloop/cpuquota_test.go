package eventloop

import "testing"

func TestParseCPUMax(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"max 100000\n", 0, false},
		{"150000 100000\n", 1.5, true},
		{"50000 100000", 0.5, true},
		{"-1 100000", 0, false},
		{"100000 0", 0, false},
		{"garbage", 0, false},
		{"", 0, false},
	} {
		got, ok := parseCPUMax(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseCPUMax(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
