package eventloop

import (
	"os"
	"strconv"
	"strings"
)

// cgroupCPULimit is the CPU limit of the node's cgroup in CPUs (quota over
// period), from cgroup v2's cpu.max or else v1's cpu.cfs_quota_us and
// cpu.cfs_period_us as a container sees them at /sys/fs/cgroup; ok is
// false when there is none or it cannot be read.
func cgroupCPULimit() (cpus float64, ok bool) {
	if b, err := os.ReadFile("/sys/fs/cgroup/cpu.max"); err == nil {
		return parseCPUMax(string(b))
	}
	q, err1 := os.ReadFile("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
	p, err2 := os.ReadFile("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return cpuLimit(strings.TrimSpace(string(q)), strings.TrimSpace(string(p)))
}

// parseCPUMax reads cgroup v2's cpu.max: "max 100000" (no limit) or
// "150000 100000" (1.5 CPUs).
func parseCPUMax(s string) (float64, bool) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, false
	}
	return cpuLimit(f[0], f[1])
}

// cpuLimit is quota/period; a quota of "max" or a negative one (v1's -1)
// is no limit.
func cpuLimit(quota, period string) (float64, bool) {
	q, err := strconv.ParseInt(quota, 10, 64)
	if err != nil || q <= 0 {
		return 0, false
	}
	p, err := strconv.ParseInt(period, 10, 64)
	if err != nil || p <= 0 {
		return 0, false
	}
	return float64(q) / float64(p), true
}
