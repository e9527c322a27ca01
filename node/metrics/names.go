package metrics

// The names redis_exporter gives INFO's fields (without the redis_
// prefix). A field in neither table and without a prefix the exporter
// passes through (cluster_) is not exposed.

// gaugeNames maps INFO fields to gauge names.
var gaugeNames = map[string]string{
	// Server
	"uptime_in_seconds": "uptime_in_seconds",
	"process_id":        "process_id",
	"io_threads_active": "io_threads_active",

	// Clients
	"connected_clients":               "connected_clients",
	"blocked_clients":                 "blocked_clients",
	"tracking_clients":                "tracking_clients",
	"clients_in_timeout_table":        "clients_in_timeout_table",
	"client_recent_max_output_buffer": "client_recent_max_output_buffer_bytes",
	"client_recent_max_input_buffer":  "client_recent_max_input_buffer_bytes",
	"maxclients":                      "max_clients",

	// Memory
	"allocator_allocated":       "allocator_allocated_bytes",
	"allocator_resident":        "allocator_resident_bytes",
	"used_memory":               "memory_used_bytes",
	"used_memory_rss":           "memory_used_rss_bytes",
	"used_memory_peak":          "memory_used_peak_bytes",
	"used_memory_lua":           "memory_used_lua_bytes",
	"used_memory_overhead":      "memory_used_overhead_bytes",
	"used_memory_startup":       "memory_used_startup_bytes",
	"used_memory_dataset":       "memory_used_dataset_bytes",
	"used_memory_scripts":       "memory_used_scripts_bytes",
	"maxmemory":                 "memory_max_bytes",
	"mem_fragmentation_ratio":   "mem_fragmentation_ratio",
	"lazyfree_pending_objects":  "lazyfree_pending_objects",
	"total_system_memory":       "total_system_memory_bytes",
	"expired_stale_perc":        "expired_stale_percentage",
	"migrate_cached_sockets":    "migrate_cached_sockets_total",
	"active_defrag_hits":        "defrag_hits",
	"active_defrag_misses":      "defrag_misses",
	"active_defrag_key_hits":    "defrag_key_hits",
	"active_defrag_key_misses":  "defrag_key_misses",
	"mem_not_counted_for_evict": "mem_not_counted_for_eviction_bytes",

	"expired_time_cap_reached_count": "expired_time_cap_reached_total",

	// Persistence
	"loading":                      "loading_dump_file",
	"async_loading":                "async_loading",
	"rdb_changes_since_last_save":  "rdb_changes_since_last_save",
	"rdb_bgsave_in_progress":       "rdb_bgsave_in_progress",
	"rdb_last_save_time":           "rdb_last_save_timestamp_seconds",
	"rdb_last_bgsave_status":       "rdb_last_bgsave_status",
	"rdb_last_bgsave_time_sec":     "rdb_last_bgsave_duration_sec",
	"rdb_current_bgsave_time_sec":  "rdb_current_bgsave_duration_sec",
	"rdb_last_cow_size":            "rdb_last_cow_size_bytes",
	"rdb_saves":                    "rdb_saves_total",
	"aof_enabled":                  "aof_enabled",
	"aof_rewrite_in_progress":      "aof_rewrite_in_progress",
	"aof_rewrite_scheduled":        "aof_rewrite_scheduled",
	"aof_last_rewrite_time_sec":    "aof_last_rewrite_duration_sec",
	"aof_current_rewrite_time_sec": "aof_current_rewrite_duration_sec",
	"aof_last_cow_size":            "aof_last_cow_size_bytes",
	"aof_current_size":             "aof_current_size_bytes",
	"aof_base_size":                "aof_base_size_bytes",
	"aof_pending_rewrite":          "aof_pending_rewrite",
	"aof_buffer_length":            "aof_buffer_length",
	"aof_rewrite_buffer_length":    "aof_rewrite_buffer_length",
	"aof_pending_bio_fsync":        "aof_pending_bio_fsync",
	"aof_delayed_fsync":            "aof_delayed_fsync",
	"aof_last_bgrewrite_status":    "aof_last_bgrewrite_status",
	"aof_last_write_status":        "aof_last_write_status",
	"aof_rewrites":                 "aof_rewrites",
	"module_fork_in_progress":      "module_fork_in_progress",
	"module_fork_last_cow_size":    "module_fork_last_cow_size",

	// Stats
	"instantaneous_ops_per_sec":    "instantaneous_ops_per_sec",
	"instantaneous_input_kbps":     "instantaneous_input_kbps",
	"instantaneous_output_kbps":    "instantaneous_output_kbps",
	"pubsub_channels":              "pubsub_channels",
	"pubsub_patterns":              "pubsub_patterns",
	"pubsubshard_channels":         "pubsubshard_channels",
	"latest_fork_usec":             "latest_fork_usec",
	"tracking_total_keys":          "tracking_total_keys",
	"tracking_total_items":         "tracking_total_items",
	"tracking_total_prefixes":      "tracking_total_prefixes",
	"total_error_replies":          "total_error_replies",
	"unexpected_error_replies":     "unexpected_error_replies",
	"total_reads_processed":        "total_reads_processed",
	"total_writes_processed":       "total_writes_processed",
	"io_threaded_reads_processed":  "io_threaded_reads_processed",
	"io_threaded_writes_processed": "io_threaded_writes_processed",
	"dump_payload_sanitizations":   "dump_payload_sanitizations",

	// Replication
	"connected_slaves":               "connected_slaves",
	"repl_backlog_size":              "replication_backlog_bytes",
	"repl_backlog_active":            "repl_backlog_is_active",
	"repl_backlog_first_byte_offset": "repl_backlog_first_byte_offset",
	"repl_backlog_histlen":           "repl_backlog_history_bytes",
	"master_repl_offset":             "master_repl_offset",
	"second_repl_offset":             "second_repl_offset",
	"slave_expires_tracked_keys":     "slave_expires_tracked_keys",
	"slave_priority":                 "slave_priority",
	"sync_full":                      "replica_resyncs_full",
	"sync_partial_ok":                "replica_partial_resync_accepted",
	"sync_partial_err":               "replica_partial_resync_denied",

	// Cluster (CLUSTER INFO; the other cluster_ fields keep their names)
	"cluster_stats_messages_sent":     "cluster_messages_sent_total",
	"cluster_stats_messages_received": "cluster_messages_received_total",
}

// counterNames maps INFO fields to counter names.
var counterNames = map[string]string{
	"total_connections_received": "connections_received_total",
	"total_commands_processed":   "commands_processed_total",
	"rejected_connections":       "rejected_connections_total",
	"total_net_input_bytes":      "net_input_bytes_total",
	"total_net_output_bytes":     "net_output_bytes_total",
	"expired_keys":               "expired_keys_total",
	"evicted_keys":               "evicted_keys_total",
	"evicted_clients":            "evicted_clients_total",
	"keyspace_hits":              "keyspace_hits_total",
	"keyspace_misses":            "keyspace_misses_total",
	"used_cpu_sys":               "cpu_sys_seconds_total",
	"used_cpu_user":              "cpu_user_seconds_total",
	"used_cpu_sys_children":      "cpu_sys_children_seconds_total",
	"used_cpu_user_children":     "cpu_user_children_seconds_total",
	"used_cpu_sys_main_thread":   "cpu_sys_main_thread_seconds_total",
	"used_cpu_user_main_thread":  "cpu_user_main_thread_seconds_total",
}

// configNames are the exporter's redis_config_* gauges (it reads them
// with CONFIG GET; INFO gives the same values).
var configNames = map[string]string{
	"maxmemory":  "config_maxmemory",
	"maxclients": "config_maxclients",
}

// passThroughPrefix: the exporter exposes every other field with this
// prefix under its own name (cluster_state, cluster_slots_ok,
// cluster_known_nodes, cluster_enabled, cluster_connections, ...).
const passThroughPrefix = "cluster_"

// infoLabels are the fields redis_instance_info carries as labels.
var infoLabels = []string{"role", "redis_version", "redis_build_id", "redis_mode", "os", "maxmemory_policy", "tcp_port", "run_id", "process_id", "master_replid"}

// latencyBoundsSeconds are shoal_command_latency_seconds's buckets.
var latencyBoundsSeconds = []float64{
	0.00001, 0.000025, 0.00005,
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1,
}

// LatencyBoundsNs are latencyBoundsSeconds in nanoseconds, the bounds a
// server.ScrapeReader must be made with.
func LatencyBoundsNs() []int64 {
	out := make([]int64, len(latencyBoundsSeconds))
	for i, b := range latencyBoundsSeconds {
		out[i] = int64(b*1e9 + 0.5)
	}
	return out
}
