// Package benchkit is what the Go benchmarks under hack/ (benchreshard,
// benchbackup) share: nodes of ours started on 127.0.0.1 in temp dirs
// without persistence and stopped by PID, a cluster formed of them, keys
// loaded through a ClusterClient, and a load of GET/SET clients whose
// latencies are kept by phase (before, during...) for their p99.
//
// It measures; it decides nothing the operator decides (plans, moves,
// backups are the operator's packages, called by each benchmark). It is
// for benchmarks only, never for the operator or the node.
package benchkit
