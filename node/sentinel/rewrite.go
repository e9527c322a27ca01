package sentinel

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// stateLines are the "sentinel ..." lines sentinelFlushConfig writes:
// the monitored masters with their settings and what was learnt (config
// and leader epochs, known replicas and sentinels), then the sentinel's
// own identity and current epoch.
func (s *Sentinel) stateLines() []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	add("sentinel myid %s", s.myID)
	for _, m := range s.sortedMasters() {
		ma := currentMasterAddr(m)
		add("sentinel monitor %s %s %d %d", quoteConf(m.name), ma.Host, ma.Port, m.quorum)
		if m.downAfter != defaultDownAfter {
			add("sentinel down-after-milliseconds %s %d", quoteConf(m.name), m.downAfter.Milliseconds())
		}
		if m.failoverTO != defaultFailoverTime {
			add("sentinel failover-timeout %s %d", quoteConf(m.name), m.failoverTO.Milliseconds())
		}
		if m.parallelSyncs != defaultParallelSync {
			add("sentinel parallel-syncs %s %d", quoteConf(m.name), m.parallelSyncs)
		}
		if m.authPass != "" {
			add("sentinel auth-pass %s %s", quoteConf(m.name), quoteConf(m.authPass))
		}
		if m.authUser != "" {
			add("sentinel auth-user %s %s", quoteConf(m.name), quoteConf(m.authUser))
		}
		add("sentinel config-epoch %s %d", quoteConf(m.name), m.configEpoch)
		add("sentinel leader-epoch %s %d", quoteConf(m.name), m.leaderEpoch)
		for _, ri := range sortedInstances(m.replicas) {
			a := ri.addr
			// The replica at the address now written as the master is the
			// old master during a failover.
			if a.equal(ma) {
				a = m.addr
			}
			add("sentinel known-replica %s %s %d", quoteConf(m.name), a.Host, a.Port)
		}
		for _, ri := range sortedInstances(m.sentinels) {
			if ri.runID != "" && ri.addr.Port != 0 {
				add("sentinel known-sentinel %s %s %d %s", quoteConf(m.name), ri.addr.Host, ri.addr.Port, ri.runID)
			}
		}
	}
	if s.announceIP != "" {
		add("sentinel announce-ip %s", quoteConf(s.announceIP))
	}
	if s.announcePort != 0 {
		add("sentinel announce-port %d", s.announcePort)
	}
	if s.resolveHostnames {
		add("sentinel resolve-hostnames yes")
	}
	if s.announceHostnames {
		add("sentinel announce-hostnames yes")
	}
	if s.sentinelUser != "" {
		add("sentinel sentinel-user %s", quoteConf(s.sentinelUser))
	}
	if s.sentinelPass != "" {
		add("sentinel sentinel-pass %s", quoteConf(s.sentinelPass))
	}
	add("sentinel current-epoch %d", s.currentEpoch)
	return out
}

// quoteConf quotes a value that would not read back as one word.
func quoteConf(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\r\n\"'\\") {
		return v
	}
	return strconv.Quote(v)
}

// rewriteConfigText keeps the file's other lines where they are and
// replaces its "sentinel" lines by state, written where the first one was
// (or at the end).
func rewriteConfigText(old string, state []string) string {
	var out []string
	placed := false
	for _, line := range strings.Split(strings.TrimRight(old, "\n"), "\n") {
		argv, err := splitLine(strings.TrimSpace(line))
		if err == nil && len(argv) > 0 && strings.EqualFold(argv[0], "sentinel") {
			if !placed {
				out = append(out, state...)
				placed = true
			}
			continue
		}
		out = append(out, line)
	}
	if !placed {
		out = append(out, state...)
	}
	return strings.Join(out, "\n") + "\n"
}

// flushConfig is sentinelFlushConfig: the state into the config file,
// written to a temporary file, synced and renamed over it (or rewritten in
// place when the directory does not allow the rename). Caller holds s.mu.
func (s *Sentinel) flushConfig() {
	old, err := os.ReadFile(s.cfg.File)
	if err != nil {
		s.logf('#', "WARNING: Sentinel was not able to save the new configuration on disk!!!: %v", err)
		return
	}
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > 200*time.Millisecond {
			s.logf('#', "Saving the configuration took %v", d)
		}
	}()
	text := rewriteConfigText(string(old), s.stateLines())
	if err := writeFileAtomic(s.cfg.File, []byte(text)); err != nil {
		s.logf('#', "WARNING: Sentinel was not able to save the new configuration on disk!!!: %v", err)
		return
	}
	s.dirty = false
	s.logf('*', "Sentinel new configuration saved on disk")
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sentinel-conf-*")
	if err == nil {
		name := tmp.Name()
		_, werr := tmp.Write(data)
		if werr == nil {
			werr = tmp.Sync()
		}
		cerr := tmp.Close()
		if werr == nil && cerr == nil {
			if st, err := os.Stat(path); err == nil {
				_ = os.Chmod(name, st.Mode().Perm())
			}
			if err := os.Rename(name, path); err == nil {
				return nil
			}
		}
		os.Remove(name)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
