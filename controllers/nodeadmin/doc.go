// Package nodeadmin is the admin client of one data node: it reads the node's
// view of the cluster (CLUSTER NODES, CLUSTER INFO, DBSIZE, INFO replication)
// into a typed topology.NodeView and sends the cluster commands the planner
// asks for (MEET, ADDSLOTSRANGE, SETSLOT, REPLICATE, FAILOVER, FORGET,
// CONFIG GET/SET), and
// carries out slot moves (SlotMover: SETSLOT, GETKEYSINSLOT + MIGRATE
// batches, several slots at a time). It is
// built on github.com/redis/go-redis/v9 and speaks to any Redis Cluster node,
// ours or Redis itself.
//
// It owns the parsing of those replies (pure functions, tested without
// sockets). It must not decide anything: what to send, and when, is the
// planner's (controllers/topology) and the reconciler's business. It never
// shells out to redis-cli and never drops an error.
package nodeadmin
