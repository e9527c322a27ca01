package topology

import (
	"strconv"
	"strings"
)

// LiveConfigDiff is the part of want (key -> value, as written in
// spec.config) that got (CONFIG GET's reply) does not already hold. Values
// are compared as the node reads them: case-insensitive words, memory
// amounts in any unit ("64mb" is 67108864), and client-output-buffer-limit
// by the classes want names ("replica" is "slave"). A key the node did not
// report is set.
func LiveConfigDiff(want, got map[string]string) map[string]string {
	out := map[string]string{}
	for k, w := range want {
		g, ok := got[k]
		if !ok || !configEqual(k, w, g) {
			out[k] = w
		}
	}
	return out
}

func configEqual(key, want, got string) bool {
	w, g := strings.Fields(strings.ToLower(want)), strings.Fields(strings.ToLower(got))
	if key == "client-output-buffer-limit" {
		return outputLimitsEqual(w, g)
	}
	if len(w) != len(g) {
		return false
	}
	for i := range w {
		if w[i] != g[i] && !memoryEqual(w[i], g[i]) {
			return false
		}
	}
	return true
}

// outputLimitsEqual compares "class hard soft seconds" quadruples: every
// class want names must have the same limits in got.
func outputLimitsEqual(want, got []string) bool {
	if len(want)%4 != 0 || len(got)%4 != 0 {
		return false
	}
	class := func(c string) string {
		if c == "replica" {
			return "slave"
		}
		return c
	}
	for i := 0; i < len(want); i += 4 {
		found := false
		for j := 0; j < len(got); j += 4 {
			if class(want[i]) != class(got[j]) {
				continue
			}
			found = true
			for k := 1; k < 4; k++ {
				if want[i+k] != got[j+k] && !memoryEqual(want[i+k], got[j+k]) {
					return false
				}
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func memoryEqual(a, b string) bool {
	x, ok1 := parseMemory(a)
	y, ok2 := parseMemory(b)
	return ok1 && ok2 && x == y
}

// parseMemory reads a memory amount as redis.conf does: 1k is 1000, 1kb
// 1024, and m/mb, g/gb alike.
func parseMemory(s string) (int64, bool) {
	units := []struct {
		suffix string
		mul    int64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}}
	mul := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mul = strings.TrimSuffix(s, u.suffix), u.mul
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return n * mul, true
}
