// Command benchreshard measures the operator's slot migration engine
// (controllers/topology + controllers/nodeadmin, driven without Kubernetes)
// against `redis-cli --cluster rebalance --cluster-use-empty-masters` on the
// same data and the same node binary: a cluster of -from masters holding
// -keys keys of -value bytes, plus -to minus -from empty masters, is
// rebalanced to -to masters while a load of GET/SET clients runs. It prints
// the time of each, the ratio, the load's client-visible errors, and its p99
// latency before and during the move. It is a report, not a test.
//
// With -profile DIR, each node's profiles and execution trace (benchkit's
// StartNodes) and the mover's own CPU profile (mover-cpu.prof) are kept
// there. The -bin node may be Debian's redis-server: the same two movers
// on Redis's own nodes, for reference. -mover-sched idle runs either mover
// (this process while it moves, or redis-cli) under SCHED_IDLE: on one
// small machine a mover's wake-ups otherwise preempt the nodes and the
// load, which a mover on a machine of its own (the operator's pod,
// redis-cli on an admin host) does not.
//
// Every node runs on 127.0.0.1 in a temp dir without persistence; only the
// processes it started are stopped, by PID.
//
// It owns no logic of its own beyond process handling and measuring: the
// plan and the moves are the operator's (topology.PlanMigration,
// nodeadmin.SlotMover). It must not be run as a test.
package main
