package server

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"syscall"
	"time"
)

// InfoSection adds a section to INFO (replication and cluster plug in
// their own). It runs with the lock held and writes "field:value\r\n" lines.
type InfoSection func(b *strings.Builder)

// SetInfoSection installs or replaces a section generator by name.
func (s *Server) SetInfoSection(name string, f InfoSection) {
	s.mu.Lock()
	if s.infoSections == nil {
		s.infoSections = map[string]InfoSection{}
	}
	s.infoSections[name] = f
	s.mu.Unlock()
}

var defaultInfoSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"}

func cmdInfo(c *Client) {
	want := map[string]bool{}
	all := false
	if len(c.Args) == 1 {
		for _, s := range defaultInfoSections {
			want[s] = true
		}
	}
	for _, a := range c.Args[1:] {
		name := strings.ToLower(string(a))
		switch name {
		case "all", "everything":
			all = true
			for _, s := range defaultInfoSections {
				want[s] = true
			}
			want["commandstats"] = true
			want["latencystats"] = true
		case "default":
			for _, s := range defaultInfoSections {
				want[s] = true
			}
		default:
			want[name] = true
		}
	}
	_ = all
	c.W.Verbatim("txt", c.srv.info(want))
}

// Info renders the INFO sections in want (section names in lower case).
func (s *Server) info(want map[string]bool) string {
	var b strings.Builder
	section := func(name, title string, f func(b *strings.Builder)) {
		if !want[name] {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + title + "\r\n")
		f(&b)
	}
	now := time.Now()
	section("server", "Server", func(b *strings.Builder) {
		mode := "standalone"
		if s.cfg.ClusterEnabled {
			mode = "cluster"
		}
		up := now.Sub(s.start)
		port := s.cfg.Port
		if a, ok := s.Addr().(interface{ String() string }); ok && a != nil {
			if i := strings.LastIndexByte(a.String(), ':'); i >= 0 {
				fmt.Sscanf(a.String()[i+1:], "%d", &port)
			}
		}
		exe, _ := os.Executable()
		fmt.Fprintf(b, "redis_version:%s\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:shoal\r\nredis_mode:%s\r\nos:%s %s\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:%d\r\nprocess_supervised:no\r\nrun_id:%s\r\ntcp_port:%d\r\nserver_time_usec:%d\r\nuptime_in_seconds:%d\r\nuptime_in_days:%d\r\nhz:%d\r\nconfigured_hz:%d\r\nlru_clock:%d\r\nexecutable:%s\r\nconfig_file:%s\r\nio_threads_active:0\r\nshoal_go_version:%s\r\n",
			RedisVersion, mode, runtime.GOOS, runtime.GOARCH, os.Getpid(), s.runID, port, now.UnixMicro(),
			int64(up.Seconds()), int64(up.Hours()/24), s.cfg.Hz, s.cfg.Hz, s.env.LRUClock(), exe, s.cfg.File, runtime.Version())
	})
	section("clients", "Clients", func(b *strings.Builder) {
		pubsub := 0
		maxIn, maxOut := 0, 0
		paused := 0 // Redis 7.0 blocks them (BLOCKED_POSTPONE) and counts them
		for _, c := range s.clients {
			if c.subscriptions() > 0 {
				pubsub++
			}
			if c.pausedArgs != nil {
				paused++
			}
			if n := c.qbufLen; n > maxIn {
				maxIn = n
			}
			if n := c.obufLen; n > maxOut {
				maxOut = n
			}
		}
		fmt.Fprintf(b, "connected_clients:%d\r\ncluster_connections:%d\r\nmaxclients:%d\r\nclient_recent_max_input_buffer:%d\r\nclient_recent_max_output_buffer:%d\r\nblocked_clients:%d\r\ntracking_clients:%d\r\nclients_in_timeout_table:%d\r\n",
			len(s.clients), s.hookConnections(), s.cfg.MaxClients, maxIn, maxOut, s.blocking.count+paused, s.trk.clients, s.blocking.count)
	})
	section("memory", "Memory", func(b *strings.Builder) {
		used := s.usedMemory()
		rss := readRSS()
		peak := s.notePeak(used)
		samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/gc/heap/goal:bytes"}}
		metrics.Read(samples)
		total := int64(samples[0].Value.Uint64())
		policy := s.cfg.MaxMemoryPolicy
		ratio := 0.0
		if used > 0 {
			ratio = float64(rss) / float64(used)
		}
		fmt.Fprintf(b, "used_memory:%d\r\nused_memory_human:%s\r\nused_memory_rss:%d\r\nused_memory_rss_human:%s\r\nused_memory_peak:%d\r\nused_memory_peak_human:%s\r\nused_memory_peak_perc:%.2f%%\r\nused_memory_overhead:0\r\nused_memory_startup:0\r\nused_memory_dataset:%d\r\nallocator_allocated:%d\r\nallocator_resident:%d\r\ntotal_system_memory:%d\r\ntotal_system_memory_human:%s\r\nused_memory_lua:31744\r\nused_memory_scripts:0\r\nmaxmemory:%d\r\nmaxmemory_human:%s\r\nmaxmemory_policy:%s\r\nmem_fragmentation_ratio:%.2f\r\nmem_allocator:go-%s\r\nlazyfree_pending_objects:0\r\ngc_heap_goal:%d\r\n",
			used, humanBytes(used), rss, humanBytes(rss), peak, humanBytes(peak), 100*float64(used)/float64(largerInt64(peak, 1)),
			used, used, total, totalSystemMemory(), humanBytes(totalSystemMemory()), s.cfg.MaxMemory, humanBytes(s.cfg.MaxMemory), policy, ratio,
			runtime.Version(), int64(samples[1].Value.Uint64()))
	})
	section("persistence", "Persistence", func(b *strings.Builder) {
		last := s.start.Unix()
		if s.persistence != nil {
			last = s.persistence.LastSave()
		}
		fmt.Fprintf(b, "loading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\nrdb_changes_since_last_save:%d\r\nrdb_bgsave_in_progress:0\r\nrdb_last_save_time:%d\r\nrdb_last_bgsave_status:ok\r\nrdb_last_bgsave_time_sec:-1\r\nrdb_current_bgsave_time_sec:-1\r\nrdb_saves:0\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:0\r\nrdb_last_load_keys_loaded:0\r\naof_enabled:%d\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_rewrites_consecutive_failures:0\r\naof_last_write_status:ok\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
			s.dirty, last, boolInt(s.cfg.AppendOnly))
		if f := s.infoSections["persistence"]; f != nil {
			f(b)
		}
	})
	section("stats", "Stats", func(b *strings.Builder) {
		st := &s.stats
		syncFull, syncPartialOK, syncPartialErr := s.syncStats()
		fmt.Fprintf(b, "total_connections_received:%d\r\ntotal_commands_processed:%d\r\ninstantaneous_ops_per_sec:%d\r\ntotal_net_input_bytes:%d\r\ntotal_net_output_bytes:%d\r\ntotal_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:0.00\r\ninstantaneous_output_kbps:0.00\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:%d\r\nsync_full:%d\r\nsync_partial_ok:%d\r\nsync_partial_err:%d\r\nexpired_keys:%d\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nexpire_cycle_cpu_milliseconds:0\r\nevicted_keys:%d\r\nevicted_clients:0\r\ntotal_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\nkeyspace_hits:%d\r\nkeyspace_misses:%d\r\npubsub_channels:%d\r\npubsub_patterns:%d\r\npubsubshard_channels:0\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\nmigrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:%d\r\ntracking_total_items:%d\r\ntracking_total_prefixes:%d\r\nunexpected_error_replies:0\r\ntotal_error_replies:%d\r\ndump_payload_sanitizations:0\r\ntotal_reads_processed:%d\r\ntotal_writes_processed:%d\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\n",
			st.connectionsReceived, st.commands, st.opsPerSec, st.netInput, st.netOutput, st.rejectedConnections,
			syncFull, syncPartialOK, syncPartialErr,
			st.expiredKeys, st.evictedKeys, st.keyspaceHits, st.keyspaceMisses, len(s.pubsub.channels), len(s.pubsub.patterns),
			len(s.trk.table), s.trk.items, len(s.trk.prefixes),
			st.totalErrors, st.commands, st.commands)
		var hits, misses, preempted uint64
		for _, l := range s.loops {
			h, m, p := l.BusyPollStats()
			hits, misses, preempted = hits+h, misses+m, preempted+p
		}
		fmt.Fprintf(b, "event_loop_busy_poll_hits:%d\r\nevent_loop_busy_poll_misses:%d\r\nevent_loop_busy_poll_preempted:%d\r\n", hits, misses, preempted)
		fmt.Fprintf(b, "total_handler_panics:%d\r\n", st.handlerPanics)
		if f := s.infoSections["stats"]; f != nil {
			f(b)
		}
	})
	section("replication", "Replication", func(b *strings.Builder) {
		if f := s.infoSections["replication"]; f != nil {
			f(b)
			return
		}
		fmt.Fprintf(b, "role:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:%s\r\nmaster_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n", s.runID)
	})
	section("cpu", "CPU", func(b *strings.Builder) {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
		fmt.Fprintf(b, "used_cpu_sys:%.6f\r\nused_cpu_user:%.6f\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\nused_cpu_sys_main_thread:%.6f\r\nused_cpu_user_main_thread:%.6f\r\n",
			tv(ru.Stime), tv(ru.Utime), tv(ru.Stime), tv(ru.Utime))
	})
	section("modules", "Modules", func(b *strings.Builder) {})
	section("commandstats", "Commandstats", func(b *strings.Builder) {
		for id := 0; id < s.cmds.NumIDs(); id++ {
			st := s.cmdStats[id]
			if st.calls == 0 && st.failed == 0 && st.rejected == 0 {
				continue
			}
			per := 0.0
			if st.calls > 0 {
				per = float64(st.usec) / float64(st.calls)
			}
			fmt.Fprintf(b, "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d\r\n",
				s.cmds.ByID(id).FullName(), st.calls, st.usec, per, st.rejected, st.failed)
		}
	})
	section("errorstats", "Errorstats", func(b *strings.Builder) {
		codes := make([]string, 0, len(s.stats.errors))
		for code := range s.stats.errors {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		for _, code := range codes {
			fmt.Fprintf(b, "errorstat_%s:count=%d\r\n", code, s.stats.errors[code])
		}
	})
	section("latencystats", "Latencystats", s.latencyStatsSection)
	section("cluster", "Cluster", func(b *strings.Builder) {
		fmt.Fprintf(b, "cluster_enabled:%d\r\n", boolInt(s.cfg.ClusterEnabled))
	})
	section("keyspace", "Keyspace", func(b *strings.Builder) {
		for _, db := range s.dbs {
			if db.Len() == 0 {
				continue
			}
			fmt.Fprintf(b, "db%d:keys=%d,expires=%d,avg_ttl=%d\r\n", db.ID, db.Len(), db.VolatileLen(), db.AvgTTL())
		}
	})
	for name, f := range s.infoSections {
		switch name {
		case "persistence", "stats", "replication":
			continue
		}
		if want[name] {
			section(name, strings.ToUpper(name[:1])+name[1:], func(b *strings.Builder) { f(b) })
		}
	}
	return b.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func largerInt64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func (s *Server) notePeak(used int64) int64 {
	if used > s.peakMemory {
		s.peakMemory = used
	}
	return s.peakMemory
}

// humanBytes formats like Redis's bytesToHuman.
func humanBytes(n int64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return fmt.Sprintf("%dB", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.2fK", f/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.2fM", f/(1024*1024))
	case n < 1024*1024*1024*1024:
		return fmt.Sprintf("%.2fG", f/(1024*1024*1024))
	default:
		return fmt.Sprintf("%.2fT", f/(1024*1024*1024*1024))
	}
}

// readRSS reads the resident set size from /proc/self/statm.
func readRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, rss int64
	fmt.Sscanf(string(b), "%d %d", &size, &rss)
	return rss * int64(os.Getpagesize())
}

func totalSystemMemory() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}
