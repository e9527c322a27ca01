// Package metrics serves the data node's Prometheus metrics on an HTTP
// port of its own (metrics-port; 0, the default, serves none), so that no
// exporter sidecar has to run, be versioned and kept in sync.
//
// The metrics are named as oliver006's redis_exporter names them
// (redis_up, redis_memory_used_bytes, redis_commands_total{cmd},
// redis_db_keys{db}, redis_connected_slave_lag_seconds{slave_ip,...},
// redis_cluster_state, ...), so dashboards and alerts written for Redis
// work unchanged, and they come from the same numbers INFO and CLUSTER
// INFO give: each scrape takes the engine's lock once
// (server.ScrapeReader), renders INFO everything and CLUSTER INFO with
// the engine's own code, and Expose turns the text into the exposition
// the exporter would have made of it (names.go holds the field-to-name
// tables). Beyond the exporter, the per-command latency histograms are
// exposed with fixed buckets: redis_commands_latencies_usec (the
// exporter's, from LATENCY HISTOGRAM's power-of-two levels) and
// shoal_command_latency_seconds (finer buckets from the histogram's
// 1/128-precision data, which no exporter can read).
//
// A sentinel (`shoal-node --sentinel` with metrics-port) serves its own
// (sentinel.go): INFO's fields under the same names, plus the exporter's
// redis_sentinel_* series of INFO sentinel and of SENTINEL MASTERS /
// REPLICAS / SENTINELS / CKQUORUM, read from one sentinel.Scrape.
//
// Plugin plugs the endpoint into the engine (node/server hooks): it
// listens when the client port does, on the same bind addresses, and
// stops when the server closes. The package writes the text exposition
// format itself (no client library in the node) and must not change the
// engine's state: a scrape counts no command.
package metrics
