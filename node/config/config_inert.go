package config

import (
	"errors"
	"strings"
)

// InertConfig holds the Redis 7.0 parameters the node accepts, validates
// (types, ranges, immutability as Redis) and reports, but that change
// nothing in it: allocator and encoding tuning that has no counterpart in
// a Go process, and parameters of features the node does not have yet.
// Each one's reason is its row's noEffect in inertParams; a parameter that
// gains its effect moves out of this struct.
type InertConfig struct {
	RDBChecksum, IOThreadsDoReads, AlwaysShowLogo, RDBDelSyncFiles        bool
	ActiveRehashing, StopWritesOnBgsaveError, SetProcTitle, DynamicHz     bool
	LazyfreeEviction, LazyfreeExpire, LazyfreeServerDel, LazyfreeUserDel  bool
	LazyfreeUserFlush, AOFRewriteIncrementalFsync, NoAppendfsyncOnRewrite bool
	RDBSaveIncrementalFsync, AOFUseRDBPreamble, AOFTimestampEnabled       bool
	ReplicaIgnoreMaxmemory, JemallocBgThread, ActiveDefrag, SyslogEnabled bool
	CrashLogEnabled, CrashMemcheckEnabled, DisableTHP                     bool
	AOFDisableAutoGC, ReplicaIgnoreDiskWriteErrors                        bool

	UnixSocket, BindSourceAddr, IgnoreWarnings, ProcTitleTemplate, SyslogIdent string
	ServerCPUList, BioCPUList, AOFRewriteCPUList, BgsaveCPUList                string

	Supervised, SyslogFacility, OOMScoreAdj, ACLPubsubDefault, SanitizeDumpPayload string
	EnableModuleCommand, PropagationErrorBehavior                                  string

	IOThreads, AutoAOFRewritePercentage, ActiveDefragCycleMin, ActiveDefragCycleMax       int
	ActiveDefragThresholdLower, ActiveDefragThresholdUpper, MaxmemoryEvictionTenacity     int
	TCPBacklog, ListCompressDepth, ActiveExpireEffort                                     int
	SocketMarkID, UnixSocketPerm, ActiveDefragMaxScanFields                               int
	BusyReplyThreshold                                                                    int64
	ActiveDefragIgnoreBytes, HLLSparseMaxBytes                                            int64
	TrackingTableMaxKeys, ClientQueryBufferLimit, MaxmemoryClients, AutoAOFRewriteMinSize int64
}

// defaultInertConfig is Redis 7.0's defaults.
func defaultInertConfig() InertConfig {
	return InertConfig{
		RDBChecksum: true, ActiveRehashing: true, StopWritesOnBgsaveError: true,
		SetProcTitle: true, DynamicHz: true, AOFRewriteIncrementalFsync: true, RDBSaveIncrementalFsync: true,
		AOFUseRDBPreamble: true, ReplicaIgnoreMaxmemory: true, JemallocBgThread: true,
		CrashLogEnabled: true, CrashMemcheckEnabled: true, DisableTHP: true,

		ProcTitleTemplate: "{title} {listen-addr} {server-mode}", SyslogIdent: "redis",

		Supervised: "no", SyslogFacility: "local0", OOMScoreAdj: "no", ACLPubsubDefault: "resetchannels",
		SanitizeDumpPayload: "no", EnableModuleCommand: "no", PropagationErrorBehavior: "ignore",

		IOThreads: 1, AutoAOFRewritePercentage: 100, ActiveDefragCycleMin: 1, ActiveDefragCycleMax: 25,
		ActiveDefragThresholdLower: 10, ActiveDefragThresholdUpper: 100, MaxmemoryEvictionTenacity: 10,
		TCPBacklog: 511, ActiveExpireEffort: 1, ActiveDefragMaxScanFields: 1000,
		BusyReplyThreshold: 5000, ActiveDefragIgnoreBytes: 100 << 20,
		HLLSparseMaxBytes: 3000, TrackingTableMaxKeys: 1000000,
		ClientQueryBufferLimit: 1 << 30, AutoAOFRewriteMinSize: 64 << 20,
	}
}

// Reasons shared by several inert parameters.
const (
	whyAllocator = "the Go runtime allocates and collects memory; there is no jemalloc to tune"
	whyEncoding  = "it tunes an internal encoding the node's data structures do not have"
	whyProcess   = "process supervision is Kubernetes' job (the pod spec sets it)"
	whyLazyfree  = "the node frees values on the Go garbage collector's schedule; no visible difference"
	whyAutoAOF   = "the AOF is rewritten by BGREWRITEAOF only; automatic rewrite is not implemented"
	whyThreads   = "the node's event loops are set by event-loops; Redis's I/O threads do not exist here"
)

func inertParams() []Param {
	in := func(c *Config) *InertConfig { return &c.Inert }
	b := func(name, alias string, flags Flags, why string, f func(i *InertConfig) *bool) Param {
		p := boolParam(name, alias, flags, func(c *Config) *bool { return f(in(c)) })
		p.noEffect = why
		return p
	}
	s := func(name string, flags Flags, null bool, why string, f func(i *InertConfig) *string, validate func(string) error) Param {
		get := func(c *Config) *string { return f(in(c)) }
		p := stringParam(name, "", flags, get, validate)
		if null {
			p = nullString(p, get)
		}
		p.noEffect = why
		return p
	}
	e := func(name string, flags Flags, values []string, why string, f func(i *InertConfig) *string) Param {
		p := enumParam(name, "", flags, values, func(c *Config) *string { return f(in(c)) })
		p.noEffect = why
		return p
	}
	n := func(name, alias string, flags Flags, spec numSpec, why string, f func(i *InertConfig) *int) Param {
		p := numParam(name, alias, flags, spec, func(c *Config) *int { return f(in(c)) })
		p.noEffect = why
		return p
	}
	n64 := func(name, alias string, flags Flags, spec numSpec, why string, f func(i *InertConfig) *int64) Param {
		p := numParam(name, alias, flags, spec, func(c *Config) *int64 { return f(in(c)) })
		p.noEffect = why
		return p
	}
	cpulist := "the node does not pin threads to CPUs (the pod's CPU limits apply)"
	yesNoLocal := []string{"no", "yes", "local"}
	oomAdj := e("oom-score-adj", 0, []string{"no", "yes", "relative", "absolute"},
		"the node does not write /proc/self/oom_score_adj; Kubernetes sets the pod's OOM score",
		func(i *InertConfig) *string { return &i.OOMScoreAdj })
	oomSet := oomAdj.set
	oomAdj.set = func(c *Config, args []string) error {
		err := oomSet(c, args)
		if c.Inert.OOMScoreAdj == "relative" { // the same value as yes, which Redis reports
			c.Inert.OOMScoreAdj = "yes"
		}
		return err
	}
	return []Param{
		b("rdbchecksum", "", FlagImmutable, "snapshots are always checksummed (CRC-64)", func(i *InertConfig) *bool { return &i.RDBChecksum }),
		b("io-threads-do-reads", "", FlagImmutable, whyThreads, func(i *InertConfig) *bool { return &i.IOThreadsDoReads }),
		b("always-show-logo", "", FlagImmutable, "the node prints no ASCII logo", func(i *InertConfig) *bool { return &i.AlwaysShowLogo }),
		b("rdb-del-sync-files", "", 0, "a full sync streams the snapshot over the socket, so no sync file is left to delete", func(i *InertConfig) *bool { return &i.RDBDelSyncFiles }),
		b("activerehashing", "", 0, "Go maps grow incrementally by themselves; there is no rehash step to run", func(i *InertConfig) *bool { return &i.ActiveRehashing }),
		b("set-proc-title", "", FlagImmutable, "the Go process does not rewrite its title", func(i *InertConfig) *bool { return &i.SetProcTitle }),
		b("dynamic-hz", "", 0, "the cron runs at hz whatever the number of clients", func(i *InertConfig) *bool { return &i.DynamicHz }),
		b("lazyfree-lazy-eviction", "", 0, whyLazyfree, func(i *InertConfig) *bool { return &i.LazyfreeEviction }),
		b("lazyfree-lazy-expire", "", 0, whyLazyfree, func(i *InertConfig) *bool { return &i.LazyfreeExpire }),
		b("lazyfree-lazy-server-del", "", 0, whyLazyfree, func(i *InertConfig) *bool { return &i.LazyfreeServerDel }),
		b("lazyfree-lazy-user-del", "", 0, whyLazyfree, func(i *InertConfig) *bool { return &i.LazyfreeUserDel }),
		b("lazyfree-lazy-user-flush", "", 0, whyLazyfree, func(i *InertConfig) *bool { return &i.LazyfreeUserFlush }),
		b("aof-rewrite-incremental-fsync", "", 0, "the rewrite's writer fsyncs once at the end", func(i *InertConfig) *bool { return &i.AOFRewriteIncrementalFsync }),
		b("no-appendfsync-on-rewrite", "", 0, "appendfsync applies during a rewrite too (no fork competing for the disk)", func(i *InertConfig) *bool { return &i.NoAppendfsyncOnRewrite }),
		b("rdb-save-incremental-fsync", "", 0, "the snapshot writer fsyncs once before the rename", func(i *InertConfig) *bool { return &i.RDBSaveIncrementalFsync }),
		b("aof-use-rdb-preamble", "", 0, "the AOF base is always an RDB file (Redis 7's multi-part AOF with a preamble)", func(i *InertConfig) *bool { return &i.AOFUseRDBPreamble }),
		b("aof-timestamp-enabled", "", 0, "the AOF carries no timestamp annotations", func(i *InertConfig) *bool { return &i.AOFTimestampEnabled }),
		b("replica-ignore-maxmemory", "slave-ignore-maxmemory", 0, "a replica never evicts on its own; it applies its master's DELs", func(i *InertConfig) *bool { return &i.ReplicaIgnoreMaxmemory }),
		b("jemalloc-bg-thread", "", 0, whyAllocator, func(i *InertConfig) *bool { return &i.JemallocBgThread }),
		refuseTrue(b("activedefrag", "", 0, whyAllocator, func(i *InertConfig) *bool { return &i.ActiveDefrag }),
			func(c *Config) *bool { return &c.Inert.ActiveDefrag },
			"Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"),
		b("syslog-enabled", "", FlagImmutable, "the node logs to stderr or logfile; the pod's log collector takes it", func(i *InertConfig) *bool { return &i.SyslogEnabled }),
		b("crash-log-enabled", "", 0, "a Go panic prints its own stack trace", func(i *InertConfig) *bool { return &i.CrashLogEnabled }),
		b("crash-memcheck-enabled", "", 0, "there is no post-crash memory test in a Go process", func(i *InertConfig) *bool { return &i.CrashMemcheckEnabled }),
		b("disable-thp", "", FlagImmutable, whyAllocator, func(i *InertConfig) *bool { return &i.DisableTHP }),
		b("aof-disable-auto-gc", "", 0, "the AOF's history files are deleted after a rewrite, as with the default (no)", func(i *InertConfig) *bool { return &i.AOFDisableAutoGC }),
		b("replica-ignore-disk-write-errors", "", 0, "a replica never writes its master's stream to disk on its own", func(i *InertConfig) *bool { return &i.ReplicaIgnoreDiskWriteErrors }),

		s("unixsocket", FlagImmutable, true, "the node listens on TCP only (pods are reached over the network)", func(i *InertConfig) *string { return &i.UnixSocket }, nil),
		s("bind-source-addr", 0, true, "outgoing connections (replication, MIGRATE) use the address the kernel picks", func(i *InertConfig) *string { return &i.BindSourceAddr }, nil),
		s("ignore-warnings", 0, false, "the node prints none of the kernel warnings Redis can silence", func(i *InertConfig) *string { return &i.IgnoreWarnings }, nil),
		s("proc-title-template", 0, false, "the Go process does not rewrite its title (the template is validated)", func(i *InertConfig) *string { return &i.ProcTitleTemplate }, validateProcTitleTemplate),
		s("syslog-ident", FlagImmutable, false, "the node logs to stderr or logfile, never to syslog", func(i *InertConfig) *string { return &i.SyslogIdent }, nil),
		s("server_cpulist", FlagImmutable, true, cpulist, func(i *InertConfig) *string { return &i.ServerCPUList }, nil),
		s("bio_cpulist", FlagImmutable, true, cpulist, func(i *InertConfig) *string { return &i.BioCPUList }, nil),
		s("aof_rewrite_cpulist", FlagImmutable, true, cpulist, func(i *InertConfig) *string { return &i.AOFRewriteCPUList }, nil),
		s("bgsave_cpulist", FlagImmutable, true, cpulist, func(i *InertConfig) *string { return &i.BgsaveCPUList }, nil),

		e("supervised", FlagImmutable, []string{"upstart", "systemd", "auto", "no"}, whyProcess, func(i *InertConfig) *string { return &i.Supervised }),
		e("syslog-facility", FlagImmutable, []string{"user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}, "the node logs to stderr or logfile, never to syslog", func(i *InertConfig) *string { return &i.SyslogFacility }),
		oomAdj,
		e("acl-pubsub-default", 0, []string{"allchannels", "resetchannels"}, "a new ACL user starts with no channels (resetchannels, the default) whatever this says", func(i *InertConfig) *string { return &i.ACLPubsubDefault }),
		e("sanitize-dump-payload", 0, []string{"no", "yes", "clients"}, "RESTORE always checks the whole payload (CRC and structure)", func(i *InertConfig) *string { return &i.SanitizeDumpPayload }),
		e("enable-module-command", FlagImmutable, yesNoLocal, "modules are not supported; MODULE is not served", func(i *InertConfig) *string { return &i.EnableModuleCommand }),
		e("propagation-error-behavior", 0, []string{"ignore", "panic", "panic-on-replicas"}, "a replica applies its master's stream as it comes (errors are ignored, as the default)", func(i *InertConfig) *string { return &i.PropagationErrorBehavior }),

		n("io-threads", "", FlagImmutable, ints(1, 128), whyThreads, func(i *InertConfig) *int { return &i.IOThreads }),
		n("auto-aof-rewrite-percentage", "", 0, ints(0, intMax), whyAutoAOF, func(i *InertConfig) *int { return &i.AutoAOFRewritePercentage }),
		n("active-defrag-cycle-min", "", 0, ints(1, 99), whyAllocator, func(i *InertConfig) *int { return &i.ActiveDefragCycleMin }),
		n("active-defrag-cycle-max", "", 0, ints(1, 99), whyAllocator, func(i *InertConfig) *int { return &i.ActiveDefragCycleMax }),
		n("active-defrag-threshold-lower", "", 0, ints(0, 1000), whyAllocator, func(i *InertConfig) *int { return &i.ActiveDefragThresholdLower }),
		n("active-defrag-threshold-upper", "", 0, ints(0, 1000), whyAllocator, func(i *InertConfig) *int { return &i.ActiveDefragThresholdUpper }),
		n("maxmemory-eviction-tenacity", "", 0, ints(0, 100), "eviction runs to completion inside the command that needs the memory", func(i *InertConfig) *int { return &i.MaxmemoryEvictionTenacity }),
		n("tcp-backlog", "", FlagImmutable, ints(0, intMax), "Go's listener takes the kernel's somaxconn as its backlog", func(i *InertConfig) *int { return &i.TCPBacklog }),
		n("list-compress-depth", "", 0, ints(0, intMax), whyEncoding, func(i *InertConfig) *int { return &i.ListCompressDepth }),
		n("active-expire-effort", "", 0, ints(1, 10), "the active expiry cycle has a fixed effort", func(i *InertConfig) *int { return &i.ActiveExpireEffort }),
		n("socket-mark-id", "", FlagImmutable, sizes(0, uintMax), "sockets are not marked (SO_MARK)", func(i *InertConfig) *int { return &i.SocketMarkID }),
		n("unixsocketperm", "", FlagImmutable, numSpec{max: 0o777, unsigned: true, octal: true}, "the node listens on TCP only (no unix socket to set permissions on)", func(i *InertConfig) *int { return &i.UnixSocketPerm }),
		n("active-defrag-max-scan-fields", "", 0, sizes(1, longMax), whyAllocator, func(i *InertConfig) *int { return &i.ActiveDefragMaxScanFields }),
		n64("busy-reply-threshold", "lua-time-limit", 0, ints(0, longMax), "", func(i *InertConfig) *int64 { return &i.BusyReplyThreshold }),
		n64("active-defrag-ignore-bytes", "", 0, memorySizes(1, longMax), whyAllocator, func(i *InertConfig) *int64 { return &i.ActiveDefragIgnoreBytes }),
		n64("hll-sparse-max-bytes", "", 0, memorySizes(0, longMax), "", func(i *InertConfig) *int64 { return &i.HLLSparseMaxBytes }),
		n64("tracking-table-max-keys", "", 0, sizes(0, longMax), "", func(i *InertConfig) *int64 { return &i.TrackingTableMaxKeys }),
		n64("client-query-buffer-limit", "", 0, memorySizes(1<<20, longMax), "the query buffer is bounded by proto-max-bulk-len and the reader's own limits, not by this total", func(i *InertConfig) *int64 { return &i.ClientQueryBufferLimit }),
		n64("maxmemory-clients", "", 0, numSpec{min: -100, max: longMax, memory: true, percent: true}, "client buffers are not counted against a limit of their own; maxmemory eviction applies", func(i *InertConfig) *int64 { return &i.MaxmemoryClients }),
		n64("auto-aof-rewrite-min-size", "", 0, memory(0, longMax), whyAutoAOF, func(i *InertConfig) *int64 { return &i.AutoAOFRewriteMinSize }),
	}
}

// validateProcTitleTemplate is Redis's validateProcTitleTemplate: the
// template expands ({{ and }} are literal braces, {name} a known variable)
// to something not blank when the title, the server mode and the unix
// socket are empty.
func validateProcTitleTemplate(v string) error {
	bad := errors.New("template format is invalid or contains unknown variables")
	vars := map[string]string{"title": "", "listen-addr": "*:6379", "server-mode": "", "port": "6379",
		"tls-port": "0", "unixsocket": "", "config-file": "redis.conf"}
	var out strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '{' && i+1 < len(v) && v[i+1] == '{', v[i] == '}' && i+1 < len(v) && v[i+1] == '}':
			out.WriteByte(v[i])
			i++
		case v[i] == '{':
			j := strings.IndexByte(v[i:], '}')
			if j < 0 {
				return bad
			}
			val, ok := vars[v[i+1:i+j]]
			if !ok {
				return bad
			}
			out.WriteString(val)
			i += j
		case v[i] == '}':
			return bad
		default:
			out.WriteByte(v[i])
		}
	}
	if strings.Trim(out.String(), " ") == "" {
		return bad
	}
	return nil
}
