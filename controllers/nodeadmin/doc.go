// Package nodeadmin carries out what the planner (controllers/topology)
// decides on the nodes, through the admin client node/clusteradmin: one
// planned action (Execute: MEET, ADDSLOTSRANGE, REPLICATE, FORGET) and slot
// moves (SlotMover: SETSLOT, and GETKEYSINSLOT + MIGRATE batches, several
// slots at a time).
//
// It must not decide anything: what to send, and when, is the planner's and
// the reconciler's business. It never shells out to redis-cli and never
// drops an error.
package nodeadmin
