// Package topology is the pure planner of the cluster's shape. It takes the
// typed view of a Redis Cluster as its nodes report it (CLUSTER NODES,
// CLUSTER INFO, DBSIZE, INFO replication: node/clusteradmin's NodeView),
// holds the members the RedisCluster has (Member: pod, shard, ordinal,
// address), and the functions that turn them into the next safe actions:
//   - formation of fresh nodes (PlanFormation: MEET, ADDSLOTSRANGE,
//     REPLICATE), only while no node serves a slot;
//   - membership of a formed cluster (PlanMembership: MEET new and
//     re-addressed nodes, REPLICATE empty nodes, FORGET nodes of no pod,
//     move a spare replica);
//   - slot migration (PlanMigration for scale out, scale in and weighted
//     rebalance, by shard index; Remaining; MoveSlotOps, the MIGRATING/
//     IMPORTING protocol of the Redis Cluster specification as steps with
//     failpoints between them);
//   - repair of slots (OpenSlots and PlanOpenSlot, as redis-cli --cluster
//     fix decides from where the keys are; Uncovered and PlanCoverage);
//   - pod operations (rollout*.go): rolling updates shard by shard
//     (PlanRollout: replicas first, a coordinated CLUSTER FAILOVER to an
//     updated in-sync replica, the old master last), switchovers
//     (PlanSwitchover), moving a master off the ordinals a replica
//     scale-down removes (PlanReplicaScaleDown), and the live config keys
//     that differ from CONFIG GET (LiveConfigDiff).
//
// It must not do I/O: no sockets, no API server, no clock. The node admin
// client (node/clusteradmin) fills the views and controllers/nodeadmin
// carries out the actions. It must never plan a step that drops a key: no slot assignment
// or replication on a node that holds keys, no FORGET of a node that serves
// slots or that a pod may still own, no SETSLOT that leaves keys hidden.
package topology
