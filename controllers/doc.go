// Package controllers holds the RedisCluster reconciler: a short, ordered list
// of steps (auth Secret, ConfigMap, Services, shard StatefulSets, PDBs, pods,
// nodes, cluster formation, then the Day-2 steps of a formed cluster:
// membership, open slots, slot coverage, slot migration, shard removal,
// pod operations (live config by CONFIG SET, switchover, replica scale-down
// safety, rolling updates); status), each of which returns early, over a state struct that carries
// what was observed, with the status written once by a deferred patch that
// skips no-ops. A slot migration's plan and progress live in
// status.migration, so a restarted operator resumes it from there and from
// what the nodes report; a rolling update is decided afresh from the pods'
// template hashes and the nodes' roles, and the failovers it sent are in
// status.failovers.
//
// It owns the edges: API server calls, events, and calls to the nodes through
// node/clusteradmin and controllers/nodeadmin. What objects should look like is computed by
// controllers/builders and what the nodes should do next by
// controllers/topology; this package must not grow that logic itself. No
// sleeps: one step of change per reconcile, then watches (owned objects and
// pods) or a requeue bring it back to observe.
package controllers
